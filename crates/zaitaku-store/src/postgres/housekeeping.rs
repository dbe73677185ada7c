//! Forgetting what has expired, and closing the store.

use super::PostgresStore;
use crate::error::StoreError;
use crate::lifecycle::PurgeCutoffs;
use crate::store::Housekeeping;
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
impl Housekeeping for PostgresStore {
    /// In one transaction, as SQLite's: what has expired
    /// ([`crate::lifecycle::EXPIRED`]). The number of rows deleted.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let counts =
            super::lifecycle::purge_expired(&mut conn, &PurgeCutoffs::expired_at(now)).await?;
        Ok(counts.iter().map(|c| c.rows).sum())
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

    fn pool_use(&self) -> crate::store::PoolUse {
        let open = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        crate::store::PoolUse {
            open,
            in_use: open.saturating_sub(idle),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn close(&self) {
        PostgresStore::close(self).await
    }
}
