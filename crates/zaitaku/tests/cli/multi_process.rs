//! Several `zaitaku serve` processes on one PostgreSQL database (issue 7): two
//! real servers on one fresh schema of the test database, set up with the real
//! `zaitaku admin` commands. A small proxy in the test stands for the reverse
//! proxy (the one public origin both servers are given); the "browser" sends each
//! request to the other process than the last, with its session cookie, as a
//! proxy without sticky sessions may; the authenticator (`zaitaku card auth`)
//! answers on the process that did not make the challenge while the page's
//! status long-poll waits on the one that did; and a token posted to both
//! processes at the same moment is accepted once.
//!
//! They need `ZAITAKU_TEST_DATABASE_URL` (`scripts/test` sets it when a local
//! server answers). Without it they say they were skipped; with it and no
//! server, they fail.

use crate::kit::{between, stderr, stdout, zaitaku};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Output, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;
use zaitaku_domain::{
    ConsentItem, ConsentStatus, Institution, InstitutionCode, InsurerNumber, PersonId,
    RevocationReason,
};
use zaitaku_store::postgres::TestSchema;
use zaitaku_store::prelude::*;
use zaitaku_store::{PatientQuery, PersonKey, PostgresStore};

const PIN: &str = "2468";
const CODE: &str = "1310123458";
const INSURER: &str = "06130488";
const NUMBER: &str = "00000001";
const CSV_HEADER: &str = "insurer_number,insurer_name,symbol,number,branch,relationship,name,\
name_kana,sex,birth_date,address,postal_code,acquired_on,lost_on,loss_reason,valid_from,\
valid_until,burden_ratio,elderly_valid_from,elderly_valid_until,elderly_burden_ratio,\
limit_category,limit_applied_category,specific_disease,validity";
const CSV_LINE: &str = "06130488,保険者,,00000001,,1,山田 太郎,ヤマダ タロウ,1,1950-04-01,\
東京都千代田区,100-0001,2020-04-01,,,,,030,,,,,,,1";

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------- the proxy

/// Stands for the reverse proxy in front of the processes: it owns the public
/// origin, and sends each connection it accepts to the process it is routed to
/// at that moment, as a proxy without sticky sessions may send any request to
/// any process. Only the authenticator goes through it here; the browser picks
/// its process itself (below), which the servers cannot tell apart.
struct Proxy {
    origin: String,
    backend: Arc<Mutex<String>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let backend = Arc::new(Mutex::new(String::new()));
        let route = Arc::clone(&backend);
        // Runs until the test process ends.
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let target = route.lock().unwrap().clone();
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                pipe(&client, &server);
                pipe(&server, &client);
            }
        });
        Proxy { origin, backend }
    }

    fn route_to(&self, serve: &Serve) {
        *self.backend.lock().unwrap() = serve.addr.clone();
    }
}

/// Copy `from` to `to` until `from` ends, then end `to`'s sending side.
fn pipe(from: &TcpStream, to: &TcpStream) {
    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}

// ---------------------------------------------------------------- the servers

struct Serve {
    child: Child,
    /// Where it listens (the proxy's backend).
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// `zaitaku serve` on `database_url`, for `public_origin`, trusting only the
    /// database's anchors.
    fn start(database_url: &str, public_origin: &str) -> Serve {
        let mut child = zaitaku()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--allow-policy",
                "zaitaku-test",
                "--public-origin",
                public_origin,
                "--database-url",
                database_url,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("zaitaku serve stopped before serving:\n{seen}");
            };
            // "Zaitaku is serving ORIGIN on ADDR (database …)"
            if let Some(rest) = line.strip_prefix("Zaitaku is serving ") {
                let words: Vec<&str> = rest.split(' ').collect();
                assert_eq!(words[0], public_origin, "{line}");
                assert_eq!(words[1], "on", "{line}");
                break words[2].to_owned();
            }
            seen.push_str(&line);
            seen.push('\n');
        };
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Serve { child, addr }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The operator's set-up, with the real commands, on one database: a test root
/// trusted, an institution, an insured person, and a virtual card linked to them.
struct Setup {
    // Fields drop in order: the servers stop before the schema is dropped.
    servers: [Serve; 2],
    proxy: Proxy,
    card: PathBuf,
    /// `/i/{token}`
    institution: String,
    store: PostgresStore,
    /// The database URL (with its schema) every process is given.
    url: String,
    /// The store's connections belong to this runtime: every check runs on it.
    runtime: tokio::runtime::Runtime,
    _schema: TestSchema,
    _dir: tempfile::TempDir,
}

impl Setup {
    /// None (and a line saying so) without a test database.
    fn start() -> Option<Setup> {
        let Some(database) = TestSchema::database_url() else {
            eprintln!("skipped on PostgreSQL: ZAITAKU_TEST_DATABASE_URL is not set");
            return None;
        };
        let schema = runtime().block_on(TestSchema::create(&database));
        // One URL for every process: the schema is its search path, given in
        // the URL (`?options=-c search_path=…`), which sqlx passes to the server.
        let url = schema.url();
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca");
        let card = dir.path().join("yamada.card");
        ok(zaitaku()
            .args(["card", "ca-init", "--dir"])
            .arg(&ca)
            .output()
            .unwrap());
        ok(zaitaku()
            .args(["card", "new", "--pin", PIN, "--ca"])
            .arg(&ca)
            .arg("--out")
            .arg(&card)
            .output()
            .unwrap());
        let cert = dir.path().join("yamada-cert.der");
        std::fs::write(
            &cert,
            zaitaku_card::VirtualCard::open(&card)
                .unwrap()
                .certificate_der(),
        )
        .unwrap();
        let csv = dir.path().join("insured.csv");
        std::fs::write(&csv, format!("{CSV_HEADER}\n{CSV_LINE}\n")).unwrap();

        let proxy = Proxy::start();
        let admin = |args: &[&str], files: &[&Path]| -> Output {
            ok(zaitaku()
                .arg("admin")
                .args(&args[..2])
                .args(["--database-url", &url])
                .args(&args[2..])
                .args(files)
                .output()
                .unwrap())
        };
        admin(&["trust", "add"], &[&ca.join("ca-cert.pem")]);
        // serve fails closed: the root's CRL (written by `card ca-init`) too.
        admin(&["crl", "import"], &[&ca.join("crl.pem")]);
        let added = admin(
            &[
                "institution",
                "add",
                "--code",
                CODE,
                "--name",
                "在宅クリニック",
                "--public-origin",
                &proxy.origin,
            ],
            &[],
        );
        let institution = stdout(&added)
            .trim()
            .strip_prefix(&proxy.origin)
            .expect("the institution's URL is on the public origin")
            .to_owned();
        admin(&["insured", "import"], &[&csv]);
        admin(
            &[
                "card",
                "link",
                "--insurer-number",
                INSURER,
                "--number",
                NUMBER,
                "--cert",
            ],
            &[&cert],
        );

        // Both on the same database and the same public origin, each on its own port.
        let servers = [
            Serve::start(&url, &proxy.origin),
            Serve::start(&url, &proxy.origin),
        ];
        assert_ne!(servers[0].addr, servers[1].addr);
        let runtime = runtime();
        let store = runtime.block_on(schema.store());
        Some(Setup {
            servers,
            proxy,
            card,
            institution,
            store,
            url,
            runtime,
            _schema: schema,
            _dir: dir,
        })
    }

    /// The staff's browser, enrolled as a device of the institution (which
    /// lets only its devices start flows): a code from `zaitaku admin device
    /// add`, typed at `/device`; its requests are then counted afresh.
    fn browser(&self) -> Browser {
        let mut browser = Browser::new([self.servers[0].base(), self.servers[1].base()]);
        let out = self.admin(&["device", "add", "--institution", CODE, "--name", "受付PC"]);
        let form = browser.get("/device");
        let csrf = input(&form.body, "csrf");
        let code = stdout(&out).trim().to_owned();
        let done = browser.post("/device", &[("csrf", &csrf), ("code", &code)]);
        assert_eq!(done.status, 200, "{}", done.body);
        browser.served = [0, 0];
        browser.next = 0;
        browser
    }

    /// `zaitaku admin GROUP COMMAND --database-url URL ARGS…`, which must succeed.
    fn admin(&self, args: &[&str]) -> Output {
        ok(zaitaku()
            .arg("admin")
            .args(&args[..2])
            .args(["--database-url", &self.url])
            .args(&args[2..])
            .output()
            .unwrap())
    }

    fn block_on<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(work)
    }

    fn institution_and_person(&self) -> (Institution, PersonId) {
        self.block_on(async {
            let institution = self
                .store
                .institution_by_code(&InstitutionCode::parse(CODE).unwrap())
                .await
                .unwrap()
                .unwrap();
            let key = PersonKey {
                insurer_number: InsurerNumber::parse(INSURER).unwrap(),
                symbol: None,
                number: NUMBER.to_owned(),
                branch: None,
            };
            let person = self.store.person_by_key(&key).await.unwrap().unwrap();
            (institution, person.id)
        })
    }
}

// ---------------------------------------------------------------- the browser

/// A browser behind a proxy without sticky sessions: each request goes to the
/// other process than the one before, carrying the session cookie.
struct Browser {
    agent: ureq::Agent,
    bases: [String; 2],
    next: usize,
    /// The process that answered the last request.
    last: usize,
    served: [usize; 2],
    /// `name=value` of each cookie set (the session's, the enrolled device's).
    cookies: Vec<(String, String)>,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.location
            .as_deref()
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
    }
}

impl Browser {
    fn new(bases: [String; 2]) -> Browser {
        let agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .new_agent();
        Browser {
            agent,
            bases,
            next: 0,
            last: 0,
            served: [0, 0],
            cookies: Vec::new(),
        }
    }

    /// The `Cookie` header: every cookie set.
    fn cookie(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn url(&mut self, path: &str) -> String {
        let process = self.next;
        self.next = 1 - process;
        self.last = process;
        self.served[process] += 1;
        format!("{}{path}", self.bases[process])
    }

    fn finish(&mut self, response: ureq::http::Response<ureq::Body>) -> Page {
        for header in response.headers().get_all("set-cookie") {
            let text = header.to_str().unwrap();
            if let Some((name, value)) = text.split(';').next().and_then(|p| p.split_once('=')) {
                let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
                self.cookies.retain(|(k, _)| *k != name);
                self.cookies.push((name, value));
            }
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
        let url = self.url(path);
        let mut request = self.agent.get(url);
        if let Some(c) = self.cookie() {
            request = request.header("Cookie", c);
        }
        let response = request.call().unwrap();
        self.finish(response)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let url = self.url(path);
        let mut request = self.agent.post(url);
        if let Some(c) = self.cookie() {
            request = request.header("Cookie", c);
        }
        let response = request.send_form(form.iter().copied()).unwrap();
        self.finish(response)
    }

    /// The page's status long-poll (`/f/{id}/status?wait=STATE`), sent beside
    /// the page to `process`, as the page's script does: its state and next screen.
    fn poll(&self, process: usize, flow: &str, wait: &str) -> JoinHandle<(String, String)> {
        let url = format!("{}{flow}/status?wait={wait}", self.bases[process]);
        let (agent, cookie) = (self.agent.clone(), self.cookie().unwrap());
        let wait = wait.to_owned();
        std::thread::spawn(move || {
            let started = Instant::now();
            let response = agent.get(&url).header("Cookie", &cookie).call().unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let status: Value =
                serde_json::from_str(&response.into_body().read_to_string().unwrap()).unwrap();
            // Informative only: a change made on the other process is seen at
            // the next re-read, which each waiting request makes every second.
            eprintln!(
                "status on process {} moved from {wait} to {} after {:?}",
                process + 1,
                status["state"],
                started.elapsed()
            );
            (
                status["state"].as_str().unwrap().to_owned(),
                status["next"].as_str().unwrap().to_owned(),
            )
        })
    }
}

fn input(body: &str, name: &str) -> String {
    between(body, &format!("name=\"{name}\" value=\""), "\"")
        .replace("&#x3d;", "=")
        .replace("&#61;", "=")
        .replace("&#x3b;", ";")
        .replace("&#59;", ";")
        .replace("&#x2c;", ",")
        .replace("&#44;", ",")
}

// ---------------------------------------------------------------- the authenticator

/// `zaitaku card auth` without `--pin`: it fetches (claims) the challenge, shows
/// it, and waits at the PIN prompt until the test types the PIN.
struct Authenticator {
    child: Child,
    stderr: ChildStderr,
    shown: String,
}

impl Authenticator {
    /// Start it on `link` and wait for its PIN prompt: the challenge is claimed.
    fn until_prompt(card: &Path, link: &str) -> Authenticator {
        let mut child = zaitaku()
            .args(["card", "auth", "--card"])
            .arg(card)
            .arg(link)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let mut shown = Vec::new();
        let mut chunk = [0u8; 512];
        while !String::from_utf8_lossy(&shown).contains("暗証番号 (4 digits): ") {
            let n = stderr.read(&mut chunk).unwrap();
            if n == 0 {
                let _ = child.kill();
                panic!(
                    "card auth ended before asking for the PIN: {}",
                    String::from_utf8_lossy(&shown)
                );
            }
            shown.extend_from_slice(&chunk[..n]);
        }
        Authenticator {
            child,
            stderr,
            shown: String::from_utf8_lossy(&shown).into_owned(),
        }
    }

    /// Type the PIN; what it printed then, once it has ended.
    fn enter_pin(mut self) -> (Output, String) {
        let mut stdin = self.child.stdin.take().unwrap();
        stdin.write_all(format!("{PIN}\n").as_bytes()).unwrap();
        drop(stdin);
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        (self.child.wait_with_output().unwrap(), rest)
    }
}

/// The authentication step across processes, by 2D code: the challenge was made
/// by the POST that `made_on` answered; the page (by the browser's turn) shows
/// the 2D-code way with its matching code; the authenticator reads the link the
/// code holds (the page prints the same link) and answers through the proxy on
/// the other process; the page's status long-poll waits on `made_on`, which only
/// its one-second re-read of the database can wake. Returns the status's final
/// state and next screen.
fn authenticate_across(
    setup: &Setup,
    browser: &mut Browser,
    flow: &str,
    made_on: usize,
) -> (String, String) {
    let answered_on = 1 - made_on;
    let page = browser.get(&format!("{flow}/authenticate?method=qr"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("src=\"{flow}/authenticate/code.svg\"")),
        "the 2D code is shown: {}",
        page.body
    );
    let matching = between(&page.body, "id=\"matching-code\">", "<").to_owned();
    let link = between(&page.body, "<code>", "</code>").to_owned();
    assert!(
        link.starts_with(&format!("{}/auth/", setup.proxy.origin)),
        "{link}"
    );
    // The code image comes from the other process: the session's choice of the
    // 2D-code way and the live challenge are in the database.
    let image = browser.get(&format!("{flow}/authenticate/code.svg"));
    assert_eq!(image.status, 200, "{}", image.body);
    assert!(image.body.contains("<svg"), "{}", image.body);

    setup.proxy.route_to(&setup.servers[answered_on]);
    let pending = browser.poll(made_on, flow, "pending");
    let authenticator = Authenticator::until_prompt(&setup.card, &link);
    assert!(
        authenticator
            .shown
            .contains(&format!("matching code: {matching}")),
        "the authenticator shows the page's matching code {matching}: {}",
        authenticator.shown
    );
    // Claimed on the other process, seen by the waiting status here.
    let (state, _) = pending.join().unwrap();
    assert_eq!(state, "claimed");

    let settled = browser.poll(made_on, flow, "claimed");
    let (out, shown) = authenticator.enter_pin();
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(stdout(&out).contains("\"accepted\""), "{}", stdout(&out));
    settled.join().unwrap()
}

// ---------------------------------------------------------------- the cases

#[test]
fn flows_a_b_and_c_with_every_request_on_the_other_process() {
    let Some(setup) = Setup::start() else { return };
    let mut browser = setup.browser();
    let institution = setup.institution.clone();

    // Flow A: registration.
    let prepare = browser.get(&institution);
    assert_eq!(prepare.status, 200, "{}", prepare.body);
    assert!(prepare.body.contains("同意登録をする"));
    let csrf = input(&prepare.body, "csrf");
    let started = browser.post(&format!("{institution}/registration"), &[("csrf", &csrf)]);
    assert_eq!(started.status, 303, "{}", started.body);
    let select = started.location().to_owned();
    let flow = select.trim_end_matches("/select").to_owned();
    assert_eq!(browser.get(&select).status, 200);
    let registered = [("YZK", "1"), ("SRJ", "1"), ("TKK", "0")];
    let mut answers = vec![("csrf", csrf.as_str())];
    answers.extend_from_slice(&registered);
    assert_eq!(browser.post(&select, &answers).status, 303);
    let confirm = browser.get(&format!("{flow}/confirm"));
    let choices = input(&confirm.body, "choices");
    let confirmed = browser.post(
        &format!("{flow}/confirm"),
        &[("csrf", &csrf), ("choices", &choices)],
    );
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let made_on = browser.last;
    let (state, next) = authenticate_across(&setup, &mut browser, &flow, made_on);
    assert_eq!(state, "done");
    assert_eq!(next, format!("{flow}/complete"));
    let done = browser.get(&next);
    assert!(done.body.contains("資格確認・登録完了"), "{}", done.body);
    assert!(done.body.contains("山田 太郎"));

    // Flow B: view, then update.
    let page = browser.get(&institution);
    let csrf = input(&page.body, "csrf");
    let started = browser.post(&format!("{institution}/inquiry"), &[("csrf", &csrf)]);
    assert_eq!(started.status, 303, "{}", started.body);
    let flow = started
        .location()
        .trim_end_matches("/authenticate")
        .to_owned();
    let made_on = browser.last;
    let (state, next) = authenticate_across(&setup, &mut browser, &flow, made_on);
    assert_eq!(state, "moved");
    assert_eq!(next, format!("{flow}/update"));
    let edit = browser.get(&next);
    assert!(edit.body.contains("更新内容の選択"), "{}", edit.body);
    let changed = [("YZK", "1"), ("SRJ", "0"), ("TKK", "1")];
    let mut answers = vec![("csrf", csrf.as_str())];
    answers.extend_from_slice(&changed);
    let revised = browser.post(&format!("{flow}/update"), &answers);
    assert_eq!(
        revised.location(),
        format!("{flow}/update/confirm"),
        "{}",
        revised.body
    );
    let confirm = browser.get(&format!("{flow}/update/confirm"));
    assert!(confirm.body.contains("登録内容の更新確認"));
    let choices = input(&confirm.body, "choices");
    let confirmed = browser.post(
        &format!("{flow}/update/confirm"),
        &[("csrf", &csrf), ("choices", &choices)],
    );
    assert_eq!(confirmed.location(), format!("{flow}/authenticate"));
    let made_on = browser.last;
    let (state, next) = authenticate_across(&setup, &mut browser, &flow, made_on);
    assert_eq!(state, "done");
    let done = browser.get(&next);
    assert!(done.body.contains("登録内容の更新完了"), "{}", done.body);

    // Flow C: revoke everything.
    let page = browser.get(&institution);
    let csrf = input(&page.body, "csrf");
    let started = browser.post(&format!("{institution}/revocation"), &[("csrf", &csrf)]);
    assert_eq!(started.status, 303, "{}", started.body);
    let flow = started.location().trim_end_matches("/revoke").to_owned();
    let confirm = browser.get(&format!("{flow}/revoke"));
    assert!(
        confirm.body.contains("登録内容の取消し確認"),
        "{}",
        confirm.body
    );
    let confirmed = browser.post(&format!("{flow}/revoke"), &[("csrf", &csrf)]);
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let made_on = browser.last;
    let (state, next) = authenticate_across(&setup, &mut browser, &flow, made_on);
    assert_eq!(state, "done");
    let done = browser.get(&next);
    assert!(done.body.contains("登録内容の取消し完了"), "{}", done.body);

    // Both processes served the flows, turn about.
    assert!(
        browser.served[0] >= 12 && browser.served[1] >= 12,
        "{:?}",
        browser.served
    );
    assert!(browser.served[0].abs_diff(browser.served[1]) <= 1);

    // One consent, and its history: registered, updated, revoked.
    let (institution, person) = setup.institution_and_person();
    let (listed, consent, history) = setup.block_on(async {
        let listed = setup
            .store
            .patients(&PatientQuery {
                institution: institution.id,
                name: None,
                registered_from: None,
                registered_before: None,
                state: None,
                today: time::OffsetDateTime::now_utc().date(),
                limit: 50,
                offset: 0,
            })
            .await
            .unwrap();
        let consent = setup
            .store
            .consent(institution.id, person)
            .await
            .unwrap()
            .unwrap();
        let history = setup.store.consent_history(consent.id).await.unwrap();
        (listed, consent, history)
    });
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].consent, consent);
    assert_eq!(
        consent.status,
        ConsentStatus::Revoked(RevocationReason::ByPatient)
    );
    assert_eq!(consent.version, 3);
    assert_eq!(history.len(), 3);
    assert!(history[0].old.is_none());
    assert_eq!(history[0].new.0.agreed(ConsentItem::Clinical), Some(true));
    assert_eq!(
        history[0].new.0.agreed(ConsentItem::HealthCheckup),
        Some(false)
    );
    assert_eq!(history[1].old.as_ref().unwrap().0, history[0].new.0);
    assert_eq!(history[1].new.0.agreed(ConsentItem::Clinical), Some(false));
    assert_eq!(
        history[1].new.0.agreed(ConsentItem::HealthCheckup),
        Some(true)
    );
    assert_eq!(history[2].old.as_ref().unwrap().0, history[1].new.0);
    assert_eq!(history[2].new.1, consent.status);
    for item in [
        ConsentItem::Medication,
        ConsentItem::Clinical,
        ConsentItem::HealthCheckup,
    ] {
        assert_eq!(history[2].new.0.agreed(item), Some(false), "{item:?}");
    }
    assert!(history.iter().all(|h| h.authentication.is_some()));
}

#[test]
fn one_token_posted_to_both_processes_at_once_is_accepted_once() {
    let Some(setup) = Setup::start() else { return };
    let mut browser = setup.browser();
    let institution = setup.institution.clone();

    // Flow A up to its card.
    let prepare = browser.get(&institution);
    let csrf = input(&prepare.body, "csrf");
    let started = browser.post(&format!("{institution}/registration"), &[("csrf", &csrf)]);
    let select = started.location().to_owned();
    let flow = select.trim_end_matches("/select").to_owned();
    let answers = [
        ("csrf", csrf.as_str()),
        ("YZK", "1"),
        ("SRJ", "1"),
        ("TKK", "1"),
    ];
    assert_eq!(browser.post(&select, &answers).status, 303);
    let confirm = browser.get(&format!("{flow}/confirm"));
    let choices = input(&confirm.body, "choices");
    let confirmed = browser.post(
        &format!("{flow}/confirm"),
        &[("csrf", &csrf), ("choices", &choices)],
    );
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let page = browser.get(&format!("{flow}/authenticate"));
    let link = between(&page.body, "<code>", "</code>");
    let path = link.strip_prefix(&setup.proxy.origin).unwrap().to_owned();

    // The authenticator's fetch claims it; the card signs its nonce for the public origin.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let described: Value = serde_json::from_str(
        &agent
            .get(format!("{}{path}", setup.servers[0].base()))
            .header("Accept", "application/json")
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    let (nonce, claim) = (
        described["nonce"].as_str().unwrap(),
        described["claim"].as_str().unwrap(),
    );
    let signed = ok(zaitaku()
        .args(["card", "sign", "--pin", PIN, "--card"])
        .arg(&setup.card)
        .args(["--origin", &setup.proxy.origin, "--nonce", nonce])
        .output()
        .unwrap());
    let token = stdout(&signed);

    // The same token to both processes at the same moment.
    let barrier = Arc::new(Barrier::new(2));
    let posts: Vec<_> = setup
        .servers
        .iter()
        .map(|serve| {
            let url = format!("{}{path}", serve.base());
            let bearer = format!("Bearer {claim}");
            let (agent, barrier, token) = (agent.clone(), Arc::clone(&barrier), token.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let response = agent
                    .post(&url)
                    .header("Authorization", &bearer)
                    .header("Content-Type", "application/json")
                    .send(token.as_bytes())
                    .unwrap();
                let status = response.status().as_u16();
                let body: Value =
                    serde_json::from_str(&response.into_body().read_to_string().unwrap()).unwrap();
                (status, body)
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = posts.into_iter().map(|t| t.join().unwrap()).collect();
    let accepted: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    let refused: Vec<_> = answers.iter().filter(|(s, _)| *s != 200).collect();
    assert_eq!(accepted.len(), 1, "{answers:?}");
    assert_eq!(accepted[0].1["result"], "accepted", "{answers:?}");
    assert_eq!(refused.len(), 1, "{answers:?}");
    assert_eq!(refused[0].0, 409, "{answers:?}");
    assert_eq!(refused[0].1["error"], "already_used", "{answers:?}");

    // Both processes show the one registration.
    for _ in 0..2 {
        let done = browser.get(&format!("{flow}/complete"));
        assert!(done.body.contains("資格確認・登録完了"), "{}", done.body);
    }
    let (institution, person) = setup.institution_and_person();
    let (consent, history) = setup.block_on(async {
        let consent = setup
            .store
            .consent(institution.id, person)
            .await
            .unwrap()
            .unwrap();
        let history = setup.store.consent_history(consent.id).await.unwrap();
        (consent, history)
    });
    assert_eq!(consent.status, ConsentStatus::Active);
    assert_eq!(consent.version, 1);
    assert_eq!(history.len(), 1, "{history:?}");
}

#[test]
fn a_device_revoked_by_the_operator_is_refused_at_once_on_both_processes() {
    let Some(setup) = Setup::start() else { return };
    let mut browser = setup.browser();
    let institution = setup.institution.clone();
    // Admitted on both processes (each request goes to the other one).
    for _ in 0..2 {
        let page = browser.get(&institution);
        assert_eq!(page.status, 200, "{}", page.body);
    }
    let csrf = input(&browser.get(&institution).body, "csrf");
    let started = browser.post(&format!("{institution}/registration"), &[("csrf", &csrf)]);
    assert_eq!(started.status, 303, "{}", started.body);
    let select = started.location().to_owned();
    assert_eq!(browser.get(&select).status, 200);

    // The operator revokes it from a third process; nothing tells the servers.
    let listed = setup.admin(&["device", "list", "--institution", CODE]);
    let line = stdout(&listed)
        .lines()
        .find(|l| l.contains("受付PC") && l.ends_with("live"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{}", stdout(&listed)));
    let id = line.split('\t').next().unwrap().to_owned();
    setup.admin(&["device", "revoke", "--id", &id]);

    // Its very next requests, on either process, are refused: the institution
    // page, a new start, and the flow it had started.
    let served = browser.served;
    for _ in 0..2 {
        let page = browser.get(&institution);
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(
            page.body.contains("この端末は登録されていません"),
            "{}",
            page.body
        );
    }
    for _ in 0..2 {
        let refused = browser.post(&format!("{institution}/registration"), &[("csrf", &csrf)]);
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert_eq!(browser.get(&select).status, 403);
    }
    assert!(
        browser.served[0] >= served[0] + 3 && browser.served[1] >= served[1] + 3,
        "both processes refused: {:?}",
        browser.served
    );
}
