//! `zaitaku admin insured import FILE.csv`: qualification records into the
//! database, each checked field by field; a person already known (by insurer
//! number, symbol, number and branch) is updated in place, so a re-import of
//! the same file changes nothing.

use super::DataDir;
use super::insured_csv::{Header, Problem};
use crate::commands::serve::runtime;
use crate::commands::{CliError, EXIT_INVALID};
use clap::{Args, Subcommand};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use zaitaku_domain::Qualification;
use zaitaku_store::{SqliteStore, Store, StoreError, UpsertCounts};

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

/// Where rejected lines are reported.
enum Rejects {
    Stderr,
    File(Box<csv::Writer<BufWriter<File>>>),
}

impl Rejects {
    fn report(
        &mut self,
        line: u64,
        problems: &[Problem],
        progress: &mut Progress,
    ) -> Result<(), CliError> {
        match self {
            Rejects::Stderr => {
                progress.clear();
                for p in problems {
                    if p.column.is_empty() {
                        eprintln!("line {line}: {}", p.reason);
                    } else {
                        eprintln!("line {line}: {}: {}", p.column, p.reason);
                    }
                }
            }
            Rejects::File(w) => {
                for p in problems {
                    w.write_record([line.to_string().as_str(), p.column, &p.reason])?;
                }
            }
        }
        Ok(())
    }
}

/// The progress line on a terminal: a few updates a second at most.
struct Progress {
    on: bool,
    shown: bool,
    last: Instant,
}

impl Progress {
    const EVERY: Duration = Duration::from_millis(250);

    fn new() -> Self {
        Progress {
            on: std::io::stderr().is_terminal(),
            shown: false,
            last: Instant::now(),
        }
    }

    fn tick(&mut self, read: u64, accepted: u64, rejected: u64) {
        if self.on && self.last.elapsed() >= Self::EVERY {
            self.last = Instant::now();
            self.shown = true;
            eprint!("\r\x1b[K{read} rows read, {accepted} accepted, {rejected} rejected");
            let _ = std::io::stderr().flush();
        }
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[K");
            self.shown = false;
        }
    }
}

fn import(args: ImportArgs) -> Result<ExitCode, CliError> {
    let shown = args.file.display().to_string();
    let file = File::open(&args.file).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(format!("{shown}: the file is empty: no header row").into()),
        Err(e) => return Err(format!("{shown}: the header row is unreadable: {e}").into()),
    }
    let header = Header::parse(&record).map_err(|e| format!("{shown}: line 1: {e}"))?;
    let mut rejects = match &args.rejects {
        None => Rejects::Stderr,
        Some(path) => Rejects::File(Box::new(rejects_file(path)?)),
    };

    let started = Instant::now();
    let batch_size = args.batch_size as usize;
    let runtime = runtime()?;
    let store = runtime.block_on(args.data.create_or_open())?;
    let mut progress = Progress::new();
    let (mut read, mut accepted, mut rejected) = (0u64, 0u64, 0u64);
    let mut counts = UpsertCounts::default();
    // The line each person's key was first seen on: a file names a person once.
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<Qualification> = Vec::with_capacity(batch_size);
    // The previous batch is written while the next one is read.
    let mut writing: Option<Writing> = None;
    loop {
        let line = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => record.position().map_or(0, |p| p.line()),
            Err(e) => match e.kind() {
                csv::ErrorKind::Utf8 { pos, .. } => {
                    read += 1;
                    rejected += 1;
                    let line = pos.as_ref().map_or(0, |p| p.line());
                    let problem = Problem {
                        column: "",
                        reason: "not UTF-8 text".to_owned(),
                    };
                    rejects.report(line, &[problem], &mut progress)?;
                    continue;
                }
                _ => {
                    finish(&runtime, &shown, writing.take(), &mut counts)?;
                    return Err(format!("{shown}: cannot read on: {e}").into());
                }
            },
        };
        read += 1;
        match header.parse_record(&record) {
            Ok(q) => {
                let key = key_of(&q);
                if let Some(first) = seen.get(&key) {
                    rejected += 1;
                    let problem = Problem {
                        column: "",
                        reason: format!(
                            "the same person (insurer_number, symbol, number, branch) as line {first}"
                        ),
                    };
                    rejects.report(line, &[problem], &mut progress)?;
                } else {
                    seen.insert(key, line);
                    accepted += 1;
                    batch.push(q);
                }
            }
            Err(problems) => {
                rejected += 1;
                rejects.report(line, &problems, &mut progress)?;
            }
        }
        if batch.len() >= batch_size {
            finish(&runtime, &shown, writing.take(), &mut counts)?;
            writing = Some(spawn_write(&runtime, &store, std::mem::take(&mut batch)));
            batch.reserve(batch_size);
        }
        progress.tick(read, accepted, rejected);
    }
    finish(&runtime, &shown, writing.take(), &mut counts)?;
    if !batch.is_empty() {
        finish(
            &runtime,
            &shown,
            Some(spawn_write(&runtime, &store, batch)),
            &mut counts,
        )?;
    }
    runtime.block_on(store.close());
    if let Rejects::File(w) = &mut rejects {
        w.flush()?;
    }
    progress.clear();
    eprintln!(
        "{shown}: {read} rows read in {:.1} s: {} inserted, {} updated, {} unchanged, {rejected} rejected",
        started.elapsed().as_secs_f64(),
        counts.inserted,
        counts.updated,
        counts.unchanged,
    );
    Ok(if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}

type Writing = tokio::task::JoinHandle<Result<UpsertCounts, StoreError>>;

/// Wait for a batch's write and count what it did.
fn finish(
    runtime: &tokio::runtime::Runtime,
    shown: &str,
    writing: Option<Writing>,
    counts: &mut UpsertCounts,
) -> Result<(), CliError> {
    if let Some(handle) = writing {
        let done = counts.inserted + counts.updated + counts.unchanged;
        *counts += runtime.block_on(handle)?.map_err(|e| {
            format!("{shown}: writing failed ({e}); the {done} rows before were written")
        })?;
    }
    Ok(())
}

fn spawn_write(
    runtime: &tokio::runtime::Runtime,
    store: &SqliteStore,
    batch: Vec<Qualification>,
) -> Writing {
    let store = store.clone();
    runtime.spawn(async move { store.upsert_persons(&batch).await })
}

/// The person's key as one string (fields cannot hold control characters).
fn key_of(q: &Qualification) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        q.insurer_number,
        q.symbol.as_deref().unwrap_or(""),
        q.number,
        q.branch.as_deref().unwrap_or("")
    )
}

fn rejects_file(path: &Path) -> Result<csv::Writer<BufWriter<File>>, CliError> {
    let file = File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut writer = csv::Writer::from_writer(BufWriter::new(file));
    writer.write_record(["line", "column", "reason"])?;
    Ok(writer)
}
