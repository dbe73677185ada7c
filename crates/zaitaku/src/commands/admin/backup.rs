//! `zaitaku admin backup --to FILE` and `zaitaku admin restore FILE`: a
//! consistent, verified copy of the SQLite database taken while the service
//! runs, and its return in place of the database while no service runs. A
//! PostgreSQL database is backed up with `pg_dump`; `backup` says so.

use super::data_dir::DataDir;
use crate::setup::database::Database;
use crate::setup::{CliError, EXIT_USAGE, lock};
use clap::Args;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use time::OffsetDateTime;
use time::macros::format_description;
use zaitaku_store::SCHEMA_VERSION;
use zaitaku_store::sqlite::backup::{self, Verified};

/// Tables whose rows a PostgreSQL backup may leave out: sign-in and flow state
/// that expires within hours (patients and staff sign in again), and login
/// attempt counters. Nothing else references them.
pub const PG_TRANSIENT_TABLES: &[&str] = &[
    "sessions",
    "flows",
    "challenges",
    "staff_sessions",
    "login_throttles",
];

#[derive(Args)]
pub struct BackupArgs {
    /// The backup file to write (0600); refused if it exists, unless --force.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A backup made by `zaitaku admin backup`.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    data_dir: DataDir,
}

pub fn backup(args: BackupArgs) -> Result<ExitCode, CliError> {
    let database = match args.data_dir.database()? {
        Database::Sqlite(path) => path,
        Database::Postgres(url) => {
            eprintln!("{}", pg_dump_advice(&url, &args.to));
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    if !database.is_file() {
        return Err(format!(
            "no Zaitaku database at {} (give the --data-dir that `zaitaku serve` uses)",
            database.display()
        )
        .into());
    }
    if args.to.exists() && !args.force {
        return Err(format!(
            "{} exists: give another file, or --force to replace it",
            args.to.display()
        )
        .into());
    }
    let partial = sibling(&args.to, &format!("partial-{}", std::process::id()));
    let result = copy_and_verify(&database, &partial).and_then(|verified| {
        install(&partial, &args.to, args.force)?;
        Ok(verified)
    });
    let _ = std::fs::remove_file(&partial);
    let verified = result?;
    println!(
        "backup of {} written to {}: integrity ok, schema version {}",
        database.display(),
        args.to.display(),
        verified.schema_version
    );
    print_tables(&verified);
    Ok(ExitCode::SUCCESS)
}

fn copy_and_verify(database: &Path, partial: &Path) -> Result<Verified, CliError> {
    // Made 0600 before SQLite writes a byte into it.
    create_private(partial)?;
    let mut last = 0;
    backup::copy_online(database, partial, &mut |done, total| {
        // Every step on a long copy; a copy done in one step says nothing.
        if done < total || last > 0 {
            eprintln!("backup: {done} of {total} pages copied");
        }
        last = done;
    })
    .map_err(|e| format!("cannot copy {}: {e}", database.display()))?;
    let verified = backup::verify(partial)
        .map_err(|e| format!("the copy of {} failed its check: {e}", database.display()))?;
    if verified.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "the copy is at schema version {}, this program's is {SCHEMA_VERSION}: \
             back up with the Zaitaku version that runs the service",
            verified.schema_version
        )
        .into());
    }
    Ok(verified)
}

/// Move the finished copy to `to`: never over an existing file unless `force`
/// (a hard link fails if the name exists, so the check and the move are one).
fn install(partial: &Path, to: &Path, force: bool) -> Result<(), CliError> {
    let moved = if force {
        std::fs::rename(partial, to)
    } else {
        std::fs::hard_link(partial, to)
    };
    moved.map_err(|e| -> CliError {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{} exists: give another file, or --force to replace it",
                to.display()
            )
            .into()
        } else {
            format!("cannot write {}: {e}", to.display()).into()
        }
    })?;
    sync_dir(to);
    Ok(())
}

pub fn restore(args: RestoreArgs) -> Result<ExitCode, CliError> {
    let database = match args.data_dir.database()? {
        Database::Sqlite(path) => path,
        Database::Postgres(_) => {
            eprintln!(
                "error: this database is on PostgreSQL: restore it with pg_restore \
                 (see \"Backup and restore\" in the README), not with this command"
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let file = &args.file;
    if !file.is_file() {
        return Err(format!("no backup file at {}", file.display()).into());
    }
    for suffix in ["-wal", "-journal"] {
        let companion = with_suffix(file, suffix);
        if companion.exists() {
            return Err(format!(
                "{} lies beside {}: the file alone is not the whole database. \
                 Make backups with `zaitaku admin backup`, never by copying a live database",
                companion.display(),
                file.display()
            )
            .into());
        }
    }
    let verified =
        backup::verify(file).map_err(|e| format!("{} cannot be restored: {e}", file.display()))?;
    if verified.schema_version > SCHEMA_VERSION {
        return Err(format!(
            "{} is at schema version {}, newer than this program's {SCHEMA_VERSION}: \
             restore it with the Zaitaku version that made it",
            file.display(),
            verified.schema_version
        )
        .into());
    }
    // Held to the end: no service starts on a half-restored database.
    let _lock = lock::hold_for_restore(&database)?;
    let kept = if database.exists() {
        Some(set_aside(&database)?)
    } else {
        None
    };
    let incoming = sibling(&database, "restoring");
    let copied = copy_private(file, &incoming).and_then(|()| {
        std::fs::rename(&incoming, &database)
            .map_err(|e| format!("cannot install {}: {e}", database.display()).into())
    });
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&incoming);
        let back = match &kept {
            Some(kept) => format!(" (the previous database is kept as {})", kept.display()),
            None => String::new(),
        };
        return Err(format!("{e}{back}").into());
    }
    sync_dir(&database);
    println!(
        "restored {} from {}: integrity ok, schema version {}",
        database.display(),
        file.display(),
        verified.schema_version
    );
    print_tables(&verified);
    if let Some(kept) = kept {
        println!("the previous database is kept as {}", kept.display());
    }
    if verified.schema_version < SCHEMA_VERSION {
        println!(
            "the backup is at schema version {}: `zaitaku serve` brings it to {SCHEMA_VERSION} on start",
            verified.schema_version
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Fold the WAL into the database, then rename it (and any `-wal`/`-shm`
/// still there, together) with a timestamp. Returns the new name.
fn set_aside(database: &Path) -> Result<PathBuf, CliError> {
    backup::checkpoint(database)
        .map_err(|e| format!("cannot checkpoint {}: {e}", database.display()))?;
    let stamp = OffsetDateTime::now_utc()
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(|e| e.to_string())?;
    let kept = sibling(database, &format!("before-restore-{stamp}"));
    if kept.exists() {
        return Err(format!("{} exists already: try again in a second", kept.display()).into());
    }
    std::fs::rename(database, &kept)
        .map_err(|e| format!("cannot keep {} aside: {e}", database.display()))?;
    for suffix in ["-wal", "-shm"] {
        let companion = with_suffix(database, suffix);
        if companion.exists() {
            std::fs::rename(&companion, with_suffix(&kept, suffix))
                .map_err(|e| format!("cannot keep {} aside: {e}", companion.display()))?;
        }
    }
    Ok(kept)
}

/// Copy `from` into the new file `to`, 0600, synced to disk.
fn copy_private(from: &Path, to: &Path) -> Result<(), CliError> {
    let _ = std::fs::remove_file(to);
    let mut target = create_private(to)?;
    let mut source =
        std::fs::File::open(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    std::io::copy(&mut source, &mut target)
        .and_then(|_| target.flush())
        .and_then(|()| target.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", to.display()))?;
    Ok(())
}

fn create_private(path: &Path) -> Result<std::fs::File, CliError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()).into())
}

/// `dir/.name.suffix` beside `path`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    if suffix.starts_with("before-restore") {
        path.with_file_name(format!("{name}.{suffix}"))
    } else {
        path.with_file_name(format!(".{name}.{suffix}"))
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Make a rename durable; best effort (not every filesystem allows it).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

fn print_tables(verified: &Verified) {
    let width = verified
        .tables
        .iter()
        .map(|(t, _)| t.len())
        .max()
        .unwrap_or(0);
    for (table, rows) in &verified.tables {
        println!("  {table:<width$}  {rows} rows");
    }
}

/// What `admin backup` says for a PostgreSQL database: the `pg_dump` command
/// for Zaitaku's tables, with the URL's password left out.
fn pg_dump_advice(url: &str, to: &Path) -> String {
    let excluded: String = PG_TRANSIENT_TABLES
        .iter()
        .map(|t| format!(" --exclude-table-data={t}"))
        .collect();
    format!(
        "error: this database is on PostgreSQL, which `zaitaku admin backup` does not copy: \
         back it up with pg_dump (give the password through PGPASSWORD or ~/.pgpass), e.g.\n\n  \
         pg_dump --format=custom --no-owner{excluded} --file {} '{}'\n\n\
         The excluded tables' rows are sign-in and flow state that expires within hours. \
         Restore with `pg_restore --no-owner --dbname URL FILE` into an empty database, \
         then start `zaitaku serve` (see \"Backup and restore\" in the README).",
        to.display(),
        without_password(url)
    )
}

/// `postgres://user@host/db` from `postgres://user:secret@host/db`.
fn without_password(url: &str) -> String {
    let Some(scheme) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let Some(at) = url[scheme..].rfind('@').map(|i| i + scheme) else {
        return url.to_owned();
    };
    let user = &url[scheme..at];
    let user = user.split(':').next().unwrap_or_default();
    format!("{}{user}{}", &url[..scheme], &url[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pg_dump_advice_never_shows_a_password() {
        let advice = pg_dump_advice(
            "postgres://zaitaku:s3cret@db.local/zaitaku",
            Path::new("z.dump"),
        );
        assert!(!advice.contains("s3cret"), "{advice}");
        assert!(
            advice.contains("'postgres://zaitaku@db.local/zaitaku'"),
            "{advice}"
        );
        assert!(advice.contains("--exclude-table-data=sessions"), "{advice}");
    }
}
