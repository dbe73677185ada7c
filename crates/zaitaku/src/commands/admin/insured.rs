//! `zaitaku admin insured import FILE.csv`: qualification records into the
//! database, each checked field by field; a person already known (by insurer
//! number, symbol, number and branch) is updated in place, so a re-import of
//! the same file changes nothing.

use super::data_dir::DataDir;
use crate::setup::import::insured::InsuredImport;
use crate::setup::import::pipeline::{self, Progress, Rejects};
use crate::setup::{CliError, EXIT_INVALID, runtime};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Subcommand)]
pub enum InsuredCommand {
    /// Import qualification records from a CSV file (UTF-8, a header row naming
    /// the columns; see the README). New persons are added, changed ones
    /// updated, the same ones left alone. Exit 0 if every line was taken, 1 if
    /// some were rejected (the others are still written), 2 if the file is unusable.
    Import(ImportArgs),
}

#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    data: DataDir,
    /// Write the rejected lines to FILE as CSV (line,column,reason) instead of
    /// to standard error.
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Records per transaction.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    batch_size: u32,
    /// The CSV file.
    file: PathBuf,
}

pub fn run(command: InsuredCommand) -> Result<ExitCode, CliError> {
    match command {
        InsuredCommand::Import(args) => import(args),
    }
}

fn import(args: ImportArgs) -> Result<ExitCode, CliError> {
    let shown = args.file.display().to_string();
    // The input is checked before the database is opened.
    let (mut reader, header) = pipeline::open(&args.file)?;
    let importer = InsuredImport::new(&header).map_err(|e| format!("{shown}: line 1: {e}"))?;
    let mut rejects = match &args.rejects {
        None => Rejects::Stderr,
        Some(path) => Rejects::file(path)?,
    };
    let started = Instant::now();
    let runtime = runtime()?;
    let summary = runtime.block_on(async {
        let store = args.data.create_or_open().await?;
        let summary = pipeline::run(
            &importer,
            &mut reader,
            &shown,
            &store,
            args.batch_size as usize,
            &mut rejects,
            &mut Progress::on_terminal(),
        )
        .await;
        store.close().await;
        summary
    })?;
    eprintln!(
        "{shown}: {} rows read in {:.1} s: {} inserted, {} updated, {} unchanged, {} rejected",
        summary.read,
        started.elapsed().as_secs_f64(),
        summary.inserted,
        summary.updated,
        summary.unchanged,
        summary.rejected,
    );
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}
