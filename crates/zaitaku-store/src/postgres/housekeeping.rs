//! Forgetting what has expired, and closing the store.

use super::PostgresStore;
use crate::codec::instant;
use crate::error::StoreError;
use crate::store::Housekeeping;
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
impl Housekeeping for PostgresStore {
    /// In one transaction, as SQLite's: challenges of expired flows (and any a day
    /// past its own expiry), expired flows, sessions and console sessions. The
    /// number of rows deleted.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let pool = &self.pool;
        let now = instant(now);
        let mut tx = pool.begin().await?;
        // Lock the expired flows first: a challenge another process would add to
        // one now waits for this purge (and then finds its flow gone), rather than
        // slipping in between the two deletes.
        sqlx::query("SELECT id FROM flows WHERE expires_at <= $1 FOR UPDATE")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let mut purged = 0;
        for sql in [
            "DELETE FROM challenges WHERE flow_id IN (SELECT id FROM flows WHERE expires_at <= $1) \
             OR expires_at <= $1 - 86400",
            "DELETE FROM flows WHERE expires_at <= $1",
            "DELETE FROM sessions WHERE expires_at <= $1",
            "DELETE FROM staff_sessions WHERE expires_at <= $1",
            "DELETE FROM staff_devices WHERE expires_at <= $1",
        ] {
            purged += sqlx::query(sql)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(purged)
    }

    async fn probe_schema_version(&self) -> Result<i64, StoreError> {
        use sqlx::Connection;
        // A session of its own: a pooled one may outlive the server's restart
        // or a revoked login.
        let mut conn = sqlx::PgConnection::connect_with(&self.pool.connect_options()).await?;
        let stored: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM schema_migrations")
            .fetch_one(&mut conn)
            .await?;
        let _ = conn.close().await;
        Ok(super::migrate::logical_version(stored.unwrap_or(0)))
    }

    async fn close(&self) {
        PostgresStore::close(self).await
    }
}
