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
        "ZAITAKU_PIN",
        "ZAITAKU_PUBLIC_ORIGIN",
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
        let mut child = zaitaku()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(flags)
            .arg("--data-dir")
            .arg(data)
            .env("RUST_LOG", "info")
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
        let origin = log
            .iter()
            .find_map(|l| {
                l.strip_prefix("Zaitaku is serving ")
                    .map(|rest| rest.split(' ').next().unwrap().to_owned())
            })
            .expect("the serving line");
        Serve { child, origin, log }
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

// ---------------------------------------------------------------- `zaitaku demo`

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

/// The demo on a fresh temporary directory, removed when it is dropped.
pub fn start_demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = start_demo_in(dir.path());
    demo._dir = Some(dir);
    demo
}

/// The demo on `dir`, made there on the first start and reused on later ones.
pub fn start_demo_in(dir: &Path) -> Demo {
    let mut child = zaitaku()
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

// ---------------------------------------------------------------- a browser

/// Plain HTTP with a cookie, following no redirect.
pub struct Browser {
    agent: ureq::Agent,
    base: String,
    cookie: Option<String>,
}

/// One answer: its status, where it redirects, its body.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of the form field `name`.
    pub fn input(&self, name: &str) -> String {
        input(&self.body, name)
    }

    pub fn location(&self) -> &str {
        self.location.as_deref().expect("a redirect")
    }
}

/// The value of the form field `name` in `body`, unescaped.
pub fn input(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {name}")) + marker.len();
    let end = body[start..].find('"').unwrap() + start;
    body[start..end]
        .replace("&#x3d;", "=")
        .replace("&#61;", "=")
        .replace("&#x3b;", ";")
        .replace("&#59;", ";")
        .replace("&#x2c;", ",")
        .replace("&#44;", ",")
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .new_agent();
        Browser {
            agent,
            base: base.to_owned(),
            cookie: None,
        }
    }

    fn finish(&mut self, response: ureq::http::Response<ureq::Body>) -> Page {
        if let Some(c) = response.headers().get("set-cookie") {
            self.cookie = c.to_str().unwrap().split(';').next().map(str::to_owned);
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = response.into_body().read_to_string().unwrap();
        Page {
            status,
            location,
            body,
        }
    }

    pub fn get(&mut self, path: &str) -> Page {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let response = request.call().unwrap();
        self.finish(response)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let response = request.send_form(form.iter().copied()).unwrap();
        self.finish(response)
    }
}

/// Start flow A at `institution` and stop at the authentication step; returns
/// the flow path and the authentication link the page shows.
pub fn until_authentication(browser: &mut Browser, institution: &str) -> (String, String) {
    let prepare = browser.get(institution);
    assert!(prepare.body.contains("同意登録をする"));
    let csrf = input(&prepare.body, "csrf");
    let started = browser.post(&format!("{institution}/registration"), &[("csrf", &csrf)]);
    let select = started.location.unwrap();
    let flow = select.trim_end_matches("/select").to_owned();
    let page = browser.get(&select);
    let mut answers = vec![
        ("csrf", csrf.as_str()),
        ("YZK", "1"),
        ("SRJ", "1"),
        ("TKK", "0"),
    ];
    if page.body.contains("prescription_form") {
        answers.push(("prescription_form", "2"));
    }
    assert_eq!(browser.post(&select, &answers).status, 303);
    let confirm = browser.get(&format!("{flow}/confirm"));
    let choices = input(&confirm.body, "choices");
    let confirmed = browser.post(
        &format!("{flow}/confirm"),
        &[("csrf", &csrf), ("choices", &choices)],
    );
    assert_eq!(confirmed.status, 303);
    let auth = browser.get(&format!("{flow}/authenticate"));
    let start = auth.body.find("<code>http").unwrap() + "<code>".len();
    let end = auth.body[start..].find('<').unwrap() + start;
    (flow, auth.body[start..end].to_owned())
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
