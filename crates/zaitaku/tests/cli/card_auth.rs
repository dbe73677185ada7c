//! `zaitaku card auth` against a small in-test server that plays the server side of
//! docs/auth-protocol.md and really verifies the token.

use crate::kit::{stderr, stdout, zaitaku};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::{ChallengeNonce, JpkiCard, Origin, Pin, Validator, ValidatorConfig, oids};

/// Not a substring of anything else the tests print (the institution code holds "1234").
const PIN: &str = "7391";
const WRONG_PIN: &str = "5555";
const REF: &str = "k3JqYt8v0Xc2-Rw_9fLm1A";
const PROMPT: &str = "暗証番号";

// ---------------------------------------------------------------- the command

struct Run<'a> {
    args: Vec<&'a str>,
    env_pin: Option<&'a str>,
    stdin: Option<&'a str>,
}

fn run(args: &[&str]) -> Output {
    Run {
        args: args.to_vec(),
        env_pin: None,
        stdin: None,
    }
    .output()
}

impl Run<'_> {
    fn output(self) -> Output {
        let mut command = zaitaku();
        command
            .args(&self.args)
            .env_remove("ZAITAKU_PIN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(pin) = self.env_pin {
            command.env("ZAITAKU_PIN", pin);
        }
        let mut child = command.spawn().unwrap();
        // Dropping stdin closes it: a PIN read from it finds end of input.
        let mut stdin = child.stdin.take().unwrap();
        if let Some(text) = self.stdin {
            stdin.write_all(text.as_bytes()).unwrap();
        }
        drop(stdin);
        child.wait_with_output().unwrap()
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------- a card and its CA

struct Card {
    _dir: tempfile::TempDir,
    path: PathBuf,
    root: PathBuf,
}

fn new_card() -> Card {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let path = dir.path().join("hanako.card");
    let out = run(&["card", "ca-init", "--dir", s(&ca)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&[
        "card",
        "new",
        "--ca",
        s(&ca),
        "--pin",
        PIN,
        "--out",
        s(&path),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    Card {
        _dir: dir,
        path,
        root: ca.join("ca-cert.pem"),
    }
}

impl Card {
    fn tries_left(&self) -> u8 {
        zaitaku_card::VirtualCard::open(&self.path)
            .unwrap()
            .tries_left()
    }

    /// Spend PIN tries with a wrong PIN, straight on the card.
    fn spend_tries(&self, n: usize) {
        let mut card =
            JpkiCard::open(zaitaku_card::VirtualCard::open(&self.path).unwrap()).unwrap();
        let wrong = Pin::parse(WRONG_PIN).unwrap();
        for _ in 0..n {
            assert!(card.verify_pin(&wrong).is_err());
        }
    }

    fn validator(&self) -> Validator {
        let anchors = TrustAnchor::load_all(&std::fs::read(&self.root).unwrap()).unwrap();
        let mut config = ValidatorConfig::new(anchors);
        config.allowed_policies.push(oids::ZAITAKU_TEST_CARD_POLICY);
        Validator::new(config)
    }
}

// ---------------------------------------------------------------- the server

#[derive(Clone, Debug)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Handler = Box<dyn Fn(&Request) -> (u16, String) + Send>;

/// One HTTP/1.1 request per connection, answered and closed: all ureq needs.
struct Server {
    origin: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Binds first, so the handler can be built knowing the origin.
    fn start(make_handler: impl FnOnce(&str) -> Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let handler = make_handler(&origin);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        // Runs until the test process ends.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if let Some(request) = read_request(&mut stream) {
                    let (status, body) = handler(&request);
                    log.lock().unwrap().push(request);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
            }
        });
        Server { origin, requests }
    }

    fn url(&self) -> String {
        format!("{}/auth/{REF}", self.origin)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// "GET /auth/…", "POST /auth/…/error with Bearer …", … in order: the
    /// request line and the `Authorization` header when one was sent.
    fn seen(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| match r.header("authorization") {
                Some(credential) => format!("{} {} with {credential}", r.method, r.path),
                None => format!("{} {}", r.method, r.path),
            })
            .collect()
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap_or(0));
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn challenge(origin: &str, nonce: &str) -> Value {
    json!({
        "protocol": "zaitaku-auth:1",
        "origin": origin,
        "institution": { "name": "在宅ひまわりクリニック", "code": "1310123450" },
        "purpose": "register",
        "purposeLabel": "同意登録",
        "nonce": nonce,
        "matchingCode": "0427",
        "claim": CLAIM,
        "expiresAt": "2026-11-24T09:00:00Z",
    })
}

/// The claim the scripted server hands out; later calls must carry it, in the
/// `Authorization` header (never in the URL).
const CLAIM: &str = "c1aim-of-this-authenticator";
const BEARER_CLAIM: &str = "Bearer c1aim-of-this-authenticator";

/// What the protocol's server does with its paths.
struct Plan {
    /// The answer to GET /auth/{ref}.
    get: (u16, Value),
    /// The nonce the token must be bound to.
    expected_nonce: String,
    validator: Validator,
}

fn protocol_handler(plan: Plan, origin: &str) -> Handler {
    let origin = Origin::parse(origin).unwrap();
    let expected = ChallengeNonce::parse(&plan.expected_nonce).unwrap();
    let auth = format!("/auth/{REF}");
    let error = format!("/auth/{REF}/error");
    let claimed = |request: &Request| request.header("authorization") == Some(BEARER_CLAIM);
    Box::new(
        move |request| match (request.method.as_str(), request.path.as_str()) {
            ("GET", p) if p == auth => (plan.get.0, plan.get.1.to_string()),
            ("POST", p) if p == auth && claimed(request) => {
                match plan
                .validator
                .validate_token(&request.body, &origin, &expected, SystemTime::now())
            {
                Ok(valid) => (
                    200,
                    json!({
                        "result": "accepted",
                        "message": format!("consent registered for {}", valid.certificate.serial),
                    })
                    .to_string(),
                ),
                Err(rejection) => (
                    422,
                    json!({
                        "result": "rejected",
                        "error": rejection.error.code(),
                        "message": rejection.error.to_string(),
                    })
                    .to_string(),
                ),
            }
            }
            ("POST", p) if p == error && claimed(request) => {
                (200, json!({ "result": "recorded" }).to_string())
            }
            _ => (
                404,
                json!({ "error": "unknown_challenge", "message": "no such challenge" }).to_string(),
            ),
        },
    )
}

fn new_nonce() -> String {
    ChallengeNonce::generate().unwrap().as_str().to_owned()
}

/// A server that hands out `nonce` for its own origin and checks tokens against it.
fn honest_server(card: &Card, nonce: &str) -> Server {
    let validator = card.validator();
    let nonce = nonce.to_owned();
    Server::start(move |origin| {
        protocol_handler(
            Plan {
                get: (200, challenge(origin, &nonce)),
                expected_nonce: nonce,
                validator,
            },
            origin,
        )
    })
}

fn auth_get() -> String {
    format!("GET /auth/{REF}")
}

/// The token goes back with the claim the GET handed out, in the header.
fn auth_post() -> String {
    format!("POST /auth/{REF} with {BEARER_CLAIM}")
}

fn error_post() -> String {
    format!("POST /auth/{REF}/error with {BEARER_CLAIM}")
}

fn last_json_line(out: &Output) -> Value {
    let text = stdout(out);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {text:?}"))
}

// ---------------------------------------------------------------- the cases

#[test]
fn the_card_signs_for_the_link_and_the_server_accepts() {
    let card = new_card();
    let nonce = new_nonce();
    let server = honest_server(&card, &nonce);
    let url = server.url();

    let out = run(&["card", "auth", "--card", s(&card.path), "--pin", PIN, &url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with(r#"{"result":"accepted","#));
    assert_eq!(
        last_json_line(&out),
        json!({
            "result": "accepted",
            "institution": { "name": "在宅ひまわりクリニック", "code": "1310123450" },
            "purpose": "register",
        })
    );
    let err = stderr(&out);
    for shown in [
        server.origin.as_str(),
        "在宅ひまわりクリニック",
        "1310123450",
        "同意登録",
        "register",
        "2026-11-24T18:00:00+09:00",
        "PIN tries left: 3",
        "accepted: consent registered for",
        "matching code: 0427",
    ] {
        assert!(err.contains(shown), "{shown:?} not shown: {err}");
    }
    assert!(!err.contains(PROMPT), "a given PIN is not asked for");
    for secret in [PIN, nonce.as_str(), REF, CLAIM] {
        let all = format!("{}{err}", stdout(&out));
        assert!(!all.contains(secret), "{secret:?} printed: {all}");
    }

    assert_eq!(server.seen(), [auth_get(), auth_post()]);
    let requests = server.requests();
    assert_eq!(requests[0].header("Accept"), Some("application/json"));
    assert_eq!(requests[1].header("Content-Type"), Some("application/json"));
    let token: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(token["format"], "web-eid:1.0");
    assert_eq!(token["algorithm"], "RS256");
    assert!(
        token["appVersion"]
            .as_str()
            .unwrap()
            .starts_with("zaitaku-cli/")
    );
    assert_eq!(card.tries_left(), 3);
}

#[test]
fn the_pin_may_come_from_the_environment_or_standard_input() {
    let card = new_card();
    let nonce = new_nonce();
    let server = honest_server(&card, &nonce);
    let url = server.url();
    let args = vec!["card", "auth", "--card", s(&card.path), url.as_str()];

    let from_env = Run {
        args: args.clone(),
        env_pin: Some(PIN),
        stdin: None,
    }
    .output();
    assert_eq!(from_env.status.code(), Some(0), "{}", stderr(&from_env));
    assert!(!stderr(&from_env).contains(PROMPT));

    let typed = Run {
        args: args.clone(),
        env_pin: None,
        stdin: Some(&format!("{PIN}\r\n")),
    }
    .output();
    assert_eq!(typed.status.code(), Some(0), "{}", stderr(&typed));
    let err = stderr(&typed);
    // The request is shown before the PIN is asked for.
    let shown_at = err.find("在宅ひまわりクリニック").unwrap();
    let prompt_at = err.find("暗証番号 (4 digits): ").expect("prompt");
    assert!(shown_at < prompt_at, "{err}");
    let tries_at = err.find("PIN tries left: 3\n").expect("tries shown");
    assert!(
        tries_at < prompt_at,
        "the tries left come before the prompt: {err}"
    );

    let malformed = Run {
        args,
        env_pin: None,
        stdin: Some("１２３４\n"),
    }
    .output();
    assert_eq!(malformed.status.code(), Some(1), "{}", stderr(&malformed));
    assert!(stderr(&malformed).contains("digits 0-9"));
    assert_eq!(card.tries_left(), 3, "a malformed PIN is never sent");
}

#[test]
fn a_wrong_pin_says_how_many_tries_are_left_and_posts_nothing() {
    let card = new_card();
    let server = honest_server(&card, &new_nonce());
    let out = run(&[
        "card",
        "auth",
        "--card",
        s(&card.path),
        "--pin",
        WRONG_PIN,
        &server.url(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("PIN tries left: 3\nerror: wrong PIN: 2 tries left"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty(), "no verdict without a token");
    assert_eq!(server.seen(), [auth_get()]);
    assert_eq!(card.tries_left(), 2);
}

#[test]
fn a_blocked_card_is_reported_to_the_page_and_never_asked_for_its_pin() {
    let card = new_card();
    card.spend_tries(3);
    assert_eq!(card.tries_left(), 0);
    let before = std::fs::read(&card.path).unwrap();
    let server = honest_server(&card, &new_nonce());

    // No --pin: a PIN would have to be typed, and must not even be asked for.
    let out = run(&["card", "auth", "--card", s(&card.path), &server.url()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("blocked") && err.contains("municipal office"),
        "{err}"
    );
    assert!(!err.contains(PROMPT), "{err}");
    assert!(!err.contains("PIN tries left"), "{err}");
    assert!(out.stdout.is_empty());

    assert_eq!(server.seen(), [auth_get(), error_post()]);
    let report: Value = serde_json::from_slice(&server.requests()[1].body).unwrap();
    assert_eq!(report, json!({ "code": "pin_blocked" }));
    assert_eq!(
        server.requests()[1].header("Content-Type"),
        Some("application/json")
    );
    assert_eq!(card.tries_left(), 0);
    assert_eq!(
        std::fs::read(&card.path).unwrap(),
        before,
        "the card was not touched"
    );
}

#[test]
fn the_last_wrong_pin_is_warned_about_and_blocks_the_card() {
    let card = new_card();
    card.spend_tries(2);
    let server = honest_server(&card, &new_nonce());
    let out = run(&[
        "card",
        "auth",
        "--card",
        s(&card.path),
        "--pin",
        WRONG_PIN,
        &server.url(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("PIN tries left: 1\nwarning: 1 PIN try left"),
        "{err}"
    );
    assert!(err.contains("blocked"), "{err}");
    assert_eq!(server.seen(), [auth_get(), error_post()]);
    assert_eq!(card.tries_left(), 0);
}

#[test]
fn a_challenge_for_another_origin_is_refused_before_the_pin() {
    let card = new_card();
    let validator = card.validator();
    let nonce = new_nonce();
    let server = Server::start(|origin| {
        protocol_handler(
            Plan {
                // A relay: the page's challenge fetched through another site.
                get: (200, challenge("https://zaitaku.example.jp", &nonce)),
                expected_nonce: nonce.clone(),
                validator,
            },
            origin,
        )
    });
    let out = run(&["card", "auth", "--card", s(&card.path), &server.url()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("https://zaitaku.example.jp"), "{err}");
    assert!(err.contains("refusing to sign"), "{err}");
    assert!(!err.contains(PROMPT), "{err}");
    assert_eq!(server.seen(), [auth_get()]);
    assert_eq!(card.tries_left(), 3);
}

#[test]
fn a_server_rejection_is_shown_with_its_code() {
    let card = new_card();
    let validator = card.validator();
    let served = new_nonce();
    let server = Server::start(|origin| {
        protocol_handler(
            Plan {
                get: (200, challenge(origin, &served)),
                // The server checks another nonce than it handed out: the signature cannot match.
                expected_nonce: new_nonce(),
                validator,
            },
            origin,
        )
    });
    let out = run(&[
        "card",
        "auth",
        "--card",
        s(&card.path),
        "--pin",
        PIN,
        &server.url(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        last_json_line(&out),
        json!({ "result": "rejected", "error": "signature_invalid" })
    );
    assert!(
        stderr(&out).contains("rejected (signature_invalid): token signature:"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.seen(), [auth_get(), auth_post()]);
    assert_eq!(card.tries_left(), 3, "the PIN was right");
}

#[test]
fn an_expired_link_shows_the_servers_message() {
    let card = new_card();
    let validator = card.validator();
    let server = Server::start(|origin| {
        protocol_handler(
            Plan {
                get: (
                    410,
                    json!({ "error": "expired", "message": "This authentication link has expired." }),
                ),
                expected_nonce: new_nonce(),
                validator,
            },
            origin,
        )
    });
    let out = run(&["card", "auth", "--card", s(&card.path), &server.url()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("This authentication link has expired. (expired, HTTP 410)"),
        "{err}"
    );
    assert!(!err.contains(PROMPT));
    assert!(out.stdout.is_empty());
    assert_eq!(server.seen(), [auth_get()]);
    assert_eq!(card.tries_left(), 3);
}

#[test]
fn a_server_that_cannot_be_reached_is_an_incomplete_authentication() {
    let card = new_card();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is dropped: nothing answers on that port now.
    let url = format!("http://127.0.0.1:{port}/auth/{REF}");
    let out = run(&["card", "auth", "--card", s(&card.path), "--pin", PIN, &url]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("could not talk to http://127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.contains(REF), "{err}");
    assert_eq!(card.tries_left(), 3);
}

#[test]
fn https_links_are_fetched_over_tls() {
    let card = new_card();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Read the first byte the client sends, then hang up: 0x16 opens a TLS handshake.
    let first_byte = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).unwrap();
        byte[0]
    });
    let url = format!("https://127.0.0.1:{port}/auth/{REF}");
    let out = run(&["card", "auth", "--card", s(&card.path), "--pin", PIN, &url]);
    assert_eq!(first_byte.join().unwrap(), 0x16, "not a TLS ClientHello");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("could not talk to https://127.0.0.1:{port}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_links_and_options_are_usage_errors() {
    let card = new_card();
    let server = honest_server(&card, &new_nonce());
    let path = s(&card.path);
    let good = server.url();
    let port = &server.origin["http://127.0.0.1:".len()..];
    let cases: Vec<(String, &str)> = vec![
        (format!("127.0.0.1:{port}/auth/{REF}"), "no scheme"),
        (server.origin.clone(), "no /auth/ path"),
        (format!("{}/login/{REF}", server.origin), "/auth/REF"),
        (format!("{}/auth/", server.origin), "REF must be"),
        (format!("{good}/"), "REF must be"),
        (format!("{good}?x=1"), "REF must be"),
        (format!("http://example.jp/auth/{REF}"), "plain http"),
        (
            format!("https://zaitaku.example.jp:443/auth/{REF}"),
            "default port",
        ),
    ];
    for (url, message) in &cases {
        let out = run(&["card", "auth", "--card", path, "--pin", PIN, url]);
        assert_eq!(out.status.code(), Some(2), "{url}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{url}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("https://host/auth/REF"),
            "{url}: {}",
            stderr(&out)
        );
    }

    let usage: Vec<(Vec<&str>, &str)> = vec![
        (vec!["card", "auth", &good], "--card"),
        (
            vec!["card", "auth", "--card", path, "--reader", &good],
            "cannot be used with",
        ),
        (
            vec!["card", "auth", "--card", path, "--pin", "12345", &good],
            "--pin: the PIN must be exactly 4 digits",
        ),
        (
            vec![
                "card",
                "auth",
                "--card",
                "/nonexistent.card",
                "--pin",
                PIN,
                &good,
            ],
            "no virtual card",
        ),
    ];
    for (args, message) in usage {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    // Only the unreadable card file got as far as the server.
    assert_eq!(server.seen(), [auth_get()]);
    assert_eq!(card.tries_left(), 3);
}

#[cfg(not(feature = "pcsc"))]
#[test]
fn without_pcsc_a_reader_cannot_be_used() {
    for reader in ["--reader", "--reader=sony"] {
        let out = run(&["card", "auth", reader, "http://127.0.0.1:9/auth/x"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out)
                .contains("this build has no PC/SC support; rebuild without --no-default-features"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn wait_goes_with_a_reader_only() {
    let card = new_card();
    let out = run(&[
        "card",
        "auth",
        "--card",
        s(&card.path),
        "--wait",
        "5",
        "http://127.0.0.1:9/auth/x",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );

    let out = run(&[
        "card",
        "auth",
        "--reader",
        "--wait",
        "3601",
        "http://127.0.0.1:9/auth/x",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("0..=3600"), "{}", stderr(&out));
}

/// The real PC/SC path up to the reader. This machine has no card on a reader (no
/// pcscd, or no reader, or an empty one): the link is left open, nothing is asked.
#[cfg(feature = "pcsc")]
#[test]
fn a_reader_without_a_card_leaves_the_link_open() {
    let card = new_card();
    let server = honest_server(&card, &new_nonce());
    let out = run(&["card", "auth", "--reader", "--wait", "0", &server.url()]);
    let err = stderr(&out);
    if err.contains("card reader: ") {
        eprintln!("a card is on a reader here; this test needs none");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("waiting up to 0 s"), "{err}");
    assert!(
        [
            "the PC/SC smart card service is not running",
            "no smart card reader found",
            "no card was placed on the reader within 0 s",
        ]
        .iter()
        .any(|reason| err.contains(reason)),
        "{err}"
    );
    assert!(!err.contains(PROMPT), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(
        server.seen(),
        [auth_get()],
        "no error is reported to the page"
    );
}
