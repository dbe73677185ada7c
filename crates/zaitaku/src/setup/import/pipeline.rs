//! The import pipeline `admin insured import` and `admin records import` share,
//! and the demo loads its data through: a CSV file with a header row, each line
//! checked field by field, a line naming what an earlier line named rejected,
//! batches written one durable transaction each while the next is read, every
//! rejected line reported with all its reasons, a progress line on a terminal.

use crate::setup::CliError;
use csv::StringRecord;
use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::io::{BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zaitaku_store::{Store, StoreError};

/// One reason a line was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The column's name; empty for the line as a whole.
    pub column: &'static str,
    pub reason: String,
}

/// One kind of import: how a line parses and how a batch is written.
pub trait Importer {
    type Row: Send + 'static;

    /// The line's row, or every reason it cannot be taken.
    fn parse(&self, record: &StringRecord) -> Result<Self::Row, Vec<Problem>>;

    /// What the row is about: a file names each once.
    fn key(&self, row: &Self::Row) -> String;

    /// Why a line naming what line `first` named is rejected.
    fn repeated(&self, first: u64) -> String;

    /// Write one batch in one durable transaction.
    fn write(
        store: Arc<dyn Store>,
        batch: Vec<Self::Row>,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send + 'static;
}

/// What writing one batch did.
#[derive(Debug, Default)]
pub struct Written {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows the store refused, by position in the batch; nothing of them was written.
    pub refused: Vec<(usize, Problem)>,
}

/// What a whole import did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub read: u64,
    pub rejected: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// A CSV reader as imports read: UTF-8, no header handling of its own (the
/// importer checks the header), spaces around values ignored.
pub fn reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input)
}

/// Open `path` and read its header row.
pub fn open(path: &Path) -> Result<(csv::Reader<BufReader<File>>, StringRecord), CliError> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut reader = reader(BufReader::with_capacity(1 << 20, file));
    let header = header_row(&mut reader, &shown.to_string())?;
    Ok((reader, header))
}

/// The first row, which names the columns.
pub fn header_row<R: Read>(
    reader: &mut csv::Reader<R>,
    shown: &str,
) -> Result<StringRecord, CliError> {
    let mut record = StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Ok(record),
        Ok(false) => Err(format!("{shown}: the file is empty: no header row").into()),
        Err(e) => Err(format!("{shown}: the header row is unreadable: {e}").into()),
    }
}

/// Where rejected lines are reported.
pub enum Rejects {
    Stderr,
    File(Box<csv::Writer<BufWriter<File>>>),
}

impl Rejects {
    /// A CSV file `line,column,reason`.
    pub fn file(path: &Path) -> Result<Rejects, CliError> {
        let file =
            File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let mut writer = csv::Writer::from_writer(BufWriter::new(file));
        writer.write_record(["line", "column", "reason"])?;
        Ok(Rejects::File(Box::new(writer)))
    }

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

    fn flush(&mut self) -> Result<(), CliError> {
        if let Rejects::File(w) = self {
            w.flush()?;
        }
        Ok(())
    }
}

/// The progress line on a terminal: a few updates a second at most.
pub struct Progress {
    on: bool,
    shown: bool,
    last: Instant,
}

impl Progress {
    const EVERY: Duration = Duration::from_millis(250);

    /// Shown if standard error is a terminal.
    pub fn on_terminal() -> Self {
        Progress {
            on: std::io::stderr().is_terminal(),
            shown: false,
            last: Instant::now(),
        }
    }

    pub fn off() -> Self {
        Progress {
            on: false,
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

/// A batch being written, and the line of each of its rows.
struct Writing {
    handle: tokio::task::JoinHandle<Result<Written, StoreError>>,
    lines: Vec<u64>,
}

/// The running counts, and where problems go.
struct Run<'a> {
    shown: &'a str,
    summary: Summary,
    accepted: u64,
    rejects: &'a mut Rejects,
    progress: &'a mut Progress,
}

impl Run<'_> {
    fn reject(&mut self, line: u64, problems: &[Problem]) -> Result<(), CliError> {
        self.summary.rejected += 1;
        self.rejects.report(line, problems, self.progress)
    }

    /// Wait for a batch's write, count what it did and report what it refused.
    async fn finish(&mut self, writing: Option<Writing>) -> Result<(), CliError> {
        let Some(writing) = writing else {
            return Ok(());
        };
        let s = self.summary;
        let done = s.inserted + s.updated + s.unchanged;
        let written = writing.handle.await?.map_err(|e| {
            format!(
                "{}: writing failed ({e}); the {done} rows before were written",
                self.shown
            )
        })?;
        self.summary.inserted += written.inserted;
        self.summary.updated += written.updated;
        self.summary.unchanged += written.unchanged;
        for (i, problem) in written.refused {
            self.accepted -= 1;
            self.reject(writing.lines[i], &[problem])?;
        }
        Ok(())
    }
}

/// Read every line after the header, check it, and write the good ones in
/// batches of `batch_size`, the next batch being read while the previous one
/// is written. `shown` names the input in messages.
pub async fn run<I: Importer, R: Read>(
    importer: &I,
    reader: &mut csv::Reader<R>,
    shown: &str,
    store: &Arc<dyn Store>,
    batch_size: usize,
    rejects: &mut Rejects,
    progress: &mut Progress,
) -> Result<Summary, CliError> {
    let mut run = Run {
        shown,
        summary: Summary::default(),
        accepted: 0,
        rejects,
        progress,
    };
    let mut record = StringRecord::new();
    // The line each key was first seen on.
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<I::Row> = Vec::with_capacity(batch_size);
    let mut lines: Vec<u64> = Vec::with_capacity(batch_size);
    let mut writing: Option<Writing> = None;
    loop {
        let line = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => record.position().map_or(0, |p| p.line()),
            Err(e) => match e.kind() {
                csv::ErrorKind::Utf8 { pos, .. } => {
                    run.summary.read += 1;
                    let line = pos.as_ref().map_or(0, |p| p.line());
                    let problem = Problem {
                        column: "",
                        reason: "not UTF-8 text".to_owned(),
                    };
                    run.reject(line, &[problem])?;
                    continue;
                }
                _ => {
                    run.finish(writing.take()).await?;
                    return Err(format!("{shown}: cannot read on: {e}").into());
                }
            },
        };
        run.summary.read += 1;
        match importer.parse(&record) {
            Ok(row) => {
                let key = importer.key(&row);
                if let Some(&first) = seen.get(&key) {
                    let problem = Problem {
                        column: "",
                        reason: importer.repeated(first),
                    };
                    run.reject(line, &[problem])?;
                } else {
                    seen.insert(key, line);
                    run.accepted += 1;
                    batch.push(row);
                    lines.push(line);
                }
            }
            Err(problems) => run.reject(line, &problems)?,
        }
        if batch.len() >= batch_size {
            run.finish(writing.take()).await?;
            writing = Some(spawn_write::<I>(
                store,
                std::mem::take(&mut batch),
                std::mem::take(&mut lines),
            ));
            batch.reserve(batch_size);
            lines.reserve(batch_size);
        }
        let s = run.summary;
        run.progress.tick(s.read, run.accepted, s.rejected);
    }
    run.finish(writing.take()).await?;
    if !batch.is_empty() {
        run.finish(Some(spawn_write::<I>(store, batch, lines)))
            .await?;
    }
    run.rejects.flush()?;
    run.progress.clear();
    Ok(run.summary)
}

fn spawn_write<I: Importer>(
    store: &Arc<dyn Store>,
    batch: Vec<I::Row>,
    lines: Vec<u64>,
) -> Writing {
    Writing {
        handle: tokio::spawn(I::write(store.clone(), batch)),
        lines,
    }
}
