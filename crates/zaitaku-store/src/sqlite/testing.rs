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

    async fn statements_compiled_again(&self) -> Result<Vec<(String, i32)>, StoreError> {
        Ok(self.pool.statements_compiled_again())
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

impl super::Pool {
    /// Every connection's statements that SQLite compiled again, and how often.
    fn statements_compiled_again(&self) -> Vec<(String, i32)> {
        std::iter::once(&self.writer)
            .chain(&self.readers)
            .flat_map(|connection| match super::lock(connection).as_ref() {
                Some(connection) => compiled_again(connection),
                None => Vec::new(),
            })
            .collect()
    }
}

/// The statements of `connection` (its statement cache is all there is) that
/// were compiled again.
fn compiled_again(connection: &rusqlite::Connection) -> Vec<(String, i32)> {
    use rusqlite::ffi;
    let mut found = Vec::new();
    // SAFETY: the handle is this connection's, held under its lock for the
    // whole walk, so no statement is finalized meanwhile; the three calls only
    // read what the connection owns, and the SQL text is copied out at once.
    unsafe {
        let db = connection.handle();
        let mut statement = ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
        while !statement.is_null() {
            let again = ffi::sqlite3_stmt_status(statement, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
            if again > 0 {
                let sql = std::ffi::CStr::from_ptr(ffi::sqlite3_sql(statement));
                found.push((sql.to_string_lossy().into_owned(), again));
            }
            statement = ffi::sqlite3_next_stmt(db, statement);
        }
    }
    found
}
