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

/// The one tokio runtime of the binary (`serve`, `demo` and `admin`); store
/// calls use its blocking pool, imports write a batch while the next is read.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Run one command's async work on a new runtime.
pub fn block_on<T>(work: impl Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    runtime()?.block_on(work)
}
