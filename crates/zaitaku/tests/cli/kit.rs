//! What the CLI tests share: the binary with a clean environment, its output
//! as text, `zaitaku admin`, a test root, a running `serve` or `demo` (stopped
//! when dropped), and a "browser" (plain HTTP with a cookie) that walks the
//! patient screens. A test module adds what only it needs beside its tests;
//! `impl Browser` blocks may sit there too.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

// ---------------------------------------------------------------- the binary

/// The `zaitaku` binary, with none of its settings taken from the environment
/// the tests run in: each call names its database, directory, origin and PIN.
pub fn zaitaku() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zaitaku"));
    for var in [
        "ZAITAKU_DATABASE_URL",
        "ZAITAKU_DATA_DIR",
        "ZAITAKU_LOG_FORMAT",
        "ZAITAKU_PIN",
        "ZAITAKU_PUBLIC_ORIGIN",
        "ZAITAKU_PURGE_EVERY_HOURS",
        "ZAITAKU_KEEP_QUALIFICATION_CHECKS_DAYS",
        "ZAITAKU_KEEP_ACCESS_LOG_DAYS",
        "ZAITAKU_KEEP_LOGIN_LOG_DAYS",
        "ZAITAKU_KEEP_CONSENTS_DAYS",
        "ZAITAKU_KEEP_PERSONS_DAYS",
        "ZAITAKU_CONFIG",
        "ZAITAKU_MAX_POLLS",
        "ZAITAKU_FLOW_LIFETIME_SECS",
        "ZAITAKU_TRUST_ANCHORS",
        "ZAITAKU_ALLOW_POLICIES",
        "ZAITAKU_ALLOW_UNCHECKED_REVOCATION",
    ] {
        command.env_remove(var);
    }
    command
}

/// Run `zaitaku ARGS` to its end.
pub fn output(args: &[&str]) -> Output {
    zaitaku().args(args).output().unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The command exited with `code` and said `needle` on standard error.
pub fn refused(out: &Output, code: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

/// As `refused`, and it printed nothing on standard output.
pub fn refused_silently(out: &Output, code: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
    assert!(out.stdout.is_empty(), "{}", stdout(out));
}

/// `zaitaku admin ARGS --data-dir DATA`, to add more arguments to.
pub fn admin_command(data: &Path, args: &[&str]) -> Command {
    let mut command = zaitaku();
    command.arg("admin").args(args).arg("--data-dir").arg(data);
    command
}

/// `zaitaku admin ARGS --data-dir DATA`, run to its end.
pub fn admin(data: &Path, args: &[&str]) -> Output {
    admin_command(data, args).output().unwrap()
}

/// A browser at `origin` enrolled as a device of institution `code` of the
/// database in `data` (institutions let only their devices start flows): an
/// activation code from `zaitaku admin device add`, typed at `/device`.
pub fn enrolled_browser(data: &Path, origin: &str, code: &str) -> Browser {
    let out = admin(
        data,
        &[
            "device",
            "add",
            "--institution",
            code,
            "--name",
            "テスト端末",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut browser = Browser::new(origin);
    browser.enrol(stdout(&out).trim());
    browser
}

/// A test root made by `zaitaku card ca-init` in `dir/name`; its certificate
/// is `ca-cert.pem` there.
pub fn test_ca(dir: &Path, name: &str) -> PathBuf {
    let ca = dir.join(name);
    let out = zaitaku()
        .args(["card", "ca-init", "--dir"])
        .arg(&ca)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    ca
}

/// The text between `start` and the next `end` in `text`.
pub fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in {text}"))
        + start.len();
    let to = text[from..].find(end).unwrap() + from;
    &text[from..to]
}

// ---------------------------------------------------------------- `zaitaku serve`

/// A running `zaitaku serve`; its log is read line by line from `log`.
pub struct Serve {
    child: Child,
    pub origin: String,
    pub log: mpsc::Receiver<String>,
    /// What it printed up to and including the serving line.
    pub startup: Vec<String>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// `zaitaku serve --listen 127.0.0.1:0 FLAGS --data-dir DATA`, once it serves.
    pub fn start_with(data: &Path, flags: &[&str]) -> Serve {
        let mut command = zaitaku();
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(flags)
            .arg("--data-dir")
            .arg(data);
        Serve::spawn(command)
    }

    /// Any `zaitaku serve` command (its own options and environment; `RUST_LOG`
    /// is `info` unless the command sets it), once it serves.
    pub fn spawn(mut command: Command) -> Serve {
        if !command.get_envs().any(|(key, _)| key == "RUST_LOG") {
            command.env("RUST_LOG", "info");
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Its log is drained all along, so it never blocks on a full pipe.
        let (tx, log) = mpsc::channel();
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut startup = Vec::new();
        let origin = loop {
            let line = log
                .recv_timeout(Duration::from_secs(60))
                .expect("the serving line");
            startup.push(line);
            if let Some(rest) = startup.last().unwrap().strip_prefix("Zaitaku is serving ") {
                break rest.split(' ').next().unwrap().to_owned();
            }
        };
        Serve {
            child,
            origin,
            log,
            startup,
        }
    }

    /// The next line of the log (a minute at most: a missing line fails the test).
    pub fn next_line(&self) -> String {
        self.log
            .recv_timeout(Duration::from_secs(60))
            .expect("a log line")
    }

    /// Stop the service; the lines it logged that were not read yet.
    pub fn stop(&mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::iter::from_fn(|| self.log.recv_timeout(Duration::from_secs(5)).ok()).collect()
    }

    /// `zaitaku serve` on `data`, trusting a fresh test root made in `dir`.
    pub fn with_new_root(dir: &Path, data: &Path) -> Serve {
        let ca = test_ca(dir, "ca");
        let anchor = ca.join("ca-cert.pem");
        Serve::start_with(data, &["--trust-anchor", anchor.to_str().unwrap()])
    }

    /// Wait for the log to say the anchors and CRLs were reloaded.
    pub fn reloaded(&self) {
        // A bound only so that a broken reload fails the test instead of hanging it.
        loop {
            match self.log.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if line.contains("trust anchors and CRLs reloaded") => return,
                Ok(_) => {}
                Err(e) => panic!("no reload in the service's log: {e}"),
            }
        }
    }
}

// ---------------------------------------------------------------- `zaitaku demo` and a browser

pub use zaitaku_test_kit::{Browser, Demo, input, until_authentication};

/// The demo on a fresh temporary directory, removed when it is dropped.
pub fn start_demo() -> Demo {
    zaitaku_test_kit::start_demo(Path::new(env!("CARGO_BIN_EXE_zaitaku")))
}

/// The demo on `dir`, made there on the first start and reused on later ones.
pub fn start_demo_in(dir: &Path) -> Demo {
    zaitaku_test_kit::start_demo_in(Path::new(env!("CARGO_BIN_EXE_zaitaku")), dir)
}

/// `zaitaku card auth --card CARD --pin PIN LINK`, as a patient at a terminal.
pub fn card_auth(card: &Path, pin: &str, link: &str) -> Output {
    zaitaku()
        .args(["card", "auth", "--card"])
        .arg(card)
        .args(["--pin", pin, link])
        .output()
        .unwrap()
}
