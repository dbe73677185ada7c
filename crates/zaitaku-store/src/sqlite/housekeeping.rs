//! Forgetting what has expired, and closing the store.

use super::SqliteStore;
use crate::error::StoreError;
use crate::lifecycle::PurgeCutoffs;
use crate::store::Housekeeping;
use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use time::OffsetDateTime;

#[async_trait]
impl Housekeeping for SqliteStore {
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        // Bookkeeping durability: what is purged is gone for good anyway.
        let cutoffs = PurgeCutoffs::expired_at(now);
        let counts = self
            .write(move |c| super::lifecycle::purge_expired(c, &cutoffs))
            .await?;
        Ok(counts.iter().map(|c| c.rows).sum())
    }

    async fn probe_schema_version(&self) -> Result<i64, StoreError> {
        let path = self.path.clone();
        super::run(move || {
            let conn = Connection::open_with_flags(
                path.as_path(),
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(2))?;
            let stored: Option<i64> =
                conn.query_row("SELECT max(version) FROM schema_migrations", [], |r| {
                    r.get(0)
                })?;
            Ok(super::migrate::logical_version(stored.unwrap_or(0)))
        })
        .await
    }

    fn pool_use(&self) -> crate::store::PoolUse {
        self.pool.in_use()
    }

    async fn close(&self) {
        SqliteStore::close(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_probe_opens_the_file_afresh_and_sees_migrations_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.sqlite3");
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(
            store.probe_schema_version().await.unwrap(),
            crate::SCHEMA_VERSION
        );
        // Another process takes the last migration back: the probe reads it
        // (the one before, whatever its number: 0011 and 0012 were written apart).
        let conn = Connection::open(&path).unwrap();
        conn.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)", [])
            .unwrap();
        let previous: i64 = conn
            .query_row("SELECT max(version) FROM schema_migrations", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert!(previous < crate::SCHEMA_VERSION);
        assert_eq!(store.probe_schema_version().await.unwrap(), previous);
        // The file moved away: the pool would go on, the probe fails.
        std::fs::rename(&path, dir.path().join("elsewhere")).unwrap();
        assert!(store.probe_schema_version().await.is_err());
    }
}
