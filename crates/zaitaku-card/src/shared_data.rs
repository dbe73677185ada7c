//! Where tests find the public data kept beside the repository (`../shared/data`):
//! JPKI's published roots and a real card certificate (`jpki/`), Web eID's test tokens
//! and CA (`webeid/`). Read in place, never copied into the repository.
//!
//! `ZAITAKU_SHARED_DATA` names another folder; a folder it names must exist (the test
//! fails). Without it, a missing default folder skips the test, loudly.

use std::path::PathBuf;

pub const ENV_VAR: &str = "ZAITAKU_SHARED_DATA";

/// The data folder `name` (`jpki`, `webeid`), or `None` after telling on standard
/// error that `test` was skipped, why, and how to provide the data.
///
/// # Panics
/// When `ZAITAKU_SHARED_DATA` names a folder without `name`: asked-for data that is
/// missing is a failure, not a skip.
pub fn folder(name: &str, test: &str) -> Option<PathBuf> {
    if let Some(root) = std::env::var_os(ENV_VAR) {
        let path = PathBuf::from(root).join(name);
        assert!(
            path.is_dir(),
            "{ENV_VAR} is set, but {} does not exist",
            path.display()
        );
        return Some(path);
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name);
    if path.is_dir() {
        return Some(path);
    }
    eprintln!(
        "\n*** SKIPPED {test}: the public test data folder {} is missing.\n\
         *** It holds JPKI's roots as J-LIS publishes them (jpki/) and Web eID's test\n\
         *** tokens and CA from github.com/web-eid/web-eid-authtoken-validation-java (webeid/).\n\
         *** Put them there, or set {ENV_VAR} to the folder that holds jpki/ and webeid/.\n",
        path.display()
    );
    None
}

/// The bytes of `file` in [`folder`]`(name)`; `None` when the test is skipped.
///
/// # Panics
/// When the folder is there but the file cannot be read.
pub fn read(name: &str, file: &str, test: &str) -> Option<Vec<u8>> {
    let path = folder(name, test)?.join(file);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}
