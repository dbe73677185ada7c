//! Which store a conformance case runs on. Every case runs twice: on SQLite
//! (a fresh file) and on PostgreSQL (a fresh schema in the database named by
//! `ZAITAKU_TEST_DATABASE_URL`, dropped after the case). Without that variable
//! the PostgreSQL half says it was skipped; with it, an unreachable server fails
//! the case: it is never passed silently.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use zaitaku_store::{PostgresStore, SqliteStore, Store};

pub const DATABASE_URL_VAR: &str = "ZAITAKU_TEST_DATABASE_URL";

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres { url: String },
}

tokio::task_local! {
    /// The backend of the case running in this task (see `on_both_backends!`).
    pub static BACKEND: Backend;
}

impl Backend {
    /// PostgreSQL if the environment names a test database.
    pub fn postgres() -> Option<Backend> {
        std::env::var(DATABASE_URL_VAR)
            .ok()
            .filter(|url| !url.is_empty())
            .map(|url| Backend::Postgres { url })
    }
}

/// What keeps a fresh store's data alive; dropping it removes the data.
pub enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Guard::Postgres { url, schema } = self else {
            return;
        };
        let (url, name) = (url.clone(), schema.clone());
        // Drop runs inside the case's runtime: clean up on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let schema = name;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let pool = sqlx::PgPool::connect(&url).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&pool)
                .await?;
                pool.close().await;
                Ok::<_, sqlx::Error>(())
            })
        });
        if let Ok(Err(e)) = cleanup.join() {
            eprintln!("could not drop test schema {schema}: {e}");
        }
    }
}

/// An empty store of the backend of the running case, with what keeps it alive.
pub async fn fresh_store() -> (Guard, Arc<dyn Store>) {
    match BACKEND.get() {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
            (Guard::Sqlite(dir), Arc::new(store))
        }
        Backend::Postgres { url } => {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let schema = format!(
                "zaitaku_test_{}_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed),
                time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000
            );
            let pool = sqlx::PgPool::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR}={url}: cannot connect: {e}"));
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
            let guard = Guard::Postgres {
                url: url.clone(),
                schema: schema.clone(),
            };
            let store = PostgresStore::connect_in_schema(&url, &schema)
                .await
                .unwrap();
            (guard, Arc::new(store))
        }
    }
}

/// Run each named case (an `async fn()` of this file) on SQLite and on PostgreSQL:
/// `on_sqlite::NAME` and `on_postgres::NAME`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::backend::BACKEND
                        .scope(super::backend::Backend::Sqlite, super::$name())
                        .await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    match super::backend::Backend::postgres() {
                        Some(backend) => super::backend::BACKEND.scope(backend, super::$name()).await,
                        None => eprintln!(
                            "skipped on PostgreSQL: {} is not set",
                            super::backend::DATABASE_URL_VAR
                        ),
                    }
                }
            )*
        }
    };
}
