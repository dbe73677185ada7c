//! `zaitaku cert verify` and `zaitaku card ca-init`, run as a user runs them.

use crate::kit::output;
use std::process::Output;
use zaitaku_card::shared_data;

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn real_certificate_is_valid_in_2020() {
    let Some(data) = shared_data::folder("jpki", "cert::real_certificate_is_valid_in_2020") else {
        return;
    };
    let jpki = |file: &str| data.join(file).to_string_lossy().into_owned();
    let out = output(&[
        "cert",
        "verify",
        "--trust-anchor",
        &jpki("auth-root-2015.pem"),
        "--at",
        "2020-01-01T09:00:00+09:00",
        &jpki("real-auth-cert.pem"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["valid"], true);
    assert_eq!(v["certificate"]["serial"], "012D57CA");
    assert_eq!(v["certificate"]["subject_cn"], "840444E37PAFHN08220003A");
    assert_eq!(v["revocation"]["status"], "not_checked");
}

#[test]
fn real_certificate_is_expired_now_and_exit_code_is_1() {
    let Some(data) = shared_data::folder(
        "jpki",
        "cert::real_certificate_is_expired_now_and_exit_code_is_1",
    ) else {
        return;
    };
    let jpki = |file: &str| data.join(file).to_string_lossy().into_owned();
    let out = output(&[
        "cert",
        "verify",
        "--trust-anchor",
        &jpki("auth-root-2015.pem"),
        &jpki("real-auth-cert.der"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["code"], "certificate_expired");
    assert!(String::from_utf8_lossy(&out.stderr).contains("expired"));
}

#[test]
fn other_generation_root_is_untrusted() {
    let Some(data) = shared_data::folder("jpki", "cert::other_generation_root_is_untrusted") else {
        return;
    };
    let jpki = |file: &str| data.join(file).to_string_lossy().into_owned();
    let out = output(&[
        "cert",
        "verify",
        "--trust-anchor",
        &jpki("auth-root-2023.pem"),
        "--at",
        "2020-01-01T00:00:00Z",
        &jpki("real-auth-cert.pem"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "certificate_untrusted");
}

#[test]
fn usage_errors_exit_2_with_a_plain_message() {
    let Some(data) = shared_data::folder("jpki", "cert::usage_errors_exit_2_with_a_plain_message")
    else {
        return;
    };
    let jpki = |file: &str| data.join(file).to_string_lossy().into_owned();
    let cases: &[&[&str]] = &[
        &["cert", "verify", &jpki("real-auth-cert.pem")],
        &[
            "cert",
            "verify",
            "--trust-anchor",
            "/nonexistent.pem",
            &jpki("real-auth-cert.pem"),
        ],
        &[
            "cert",
            "verify",
            "--trust-anchor",
            &jpki("auth-root-2015.pem"),
            "--at",
            "yesterday",
            &jpki("real-auth-cert.pem"),
        ],
        &[
            "cert",
            "verify",
            "--trust-anchor",
            &jpki("real-auth-cert.pem"),
            &jpki("real-auth-cert.pem"),
        ],
        &[
            "cert",
            "verify",
            "--trust-anchor",
            &jpki("auth-root-2015.pem"),
            "--allow-policy",
            "not-an-oid",
            &jpki("real-auth-cert.pem"),
        ],
        &[
            "cert",
            "verify",
            "--trust-anchor",
            &jpki("auth-root-2015.pem"),
            "--crl",
            &jpki("README.md"),
            &jpki("real-auth-cert.pem"),
        ],
    ];
    for args in cases {
        let out = output(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} printed no message");
    }
}

#[test]
fn ca_init_creates_a_root_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let ca = ca.to_str().unwrap();
    let out = output(&["card", "ca-init", "--dir", ca]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = dir.path().join("ca/ca-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let root = std::fs::read(dir.path().join("ca/ca-cert.pem")).unwrap();
    assert!(root.starts_with(b"-----BEGIN CERTIFICATE-----"));
    let again = output(&["card", "ca-init", "--dir", ca]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
    assert_eq!(
        std::fs::read(dir.path().join("ca/ca-cert.pem")).unwrap(),
        root
    );
}

#[test]
fn a_file_that_is_not_a_certificate_is_invalid() {
    let Some(data) =
        shared_data::folder("jpki", "cert::a_file_that_is_not_a_certificate_is_invalid")
    else {
        return;
    };
    let jpki = |file: &str| data.join(file).to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.der");
    std::fs::write(&junk, b"\x30\x03\x02\x01\x01").unwrap();
    let out = output(&[
        "cert",
        "verify",
        "--trust-anchor",
        &jpki("auth-root-2015.pem"),
        junk.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["code"], "certificate_invalid_der");
    // A PEM file whose block is broken cannot be read at all: a usage error.
    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let out = output(&[
        "cert",
        "verify",
        "--trust-anchor",
        &jpki("auth-root-2015.pem"),
        broken.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}
