//! The desktop app as staff meet it: registered with `install`, opened by
//! `xdg-open 'zaitaku-auth://authenticate?link=…'` for a live challenge of
//! `zaitaku demo`, the PIN typed with xdotool into the window under Xvfb, the
//! flow's status read as the page reads it. Screenshots of each screen go to
//! target/authenticator-artifacts/.
//!
//! Needs the X display scripts/test starts (ZAITAKU_TEST_DISPLAY), xdg-utils,
//! xdotool and ImageMagick's `import`; skipped loudly without the display.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use zaitaku_card::{JpkiCard, Pin, VirtualCard};

const DISPLAY_VAR: &str = "ZAITAKU_TEST_DISPLAY";
/// The window's class (xdotool's --name does not match its Japanese title).
const WINDOW_CLASS: &str = "zaitaku-authenticator";
/// Generous bound for one step of a machine under load; only stops a hung test.
const STEP_LIMIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------- the demo and a "browser"

struct Demo {
    child: Child,
    base: String,
    institutions: Vec<String>,
    cards: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// The `zaitaku` binary the workspace's build made next to this test.
fn zaitaku_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("zaitaku");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build -p zaitaku)",
        bin.display()
    );
    bin
}

fn start_demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(zaitaku_bin())
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
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
    for line in lines.by_ref() {
        let line = line.unwrap();
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
        cards: dir.path().join("cards"),
        _dir: dir,
    }
}

struct Browser {
    agent: ureq::Agent,
    base: String,
    cookie: Option<String>,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Browser {
    fn new(base: &str) -> Browser {
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

    fn get(&mut self, path: &str) -> Page {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let response = request.call().unwrap();
        self.finish(response)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let response = request.send_form(form.iter().copied()).unwrap();
        self.finish(response)
    }

    /// The flow's state as the page's long poll sees it, once it is no longer `from`.
    fn state_after(&mut self, flow: &str, from: &str) -> String {
        let page = self.get(&format!("{flow}/status?wait={from}"));
        assert_eq!(page.status, 200, "{}", page.body);
        let status: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        status["state"].as_str().unwrap().to_owned()
    }
}

fn input(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap() + marker.len();
    let end = body[start..].find('"').unwrap() + start;
    body[start..end]
        .replace("&#x3d;", "=")
        .replace("&#61;", "=")
        .replace("&#x3b;", ";")
        .replace("&#59;", ";")
        .replace("&#x2c;", ",")
        .replace("&#44;", ",")
}

/// Flow A at `institution` up to the authentication step: the flow path and the
/// app link 「読み取り開始」 opens.
fn until_authentication(browser: &mut Browser, institution: &str) -> (String, String) {
    let prepare = browser.get(institution);
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
    (flow, app_link(&auth.body[start..end]))
}

/// The app link a page's 「読み取り開始」 opens outside the demo (the demo's own
/// button opens its card reader page instead), encoded as the page encodes it.
fn app_link(auth_link: &str) -> String {
    let mut encoded = String::new();
    for b in auth_link.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("zaitaku-auth://authenticate?link={encoded}")
}

// ---------------------------------------------------------------- the desktop

struct Desktop {
    display: String,
    home: tempfile::TempDir,
    artifacts: PathBuf,
}

impl Desktop {
    fn env(&self, command: &mut Command) {
        let home = self.home.path();
        command
            .env("DISPLAY", &self.display)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_DIRS", home.join("system"))
            // xdg-open's generic mode: no desktop environment to hand the link to.
            .env_remove("XDG_CURRENT_DESKTOP")
            .env_remove("DESKTOP_SESSION")
            .env_remove("BROWSER");
    }

    fn run(&self, program: &str, args: &[&str]) -> String {
        let mut command = Command::new(program);
        command.args(args);
        self.env(&mut command);
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `xdg-open LINK` with a virtual card file in the "reader".
    fn open(&self, app_link: &str, card: &Path) -> App {
        let mut command = Command::new("xdg-open");
        command
            .arg(app_link)
            .env("ZAITAKU_AUTHENTICATOR_VIRTUAL_CARD", card)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own process group: whatever xdg-open started is stopped with it.
            .process_group(0);
        self.env(&mut command);
        let mut child = command.spawn().unwrap();
        let (tx, progress) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        App {
            child,
            progress,
            seen: Vec::new(),
            window: None,
        }
    }

    fn screenshot(&self, app: &mut App, name: &str) {
        let window = app.window_id(self);
        // The step was logged as it was drawn; give the frame a moment to reach the screen.
        std::thread::sleep(Duration::from_millis(500));
        let path = self.artifacts.join(format!("{name}.png"));
        let mut command = Command::new("import");
        command.args(["-window", &window]).arg(&path);
        self.env(&mut command);
        let status = command.status().unwrap();
        assert!(status.success(), "screenshot {name}");
    }

    fn xdotool(&self, args: &[&str]) -> String {
        self.run("xdotool", args)
    }
}

struct App {
    child: Child,
    progress: mpsc::Receiver<String>,
    seen: Vec<String>,
    window: Option<String>,
}

impl App {
    /// Waits for the progress line `wanted` (the app logs each step it shows).
    fn until(&mut self, wanted: &str) {
        loop {
            match self.progress.recv_timeout(STEP_LIMIT) {
                Ok(line) => {
                    let found = line == format!("zaitaku-authenticator: {wanted}");
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(e) => panic!("no {wanted:?} ({e}); the app said {:#?}", self.seen),
            }
        }
    }

    fn said(&self, text: &str) -> bool {
        self.seen.iter().any(|line| line.contains(text))
    }

    /// The app's window (found once it shows).
    fn window_id(&mut self, desktop: &Desktop) -> String {
        if self.window.is_none() {
            let found =
                desktop.xdotool(&["search", "--sync", "--onlyvisible", "--class", WINDOW_CLASS]);
            let id = found.lines().last().expect("a window").trim().to_owned();
            self.window = Some(id);
        }
        self.window.clone().unwrap()
    }

    /// Gives the window the keyboard (no window manager under Xvfb does it).
    fn focus(&mut self, desktop: &Desktop) {
        let id = self.window_id(desktop);
        desktop.xdotool(&["mousemove", "--window", &id, "--sync", "700", "40"]);
        desktop.xdotool(&["windowfocus", "--sync", &id]);
    }

    fn type_keys(&mut self, desktop: &Desktop, text: &str) {
        self.focus(desktop);
        desktop.xdotool(&["type", "--delay", "80", text]);
    }

    fn key(&mut self, desktop: &Desktop, key: &str) {
        self.focus(desktop);
        desktop.xdotool(&["key", key]);
    }

    /// The app's own end (it closes itself, or was closed by a key).
    fn wait_closed(mut self) {
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}; the app said {:#?}", self.seen);
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // Stop xdg-open and the app it started: the group we made, by its id.
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", self.child.id())])
                .status();
            let _ = self.child.wait();
        }
    }
}

fn block(card: &Path) {
    let mut card = JpkiCard::open(VirtualCard::open(card).unwrap()).unwrap();
    let wrong = Pin::parse("0000").unwrap();
    for _ in 0..3 {
        assert!(card.verify_pin(&wrong).is_err());
    }
}

fn tries_left(card: &Path) -> u8 {
    VirtualCard::open(card).unwrap().tries_left()
}

#[test]
fn staff_press_the_button_and_the_patient_types_the_pin_in_the_window() {
    let Ok(display) = std::env::var(DISPLAY_VAR) else {
        eprintln!(
            "SKIPPED: the desktop authenticator test needs an X display; scripts/test starts Xvfb and sets {DISPLAY_VAR}"
        );
        return;
    };
    let artifacts = target_dir().join("authenticator-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let desktop = Desktop {
        display,
        home: tempfile::tempdir().unwrap(),
        artifacts,
    };

    // Installed as this (temporary) user's handler of zaitaku-auth: links.
    let program = env!("CARGO_BIN_EXE_zaitaku-authenticator");
    let said = desktop.run(program, &["install"]);
    assert!(said.contains("registered"), "{said}");
    let entry = std::fs::read_to_string(
        desktop
            .home
            .path()
            .join("data/applications/zaitaku-authenticator.desktop"),
    )
    .unwrap();
    assert!(entry.contains(&format!("\nExec={program} %u\n")), "{entry}");
    assert_eq!(
        desktop
            .run(
                "xdg-mime",
                &["query", "default", "x-scheme-handler/zaitaku-auth"]
            )
            .trim(),
        "zaitaku-authenticator.desktop"
    );

    let demo = start_demo();
    let mut browser = Browser::new(&demo.base);

    // A wrong PIN, then the right one: the page moves on by itself.
    let yamada = demo.cards.join("yamada.card");
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[0]);
    assert_eq!(browser.state_after(&flow, "none"), "pending");
    let mut app = desktop.open(&link, &yamada);
    app.until("waiting for the PIN (3 tries left)");
    desktop.screenshot(&mut app, "01-pin");
    app.type_keys(&desktop, "0000");
    desktop.screenshot(&mut app, "02-pin-typed");
    app.key(&desktop, "Return");
    app.until("card problem: WrongPin { tries_left: 2 }");
    desktop.screenshot(&mut app, "03-wrong-pin");
    assert_eq!(tries_left(&yamada), 2);
    app.key(&desktop, "Return");
    app.until("waiting for the PIN (2 tries left)");
    app.type_keys(&desktop, "1234");
    app.key(&desktop, "Return");
    app.until("accepted");
    desktop.screenshot(&mut app, "04-accepted");
    assert_eq!(browser.state_after(&flow, "claimed"), "done");
    app.wait_closed(); // by itself, a few seconds after success
    assert_eq!(tries_left(&yamada), 3, "the right PIN resets the counter");

    // Cancelled at the PIN: the server is told, the card is sent no PIN.
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[1]);
    let mut app = desktop.open(&link, &yamada);
    app.until("waiting for the PIN (3 tries left)");
    app.type_keys(&desktop, "12");
    app.key(&desktop, "Escape");
    app.until("cancelled (page told: true)");
    desktop.screenshot(&mut app, "05-cancelled");
    app.key(&desktop, "Escape");
    app.wait_closed();
    assert_eq!(tries_left(&yamada), 3);
    assert_eq!(browser.state_after(&flow, "pending"), "claimed");

    // A blocked card: explained, reported to the page, never asked for a PIN.
    let takahashi = demo.cards.join("takahashi.card");
    block(&takahashi);
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[2]);
    let mut app = desktop.open(&link, &takahashi);
    app.until("PIN blocked (page told: true)");
    desktop.screenshot(&mut app, "06-blocked");
    assert!(!app.said("waiting for the PIN"), "{:#?}", app.seen);
    assert_eq!(browser.state_after(&flow, "claimed"), "failed");
    app.key(&desktop, "Return");
    app.wait_closed();
    assert_eq!(tries_left(&takahashi), 0);

    let said = desktop.run(program, &["uninstall"]);
    assert!(said.contains("removed"), "{said}");
    assert!(
        desktop
            .run(
                "xdg-mime",
                &["query", "default", "x-scheme-handler/zaitaku-auth"]
            )
            .trim()
            .is_empty()
    );
}
