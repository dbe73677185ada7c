//! The bounded load test: a burst of 1,000 hostile or careless requests at a
//! running demo, on loopback, while one well-behaved staff browser and patient
//! complete flow A. It stops by itself (every connection it opens is closed by
//! the end), and says what the server's memory reached.
//!
//! The burst, by kind (each kind on its own thread, all at once):
//! - 200 connections that trickle header bytes (slowloris), one byte per 300 ms;
//! - 150 connections opened and left silent;
//! - 250 cookieless GETs (the institution page, the top, unknown paths, assets);
//! - 100 flow starts from one session (the caps refuse the excess);
//! - 150 status long-polls, all on one flow of that session;
//! - 50 bodies over the size limit, 50 garbage tokens at made-up links;
//! - 50 console logins with a wrong password (argon2 is the costly part).
//!
//! Run against a release build for the memory figure in the README:
//! `ZAITAKU_BIN=target/release/zaitaku cargo nextest run -p zaitaku -E 'test(/abuse::/)' --no-capture`.

use crate::kit::{self, Browser, card_auth, stdout, until_authentication};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn binary() -> PathBuf {
    std::env::var_os("ZAITAKU_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_zaitaku")))
}

/// One request on its own connection; the status code, or 0 when the server
/// closed or refused the connection (what a cap on connections does).
fn raw(address: &str, request: &[u8]) -> u16 {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return 0;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(40)))
        .unwrap();
    if stream.write_all(request).is_err() {
        return 0;
    }
    let mut head = [0u8; 12];
    match stream.read_exact(&mut head) {
        Ok(()) => std::str::from_utf8(&head[9..12])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        Err(_) => 0,
    }
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n")
        .into_bytes()
}

#[test]
fn a_burst_of_abuse_leaves_an_honest_flow_a_working_and_memory_bounded() {
    // Made once, then started again on its data: the first start's RSA key
    // generation and password hashing are not what serving costs.
    let dir = tempfile::tempdir().unwrap();
    drop(zaitaku_test_kit::start_demo_in(&binary(), dir.path()));
    let demo = zaitaku_test_kit::start_demo_in(&binary(), dir.path());
    let address = demo.base.trim_start_matches("http://").to_owned();
    let institution = demo.institutions[0].clone();
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));

    // The abuser's own session and flow, for the flow starts and the polls.
    let mut abuser = Browser::demo_device(&demo.base);
    let (abuser_flow, _) = until_authentication(&mut abuser, &institution);
    let abuser_cookie = abuser.cookie().unwrap().to_owned();
    let abuser_csrf = abuser.get(&institution).input("csrf");

    let mut burst = Vec::new();
    // Slowloris: header bytes trickled; the server must cut these.
    burst.push(std::thread::spawn({
        let (address, stop) = (address.clone(), stop.clone());
        move || {
            let mut open: Vec<TcpStream> = (0..200)
                .filter_map(|_| TcpStream::connect(&address).ok())
                .collect();
            let request = get("/", "X-Slow: ");
            let mut sent = 0;
            while !stop.load(Ordering::Relaxed) && !open.is_empty() && sent < request.len() {
                open.retain_mut(|s| s.write_all(&request[sent..sent + 1]).is_ok());
                sent += 1;
                std::thread::sleep(Duration::from_millis(300));
            }
            format!("slowloris: {} of 200 still open at the end", open.len())
        }
    }));
    // Silent connections.
    burst.push(std::thread::spawn({
        let (address, stop) = (address.clone(), stop.clone());
        move || {
            let open: Vec<TcpStream> = (0..150)
                .filter_map(|_| TcpStream::connect(&address).ok())
                .collect();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
            }
            format!("silent: {} connections opened", open.len())
        }
    }));
    // Cookieless GETs.
    burst.push(std::thread::spawn({
        let (address, institution) = (address.clone(), institution.clone());
        move || {
            let paths = [institution.as_str(), "/", "/nowhere", "/assets/style.css"];
            let answered = (0..250)
                .filter(|i| raw(&address, &get(paths[i % paths.len()], "")) != 0)
                .count();
            format!("cookieless GETs: {answered} of 250 answered")
        }
    }));
    // Flow starts from one session.
    burst.push(std::thread::spawn({
        let (address, institution, cookie, csrf) = (
            address.clone(),
            institution.clone(),
            abuser_cookie.clone(),
            abuser_csrf.clone(),
        );
        move || {
            let body = format!("csrf={}", csrf.replace('=', "%3D"));
            let request = format!(
                "POST {institution}/registration HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let started = (0..100)
                .filter(|_| raw(&address, request.as_bytes()) == 303)
                .count();
            format!("flow starts from one session: {started} of 100 started")
        }
    }));
    // Long-polls on one flow.
    burst.push(std::thread::spawn({
        let (address, flow, cookie) = (address.clone(), abuser_flow.clone(), abuser_cookie);
        move || {
            let request = get(
                &format!("{flow}/status?wait=pending"),
                &format!("Cookie: {cookie}\r\nAccept: application/json\r\n"),
            );
            let waiting: Vec<_> = (0..150)
                .map(|_| {
                    let (address, request) = (address.clone(), request.clone());
                    std::thread::spawn(move || raw(&address, &request))
                })
                .collect();
            let answers: Vec<u16> = waiting.into_iter().map(|h| h.join().unwrap()).collect();
            let refused = answers.iter().filter(|&&s| s == 429 || s == 503).count();
            format!("status polls on one flow: 150 sent, {refused} refused at once")
        }
    }));
    // Oversized bodies and garbage tokens.
    burst.push(std::thread::spawn({
        let address = address.clone();
        move || {
            let big = vec![b'a'; 2 << 20];
            let mut too_large = 0;
            for i in 0..50 {
                let head = format!(
                    "POST /auth/made-up-{i} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    big.len()
                );
                let mut request = head.into_bytes();
                request.extend_from_slice(&big);
                too_large += usize::from(raw(&address, &request) == 413);
            }
            for i in 0..50 {
                let body = "{\"token\":\"eyJhbGciOiJSUzI1NiJ9.e30.AAAA\"}";
                let request = format!(
                    "POST /auth/made-up-{i} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                raw(&address, request.as_bytes());
            }
            format!("bodies over the limit: {too_large} of 50 answered 413; 50 garbage tokens sent")
        }
    }));
    // Wrong console logins, each with its own session and form.
    burst.push(std::thread::spawn({
        let base = demo.base.clone();
        move || {
            let mut refused = 0;
            for _ in 0..50 {
                let mut staff = Browser::new(&base);
                let form = staff.get("/console/login");
                let csrf = form.input("csrf");
                let answer = staff.post(
                    "/console/login",
                    &[
                        ("csrf", &csrf),
                        ("login", "himawari"),
                        ("password", "wrong password"),
                    ],
                );
                refused += usize::from(answer.status != 303);
            }
            format!("wrong console logins: {refused} of 50 refused")
        }
    }));

    // Meanwhile, the clinic: flow A from start to finish with the demo's card.
    let mut staff = Browser::demo_device(&demo.base);
    let (flow, link) = until_authentication(&mut staff, &institution);
    let out = card_auth(&demo.cards.join("yamada.card"), "1234", &link);
    assert!(out.status.success(), "{}", kit::stderr(&out));
    assert!(stdout(&out).contains("\"accepted\""), "{}", stdout(&out));
    let done = staff.get(&format!("{flow}/complete"));
    assert!(
        done.body.contains("資格確認・登録完了"),
        "the honest flow A did not complete under the burst"
    );
    let honest = started.elapsed();

    // Let the slow and silent connections meet the server's timeouts, then end the burst.
    std::thread::sleep(Duration::from_secs(12));
    stop.store(true, Ordering::Relaxed);
    for kind in burst {
        eprintln!("{}", kind.join().unwrap());
    }
    let peak = peak_rss_kib(demo.pid());
    eprintln!(
        "honest flow A completed {:.1} s after the burst began; server peak memory (VmHWM) {} MiB",
        honest.as_secs_f64(),
        peak / 1024
    );
    // The server still answers, and the budget held.
    let mut after = Browser::demo_device(&demo.base);
    assert_eq!(after.get(&institution).status, 200);
    assert!(peak < 64 * 1024, "peak memory {} KiB over 64 MiB", peak);
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
