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

    async fn row_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.read(|c| {
            let tables: Vec<String> = c
                .prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%' ORDER BY name",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            tables
                .into_iter()
                .map(|table| {
                    let sql = format!("SELECT count(*) FROM \"{table}\"");
                    let rows: i64 = c.query_row(&sql, [], |r| r.get(0))?;
                    Ok((table, rows))
                })
                .collect()
        })
        .await
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
