//! `zaitaku demo` and `zaitaku card auth`, as a person runs them: start the demo,
//! walk flow A in a "browser" (plain HTTP with a cookie), finish the
//! authentication step from the terminal with a demo card.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Demo {
    child: Child,
    base: String,
    institutions: Vec<String>,
    /// Everything printed before "Press Ctrl+C".
    welcome: String,
    _dir: Option<tempfile::TempDir>,
    cards: std::path::PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = start_demo_in(dir.path());
    demo._dir = Some(dir);
    demo
}

/// The demo on `dir`, made there on the first start and reused on later ones.
fn start_demo_in(dir: &std::path::Path) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
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

/// Start flow A at `institution` and stop at the authentication step; returns
/// the flow path and the authentication link the page shows.
fn until_authentication(browser: &mut Browser, institution: &str) -> (String, String) {
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

fn card_auth(card: &std::path::Path, pin: &str, link: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["card", "auth", "--card"])
        .arg(card)
        .args(["--pin", pin, link])
        .env_remove("ZAITAKU_PIN")
        .output()
        .unwrap()
}

#[test]
fn flow_a_finished_from_the_terminal_with_a_demo_card() {
    let demo = start_demo();
    assert_eq!(demo.institutions.len(), 4, "four demo institutions printed");
    let mut browser = Browser::new(&demo.base);
    let index = browser.get("/");
    assert!(index.body.contains("さくら薬局") && index.body.contains("山田 太郎"));

    // The e-prescription clinic, with 山田 太郎's card.
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[0]);
    let out = card_auth(&demo.cards.join("yamada.card"), "1234", &link);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("在宅ひまわりクリニック"),
        "shows the institution: {stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"accepted\""));
    let done = browser.get(&format!("{flow}/complete"));
    assert!(done.body.contains("資格確認・登録完了"));
    assert!(done.body.contains("紙の処方箋"));
    assert!(done.body.contains("山田 太郎"));

    // The pharmacy, with the card whose PIN is already blocked: no PIN is sent.
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[2]);
    let out = card_auth(&demo.cards.join("takahashi.card"), "6789", &link);
    assert_eq!(out.status.code(), Some(1));
    let failed = browser.get(&format!("{flow}/complete"));
    assert!(failed.body.contains("暗証番号がロックされています"));

    // The visiting-nursing station, with a card whose qualification was lost.
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[3]);
    let out = card_auth(&demo.cards.join("suzuki.card"), "3456", &link);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("qualification_lost"));
    let failed = browser.get(&format!("{flow}/complete"));
    assert!(failed.body.contains("資格が確認できません"));
}

#[test]
fn the_demo_prints_a_staff_login_that_logs_in_with_the_code_on_its_index() {
    let demo = start_demo();
    assert!(
        demo.welcome.contains(&format!(
            "Staff console (管理画面): {}/console/login",
            demo.base
        )),
        "{}",
        demo.welcome
    );
    assert!(demo.welcome.contains("login himawari"));
    assert!(demo.welcome.contains("password zaitaku-demo-pass"));
    assert!(
        demo.welcome
            .contains("TOTP secret ZAITAKUDEMOSECRETZAITAKUDEMOSECR")
    );

    let mut browser = Browser::new(&demo.base);
    let index = browser.get("/");
    assert!(index.body.contains("職員ログイン（管理画面）"));
    let start = index.body.find("class=\"demo-code\">").unwrap() + "class=\"demo-code\">".len();
    let code = index.body[start..start + 6].to_owned();
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");

    let form = browser.get("/console/login");
    let csrf = input(&form.body, "csrf");
    let password = browser.post(
        "/console/login",
        &[
            ("csrf", &csrf),
            ("login", "himawari"),
            ("password", "zaitaku-demo-pass"),
        ],
    );
    assert_eq!(password.location.as_deref(), Some("/console/login/code"));
    let page = browser.get("/console/login/code");
    let csrf = input(&page.body, "csrf");
    let done = browser.post("/console/login/code", &[("csrf", &csrf), ("code", &code)]);
    assert_eq!(
        done.location.as_deref(),
        Some("/console/patients"),
        "{}",
        done.body
    );
    let history = browser.get("/console/logins");
    assert_eq!(history.status, 200);
    assert!(history.body.contains("在宅ひまわりクリニック"));
}

#[test]
fn a_restarted_demo_trusts_its_root_from_the_database_and_keeps_the_revoked_card_revoked() {
    let dir = tempfile::tempdir().unwrap();
    drop(start_demo_in(dir.path()));

    // The second start adds the same roots again (already present) and imports fresh
    // CRLs through `admin crl import`'s path.
    let demo = start_demo_in(dir.path());
    let mut browser = Browser::new(&demo.base);
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[1]);
    let out = card_auth(&demo.cards.join("watanabe.card"), "8901", &link);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("certificate_revoked"));
    assert!(
        browser
            .get(&format!("{flow}/complete"))
            .body
            .contains("電子証明書が失効しています")
    );
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[1]);
    let out = card_auth(&demo.cards.join("yamada.card"), "1234", &link);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        browser
            .get(&format!("{flow}/complete"))
            .body
            .contains("資格確認・登録完了")
    );

    let out = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["admin", "trust", "list", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    // Today's RSA root and the next generation's P-384 root, under one name as JPKI's
    // generations are.
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.lines().all(|l| l.contains("CN=Zaitaku Test Root")),
        "{listed}"
    );
}

#[test]
fn the_next_generation_p384_card_registers_at_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo_in(dir.path());
    let mut browser = Browser::new(&demo.base);
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[0]);
    let out = card_auth(&demo.cards.join("nakamura.card"), "9012", &link);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done = browser.get(&format!("{flow}/complete")).body;
    assert!(done.contains("資格確認・登録完了"), "{done}");
    assert!(done.contains("中村 陽菜"), "{done}");
}
