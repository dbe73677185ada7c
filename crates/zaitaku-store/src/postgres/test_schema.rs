//! For tests (feature `testing`): a fresh schema in a PostgreSQL test database,
//! dropped when the guard is. Each test case gets its own, so cases run in
//! parallel on one server and leave nothing behind.

use super::PostgresStore;
use std::sync::atomic::{AtomicU64, Ordering};

/// The test database, when the environment names one.
pub const TEST_DATABASE_URL_VAR: &str = "ZAITAKU_TEST_DATABASE_URL";

pub struct TestSchema {
    url: String,
    name: String,
}

impl TestSchema {
    /// The URL in `ZAITAKU_TEST_DATABASE_URL`, if set and not empty.
    pub fn database_url() -> Option<String> {
        std::env::var(TEST_DATABASE_URL_VAR)
            .ok()
            .filter(|url| !url.is_empty())
    }

    /// Create a schema no other case uses. Panics (a test failure) when the
    /// server cannot be reached: a configured database is never skipped.
    pub async fn create(url: &str) -> TestSchema {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "zaitaku_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000
        );
        let pool = sqlx::PgPool::connect(url)
            .await
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL_VAR}: cannot connect: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("cannot create test schema {name}: {e}"));
        pool.close().await;
        TestSchema {
            url: url.to_owned(),
            name,
        }
    }

    /// The database URL with this schema as its search path, for programs that
    /// take only a URL (`zaitaku serve --database-url`, `zaitaku admin …`).
    pub fn url(&self) -> String {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.url, self.name
        )
    }

    /// A store on this schema (migrated on first connect).
    pub async fn store(&self) -> PostgresStore {
        PostgresStore::connect_in_schema(&self.url, &self.name)
            .await
            .unwrap_or_else(|e| panic!("cannot open the store on {}: {e}", self.name))
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop may run inside a runtime: clean up on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(sqlx::Error::Io)?;
            runtime.block_on(async {
                let pool = sqlx::PgPool::connect(&url).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE"
                )))
                .execute(&pool)
                .await?;
                pool.close().await;
                Ok::<_, sqlx::Error>(())
            })
        });
        if let Ok(Err(e)) = cleanup.join() {
            eprintln!("could not drop test schema {}: {e}", self.name);
        }
    }
}
