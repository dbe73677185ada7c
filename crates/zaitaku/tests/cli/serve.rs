//! `zaitaku serve` as an operator starts it: options, the data directory, and a
//! service that is not the demo.

use crate::kit::{Serve, test_ca, zaitaku};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[test]
fn serve_starts_on_a_fresh_data_directory_without_any_demo() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    let data = dir.path().join("data");
    let serve = Serve::start_with(
        &data,
        &[
            "--allow-policy",
            "zaitaku-test",
            "--trust-anchor",
            anchor.to_str().unwrap(),
        ],
    );
    let origin = serve.origin.clone();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let get = |path: &str| agent.get(format!("{origin}{path}")).call().unwrap();
    assert_eq!(get("/healthz").status(), 200);
    // No demo: no index of institutions, no demo card reader.
    assert_eq!(get("/").status(), 404);
    assert_eq!(get("/demo/reader/AAAAAAAAAAAAAAAAAAAAAA").status(), 404);
    assert_eq!(get(&format!("/i/{}", "A".repeat(43))).status(), 404);
    assert!(
        data.join("zaitaku.sqlite3").exists(),
        "database created on first start"
    );
}

#[test]
fn serve_refuses_unusable_settings_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    // No anchor given and none in the database: refused, and nothing created.
    let fresh = dir.path().join("fresh");
    let out = zaitaku()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&fresh)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no trust anchor")
            && stderr.contains("zaitaku admin trust add")
            && stderr.contains("--trust-anchor"),
        "{stderr}"
    );
    assert!(!fresh.exists(), "no data directory made");

    let out = zaitaku()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-origin",
            "http://zaitaku.example.jp",
        ])
        .arg("--trust-anchor")
        .arg(&anchor)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--public-origin"), "{stderr}");

    let out = zaitaku()
        .args(["serve", "--listen", "127.0.0.1:0", "--trust-anchor"])
        .arg(dir.path().join("missing.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pem"));
}

#[test]
fn plain_http_off_loopback_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    let data = dir.path().join("data");
    let serve = |listen: &str, extra: &[&str], env: Option<&str>| {
        let mut command = zaitaku();
        command
            .args([
                "serve",
                "--listen",
                listen,
                "--allow-policy",
                "zaitaku-test",
            ])
            .args(extra)
            .arg("--trust-anchor")
            .arg(&anchor)
            .arg("--data-dir")
            .arg(&data)
            .env_remove("ZAITAKU_ALLOW_PLAIN_HTTP")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(value) = env {
            command.env("ZAITAKU_ALLOW_PLAIN_HTTP", value);
        }
        command
    };
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let out = serve(listen, &[], None).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{listen}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("refusing to serve plain http")
                && stderr.contains("--public-origin https://")
                && stderr.contains("--allow-plain-http")
                && stderr.contains("ZAITAKU_ALLOW_PLAIN_HTTP"),
            "{stderr}"
        );
        assert!(!data.exists(), "nothing created when refused");
    }
    // Said deliberately (option or environment), or behind an https origin: it starts.
    for (extra, env) in [
        (&["--allow-plain-http"][..], None),
        (&[][..], Some("1")),
        (&["--public-origin", "https://zaitaku.example.jp"][..], None),
    ] {
        let mut child = serve("0.0.0.0:0", extra, env).spawn().unwrap();
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let started = lines
            .map(|l| l.unwrap())
            .any(|l| l.starts_with("Zaitaku is serving "));
        let _ = child.kill();
        let _ = child.wait();
        assert!(started, "{extra:?} {env:?}");
    }
    // Loopback needs nothing.
    let mut child = serve("127.0.0.1:0", &[], None).spawn().unwrap();
    let started = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map(|l| l.unwrap())
        .any(|l| l.starts_with("Zaitaku is serving "));
    let _ = child.kill();
    let _ = child.wait();
    assert!(started);
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_database_are_private_and_wider_modes_are_reported() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    // Missing parents too: the directory the operator names is created 0700.
    let data = dir.path().join("srv").join("data");
    let start = || {
        let mut child = zaitaku()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--allow-policy",
                "zaitaku-test",
            ])
            .arg("--trust-anchor")
            .arg(&anchor)
            .arg("--data-dir")
            .arg(&data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut before = Vec::new();
        for line in BufReader::new(child.stderr.take().unwrap()).lines() {
            let line = line.unwrap();
            if line.starts_with("Zaitaku is serving ") {
                break;
            }
            before.push(line);
        }
        (child, before)
    };
    let (mut child, said) = start();
    assert_eq!(mode(&data), 0o700, "data directory");
    let db = data.join("zaitaku.sqlite3");
    for file in [
        "zaitaku.sqlite3",
        "zaitaku.sqlite3-wal",
        "zaitaku.sqlite3-shm",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert!(
        !said.iter().any(|l| l.contains("open to other users")),
        "{said:?}"
    );
    let _ = child.kill();
    let _ = child.wait();

    // Widened by someone: reported at start, naming the path, and left alone.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (mut child, said) = start();
    let _ = child.kill();
    let _ = child.wait();
    for path in [&data, &db] {
        let shown = path.display().to_string();
        assert!(
            said.iter().any(|l| l.contains("WARN")
                && l.contains("open to other users")
                && l.contains(&shown)),
            "{shown}: {said:?}"
        );
    }
    assert_eq!(mode(&data), 0o755, "not changed without asking");
    assert_eq!(mode(&db), 0o644, "not changed without asking");
}

#[test]
fn the_header_timeout_is_a_setting() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    let out = zaitaku()
        .args(["serve", "--listen", "127.0.0.1:0", "--max-connections", "0"])
        .arg("--trust-anchor")
        .arg(&anchor)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "no connection at all is refused"
    );
    let mut command = zaitaku();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--allow-policy", "zaitaku-test"])
        .arg("--trust-anchor")
        .arg(&anchor)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("ZAITAKU_HEADER_TIMEOUT_SECS", "1");
    let serve = Serve::spawn(command);
    let origin = serve.origin.clone();
    let mut slow = std::net::TcpStream::connect(origin.trim_start_matches("http://")).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
        .unwrap();
    let mut buf = [0u8; 64];
    let read = slow.read(&mut buf);
    let after = started.elapsed();
    drop(serve);
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(5),
        "cut after {after:?}"
    );
}

#[test]
fn json_logs_are_one_object_per_line_with_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    let mut command = zaitaku();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--allow-policy", "zaitaku-test"])
        .arg("--trust-anchor")
        .arg(&anchor)
        .arg("--data-dir")
        .arg(dir.path().join("data"));
    // The operator's banner is not a log event: it stays plain text.
    let mut serve = Serve::spawn(command);
    let mut lines = serve.startup.clone();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let link = format!("{}/i/{}", serve.origin, "A".repeat(43));
    assert_eq!(agent.get(&link).call().unwrap().status(), 404);
    loop {
        let line = serve.next_line();
        lines.push(line.clone());
        if line.contains("request refused") {
            break;
        }
    }
    lines.extend(serve.stop());

    let mut events = Vec::new();
    for line in &lines {
        if line.starts_with("Zaitaku is serving ") {
            continue;
        }
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(event["timestamp"].is_string(), "{line}");
        assert!(event["level"].is_string(), "{line}");
        assert!(event["target"].is_string(), "{line}");
        assert!(event["fields"]["message"].is_string(), "{line}");
        events.push(event);
    }
    let loaded = events
        .iter()
        .find(|e| e["fields"]["message"] == "trust anchors and CRLs loaded")
        .expect("the start-up event");
    assert_eq!(loaded["level"], "INFO");
    assert_eq!(loaded["fields"]["anchors"], 1, "fields keep their types");
    let refused = events
        .iter()
        .find(|e| e["fields"]["message"] == "request refused")
        .expect("the request's event");
    assert_eq!(refused["fields"]["status"], 404);
    assert!(refused["fields"]["op_id"].is_string());
    assert!(
        !lines.iter().any(|l| l.contains(&"A".repeat(43))),
        "the link's token is not logged"
    );
}

#[test]
fn the_log_format_is_text_or_json() {
    let dir = tempfile::tempdir().unwrap();
    for (command, flag, env) in [
        ("serve", Some("xml"), None),
        ("serve", None, Some("yaml")),
        ("demo", Some("JSONL"), None),
    ] {
        let mut cmd = zaitaku();
        cmd.args([command, "--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(dir.path().join("data"));
        if let Some(value) = flag {
            cmd.args(["--log-format", value]);
        }
        if let Some(value) = env {
            cmd.env("ZAITAKU_LOG_FORMAT", value);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command} {flag:?} {env:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--log-format") && stderr.contains("text") && stderr.contains("json"),
            "{stderr}"
        );
        assert!(!dir.path().join("data").exists(), "nothing started");
    }
}

#[test]
fn the_limits_are_settings_and_a_trusted_proxy_names_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    for bad in [
        ["--trusted-proxy", "proxy.example.jp"],
        ["--trusted-proxy", "10.0.0.0/33"],
        ["--max-polls", "0"],
    ] {
        let out = zaitaku()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(bad)
            .arg("--trust-anchor")
            .arg(&anchor)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(bad[0]),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut command = zaitaku();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--allow-policy", "zaitaku-test"])
        .arg("--trust-anchor")
        .arg(&anchor)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("ZAITAKU_TOKEN_CHECKS_PER_MINUTE", "1")
        .env("ZAITAKU_TRUSTED_PROXIES", "10.9.0.0/16,127.0.0.1");
    let serve = Serve::spawn(command);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let token = |client: &str| {
        agent
            .post(format!("{}/auth/AAAAAAAAAAAAAAAAAAAAAA", serve.origin))
            .header("X-Forwarded-For", client)
            .header("Authorization", "Bearer x")
            .header("Content-Type", "application/json")
            .send("{}")
            .unwrap()
    };
    assert_eq!(token("198.51.100.1").status(), 404);
    let limited = token("198.51.100.1");
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    assert_eq!(token("198.51.100.2").status(), 404, "another client");
}

#[test]
fn a_claim_in_the_url_is_refused_and_the_request_log_keeps_no_path_or_query() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    let mut command = zaitaku();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--trust-anchor")
        .arg(&anchor)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        // Everything, every crate: nothing at any level may hold the claim.
        .env("RUST_LOG", "debug");
    let mut serve = Serve::spawn(command);
    let mut lines = serve.startup.clone();
    let origin = serve.origin.clone();
    let (reference, claim) = ("Zr3fOpaqueReference0123", "C1aimSecretOfTheAuthenticator");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{origin}/auth/{reference}?claim={claim}");
    let mut answers = vec![
        agent
            .get(&url)
            .header("Accept", "application/json")
            .call()
            .unwrap(),
        agent
            .post(&url)
            .header("Authorization", &format!("Bearer {claim}"))
            .header("Content-Type", "application/json")
            .send("{}")
            .unwrap(),
    ];
    for answer in &mut answers {
        assert_eq!(answer.status(), 400);
        let body: serde_json::Value =
            serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(body["error"], "claim_in_url", "{body}");
    }
    // The request log's line for each: the route's pattern and the status only.
    let mut logged = 0;
    while logged < 2 {
        let line = serve.next_line();
        if line.contains("/auth/{reference}") && line.contains("400") {
            logged += 1;
        }
        lines.push(line);
    }
    lines.extend(serve.stop());
    for secret in [reference, claim] {
        assert!(
            !lines.iter().any(|l| l.contains(secret)),
            "{secret} logged: {lines:#?}"
        );
    }
}
