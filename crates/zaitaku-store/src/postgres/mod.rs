//! The PostgreSQL store: the same [`Store`](crate::Store) on a database that several server
//! processes share. Each method is one statement or one transaction; the rules of
//! the trait (all or nothing, single use under races) hold across processes, not
//! only across tasks: a row lock (`SELECT … FOR UPDATE`) or a conditional
//! `UPDATE … WHERE` decides a race, never process memory.
//!
//! Values are stored as the SQLite store stores them (unix seconds, ISO dates as
//! text, codes), so the two backends mean the same by every column.

mod audit;
mod columns;
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
mod test_schema;
#[cfg(feature = "testing")]
mod testing;
mod transport;
mod trust;

#[cfg(feature = "testing")]
pub use test_schema::{TEST_DATABASE_URL_VAR, TestSchema};
pub use transport::ALLOW_PLAINTEXT_VAR;

use crate::error::{SettleError, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// Connections per process: PostgreSQL serves each on its own backend process,
/// so a few per node, times the nodes, must stay under `max_connections`.
/// `serve --pool-size` changes it.
pub const DEFAULT_POOL_SIZE: u32 = 8;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user@host/db`) and bring the schema up to
    /// date; several processes may start at once (migrations take a lock).
    /// `sslmode` and `sslrootcert` in the URL are honoured; a database on another
    /// machine without `sslmode=require` or `verify-*` is refused (see
    /// `transport.rs`) unless `ZAITAKU_DATABASE_ALLOW_PLAINTEXT=1`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_pool_size(url, DEFAULT_POOL_SIZE).await
    }

    /// The same, with at most `size` connections (at least one).
    pub async fn connect_with_pool_size(url: &str, size: u32) -> Result<Self, StoreError> {
        let options = options(url)?;
        transport::check(&options, transport::plaintext_allowed_by_env())?;
        Self::connect_with(options, size).await
    }

    /// The same, with every table in `schema` (which must exist): tests give
    /// each case its own schema; a deployment may share one database this way.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let options = options(url)?;
        transport::check(&options, transport::plaintext_allowed_by_env())?;
        Self::connect_with(
            options.options([("search_path", schema)]),
            DEFAULT_POOL_SIZE,
        )
        .await
    }

    async fn connect_with(options: PgConnectOptions, size: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(size.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        migrate::run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// Close every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn options(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url).map_err(|e| StoreError::Database(format!("database URL: {e}")))
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<sqlx::Error> for SettleError {
    fn from(e: sqlx::Error) -> Self {
        SettleError::Store(e.into())
    }
}

/// A unique or primary key already holds the value being written.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
