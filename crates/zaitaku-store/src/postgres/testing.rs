//! The operations only tests use (`testing` feature).

use super::PostgresStore;
use crate::error::StoreError;
use crate::records::FlowRecord;
use crate::store::TestingStore;
use async_trait::async_trait;
use zaitaku_domain::{PersonId, Qualification};

#[async_trait]
impl TestingStore for PostgresStore {
    async fn insert_person(&self, qualification: &Qualification) -> Result<PersonId, StoreError> {
        super::persons::insert_person(&self.pool, qualification).await
    }

    async fn flow(&self, id: &str) -> Result<Option<FlowRecord>, StoreError> {
        super::flows::flow(&self.pool, id).await
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        let stored: i64 = sqlx::query_scalar("SELECT max(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await?;
        Ok(super::migrate::logical_version(stored))
    }
}
