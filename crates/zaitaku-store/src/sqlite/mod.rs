//! The embedded SQLite store: one file, WAL, one writer connection and a few
//! readers.
//!
//! Durability is chosen per write. What must survive a power cut (consents and
//! their history, institutions, insured persons, certificate links, medical
//! records, trust anchors and CRLs) commits with `synchronous = FULL`: one fsync
//! of the WAL per commit. Flow bookkeeping (sessions, flow steps, challenges,
//! failed settlements) commits with `NORMAL`: still atomic and consistent, and
//! synced by the next durable commit or checkpoint; a power cut can at worst send
//! a patient back one step of an unfinished flow. The WAL is append-only, so a
//! durable commit also makes every earlier commit durable, in order.
//!
//! SQLite's calls block. Every [`Store`](crate::Store) method runs as one closure holding one
//! connection from its first statement to its last. Durable writes (a commit
//! waits for an fsync) run on tokio's blocking pool: one thread handoff per call.
//! Reads and bookkeeping writes, tens of microseconds, run on the calling worker
//! thread when their connection is free, since the handoff would cost more than
//! the work; when it is busy, they too go to the blocking pool. Statements are
//! prepared once per connection and cached.

mod audit;
pub mod backup;
mod codec;
mod consents;
mod console;
mod devices;
mod flows;
mod housekeeping;
mod institutions;
mod invitations;
mod lifecycle;
mod login_throttle;
mod medical_records;
mod migrate;
mod persons;
mod qualification_checks;
mod revocation;
mod sessions;
mod staff;
#[cfg(feature = "testing")]
mod testing;
mod trust;

use crate::error::{SettleError, StoreError};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

/// Readers run in parallel with the writer under WAL; `serve --pool-size`
/// changes their number.
pub const DEFAULT_READERS: usize = 4;
/// More than the distinct statements any one connection makes, so none is
/// ever prepared twice.
const STATEMENT_CACHE: usize = 64;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
    /// The file, opened afresh by the readiness probe.
    path: Arc<std::path::PathBuf>,
}

/// The connections; `None` once the store is closed.
struct Pool {
    /// One connection: SQLite allows one writer, and queueing here is cheaper
    /// than SQLITE_BUSY retries.
    writer: Mutex<Option<Connection>>,
    readers: Vec<Mutex<Option<Connection>>>,
    next_reader: AtomicUsize,
}

impl SqliteStore {
    /// Open (creating if missing) the database file and apply migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_readers(path, DEFAULT_READERS).await
    }

    /// The same, with `readers` reader connections (at least one) beside the writer.
    pub async fn open_with_readers(path: &Path, readers: usize) -> Result<Self, StoreError> {
        let path = Arc::new(path.to_owned());
        let opened = Arc::clone(&path);
        let pool = run(move || Pool::open(&opened, readers.max(1))).await?;
        Ok(SqliteStore {
            pool: Arc::new(pool),
            path,
        })
    }

    /// Close every connection; later calls fail. The last connection to close
    /// checkpoints the WAL into the database file.
    pub async fn close(&self) {
        let pool = Arc::clone(&self.pool);
        let _ = run(move || {
            for reader in &pool.readers {
                lock(reader).take();
            }
            lock(&pool.writer).take();
            Ok::<_, StoreError>(())
        })
        .await;
    }

    /// Run `f` on a reader connection: here if one is free, else on the
    /// blocking pool. Holds the worker thread for the read; a cold page cache
    /// (disk reads) or a busy database (up to the busy timeout) would hold it longer.
    async fn read<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if let Some(reader) = self.pool.free_reader() {
            return catch_panic(|| f(reader.as_ref().ok_or_else(closed)?));
        }
        let pool = Arc::clone(&self.pool);
        run(move || {
            let reader = pool.reader();
            f(reader.as_ref().ok_or_else(closed)?)
        })
        .await
    }

    /// Run `f` on the writer connection. These commits do not wait for the disk
    /// (`synchronous = NORMAL`), so, like reads, they run here when the writer is
    /// free; when it is busy (a durable commit waiting for its fsync), on the
    /// blocking pool. Several writes belong in one transaction (`BEGIN IMMEDIATE`).
    async fn write<T, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if let Some(mut writer) = self.pool.free_writer() {
            return catch_panic(|| with_writer(&mut writer, f));
        }
        let pool = Arc::clone(&self.pool);
        run(move || with_writer(&mut lock(&pool.writer), f)).await
    }

    /// Run `f` on the writer with `synchronous = FULL`, on the blocking pool:
    /// the commit is on disk when it returns.
    async fn write_durable<T, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        run(move || {
            with_writer(&mut lock(&pool.writer), |conn| {
                conn.pragma_update(None, "synchronous", "FULL")
                    .map_err(StoreError::from)?;
                let result = f(conn);
                conn.pragma_update(None, "synchronous", "NORMAL")
                    .map_err(StoreError::from)?;
                result
            })
        })
        .await
    }
}

fn with_writer<T, E: From<StoreError>>(
    writer: &mut Option<Connection>,
    f: impl FnOnce(&mut Connection) -> Result<T, E>,
) -> Result<T, E> {
    let conn = writer.as_mut().ok_or_else(closed)?;
    if !conn.is_autocommit() {
        // Only if a rollback failed: never let the next call's writes
        // join a transaction left open.
        conn.execute_batch("ROLLBACK").map_err(StoreError::from)?;
    }
    f(conn)
}

/// Keep `conn`'s statements compiled between uses. Besides the cache, this
/// takes SQLite's query-planner stability guarantee: without it, a plan that
/// looked at a bound value (`LIMIT ?`, a `LIKE ?`, a term beside a partial
/// index such as the audit chains' `… WHERE chain_seq IS NULL`) marks its
/// statement to be compiled again whenever its bindings are cleared, which the
/// cache does on every return; each use then paid a full parse. The plans
/// given up are ones our queries do not need (no `LIKE` prefix is indexed).
fn cache_statements(conn: &Connection) -> Result<(), StoreError> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

impl Pool {
    fn open(path: &Path, readers: usize) -> Result<Pool, StoreError> {
        create_private(path)?;
        let mut writer = Connection::open(path)?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!(
                "journal mode {mode} instead of WAL"
            )));
        }
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        cache_statements(&writer)?;
        migrate::run(&mut writer)?;

        let readers = (0..readers)
            .map(|_| {
                let reader = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                reader.busy_timeout(BUSY_TIMEOUT)?;
                cache_statements(&reader)?;
                Ok(Mutex::new(Some(reader)))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Pool {
            writer: Mutex::new(Some(writer)),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// The writer, if no one holds it.
    fn free_writer(&self) -> Option<MutexGuard<'_, Option<Connection>>> {
        match self.writer.try_lock() {
            Ok(writer) => Some(writer),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// A free reader, trying them in turn, if there is one.
    /// The writer and readers, and how many of them a call holds now (a
    /// connection whose lock is taken). A closed store has none open.
    fn in_use(&self) -> crate::store::PoolUse {
        let slots = std::iter::once(&self.writer).chain(&self.readers);
        let (mut open, mut in_use) = (0, 0);
        for slot in slots {
            match slot.try_lock() {
                Ok(conn) => open += u32::from(conn.is_some()),
                Err(TryLockError::Poisoned(p)) => open += u32::from(p.into_inner().is_some()),
                Err(TryLockError::WouldBlock) => {
                    open += 1;
                    in_use += 1;
                }
            }
        }
        crate::store::PoolUse {
            open,
            in_use,
            max: (self.readers.len() + 1) as u32,
        }
    }

    fn free_reader(&self) -> Option<MutexGuard<'_, Option<Connection>>> {
        let first = self.next_reader.fetch_add(1, Ordering::Relaxed);
        (0..self.readers.len()).find_map(|i| {
            match self.readers[(first + i) % self.readers.len()].try_lock() {
                Ok(reader) => Some(reader),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        })
    }

    /// A free reader if there is one, else wait for the next in turn.
    fn reader(&self) -> MutexGuard<'_, Option<Connection>> {
        self.free_reader().unwrap_or_else(|| {
            let next = self.next_reader.fetch_add(1, Ordering::Relaxed);
            lock(&self.readers[next % self.readers.len()])
        })
    }
}

/// A panic inside a store call poisons its connection's mutex. The connection
/// itself is sound (an open transaction rolls back while unwinding), so go on
/// using it rather than failing every later call.
fn lock(connection: &Mutex<Option<Connection>>) -> MutexGuard<'_, Option<Connection>> {
    connection.lock().unwrap_or_else(PoisonError::into_inner)
}

fn closed() -> StoreError {
    StoreError::Database("the store is closed".to_owned())
}

/// Run `f` on the blocking pool; its panic becomes an error, not the caller's panic.
async fn run<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(panicked().into()),
        Err(_) => Err(StoreError::Database("a store call was cancelled".to_owned()).into()),
    }
}

/// Run `f` here; its panic becomes an error, not the caller's panic.
fn catch_panic<T, E: From<StoreError>>(f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(panicked().into()))
}

fn panicked() -> StoreError {
    StoreError::Database("a store call panicked".to_owned())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<rusqlite::Error> for SettleError {
    fn from(e: rusqlite::Error) -> Self {
        SettleError::Store(e.into())
    }
}

/// Health data: a new database file is made readable by its owner only (0600)
/// before SQLite opens it; SQLite gives its `-wal` and `-shm` files the
/// database file's mode. An existing file is left as it is.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Database(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::records::NewInstitution;
    use zaitaku_domain::{ConsentItem, EPrescriptionUsage, InstitutionCode, UrlToken};

    fn clinic(token: char) -> NewInstitution {
        NewInstitution {
            code: InstitutionCode::parse("1310123458").unwrap(),
            name: "クリニック".into(),
            offered_items: vec![ConsentItem::Medication],
            e_prescription: EPrescriptionUsage::NotUsed,
            consent_validity_days: 30,
            url_token: UrlToken::parse(&token.to_string().repeat(43)).unwrap(),
            flows_from: zaitaku_domain::FlowsFrom::Anyone,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn duplicates_and_corrupt_values_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
        let institution = store.insert_institution(&clinic('a')).await.unwrap();
        assert!(matches!(
            store.insert_institution(&clinic('b')).await,
            Err(StoreError::Duplicate { .. })
        ));
        assert_eq!(
            store.institutions().await.unwrap(),
            vec![institution.clone()]
        );
        store
            .write(|c| {
                c.execute("UPDATE institutions SET offered_items = 'XXX'", [])
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
        assert!(matches!(
            store.institution(institution.id).await,
            Err(StoreError::Corrupt {
                what: "offered items"
            })
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_call_is_an_error_and_the_connection_lives_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
        let migrations = || {
            store.read(|c| {
                c.query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
                    .map_err(StoreError::from)
            })
        };
        let applied: i64 = migrations().await.unwrap();
        assert!(applied > 0);
        let panicked = store
            .write(|c| -> Result<(), StoreError> {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                tx.execute("DELETE FROM schema_migrations", [])?;
                panic!("a bug");
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::Database(_))));
        // The transaction rolled back, and the poisoned writer still works.
        store.insert_institution(&clinic('a')).await.unwrap();
        assert_eq!(migrations().await.unwrap(), applied);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_read_is_an_error_too() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
        for _ in 0..DEFAULT_READERS + 1 {
            let panicked = store
                .read(|_| -> Result<(), StoreError> { panic!("a bug") })
                .await;
            assert!(matches!(panicked, Err(StoreError::Database(_))));
        }
        assert!(store.institutions().await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_store_refuses_calls_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_institution(&clinic('a')).await.unwrap();
        store.close().await;
        assert!(matches!(
            store.institutions().await,
            Err(StoreError::Database(_))
        ));
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.institutions().await.unwrap().len(), 1);
    }
}
