//! The HTTP server under clients that hold connections: slow headers are cut,
//! connections over the cap wait, a request over time gets 408.

use crate::common::{self, Kit};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zaitaku_web::ServerLimits;

fn limits(header: u64, idle: u64, max: usize, request: u64) -> ServerLimits {
    ServerLimits {
        header_timeout: Duration::from_millis(header),
        idle_timeout: Duration::from_millis(idle),
        max_connections: max,
        request_timeout: Duration::from_millis(request),
    }
}

async fn start(limits: ServerLimits) -> Kit {
    Kit::start_with(common::Options {
        limits,
        ..common::Options::default()
    })
    .await
}

async fn connect(kit: &Kit) -> TcpStream {
    TcpStream::connect(kit.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Whether the server has closed `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    matches!(
        tokio::time::timeout(within, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_client_is_cut_at_the_header_timeout_while_others_are_served() {
    let kit = start(limits(1000, 30_000, 64, 30_000)).await;
    let host = kit.base.trim_start_matches("http://").to_owned();
    let head = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Slow: ");
    let mut slow = connect(&kit).await;
    let started = Instant::now();
    // One header byte every 100 ms: bytes keep moving, the headers never end.
    let trickle = tokio::spawn(async move {
        for byte in head.bytes().chain(std::iter::repeat(b'a')) {
            if slow.write_all(&[byte]).await.is_err() {
                return (started.elapsed(), slow);
            }
            let mut buf = [0u8; 64];
            if let Ok(Ok(0) | Err(_)) =
                tokio::time::timeout(Duration::from_millis(100), slow.read(&mut buf)).await
            {
                return (started.elapsed(), slow);
            }
            if started.elapsed() > Duration::from_secs(10) {
                panic!("the slow client was never cut");
            }
        }
        unreachable!()
    });
    // Meanwhile others are served, promptly.
    let mut browser = kit.client();
    for _ in 0..5 {
        let asked = Instant::now();
        assert_eq!(browser.get("/healthz").await.status, 200);
        assert!(asked.elapsed() < Duration::from_millis(500));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (cut_after, _) = trickle.await.unwrap();
    assert!(
        cut_after >= Duration::from_millis(900) && cut_after < Duration::from_secs(3),
        "cut after {cut_after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_until_one_closes() {
    let kit = start(limits(1500, 30_000, 2, 30_000)).await;
    // Two connections that say nothing hold both places.
    let mut first = connect(&kit).await;
    let mut second = connect(&kit).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let asked = Instant::now();
    let mut browser = kit.client();
    let answer = browser.get("/healthz").await;
    let waited = asked.elapsed();
    assert_eq!(answer.status, 200);
    // Served only once the header timeout had closed a silent one.
    assert!(
        waited >= Duration::from_millis(1200),
        "served after {waited:?}, over the cap"
    );
    assert!(closed_within(&mut first, Duration::from_secs(2)).await);
    assert!(closed_within(&mut second, Duration::from_secs(2)).await);
    // Under the cap: at once.
    let asked = Instant::now();
    assert_eq!(browser.get("/healthz").await.status, 200);
    assert!(asked.elapsed() < Duration::from_millis(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let kit = start(limits(1000, 30_000, 64, 30_000)).await;
    let host = kit.base.trim_start_matches("http://").to_owned();
    let mut stream = connect(&kit).await;
    stream
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Kept alive, then closed when no next request comes.
    let waited = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    assert!(waited.elapsed() >= Duration::from_millis(800));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_cut_by_the_idle_timeout_or_answered_408_with_headers() {
    // Request timeout first: 408, with the security headers.
    let kit = start(limits(5000, 30_000, 64, 800)).await;
    let host = kit.base.trim_start_matches("http://").to_owned();
    let mut stream = connect(&kit).await;
    stream
        .write_all(
            format!(
                "POST /console/login HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nlogin="
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw))
        .await
        .expect("answered in time")
        .unwrap();
    let answer = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    assert!(
        answer.contains("content-security-policy: default-src 'none'"),
        "{answer}"
    );
    assert!(
        answer.contains("x-content-type-options: nosniff"),
        "{answer}"
    );

    // Idle timeout: a connection on which nothing moves is closed.
    let kit = start(limits(30_000, 800, 64, 30_000)).await;
    let mut stream = connect(&kit).await;
    stream.write_all(b"GET /hea").await.unwrap();
    let waited = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await);
    assert!(waited.elapsed() >= Duration::from_millis(600));
}
