//! `zaitaku admin records import FILE.csv`: medical records (薬剤・診療・特定健診・
//! 手術情報) into the database, each checked field by field, for insured persons
//! already imported. A record is the whole of its fields: importing the same
//! file again adds nothing.

use super::DataDir;
use super::csv_import::{self, Importer, Problem, Progress, Rejects, Written};
use super::records_csv::Header;
use crate::commands::serve::runtime;
use crate::commands::{CliError, EXIT_INVALID};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use time::Date;
use zaitaku_store::{NewRecord, Store, StoreError};

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

/// The day in Japan now: records dated after it are refused.
pub fn today() -> Date {
    zaitaku_domain::today_in_japan()
}

/// Medical records, one per line, for persons named by their key.
pub struct RecordsImport {
    header: Header,
    today: Date,
}

impl RecordsImport {
    /// Check the header row: known columns, each once, every required one.
    pub fn new(header: &csv::StringRecord, today: Date) -> Result<Self, String> {
        Ok(RecordsImport {
            header: Header::parse(header)?,
            today,
        })
    }
}

impl Importer for RecordsImport {
    type Row = NewRecord;

    fn parse(&self, record: &csv::StringRecord) -> Result<NewRecord, Vec<Problem>> {
        self.header.parse_record(record, self.today)
    }

    /// Every field, as one string (fields cannot hold control characters).
    fn key(&self, new: &NewRecord) -> String {
        let (p, r) = (&new.person, &new.record);
        [
            p.insurer_number.as_str(),
            p.symbol.as_deref().unwrap_or(""),
            &p.number,
            p.branch.as_deref().unwrap_or(""),
            r.kind().code(),
            &r.date().to_string(),
            r.provider(),
            r.name(),
            r.detail().unwrap_or(""),
        ]
        .join("\u{1f}")
    }

    fn repeated(&self, first: u64) -> String {
        format!("the same record as line {first}")
    }

    async fn write(store: Arc<dyn Store>, batch: Vec<NewRecord>) -> Result<Written, StoreError> {
        let counts = store.import_records(&batch).await?;
        let unknown = || Problem {
            column: "",
            reason: "no insured person has this insurer_number, symbol, number and branch \
                     (import them with `zaitaku admin insured import` first)"
                .to_owned(),
        };
        Ok(Written {
            inserted: counts.inserted,
            updated: 0,
            unchanged: counts.unchanged,
            refused: counts
                .unknown_persons
                .into_iter()
                .map(|i| (i, unknown()))
                .collect(),
        })
    }
}

fn import(args: ImportArgs) -> Result<ExitCode, CliError> {
    let shown = args.file.display().to_string();
    // The input is checked before the database is opened.
    let (mut reader, header) = csv_import::open(&args.file)?;
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
        let summary = csv_import::run(
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
