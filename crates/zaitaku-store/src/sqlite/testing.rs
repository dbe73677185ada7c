//! The operations only tests use (`testing` feature).

use super::SqliteStore;
use crate::error::StoreError;
use crate::records::FlowRecord;
use crate::store::TestingStore;
use async_trait::async_trait;
use zaitaku_domain::{PersonId, Qualification};

#[async_trait]
impl TestingStore for SqliteStore {
    async fn insert_person(&self, qualification: &Qualification) -> Result<PersonId, StoreError> {
        let qualification = qualification.clone();
        self.write_durable(move |c| super::persons::insert(c, &qualification))
            .await
    }

    async fn flow(&self, id: &str) -> Result<Option<FlowRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| super::flows::by_id(c, &id)).await
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        let stored: i64 = self
            .read(|c| {
                c.query_row("SELECT max(version) FROM schema_migrations", [], |r| {
                    r.get(0)
                })
                .map_err(StoreError::from)
            })
            .await?;
        Ok(super::migrate::logical_version(stored))
    }
}
