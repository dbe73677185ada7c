//! The virtual card's file: format, locking and crash-safe updates.
//!
//! Updates are written to a temporary file, fsynced, then renamed over the
//! card file, so a crash leaves either the old or the new state, never a torn
//! one. Because the rename replaces the inode, the lock is taken on the new
//! file before it becomes visible, and `open` re-checks after locking that it
//! holds the file currently at the path.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::VirtualCardError;

/// Value of the `format` field; bump the suffix on incompatible changes.
pub(super) const FORMAT: &str = "zaitaku-virtual-card:1";

/// Card files are small; anything larger is not ours.
const MAX_FILE_LEN: u64 = 1024 * 1024;

/// The file's JSON document.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StoredCard {
    pub format: String,
    /// The card's private key (RSA-2048 or P-384), PKCS#8 DER, base64. PKCS#8 names
    /// the algorithm, so files made before P-384 cards existed read as they are.
    pub private_key_pkcs8: String,
    /// The certificate EF contents, base64; opaque to the card.
    pub certificate_der: String,
    /// Random salt for `pin_sha256`, base64.
    pub pin_salt: String,
    /// SHA-256(salt ‖ PIN), base64.
    pub pin_sha256: String,
    pub tries_left: u8,
}

pub(super) fn encode(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

pub(super) fn decode(path: &Path, field: &str, text: &str) -> Result<Vec<u8>, VirtualCardError> {
    BASE64
        .decode(text)
        .map_err(|_| corrupt(path, format!("the field \"{field}\" is not valid base64")))
}

pub(super) fn corrupt(path: &Path, reason: impl Into<String>) -> VirtualCardError {
    VirtualCardError::Corrupt {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn io_error(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> VirtualCardError {
    let path = path.to_owned();
    move |source| VirtualCardError::Io {
        path,
        action,
        source,
    }
}

/// Writes a new card file; fails if one already exists at `path`.
pub(super) fn create_new(path: &Path, card: &StoredCard) -> Result<(), VirtualCardError> {
    let json = serialize(card)?;
    let mut file = owner_only_options()
        .create_new(true)
        .open(path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                VirtualCardError::AlreadyExists(path.to_owned())
            } else {
                io_error(path, "creating")(source)
            }
        })?;
    let written = file
        .write_all(json.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| sync_parent_dir(path));
    if let Err(source) = written {
        // Do not leave a half-written card behind.
        let _ = std::fs::remove_file(path);
        return Err(io_error(path, "writing")(source));
    }
    Ok(())
}

/// An open card file, exclusively locked for the lifetime of the value.
pub(super) struct LockedFile {
    path: PathBuf,
    /// Held only for its lock, which is released when the file is closed.
    file: File,
}

impl LockedFile {
    /// Opens and locks the card file, and reads its JSON document.
    pub fn open(path: &Path) -> Result<(LockedFile, StoredCard), VirtualCardError> {
        loop {
            let mut file = File::open(path).map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    VirtualCardError::NotFound(path.to_owned())
                } else {
                    io_error(path, "opening")(source)
                }
            })?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(VirtualCardError::InUse(path.to_owned()));
                }
                Err(TryLockError::Error(source)) => return Err(io_error(path, "locking")(source)),
            }
            // Another process may have replaced the file between our open and
            // our lock; then we locked a stale inode and must start over.
            if !is_same_file(&file, path)? {
                continue;
            }
            let card = read_document(path, &mut file)?;
            let locked = LockedFile {
                path: path.to_owned(),
                file,
            };
            return Ok((locked, card));
        }
    }

    /// Replaces the file with `card`: temp file, fsync, lock, rename, fsync dir.
    pub fn replace(&mut self, card: &StoredCard) -> Result<(), VirtualCardError> {
        let json = serialize(card)?;
        let temp_path = temp_path(&self.path);
        // A stale temp file can only come from a crash: we hold the lock.
        match std::fs::remove_file(&temp_path) {
            Ok(()) => {}
            Err(source) if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(io_error(&temp_path, "removing")(source)),
        }
        let mut temp = owner_only_options()
            .create_new(true)
            .open(&temp_path)
            .map_err(io_error(&temp_path, "creating"))?;
        let result = temp
            .write_all(json.as_bytes())
            .and_then(|()| temp.sync_all())
            .and_then(|()| temp.try_lock().map_err(std::io::Error::from))
            .and_then(|()| std::fs::rename(&temp_path, &self.path));
        if let Err(source) = result {
            let _ = std::fs::remove_file(&temp_path);
            return Err(io_error(&self.path, "saving")(source));
        }
        // The new file is now the card: keep its lock. Dropping the old
        // handle releases the lock on the replaced inode.
        self.file = temp;
        sync_parent_dir(&self.path).map_err(io_error(&self.path, "saving"))
    }
}

fn read_document(path: &Path, file: &mut File) -> Result<StoredCard, VirtualCardError> {
    let mut text = String::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_string(&mut text)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::InvalidData {
                corrupt(path, "the file is not UTF-8 text")
            } else {
                io_error(path, "reading")(source)
            }
        })?;
    if text.len() as u64 > MAX_FILE_LEN {
        return Err(corrupt(path, "the file is too large to be a virtual card"));
    }
    // Check the format first so an unknown version gets a clear message.
    #[derive(Deserialize)]
    struct FormatOnly {
        format: String,
    }
    let format = serde_json::from_str::<FormatOnly>(&text)
        .map_err(|err| corrupt(path, format!("not a virtual card file ({err})")))?
        .format;
    if format != FORMAT {
        return Err(VirtualCardError::UnsupportedFormat {
            path: path.to_owned(),
            found: format,
        });
    }
    serde_json::from_str(&text).map_err(|err| corrupt(path, err.to_string()))
}

fn serialize(card: &StoredCard) -> Result<String, VirtualCardError> {
    serde_json::to_string_pretty(card).map_err(|err| VirtualCardError::Serialize(err.to_string()))
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Read-write options creating files readable by the owner only (mode 0600).
fn owner_only_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Makes a rename or create durable: its directory entry must hit the disk.
fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

fn is_same_file(file: &File, path: &Path) -> Result<bool, VirtualCardError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let opened = file.metadata().map_err(io_error(path, "inspecting"))?;
        let current = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            // Replaced and not yet back, or deleted: let the next open decide.
            Err(source) if source.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(source) => return Err(io_error(path, "inspecting")(source)),
        };
        Ok(opened.dev() == current.dev() && opened.ino() == current.ino())
    }
    #[cfg(not(unix))]
    {
        // Elsewhere a file that is open cannot be replaced by rename.
        let _ = (file, path);
        Ok(true)
    }
}
