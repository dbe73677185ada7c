//! Which store a conformance case runs on. Every case runs twice: on SQLite
//! (a fresh file) and on PostgreSQL (a fresh schema in the database named by
//! `ZAITAKU_TEST_DATABASE_URL`, dropped after the case). Without that variable
//! the PostgreSQL half says it was skipped; with it, an unreachable server fails
//! the case: it is never passed silently. The schema handling is the store's
//! own `postgres::TestSchema`, which the web tests use too.

use std::sync::Arc;
use zaitaku_store::postgres::TestSchema;
use zaitaku_store::{SqliteStore, Store};

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
        TestSchema::database_url().map(|url| Backend::Postgres { url })
    }
}

/// What keeps a fresh store's data alive; dropping it removes the data.
pub enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] TestSchema),
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
            let schema = TestSchema::create(&url).await;
            let store = schema.store().await;
            (Guard::Postgres(schema), Arc::new(store))
        }
    }
}

/// Run each named case (an `async fn()` of the module invoking this) on SQLite and on PostgreSQL:
/// `on_sqlite::NAME` and `on_postgres::NAME`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::backend::BACKEND
                        .scope(crate::backend::Backend::Sqlite, super::$name())
                        .await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    match crate::backend::Backend::postgres() {
                        Some(backend) => crate::backend::BACKEND.scope(backend, super::$name()).await,
                        None => eprintln!(
                            "skipped on PostgreSQL: {} is not set",
                            zaitaku_store::postgres::TEST_DATABASE_URL_VAR
                        ),
                    }
                }
            )*
        }
    };
}

/// A second store on the same data as the one `guard` keeps, with its own
/// connections (SQLite: its own writer; PostgreSQL: its own pool), as a
/// second process would open it.
pub async fn second_store(guard: &Guard) -> Arc<dyn Store> {
    match guard {
        Guard::Sqlite(dir) => Arc::new(SqliteStore::open(&dir.path().join("db")).await.unwrap()),
        Guard::Postgres(schema) => Arc::new(schema.store().await),
    }
}
