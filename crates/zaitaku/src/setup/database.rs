//! Which database `serve` and `admin` use: the embedded SQLite file in the data
//! directory (the default), a `sqlite:PATH` file, or a PostgreSQL server
//! (`postgres://…`), which several `serve` processes can share.

use super::CliError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zaitaku_store::{PostgresStore, SqliteStore, Store};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "zaitaku.sqlite3";

#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// `--database-url` when given, else the data directory's SQLite file.
    pub fn choose(url: Option<&str>, data_dir: &Path) -> Result<Database, CliError> {
        let Some(url) = url.filter(|u| !u.is_empty()) else {
            return Ok(Database::Sqlite(data_dir.join(DATABASE_FILE)));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if !path.is_empty() {
                return Ok(Database::Sqlite(PathBuf::from(path)));
            }
        }
        Err(format!(
            "--database-url {:?}: give postgres://USER@HOST/DB or sqlite:PATH",
            redacted(url)
        )
        .into())
    }

    /// Whether there is a database there already. A server is asked on connecting.
    pub fn exists(&self) -> bool {
        match self {
            Database::Sqlite(path) => path.is_file(),
            Database::Postgres(_) => true,
        }
    }

    /// Where it is, for messages: a PostgreSQL URL without its user and password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => redacted(url),
        }
    }

    /// Connect (PostgreSQL) or open, creating its directory (SQLite); the schema
    /// is brought up to date either way.
    pub async fn open(&self) -> Result<Arc<dyn Store>, CliError> {
        let failed = |e: zaitaku_store::StoreError| -> CliError {
            format!("cannot open database {}: {e}", self.describe()).into()
        };
        match self {
            Database::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        format!("cannot create data directory {}: {e}", dir.display())
                    })?;
                }
                Ok(Arc::new(SqliteStore::open(path).await.map_err(failed)?))
            }
            Database::Postgres(url) => {
                Ok(Arc::new(PostgresStore::connect(url).await.map_err(failed)?))
            }
        }
    }
}

/// `postgres://host/db` from `postgres://user:secret@host/db`.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_and_never_show_a_password() {
        let dir = Path::new("data");
        assert!(matches!(
            Database::choose(None, dir).unwrap(),
            Database::Sqlite(p) if p == dir.join(DATABASE_FILE)
        ));
        assert!(matches!(
            Database::choose(Some("sqlite:/tmp/z.db"), dir).unwrap(),
            Database::Sqlite(p) if p == Path::new("/tmp/z.db")
        ));
        let pg = Database::choose(Some("postgres://zaitaku:s3cret@db.local/zaitaku"), dir).unwrap();
        assert_eq!(pg.describe(), "postgres://…@db.local/zaitaku");
        let bad = Database::choose(Some("mysql://u:s3cret@h/d"), dir).unwrap_err();
        assert!(!bad.to_string().contains("s3cret"), "{bad}");
    }
}
