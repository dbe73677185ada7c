//! `zaitaku admin records import FILE.csv`: medical records (薬剤・診療・特定健診・
//! 手術情報) into the database, each checked field by field, for insured persons
//! already imported. A record is the whole of its fields: importing the same
//! file again adds nothing.

use super::data_dir::DataDir;
use crate::setup::import::pipeline::{self, Progress, Rejects};
use crate::setup::import::records::{RecordsImport, today};
use crate::setup::{CliError, EXIT_INVALID, runtime};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Subcommand)]
pub enum RecordsCommand {
    /// Import medical records from a CSV file (UTF-8, a header row naming the
    /// columns in any order; see the README).
    ///
    /// Columns, those marked with an asterisk required: insurer_number*, symbol,
    /// number*, branch (the insured person, who must already be imported); kind*
    /// (YZK 薬剤情報, SRJ 診療情報, TKK 特定健診情報, SHJ 手術情報); date* (YYYY-MM-DD,
    /// not after today); provider* (up to 100 characters); name* (up to 200);
    /// detail (up to 500).
    ///
    /// A record already stored is left alone. Exit 0 if every line was taken, 1
    /// if some were rejected (the others are still written), 2 if the file is
    /// unusable or the data directory holds no database.
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

pub fn run(command: RecordsCommand) -> Result<ExitCode, CliError> {
    match command {
        RecordsCommand::Import(args) => import(args),
    }
}

fn import(args: ImportArgs) -> Result<ExitCode, CliError> {
    let shown = args.file.display().to_string();
    // The input is checked before the database is opened.
    let (mut reader, header) = pipeline::open(&args.file)?;
    let importer =
        RecordsImport::new(&header, today()).map_err(|e| format!("{shown}: line 1: {e}"))?;
    let mut rejects = match &args.rejects {
        None => Rejects::Stderr,
        Some(path) => Rejects::file(path)?,
    };
    let started = Instant::now();
    let runtime = runtime()?;
    let summary = runtime.block_on(async {
        // Records need their persons: a database without them is a mistake.
        let store = args.data.open_existing().await?;
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
        "{shown}: {} rows read in {:.1} s: {} inserted, {} unchanged, {} rejected",
        summary.read,
        started.elapsed().as_secs_f64(),
        summary.inserted,
        summary.unchanged,
        summary.rejected,
    );
    Ok(if summary.rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}
