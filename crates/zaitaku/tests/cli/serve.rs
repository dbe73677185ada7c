//! `zaitaku serve` as an operator starts it: options, the data directory, and a
//! service that is not the demo.

use crate::kit::{test_ca, zaitaku};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[test]
fn serve_starts_on_a_fresh_data_directory_without_any_demo() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    let data = dir.path().join("data");
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
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let origin = lines
        .by_ref()
        .map(|l| l.unwrap())
        .find_map(|l| {
            l.strip_prefix("Zaitaku is serving ")
                .map(|rest| rest.split(' ').next().unwrap().to_owned())
        })
        .expect("the serving line");
    std::thread::spawn(move || for _ in lines {});
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
    let _ = child.kill();
    let _ = child.wait();
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
