//! Which database `serve` and `admin` use: the embedded SQLite file in the data
//! directory (the default), a `sqlite:PATH` file, or a PostgreSQL server
//! (`postgres://…`), which several `serve` processes can share.

use super::CliError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zaitaku_store::{PostgresStore, SqliteStore, Store, postgres, sqlite};

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
        self.open_with_pool_size(None).await
    }

    /// The same, with `pool_size` connections (SQLite: readers beside the one
    /// writer) instead of the backend's default.
    pub async fn open_with_pool_size(
        &self,
        pool_size: Option<u32>,
    ) -> Result<Arc<dyn Store>, CliError> {
        let failed = |e: zaitaku_store::StoreError| -> CliError {
            format!("cannot open database {}: {e}", self.describe()).into()
        };
        match self {
            Database::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    // The data directory's; not the parent of any sqlite:PATH (/tmp).
                    if path.file_name() == Some(DATABASE_FILE.as_ref()) {
                        warn_if_open_to_others(dir);
                    }
                    private_dir(dir).map_err(|e| {
                        format!("cannot create data directory {}: {e}", dir.display())
                    })?;
                }
                for file in sqlite_files(path) {
                    warn_if_open_to_others(&file);
                }
                let readers = pool_size.map_or(sqlite::DEFAULT_READERS, |n| n as usize);
                let store = SqliteStore::open_with_readers(path, readers).await;
                Ok(Arc::new(store.map_err(failed)?))
            }
            Database::Postgres(url) => {
                let size = pool_size.unwrap_or(postgres::DEFAULT_POOL_SIZE);
                let store = PostgresStore::connect_with_pool_size(url, size).await;
                Ok(Arc::new(store.map_err(failed)?))
            }
        }
    }
}

/// The data directory, created for its owner only (0700) with any missing parents.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The database file and the two SQLite keeps beside it.
fn sqlite_files(path: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_owned(), with("-wal"), with("-shm")]
}

/// Records and consents are health data: say so when an existing directory or
/// database file can be read by other users. Nothing is changed without asking.
fn warn_if_open_to_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            let wanted = if meta.is_dir() { "700" } else { "600" };
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "{} is open to other users on this machine; it holds health data: \
                 chmod {wanted} {} (Zaitaku creates it so, but leaves an existing one alone)",
                path.display(),
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `postgres://host/db` from `postgres://user:secret@host/db`.
pub fn redacted(url: &str) -> String {
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
