//! A root, card certificate and signature made by OpenSSL, not by our code: the
//! validator must understand any correct card, not only its own output.

use std::path::Path;
use std::process::Command;
use zaitaku_card::token::{WebEidToken, signed_value};
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::validate::{Validator, ValidatorConfig};
use zaitaku_card::{ChallengeNonce, Origin, oids};

/// Run one openssl command line (arguments split on spaces) in `dir`.
fn openssl(dir: &Path, command: &str) {
    let args: Vec<&str> = command.split(' ').collect();
    let out = Command::new("openssl")
        .args(&args)
        .current_dir(dir)
        .output()
        .expect("the openssl command is needed for this test");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const EXTENSIONS: &str = "\
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[card]
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
certificatePolicies = critical, 1.3.6.1.4.1.32473.1.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

#[test]
fn a_card_made_by_openssl_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ext.cnf"), EXTENSIONS).unwrap();
    openssl(
        d,
        "genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out root.key",
    );
    openssl(
        d,
        "req -new -key root.key -subj /C=JP/O=Elsewhere/CN=Foreign-Root -out root.csr -config /dev/null",
    );
    openssl(
        d,
        "x509 -req -in root.csr -key root.key -days 30 -sha256 -extfile ext.cnf -extensions root -out root.pem",
    );
    openssl(
        d,
        "req -new -newkey rsa:2048 -nodes -keyout card.key -out card.csr -subj /C=JP/CN=0123456789ABCDEFGHIJKLM -config /dev/null",
    );
    openssl(
        d,
        "x509 -req -in card.csr -CA root.pem -CAkey root.key -CAcreateserial -days 10 -sha256 -extfile ext.cnf -extensions card -outform DER -out card.der",
    );

    let origin = Origin::parse("https://zaitaku.example.jp").unwrap();
    let nonce = ChallengeNonce::generate().unwrap();
    std::fs::write(d.join("signed-value.bin"), signed_value(&origin, &nonce)).unwrap();
    openssl(
        d,
        "dgst -sha256 -sign card.key -out signature.bin signed-value.bin",
    );

    let card = std::fs::read(d.join("card.der")).unwrap();
    let token = WebEidToken::new(
        zaitaku_card::TokenAlgorithm::Rs256,
        &card,
        &std::fs::read(d.join("signature.bin")).unwrap(),
        "openssl",
    );
    let mut config = ValidatorConfig::new(
        TrustAnchor::load_all(&std::fs::read(d.join("root.pem")).unwrap()).unwrap(),
    );
    config.allowed_policies.push(oids::ZAITAKU_TEST_CARD_POLICY);
    let validator = Validator::new(config);
    let now = std::time::SystemTime::now();
    let valid = validator
        .validate_token(token.to_json().as_bytes(), &origin, &nonce, now)
        .unwrap();
    assert_eq!(
        valid.certificate.subject_cn.as_deref(),
        Some("0123456789ABCDEFGHIJKLM")
    );

    // And the same signature does not pass for another nonce.
    let other = ChallengeNonce::generate().unwrap();
    let err = validator
        .validate_token(token.to_json().as_bytes(), &origin, &other, now)
        .unwrap_err();
    assert_eq!(err.error.code(), "signature_invalid");
}
