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

    async fn row_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut counts = Vec::with_capacity(tables.len());
        for table in tables {
            let sql = format!("SELECT count(*) FROM \"{table}\"");
            let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&self.pool)
                .await?;
            counts.push((table, rows));
        }
        Ok(counts)
    }

    async fn statements_compiled_again(&self) -> Result<Vec<(String, i32)>, StoreError> {
        Ok(Vec::new())
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        let stored: i64 = sqlx::query_scalar("SELECT max(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await?;
        Ok(super::migrate::logical_version(stored))
    }
}
