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
}
