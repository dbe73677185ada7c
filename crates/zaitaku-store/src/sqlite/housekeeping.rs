//! Forgetting what has expired, and closing the store.

use super::SqliteStore;
use crate::codec::instant;
use crate::error::StoreError;
use crate::store::Housekeeping;
use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior};
use time::OffsetDateTime;

#[async_trait]
impl Housekeeping for SqliteStore {
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        // Bookkeeping durability: what is purged is gone for good anyway.
        self.write(move |c| purge_expired(c, now)).await
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
