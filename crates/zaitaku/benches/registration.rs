//! What a complete flow A registration costs the server: run `zaitaku demo` as
//! its own process, drive whole registrations through it over HTTP (keep-alive,
//! like a browser), and read the server's CPU time and peak memory from /proc.
//! The client's work (including the card's RSA signature) is not counted.
//!
//! `cargo bench -p zaitaku --bench registration`; ZAITAKU_BENCH_FLOWS (default
//! 300) and ZAITAKU_BENCH_CLIENTS (default 4) change the load. It runs the flows
//! once from one client, then from that many clients at once.
//! ZAITAKU_BENCH_SERVER names another `zaitaku` binary to measure (an older
//! build, for a before/after figure with the same client).
//! ZAITAKU_BENCH_WAITING (default 0) first opens that many authentication pages
//! (each its own browser session and flow) whose status requests wait, as
//! pages left open on tablets do, for the whole run: what the registrations
//! cost then includes what waiting pages cost the server.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use zaitaku_card::authenticator::sign_challenge;
use zaitaku_card::{ChallengeNonce, JpkiCard, Origin, Pin, VirtualCard};

fn main() {
    let flows: usize = std::env::var("ZAITAKU_BENCH_FLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir().unwrap();
    let server = std::env::var("ZAITAKU_BENCH_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_zaitaku").to_owned());
    let mut child = Command::new(server)
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        // Hundreds of registrations a second from one address, on one
        // institution: far past the caps a clinic needs, which are not measured here.
        .env("ZAITAKU_MAX_FLOWS_PER_INSTITUTION_PER_MINUTE", "1000000")
        .env(
            "ZAITAKU_MAX_CHALLENGES_PER_INSTITUTION_PER_MINUTE",
            "1000000",
        )
        .env("ZAITAKU_TOKEN_CHECKS_PER_MINUTE", "1000000")
        // Each client is one browser session registering hundreds of patients.
        .env("ZAITAKU_MAX_FLOWS_PER_SESSION", "100000")
        .env("ZAITAKU_MAX_CHALLENGES_PER_SESSION", "100000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines.next().unwrap().unwrap();
    let base = base
        .trim_start_matches("Zaitaku demo: ")
        .trim_end_matches('/')
        .to_owned();
    let mut institutions = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.trim().strip_prefix(&format!("{base}/i/")) {
            institutions.push(format!("/i/{rest}"));
        }
        if line.starts_with("Press Ctrl+C") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let institution = institutions.first().expect("an institution URL").clone();
    let card = dir.path().join("cards/yamada.card");
    let origin = Origin::parse(&base).unwrap();

    let clients: usize = std::env::var("ZAITAKU_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    // Each client its own copy of the card: a card file is locked while in use.
    let cards: Vec<_> = (0..clients)
        .map(|i| {
            let copy = dir.path().join(format!("cards/yamada-{i}.card"));
            std::fs::copy(&card, &copy).unwrap();
            copy
        })
        .collect();
    let mut warm = Client::new(&base);
    for _ in 0..10 {
        register(&mut warm, &institution, &card, &origin);
    }
    let waiting: usize = std::env::var("ZAITAKU_BENCH_WAITING")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let stop_waiting = Arc::new(AtomicBool::new(false));
    // The waiting pages at the measured institution, or (ZAITAKU_BENCH_WAITING_ELSEWHERE=1)
    // at another: the caps count the first kind in each registration's transaction.
    let waiting_at = match std::env::var("ZAITAKU_BENCH_WAITING_ELSEWHERE").as_deref() {
        Ok("1") => institutions.get(1).expect("a second institution").clone(),
        _ => institution.clone(),
    };
    let waiters = wait_on_pages(waiting, &base, &waiting_at, &stop_waiting);
    println!(
        "flow A registrations, 10 requests each; server = `zaitaku demo` (release), its own process; \
         {waiting} other authentication pages waiting"
    );
    for phase in [1, clients] {
        let per_client = flows / phase;
        let cpu_before = cpu_ticks(pid);
        let started = Instant::now();
        let latencies: Vec<Duration> = std::thread::scope(|s| {
            let handles: Vec<_> = cards[..phase]
                .iter()
                .map(|card| {
                    let (base, institution, origin) = (&base, &institution, &origin);
                    s.spawn(move || {
                        let mut client = Client::new(base);
                        for _ in 0..per_client {
                            register(&mut client, institution, card, origin);
                        }
                        client.latencies
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let wall = started.elapsed();
        let done = per_client * phase;
        let cpu_ms =
            (cpu_ticks(pid) - cpu_before) as f64 * 1000.0 / clock_ticks_per_second() as f64;
        let mut latencies = latencies;
        latencies.sort();
        let n = latencies.len();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{phase} client(s), {done} registrations: server CPU {:.3} ms per registration; \
             request latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.0} registrations/s \
             (the clients' own RSA signing shares the 2 cores)",
            cpu_ms / done as f64,
            ms(latencies[n / 2]),
            ms(latencies[(n * 99 / 100).min(n - 1)]),
            ms(latencies[n - 1]),
            done as f64 / wall.as_secs_f64()
        );
    }
    println!(
        "server peak memory (VmHWM): {} MiB",
        peak_rss_kib(pid) / 1024
    );
    stop_waiting.store(true, Ordering::Relaxed);
    let _ = child.kill();
    for waiter in waiters {
        let _ = waiter.join();
    }
    let _ = child.wait();
}

/// `count` authentication pages, each its own session and flow, left open: each
/// keeps one long-polling status request waiting until `stop`. Returns once all
/// of them have sent their first poll, so the phases measure a steady state.
fn wait_on_pages(
    count: usize,
    base: &str,
    institution: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    let ready = Arc::new(Barrier::new(count + 1));
    let handles = (0..count)
        .map(|_| {
            let (base, institution) = (base.to_owned(), institution.to_owned());
            let (stop, ready) = (stop.clone(), ready.clone());
            std::thread::spawn(move || {
                let mut page = Client::new(&base);
                let (flow, _) = open_authentication_page(&mut page, &institution);
                let status = format!("{flow}/status?wait=pending");
                ready.wait();
                // Each answer at the long poll's end is followed by the next poll, as the page does.
                while !stop.load(Ordering::Relaxed) && page.poll(&status) {}
            })
        })
        .collect();
    ready.wait();
    std::thread::sleep(Duration::from_millis(500)); // the first polls arrive and wait
    handles
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn clock_ticks_per_second() -> u64 {
    // Linux reports CPU times in USER_HZ, 100 on every mainstream architecture.
    100
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Client {
    agent: ureq::Agent,
    base: String,
    /// Every cookie the server set, by name: the session's and the device's.
    cookies: Vec<(String, String)>,
    latencies: Vec<Duration>,
}

impl Client {
    /// A tablet of the demo institutions: the demo index enrols the browser
    /// that opens it (they let only their devices start flows), as it does a
    /// visitor's. That first request is not timed.
    fn new(base: &str) -> Client {
        let mut client = Client {
            agent: ureq::Agent::config_builder()
                .max_redirects(0)
                .http_status_as_error(false)
                .build()
                .new_agent(),
            base: base.to_owned(),
            cookies: Vec::new(),
            latencies: Vec::new(),
        };
        let (status, _, _) = client.send("GET", "/", None, false);
        assert_eq!(status, 200, "the demo index");
        client.latencies.clear();
        client
    }

    /// The `Cookie` header this browser sends.
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        accept_json: bool,
    ) -> (u16, Option<String>, String) {
        self.send_claimed(method, path, body, accept_json, None)
    }

    /// `send`, with the authenticator's claim in the `Authorization` header.
    fn send_claimed(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        accept_json: bool,
        claim: Option<&str>,
    ) -> (u16, Option<String>, String) {
        let url = format!("{}{path}", self.base);
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        if let Some(claim) = claim {
            builder = builder.header("Authorization", format!("Bearer {claim}"));
        }
        if !self.cookies.is_empty() {
            builder = builder.header("Cookie", self.cookie_header());
        }
        if accept_json {
            builder = builder.header("Accept", "application/json");
        }
        let (content_type, bytes) = body.unwrap_or(("text/plain", Vec::new()));
        let request = builder
            .header("Content-Type", content_type)
            .body(bytes)
            .unwrap();
        let start = Instant::now();
        let response = self.agent.run(request).unwrap();
        let status = response.status().as_u16();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != name);
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let text = response.into_body().read_to_string().unwrap();
        self.latencies.push(start.elapsed());
        (status, location, text)
    }

    /// A status poll, not timed: whether the page still waits (the answer is
    /// `pending`; the page would move on at any other, as it would if the server went).
    fn poll(&mut self, path: &str) -> bool {
        let request = ureq::http::Request::builder()
            .method("GET")
            .uri(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .header("Accept", "application/json")
            .body(Vec::new())
            .unwrap();
        match self.agent.run(request) {
            Ok(response) => response
                .into_body()
                .read_to_string()
                .is_ok_and(|body| body.contains("\"pending\"")),
            Err(_) => false,
        }
    }

    fn form(&mut self, path: &str, pairs: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        self.send(
            "POST",
            path,
            Some((
                "application/x-www-form-urlencoded",
                body.join("&").into_bytes(),
            )),
            false,
        )
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
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

/// Flow A up to its authentication page (the challenge made): the flow's path and the page.
fn open_authentication_page(c: &mut Client, institution: &str) -> (String, String) {
    let (_, _, page) = c.send("GET", institution, None, false);
    let csrf = input(&page, "csrf");
    let (_, select, _) = c.form(&format!("{institution}/registration"), &[("csrf", &csrf)]);
    let select = select.unwrap();
    let flow = select.trim_end_matches("/select").to_owned();
    let answers = [
        ("csrf", csrf.as_str()),
        ("YZK", "1"),
        ("SRJ", "1"),
        ("TKK", "0"),
        ("prescription_form", "1"),
    ];
    let (status, _, _) = c.form(&select, &answers);
    assert_eq!(status, 303);
    let (_, _, confirm) = c.send("GET", &format!("{flow}/confirm"), None, false);
    let choices = input(&confirm, "choices");
    c.form(
        &format!("{flow}/confirm"),
        &[("csrf", &csrf), ("choices", &choices)],
    );
    let (_, _, auth) = c.send("GET", &format!("{flow}/authenticate"), None, false);
    (flow, auth)
}

/// One whole registration, as a browser and an authenticator make it.
fn register(c: &mut Client, institution: &str, card: &std::path::Path, origin: &Origin) {
    let (flow, auth) = open_authentication_page(c, institution);
    let start = auth.find("/auth/").unwrap();
    let end = auth[start..].find('<').unwrap() + start;
    let link = auth[start..end].to_owned();
    let (_, _, described) = c.send("GET", &link, None, true);
    let described: serde_json::Value = serde_json::from_str(&described).unwrap();
    let nonce = ChallengeNonce::parse(described["nonce"].as_str().unwrap()).unwrap();
    let claim = described["claim"].as_str().unwrap();
    let mut jpki = JpkiCard::open(VirtualCard::open(card).unwrap()).unwrap();
    let token = sign_challenge(
        &mut jpki,
        &Pin::parse("1234").unwrap(),
        origin,
        &nonce,
        "bench",
    )
    .unwrap()
    .to_json();
    drop(jpki);
    let (status, _, body) = c.send_claimed(
        "POST",
        &link,
        Some(("application/json", token.into_bytes())),
        false,
        Some(claim),
    );
    assert_eq!(status, 200, "{body}");
    let (_, _, status) = c.send("GET", &format!("{flow}/status"), None, true);
    assert!(status.contains("done"));
    let (_, _, done) = c.send("GET", &format!("{flow}/complete"), None, false);
    assert!(done.contains("資格確認・登録完了"));
}
