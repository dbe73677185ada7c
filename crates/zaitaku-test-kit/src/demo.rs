//! `zaitaku demo` started on a directory, read from what it prints on starting.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `zaitaku demo`, from what it printed on starting.
pub struct Demo {
    child: Child,
    pub base: String,
    /// The institutions' paths (`/i/…`), in the order printed.
    pub institutions: Vec<String>,
    /// Everything printed before "Press Ctrl+C".
    pub welcome: String,
    /// The directory of the demo's card files.
    pub cards: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    /// The server's process id (its memory and CPU are read from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The demo on a fresh temporary directory, removed when it is dropped;
/// `zaitaku` is the binary's path.
pub fn start_demo(zaitaku: &Path) -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = start_demo_in(zaitaku, dir.path());
    demo._dir = Some(dir);
    demo
}

/// The demo on `dir`, made there on the first start and reused on later ones.
pub fn start_demo_in(zaitaku: &Path, dir: &Path) -> Demo {
    let mut child = Command::new(zaitaku)
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("Zaitaku demo: ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .trim_end_matches('/')
        .to_owned();
    let mut institutions = Vec::new();
    let mut welcome = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        welcome.push_str(&line);
        welcome.push('\n');
        if line.starts_with("Press Ctrl+C") {
            break;
        }
        if let Some(url) = line.trim().strip_prefix(&format!("{base}/i/")) {
            institutions.push(format!("/i/{url}"));
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Demo {
        child,
        base,
        institutions,
        welcome,
        cards: dir.join("cards"),
        _dir: None,
    }
}
