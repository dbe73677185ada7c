//! Backup and restore of the SQLite file, for `zaitaku admin backup` and
//! `admin restore`: a consistent copy taken while the service writes, its
//! verification, and the checkpoint that folds a WAL back into its file.
//!
//! The copy uses SQLite's online backup API rather than `VACUUM INTO`: both
//! read one snapshot, but the backup API copies in steps, so a long copy can
//! report pages done out of the total, and it copies pages as they are (no
//! rebuild of every index). The source connection holds one read transaction
//! from the first step to the last: in WAL mode that blocks no writer, and the
//! copy is of that one snapshot however many steps it takes (the API restarts a
//! copy only when its source changes under it, which an open read transaction
//! prevents).

use super::migrate::logical_version;
use crate::error::StoreError;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Pages copied per step: 4 MiB with SQLite's default page size.
const STEP_PAGES: i32 = 1024;
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a verified database holds.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The logical schema version (`crate::SCHEMA_VERSION` for a current one).
    pub schema_version: i64,
    /// Every table and its row count, by name.
    pub tables: Vec<(String, i64)>,
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("{what}: {e}"))
}

/// Copy the database at `source` (which must exist) into the empty or new file
/// `target`, one snapshot of it, while other processes keep writing. Calls
/// `progress(pages_done, pages_total)` after every step. The copy is left in
/// rollback-journal mode: one self-contained file, no `-wal` beside it.
pub fn copy_online(
    source: &Path,
    target: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), StoreError> {
    // Read-write without create: a mistyped path is an error, and a WAL
    // database is read the way the service's own connections read it.
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| failed("cannot open the database", e))?;
    src.busy_timeout(BUSY_TIMEOUT)?;
    // The snapshot: a read transaction started by a first read.
    src.execute_batch("BEGIN DEFERRED")?;
    src.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })?;
    let mut dst = Connection::open(target).map_err(|e| failed("cannot open the copy", e))?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        loop {
            let step = backup.step(STEP_PAGES)?;
            let p = backup.progress();
            let total = u64::try_from(p.pagecount).unwrap_or(0);
            let left = u64::try_from(p.remaining).unwrap_or(0);
            progress(total.saturating_sub(left), total);
            match step {
                StepResult::Done => break,
                StepResult::More => {}
                // The target is ours alone; the source never blocks a reader in
                // WAL mode, but a rollback-journal source may be mid-write.
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    src.execute_batch("COMMIT")?;
    drop(src);
    let mode: String =
        dst.pragma_update_and_check(None, "journal_mode", "DELETE", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(failed("the copy's journal mode", mode));
    }
    dst.close()
        .map_err(|(_, e)| failed("cannot close the copy", e))?;
    Ok(())
}

/// Open `path` read-only and check it: `PRAGMA integrity_check` answers `ok`,
/// it is a Zaitaku database (it has `schema_migrations`), and count the rows of
/// every table. Does not compare the schema version; the caller decides.
pub fn verify(path: &Path) -> Result<Verified, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| failed("cannot open", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let problems = {
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| failed("not a readable SQLite database", e))?;
        stmt.query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| failed("integrity check", e))?
    };
    if problems != ["ok"] {
        let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
        return Err(StoreError::Database(format!(
            "integrity check failed: {}",
            shown.join("; ")
        )));
    }
    let has_migrations: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'",
        [],
        |r| r.get(0),
    )?;
    if !has_migrations {
        return Err(StoreError::Database(
            "not a Zaitaku database (no schema_migrations table)".to_owned(),
        ));
    }
    let stored: Option<i64> =
        conn.query_row("SELECT max(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })?;
    let names: Vec<String> = {
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?;
        stmt.query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?
    };
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let quoted = name.replace('"', "\"\"");
        let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{quoted}\""), [], |r| {
            r.get(0)
        })?;
        tables.push((name, rows));
    }
    Ok(Verified {
        schema_version: logical_version(stored.unwrap_or(0)),
        tables,
    })
}

/// Fold the WAL of the database at `path` into the file and truncate it, so
/// that the file alone is the whole database; closing the last connection then
/// removes `-wal` and `-shm`. Fails when a reader or writer keeps the
/// checkpoint from completing.
pub fn checkpoint(path: &Path) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| failed("cannot open", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let (busy, _log, _done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if busy != 0 {
        return Err(StoreError::Database(
            "the write-ahead log could not be checkpointed: another process uses the database"
                .to_owned(),
        ));
    }
    conn.close().map_err(|(_, e)| failed("cannot close", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;

    #[tokio::test]
    async fn a_copy_of_a_store_verifies_at_the_current_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("live.sqlite3");
        let store = SqliteStore::open(&source).await.unwrap();
        let target = dir.path().join("copy.sqlite3");
        let mut steps = Vec::new();
        copy_online(&source, &target, &mut |done, total| {
            steps.push((done, total))
        })
        .unwrap();
        let (done, total) = *steps.last().unwrap();
        assert!(total > 0 && done == total, "{steps:?}");
        assert!(!dir.path().join("copy.sqlite3-wal").exists());
        let verified = verify(&target).unwrap();
        assert_eq!(verified.schema_version, crate::SCHEMA_VERSION);
        assert!(verified.tables.iter().any(|(t, _)| t == "consents"));
        store.close().await;
        checkpoint(&source).unwrap();
        assert!(!dir.path().join("live.sqlite3-wal").exists());
    }

    fn verify_integrity(path: &Path) -> bool {
        Connection::open(path)
            .unwrap()
            .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .unwrap()
            == "ok"
    }

    #[test]
    fn a_long_copy_under_writes_reports_its_progress_step_by_step() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("big.sqlite3");
        let conn = Connection::open(&source).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE blobs (b BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO blobs SELECT zeroblob(4000) FROM n;",
        )
        .unwrap();
        drop(conn);
        // A writer on its own connection commits all through the copy.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (source, stop) = (source.clone(), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let conn = Connection::open(&source).unwrap();
                conn.busy_timeout(BUSY_TIMEOUT).unwrap();
                let mut commits = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    conn.execute("INSERT INTO blobs VALUES (zeroblob(4000))", [])
                        .unwrap();
                    commits += 1;
                }
                commits
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        let target = dir.path().join("copy.sqlite3");
        let mut steps = Vec::new();
        copy_online(&source, &target, &mut |done, total| {
            steps.push((done, total));
            std::thread::sleep(Duration::from_millis(10));
        })
        .unwrap();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let commits = writer.join().unwrap();
        assert!(commits > 0);
        assert!(steps.len() >= 3, "{steps:?}");
        assert!(steps.windows(2).all(|w| w[0].0 < w[1].0), "{steps:?}");
        let (done, total) = *steps.last().unwrap();
        assert_eq!(done, total);
        let copied: i64 = Connection::open(&target)
            .unwrap()
            .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
            .unwrap();
        assert!(copied >= 3000, "{copied}");
        assert!(verify_integrity(&target), "the copy is sound");
    }

    #[test]
    fn a_damaged_or_foreign_file_fails_verification() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk");
        std::fs::write(&junk, vec![7u8; 8192]).unwrap();
        assert!(verify(&junk).is_err());
        let other = dir.path().join("other.sqlite3");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = verify(&other).unwrap_err().to_string();
        assert!(err.contains("not a Zaitaku database"), "{err}");
    }
}
