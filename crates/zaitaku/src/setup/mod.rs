//! What the commands and the demo both stand on, and that imports neither:
//! errors and exit statuses, the one tokio runtime, where the database is, the
//! CSV import pipelines, and the checks that admit trust anchors and CRLs.
//! `admin … import`, `admin trust add` and `admin crl import` run these, and
//! the demo loads its data through the same functions.

pub mod crl;
pub mod database;
pub mod import;
pub mod lock;
pub mod logging;
pub mod memory;
pub mod trust;

use std::future::Future;

/// Exit status for a check that ran and failed (invalid token, wrong PIN).
pub const EXIT_INVALID: u8 = 1;
/// Exit status for a command that could not run (bad options, unreadable files).
pub const EXIT_USAGE: u8 = 2;

/// Errors that stop a command before it could do its work; printed as `error: …`.
pub type CliError = Box<dyn std::error::Error>;

/// The data directory of `zaitaku serve` and `zaitaku admin` when none is given.
pub const DEFAULT_DATA_DIR: &str = "zaitaku-data";

/// Read a file named on the command line, saying which one failed.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

/// Threads of the blocking pool, at most: SQLite's writer and its 4 readers
/// (the default `--pool-size`; PostgreSQL's pool needs no thread), the 2
/// password hashes, and room for file and card work beside them. More
/// threads could not make the store go faster (each call waits for one of its
/// 5 connections), but under a burst of requests tokio's default (512) made
/// one thread per waiting call, each with its own stack and malloc arena: the
/// abusive load test saw the process reach 246 MiB. A call beyond these waits
/// in tokio's queue instead, which costs a few bytes.
const BLOCKING_THREADS: usize = 16;

/// The one tokio runtime of the binary (`serve`, `demo` and `admin`); store
/// calls use its blocking pool, imports write a batch while the next is read.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()?)
}

/// Run one command's async work on a new runtime.
pub fn block_on<T>(work: impl Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    runtime()?.block_on(work)
}
