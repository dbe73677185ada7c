//! The card commands and `token verify`, run as the README's example session runs them.

use crate::kit::{output, stderr, zaitaku};
use std::path::{Path, PathBuf};
use std::process::Output;

const ORIGIN: &str = "https://zaitaku.example.jp";

struct Session {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    card: PathBuf,
    root: PathBuf,
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn session() -> Session {
    session_with(&[], &[])
}

/// A session whose `ca-init` and `card new` get `ca_args` and `card_args` (`--key …`).
fn session_with(ca_args: &[&str], card_args: &[&str]) -> Session {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let card = dir.path().join("taro.card");
    let mut args = vec!["card", "ca-init", "--dir", s(&ca)];
    args.extend_from_slice(ca_args);
    let out = output(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut args = vec![
        "card",
        "new",
        "--ca",
        s(&ca),
        "--pin",
        "1234",
        "--out",
        s(&card),
    ];
    args.extend_from_slice(card_args);
    let out = output(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("certificate CN:"));
    let root = ca.join("ca-cert.pem");
    Session {
        _dir: dir,
        ca,
        card,
        root,
    }
}

fn nonce() -> String {
    zaitaku_card::ChallengeNonce::generate()
        .unwrap()
        .as_str()
        .to_owned()
}

fn sign(card: &Path, pin: &str, nonce: &str) -> Output {
    output(&[
        "card",
        "sign",
        "--card",
        s(card),
        "--pin",
        pin,
        "--origin",
        ORIGIN,
        "--nonce",
        nonce,
    ])
}

/// `token verify` trusting the session's root and the test policy, before the token file.
fn verify_args<'a>(sess: &'a Session, origin: &'a str, nonce: &'a str) -> Vec<&'a str> {
    vec![
        "token",
        "verify",
        "--trust-anchor",
        s(&sess.root),
        "--allow-policy",
        "zaitaku-test",
        "--origin",
        origin,
        "--nonce",
        nonce,
    ]
}

fn verify(sess: &Session, token: &[u8], origin: &str, nonce: &str, extra: &[&str]) -> Output {
    let file = sess.ca.join("token.json");
    std::fs::write(&file, token).unwrap();
    let mut args = verify_args(sess, origin, nonce);
    args.extend_from_slice(extra);
    args.push(s(&file));
    output(&args)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn sign_then_verify_then_revoke() {
    let sess = session();
    let n = nonce();
    let signed = sign(&sess.card, "1234", &n);
    assert!(signed.status.success(), "{}", stderr(&signed));

    let ok = verify(&sess, &signed.stdout, ORIGIN, &n, &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let v = json(&ok);
    assert_eq!(v["valid"], true);
    assert_eq!(v["revocation"]["status"], "not_checked");

    let crl = sess.ca.join("crl.pem");
    let good = verify(
        &sess,
        &signed.stdout,
        ORIGIN,
        &n,
        &["--crl", s(&crl), "--require-revocation"],
    );
    assert_eq!(json(&good)["revocation"]["status"], "good");

    let other_site = verify(
        &sess,
        &signed.stdout,
        "https://elsewhere.example.com",
        &n,
        &[],
    );
    assert_eq!(other_site.status.code(), Some(1));
    assert_eq!(json(&other_site)["error"]["code"], "signature_invalid");

    let out = output(&[
        "card",
        "revoke",
        "--ca",
        s(&sess.ca),
        "--card",
        s(&sess.card),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let revoked = verify(&sess, &signed.stdout, ORIGIN, &n, &["--crl", s(&crl)]);
    assert_eq!(revoked.status.code(), Some(1));
    assert_eq!(json(&revoked)["error"]["code"], "certificate_revoked");
    assert!(stderr(&revoked).contains("revoked"));
}

#[test]
fn without_the_trust_anchor_the_token_is_untrusted() {
    let sess = session();
    let n = nonce();
    let signed = sign(&sess.card, "1234", &n);
    let other = tempfile::tempdir().unwrap();
    let other_ca = other.path().join("ca");
    assert!(
        output(&["card", "ca-init", "--dir", s(&other_ca)])
            .status
            .success()
    );
    let file = other.path().join("token.json");
    std::fs::write(&file, &signed.stdout).unwrap();
    let out = output(&[
        "token",
        "verify",
        "--trust-anchor",
        s(&other_ca.join("ca-cert.pem")),
        "--allow-policy",
        "zaitaku-test",
        "--origin",
        ORIGIN,
        "--nonce",
        &n,
        s(&file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "certificate_untrusted");
}

#[test]
fn wrong_pins_count_down_and_block_the_card() {
    let sess = session();
    let n = nonce();
    let first = sign(&sess.card, "9999", &n);
    assert_eq!(first.status.code(), Some(1));
    assert!(first.stdout.is_empty(), "no token on a wrong PIN");
    assert!(
        stderr(&first).contains("wrong PIN: 2 tries left"),
        "{}",
        stderr(&first)
    );

    // A right PIN resets the counter.
    assert!(sign(&sess.card, "1234", &n).status.success());
    let status = output(&["card", "status", "--card", s(&sess.card)]);
    assert!(String::from_utf8_lossy(&status.stdout).contains("3 tries left"));

    assert!(stderr(&sign(&sess.card, "9999", &n)).contains("2 tries left"));
    assert!(stderr(&sign(&sess.card, "9999", &n)).contains("1 try left"));
    let third = sign(&sess.card, "9999", &n);
    assert_eq!(third.status.code(), Some(1));
    assert!(stderr(&third).contains("blocked"), "{}", stderr(&third));

    let status = output(&["card", "status", "--card", s(&sess.card)]);
    assert!(status.status.success());
    assert!(String::from_utf8_lossy(&status.stdout).contains("blocked"));
    let right = sign(&sess.card, "1234", &n);
    assert_eq!(right.status.code(), Some(1));
    assert!(stderr(&right).contains("blocked"));
}

#[test]
fn bad_input_is_a_usage_error_with_a_clear_message() {
    let sess = session();
    let n = nonce();
    let card = s(&sess.card);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "card", "sign", "--card", card, "--pin", "12345", "--origin", ORIGIN, "--nonce", &n,
            ],
            "exactly 4 digits",
        ),
        (
            vec![
                "card",
                "sign",
                "--card",
                card,
                "--pin",
                "1234",
                "--origin",
                "https://x.jp/",
                "--nonce",
                &n,
            ],
            "invalid origin",
        ),
        (
            vec![
                "card", "sign", "--card", card, "--pin", "1234", "--origin", ORIGIN, "--nonce",
                "short",
            ],
            "--nonce",
        ),
        (
            vec![
                "card",
                "sign",
                "--card",
                "/nonexistent.card",
                "--pin",
                "1234",
                "--origin",
                ORIGIN,
                "--nonce",
                &n,
            ],
            "no virtual card",
        ),
        (
            vec![
                "card",
                "new",
                "--ca",
                s(&sess.ca),
                "--pin",
                "12a4",
                "--out",
                "/tmp/never.card",
            ],
            "digits",
        ),
        (
            vec![
                "card",
                "new",
                "--ca",
                s(&sess.ca),
                "--pin",
                "1234",
                "--out",
                card,
            ],
            "refusing to overwrite",
        ),
        (
            vec![
                "card",
                "new",
                "--ca",
                "/nonexistent-ca",
                "--pin",
                "1234",
                "--out",
                "/tmp/never2.card",
            ],
            "nonexistent-ca",
        ),
        (
            vec![
                "token",
                "verify",
                "--trust-anchor",
                s(&sess.root),
                "--origin",
                ORIGIN,
                "--nonce",
                &n,
                "/nonexistent.json",
            ],
            "cannot read",
        ),
    ];
    for (args, message) in cases {
        let out = output(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    // None of that spent a PIN try.
    let status = output(&["card", "status", "--card", card]);
    assert!(String::from_utf8_lossy(&status.stdout).contains("3 tries left"));
}

#[test]
fn token_verify_reads_standard_input_when_given_a_dash() {
    use std::io::Write;
    use std::process::Stdio;
    let sess = session();
    let n = nonce();
    let signed = sign(&sess.card, "1234", &n);
    let mut child = zaitaku()
        .args(verify_args(&sess, ORIGIN, &n))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&signed.stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["valid"], true);
}

/// Both generations from either kind of root: `ca-init --key` and `card new --key`.
#[test]
fn p384_and_rsa_cards_under_rsa_and_p384_roots_sign_verify_and_revoke() {
    for (ca_key, card_key, algorithm) in [
        ("p384", "p384", "ES384"),
        ("rsa2048", "p384", "ES384"),
        ("p384", "rsa2048", "RS256"),
    ] {
        let sess = session_with(&["--key", ca_key], &["--key", card_key]);
        let n = nonce();
        let signed = sign(&sess.card, "1234", &n);
        assert!(signed.status.success(), "{}", stderr(&signed));
        let token: serde_json::Value = serde_json::from_slice(&signed.stdout).unwrap();
        assert_eq!(
            token["algorithm"], algorithm,
            "{ca_key} root, {card_key} card"
        );

        let crl = sess.ca.join("crl.pem");
        let crl_args = ["--crl", s(&crl), "--require-revocation"];
        let good = verify(&sess, &signed.stdout, ORIGIN, &n, &crl_args);
        assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
        assert_eq!(json(&good)["revocation"]["status"], "good");

        let out = output(&[
            "card",
            "revoke",
            "--ca",
            s(&sess.ca),
            "--card",
            s(&sess.card),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let revoked = verify(&sess, &signed.stdout, ORIGIN, &n, &crl_args);
        assert_eq!(json(&revoked)["error"]["code"], "certificate_revoked");
    }
}

#[test]
fn a_p384_card_lasts_ten_years_unless_told_otherwise() {
    let year_of = |out: &Output| {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text
            .lines()
            .find(|l| l.contains("valid until:"))
            .unwrap_or_else(|| panic!("{text}"))
            .to_owned();
        line.split_whitespace().last().unwrap()[..4]
            .parse::<i32>()
            .unwrap()
    };
    let sess = session_with(&["--key", "p384"], &["--key", "p384"]);
    let status = output(&["card", "status", "--card", s(&sess.card)]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(String::from_utf8_lossy(&status.stdout).contains("signs tokens:   ES384"));
    let rsa = session();
    let rsa_status = output(&["card", "status", "--card", s(&rsa.card)]);
    assert_eq!(year_of(&status) - year_of(&rsa_status), 5);
}

#[test]
fn an_unknown_key_kind_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = output(&[
        "card",
        "ca-init",
        "--dir",
        s(&dir.path().join("ca")),
        "--key",
        "p256",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("rsa2048") && stderr(&out).contains("p384"),
        "{}",
        stderr(&out)
    );
}
