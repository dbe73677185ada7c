//! Forgetting what has expired, and closing the store.

use super::SqliteStore;
use crate::codec::instant;
use crate::error::StoreError;
use crate::store::Housekeeping;
use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use time::OffsetDateTime;

#[async_trait]
impl Housekeeping for SqliteStore {
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        // Bookkeeping durability: what is purged is gone for good anyway.
        self.write(move |c| purge_expired(c, now)).await
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

    async fn close(&self) {
        SqliteStore::close(self).await
    }
}

/// In one transaction: challenges of expired flows (and any a day past its own
/// expiry), expired flows, sessions and console sessions. The number of rows
/// deleted.
fn purge_expired(conn: &mut Connection, now: OffsetDateTime) -> Result<u64, StoreError> {
    let now = instant(now);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut purged = 0;
    for sql in [
        "DELETE FROM challenges WHERE flow_id IN (SELECT id FROM flows WHERE expires_at <= ?1) \
         OR expires_at <= ?1 - 86400",
        "DELETE FROM flows WHERE expires_at <= ?1",
        "DELETE FROM sessions WHERE expires_at <= ?1",
        "DELETE FROM staff_sessions WHERE expires_at <= ?1",
        "DELETE FROM staff_devices WHERE expires_at <= ?1",
    ] {
        purged += tx.prepare_cached(sql)?.execute([now])? as u64;
    }
    tx.commit()?;
    Ok(purged)
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
