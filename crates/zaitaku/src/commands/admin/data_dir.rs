//! `--data-dir` and `--database-url` of every `admin` command: the database
//! that `zaitaku serve` uses.

use crate::setup::database::Database;
use crate::setup::{CliError, DEFAULT_DATA_DIR};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use zaitaku_store::Store;

/// Where the database is: the same `--data-dir` or `--database-url` that
/// `zaitaku serve` is given.
#[derive(Args)]
pub struct DataDir {
    /// The service's data directory (the one `zaitaku serve` uses).
    #[arg(long = "data-dir", value_name = "DIR", env = "ZAITAKU_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    path: PathBuf,
    /// The service's database, when it is not the data directory's SQLite file:
    /// postgres://USER@HOST/DB or sqlite:PATH (the one `zaitaku serve` uses).
    #[arg(long, value_name = "URL", env = "ZAITAKU_DATABASE_URL")]
    database_url: Option<String>,
}

impl DataDir {
    pub fn database(&self) -> Result<Database, CliError> {
        Database::choose(self.database_url.as_deref(), &self.path)
    }

    /// Open the database, creating the directory and database if missing.
    pub async fn create_or_open(&self) -> Result<Arc<dyn Store>, CliError> {
        self.database()?.open().await
    }

    /// Open the database, which must exist: a mistyped directory is an error,
    /// not a new empty database.
    pub async fn open_existing(&self) -> Result<Arc<dyn Store>, CliError> {
        let database = self.database()?;
        if !database.exists() {
            return Err(format!(
                "no Zaitaku database in {} (give the --data-dir that `zaitaku serve` uses)",
                self.path.display()
            )
            .into());
        }
        database.open().await
    }
}
