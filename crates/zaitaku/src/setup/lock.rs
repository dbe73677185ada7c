//! The lock file beside an SQLite database (`zaitaku.sqlite3.lock`): `serve`
//! and `demo` hold a shared lock on it for their whole life, `admin restore`
//! takes it exclusively. An idle WAL database holds no lock a restore could
//! see; this file is what tells it that a service has the database open.

use super::CliError;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// `zaitaku.sqlite3.lock` for `zaitaku.sqlite3`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_owned();
    name.push(".lock");
    database.with_file_name(name)
}

fn open(database: &Path) -> Result<(File, PathBuf), CliError> {
    let path = lock_path(database);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        super::database::private_dir(dir)
            .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    Ok((file, path))
}

/// The service's lock: shared, so several services may share one file; kept
/// until the returned file is dropped (the process ends).
pub fn hold_for_service(database: &Path) -> Result<File, CliError> {
    let (file, path) = open(database)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(format!(
            "the database {} is being restored (`zaitaku admin restore` holds {}); start the service when it has finished",
            database.display(),
            path.display()
        )
        .into()),
        Err(TryLockError::Error(e)) => {
            Err(format!("cannot lock {}: {e}", path.display()).into())
        }
    }
}

/// The restore's lock: exclusive, refused while any service holds its own.
pub fn hold_for_restore(database: &Path) -> Result<File, CliError> {
    let (file, path) = open(database)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(format!(
            "the database {} is in use by a running `zaitaku serve` (it holds {}): stop the service, then restore",
            database.display(),
            path.display()
        )
        .into()),
        Err(TryLockError::Error(e)) => {
            Err(format!("cannot lock {}: {e}", path.display()).into())
        }
    }
}
