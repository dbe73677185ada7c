//! The desktop app as staff meet it: registered with `install`, opened by
//! `xdg-open 'zaitaku-auth://authenticate?link=…'` for a live challenge of
//! `zaitaku demo`, the PIN typed with xdotool into the window under Xvfb, the
//! flow's status read as the page reads it. Screenshots of each screen go to
//! target/authenticator-artifacts/.
//!
//! Needs the X display scripts/test starts (ZAITAKU_TEST_DISPLAY), xdg-utils,
//! xdotool and ImageMagick's `import`; skipped loudly without the display.
//!
//! The card: with ZAITAKU_TEST_PCSC (pcscd with vsmartcard-vpcd, which scripts/test
//! starts) `zaitaku card present` puts the demo card in the virtual reader and the
//! app finds it through pcscd, as on a staff laptop; without it the app is handed
//! the card file (ZAITAKU_AUTHENTICATOR_VIRTUAL_CARD), said loudly. vpcd is one
//! reader: the `pcsc-reader` test group in .config/nextest.toml runs this alone.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use zaitaku_card::{JpkiCard, Pin, VirtualCard};
use zaitaku_test_kit::{Browser, Demo};

const DISPLAY_VAR: &str = "ZAITAKU_TEST_DISPLAY";
const PCSC_VAR: &str = "ZAITAKU_TEST_PCSC";
const VIRTUAL_CARD_VAR: &str = "ZAITAKU_AUTHENTICATOR_VIRTUAL_CARD";
/// The window's class (xdotool's --name does not match its Japanese title).
const WINDOW_CLASS: &str = "zaitaku-authenticator";
/// Generous bound for one step of a machine under load; only stops a hung test.
const STEP_LIMIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------- the demo and a "browser"

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
    zaitaku_test_kit::start_demo(&zaitaku_bin())
}

/// The flow's state as the page's long poll sees it.
trait Status {
    fn state_after(&mut self, flow: &str, from: &str) -> String;
}

impl Status for Browser {
    /// The flow's state as the page's long poll sees it, once it is no longer `from`.
    fn state_after(&mut self, flow: &str, from: &str) -> String {
        let page = self.get(&format!("{flow}/status?wait={from}"));
        assert_eq!(page.status, 200, "{}", page.body);
        let status: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        status["state"].as_str().unwrap().to_owned()
    }
}

/// Flow A at `institution` up to the authentication step: the flow path and the
/// app link 「読み取り開始」 opens.
fn until_authentication(browser: &mut Browser, institution: &str) -> (String, String) {
    let (flow, link) = zaitaku_test_kit::until_authentication(browser, institution);
    (flow, app_link(&link))
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

    /// `xdg-open LINK`; the app looks in the PC/SC readers unless handed a card file.
    fn open(&self, app_link: &str, card_file: Option<&Path>) -> App {
        let mut command = Command::new("xdg-open");
        command.arg(app_link);
        match card_file {
            Some(card) => command.env(VIRTUAL_CARD_VAR, card),
            None => command.env_remove(VIRTUAL_CARD_VAR),
        };
        command
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

// ---------------------------------------------------------------- the card

/// How the app gets its card in this run.
#[derive(Clone, Copy, PartialEq)]
enum CardPath {
    /// `zaitaku card present` in vpcd's reader, found through pcscd.
    Reader,
    /// The card file named in ZAITAKU_AUTHENTICATOR_VIRTUAL_CARD.
    File,
}

impl CardPath {
    fn from_env() -> CardPath {
        if std::env::var_os(PCSC_VAR).is_some() {
            return CardPath::Reader;
        }
        eprintln!(
            "WARNING: {PCSC_VAR} is unset, so the desktop app is handed the card FILE \
             ({VIRTUAL_CARD_VAR}) instead of finding the card in a PC/SC reader; \
             run scripts/test (it starts pcscd with vsmartcard-vpcd) for the real path"
        );
        CardPath::File
    }
}

/// A demo card where the app can find it: in the virtual reader (`card present`,
/// stopped with SIGTERM on drop) or only as its file.
struct Card {
    file: PathBuf,
    presented: Option<(Child, PathBuf)>,
    _dir: tempfile::TempDir,
}

impl Card {
    /// Puts `file` in the reader (waiting until pcscd shows it), or keeps it as a file.
    fn insert(path: CardPath, file: &Path) -> Card {
        let dir = tempfile::tempdir().unwrap();
        let presented = (path == CardPath::Reader).then(|| {
            let log = dir.path().join("card.log");
            let child = Command::new(zaitaku_bin())
                .args(["card", "present", "--card"])
                .arg(file)
                .arg("--log")
                .arg(&log)
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            (child, log)
        });
        let card = Card {
            file: file.to_owned(),
            presented,
            _dir: dir,
        };
        card.wait_in_reader();
        card
    }

    /// The card file the app is handed, when it is not in the reader.
    fn app_file(&self) -> Option<&Path> {
        self.presented.is_none().then_some(self.file.as_path())
    }

    fn wait_in_reader(&self) {
        if self.presented.is_some() {
            wait_for_reader(true, &self.log());
        }
    }

    fn log(&self) -> String {
        self.presented
            .as_ref()
            .map(|(_, log)| std::fs::read_to_string(log).unwrap_or_default())
            .unwrap_or_default()
    }

    /// The card's answers to VERIFY commands carrying a PIN, from `card present`'s
    /// log (never the PIN itself); `None` for a card file.
    fn pin_answers(&self) -> Option<Vec<String>> {
        self.presented.as_ref()?;
        Some(
            self.log()
                .lines()
                .filter(|line| line.starts_with("00 20 00 80 lc="))
                .map(|line| line.rsplit("-> ").next().unwrap().to_owned())
                .collect(),
        )
    }

    /// The PIN counter now: the file's, or (while `card present` holds the file
    /// locked) what the card last answered to a PIN.
    fn tries_left(&self) -> u8 {
        match self.pin_answers() {
            None => tries_left(&self.file),
            Some(answers) => match answers.last().map(String::as_str) {
                None | Some("90 00") => 3,
                Some(other) => {
                    let n = other
                        .strip_prefix("63 C")
                        .unwrap_or_else(|| panic!("{other}"));
                    n.parse().unwrap()
                }
            },
        }
    }

    /// Out of the reader (SIGTERM, then the exit): the card file is free again.
    fn remove(mut self) -> String {
        let log = self.log();
        if let Some((child, _)) = self.presented.as_mut() {
            let status = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            let status = child.wait().unwrap();
            assert!(status.success(), "card present exited with {status}");
            wait_for_reader(false, &log);
        }
        log
    }
}

/// Until pcscd shows a card in vpcd's reader (`card: true`) or none: a card swapped
/// faster than pcscd's poll of the reader would be taken for the old one.
fn wait_for_reader(card: bool, log: &str) {
    let deadline = Instant::now() + STEP_LIMIT;
    loop {
        let out = Command::new(zaitaku_bin())
            .args(["card", "readers"])
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&out.stdout);
        let shown = listed
            .lines()
            .any(|line| line.starts_with("card ") && line.contains("Virtual PCD"));
        if shown == card {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pcscd never showed the card {}: {listed}\nlog: {log}",
            if card { "in" } else { "out" }
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for Card {
    fn drop(&mut self) {
        if let Some((child, _)) = self.presented.as_mut()
            && let Ok(None) = child.try_wait()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn staff_press_the_button_and_the_patient_types_the_pin_in_the_window() {
    let Ok(display) = std::env::var(DISPLAY_VAR) else {
        eprintln!(
            "SKIPPED: the desktop authenticator test needs an X display; scripts/test starts Xvfb and sets {DISPLAY_VAR}"
        );
        return;
    };
    let card_path = CardPath::from_env();
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
    let mut browser = Browser::demo_device(&demo.base);

    // A wrong PIN, then the right one: the page moves on by itself. In the reader
    // path the app is opened first and waits, then the card is put in.
    let yamada_file = demo.cards.join("yamada.card");
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[0]);
    assert_eq!(browser.state_after(&flow, "none"), "pending");
    let (mut app, yamada) = match card_path {
        CardPath::Reader => {
            let mut app = desktop.open(&link, None);
            app.until("waiting for a card");
            desktop.screenshot(&mut app, "00-waiting-for-card");
            (app, Card::insert(card_path, &yamada_file))
        }
        CardPath::File => {
            let yamada = Card::insert(card_path, &yamada_file);
            (desktop.open(&link, yamada.app_file()), yamada)
        }
    };
    app.until("waiting for the PIN (3 tries left)");
    desktop.screenshot(&mut app, "01-pin");
    app.type_keys(&desktop, "0000");
    desktop.screenshot(&mut app, "02-pin-typed");
    app.key(&desktop, "Return");
    app.until("card problem: WrongPin { tries_left: 2 }");
    desktop.screenshot(&mut app, "03-wrong-pin");
    assert_eq!(yamada.tries_left(), 2);
    app.key(&desktop, "Return");
    app.until("waiting for the PIN (2 tries left)");
    app.type_keys(&desktop, "1234");
    app.key(&desktop, "Return");
    app.until("accepted");
    desktop.screenshot(&mut app, "04-accepted");
    assert_eq!(browser.state_after(&flow, "claimed"), "done");
    app.wait_closed(); // by itself, a few seconds after success
    assert_eq!(yamada.tries_left(), 3, "the right PIN resets the counter");

    // Cancelled at the PIN: the server is told, the card is sent no PIN.
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[1]);
    let mut app = desktop.open(&link, yamada.app_file());
    app.until("waiting for the PIN (3 tries left)");
    app.type_keys(&desktop, "12");
    app.key(&desktop, "Escape");
    app.until("cancelled (page told: true)");
    desktop.screenshot(&mut app, "05-cancelled");
    app.key(&desktop, "Escape");
    app.wait_closed();
    assert_eq!(yamada.tries_left(), 3);
    // The challenge is ended (flow and choices kept): the page's long poll says
    // `cancelled` and leads to the step's page, which says so and offers a retry.
    let status = browser.get(&format!("{flow}/status?wait=claimed"));
    let status: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    assert_eq!(status["state"], "cancelled", "{status}");
    assert_eq!(status["next"], format!("{flow}/authenticate"), "{status}");
    let page = browser.get(&format!("{flow}/authenticate"));
    assert!(
        page.body.contains("認証アプリで読み取りが取り消されました"),
        "{}",
        page.body
    );
    assert!(page.body.contains("もう一度認証する"), "{}", page.body);
    assert!(!page.body.contains("時間切れです"), "{}", page.body);
    if let Some(answers) = yamada.pin_answers() {
        assert_eq!(answers, ["63 C2", "90 00"], "{}", yamada.log());
    }
    drop(yamada.remove());
    assert_eq!(tries_left(&yamada_file), 3);

    // A blocked card: explained, reported to the page, never asked for a PIN.
    let takahashi_file = demo.cards.join("takahashi.card");
    block(&takahashi_file);
    let takahashi = Card::insert(card_path, &takahashi_file);
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[2]);
    let mut app = desktop.open(&link, takahashi.app_file());
    app.until("PIN blocked (page told: true)");
    desktop.screenshot(&mut app, "06-blocked");
    assert!(!app.said("waiting for the PIN"), "{:#?}", app.seen);
    // The report ends that reading only (issue 16: a claimant's report cannot
    // end the staff's flow); the page explains the lock and offers another.
    assert_eq!(browser.state_after(&flow, "claimed"), "reported");
    app.key(&desktop, "Return");
    app.wait_closed();
    if let Some(answers) = takahashi.pin_answers() {
        let log = takahashi.log();
        assert!(
            log.contains("00 20 00 80 -> 63 C0"),
            "the status was asked: {log}"
        );
        assert_eq!(
            answers,
            Vec::<String>::new(),
            "no PIN reached the card: {log}"
        );
    }
    drop(takahashi.remove());
    assert_eq!(tries_left(&takahashi_file), 0);

    // The next-generation card (P-384, ES384): the same window, the same steps.
    let nakamura_file = demo.cards.join("nakamura.card");
    let nakamura = Card::insert(card_path, &nakamura_file);
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[0]);
    let mut app = desktop.open(&link, nakamura.app_file());
    app.until("waiting for the PIN (3 tries left)");
    app.type_keys(&desktop, "9012");
    app.key(&desktop, "Return");
    app.until("accepted");
    desktop.screenshot(&mut app, "07-accepted-p384");
    assert_eq!(browser.state_after(&flow, "claimed"), "done");
    app.wait_closed();
    let done = browser.get(&format!("{flow}/complete"));
    assert!(done.body.contains("中村 陽菜"), "{}", done.body);
    if let Some(answers) = nakamura.pin_answers() {
        let log = nakamura.log();
        assert_eq!(answers, ["90 00"], "{log}");
        // A P-384 card is given the 48-byte SHA-384 hash to sign (authenticator.rs).
        assert!(log.contains("80 2A 00 80 lc=48"), "{log}");
    }
    drop(nakamura.remove());
    assert_eq!(tries_left(&nakamura_file), 3);

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
