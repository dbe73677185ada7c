//! Property tests in place of a coverage fuzzer (cargo-fuzz needs a nightly toolchain,
//! which this project's machines do not have): arbitrary and mutated inputs never panic,
//! and no single-byte change to a good token's certificate is ever accepted.

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use std::sync::OnceLock;
use zaitaku_card::{ChallengeNonce, Origin, WebEidToken};

struct Fixture {
    cert: Vec<u8>,
    origin: Origin,
    nonce: ChallengeNonce,
    signature: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (origin, nonce) = (origin(), nonce());
        Fixture {
            cert: card_cert(|_| {}),
            signature: card_signature(&origin, &nonce),
            origin,
            nonce,
        }
    })
}

fn validate(json: &[u8]) -> bool {
    let f = fixture();
    validator()
        .validate_token(json, &f.origin, &f.nonce, now())
        .is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_or_pass(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(!validate(&bytes));
    }

    #[test]
    fn arbitrary_certificates_never_panic_or_pass(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(validator().validate_certificate(&bytes, now()).is_err());
        let f = fixture();
        let token = WebEidToken::new(zaitaku_card::TokenAlgorithm::Rs256, &bytes, &f.signature, "p");
        prop_assert!(!validate(token.to_json().as_bytes()));
    }

    #[test]
    fn any_changed_certificate_byte_is_refused(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let f = fixture();
        let mut cert = f.cert.clone();
        let i = index.index(cert.len());
        cert[i] ^= flip;
        let token = WebEidToken::new(zaitaku_card::TokenAlgorithm::Rs256, &cert, &f.signature, "p");
        prop_assert!(!validate(token.to_json().as_bytes()));
    }

    #[test]
    fn any_changed_json_byte_is_refused_or_harmless(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let f = fixture();
        let good = WebEidToken::new(zaitaku_card::TokenAlgorithm::Rs256, &f.cert, &f.signature, "p").to_json().into_bytes();
        let mut json = good.clone();
        let i = index.index(json.len());
        json[i] = byte;
        // A change may only pass if it left the decoded token the same (e.g. JSON escapes).
        if validate(&json) {
            let a: WebEidToken = serde_json::from_slice(&json).unwrap();
            let b: WebEidToken = serde_json::from_slice(&good).unwrap();
            prop_assert_eq!(STANDARD.decode(&a.signature).ok(), STANDARD.decode(&b.signature).ok());
            prop_assert_eq!(a.unverified_certificate, b.unverified_certificate);
        }
    }

    #[test]
    fn origins_parse_or_fail_cleanly(text in "\\PC{0,60}") {
        if let Ok(origin) = Origin::parse(&text) {
            prop_assert_eq!(Origin::parse(origin.as_str()).unwrap(), origin);
        }
    }

    #[test]
    fn nonces_parse_or_fail_cleanly(text in "\\PC{0,300}") {
        let _ = ChallengeNonce::parse(&text);
    }
}

#[test]
fn the_unmutated_fixture_passes() {
    let f = fixture();
    assert!(validate(
        WebEidToken::new(
            zaitaku_card::TokenAlgorithm::Rs256,
            &f.cert,
            &f.signature,
            "p"
        )
        .to_json()
        .as_bytes()
    ));
}

/// The next generation: a P-384 card certificate signed by a P-384 root (ECDSA) and
/// its ES384 signature.
fn ec_fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (origin, nonce) = (origin(), nonce());
        Fixture {
            cert: p384_card_cert(ca_with(zaitaku_card::keys::KeyKind::P384), |_| {}),
            signature: es384_signature(&origin, &nonce),
            origin,
            nonce,
        }
    })
}

fn ec_validator() -> &'static zaitaku_card::Validator {
    static V: OnceLock<zaitaku_card::Validator> = OnceLock::new();
    V.get_or_init(|| validator_trusting(&[ca_with(zaitaku_card::keys::KeyKind::P384)]))
}

fn ec_token(cert: &[u8], signature: &[u8]) -> Vec<u8> {
    WebEidToken::new(zaitaku_card::TokenAlgorithm::Es384, cert, signature, "p")
        .to_json()
        .into_bytes()
}

fn ec_validate(json: &[u8]) -> bool {
    let f = ec_fixture();
    ec_validator()
        .validate_token(json, &f.origin, &f.nonce, now())
        .is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_certificates_in_es384_tokens_never_panic_or_pass(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(ec_validator().validate_certificate(&bytes, now()).is_err());
        prop_assert!(!ec_validate(&ec_token(&bytes, &ec_fixture().signature)));
    }

    #[test]
    fn any_changed_ec_certificate_byte_is_refused(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let f = ec_fixture();
        let mut cert = f.cert.clone();
        let i = index.index(cert.len());
        cert[i] ^= flip;
        prop_assert!(!ec_validate(&ec_token(&cert, &f.signature)));
    }

    #[test]
    fn any_changed_es384_signature_byte_is_refused(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let f = ec_fixture();
        let mut signature = f.signature.clone();
        let i = index.index(signature.len());
        signature[i] ^= flip;
        prop_assert!(!ec_validate(&ec_token(&f.cert, &signature)));
    }

    #[test]
    fn arbitrary_es384_signatures_never_panic_or_pass(signature in proptest::collection::vec(any::<u8>(), 0..200)) {
        prop_assert!(!ec_validate(&ec_token(&ec_fixture().cert, &signature)));
    }

    #[test]
    fn any_changed_es384_json_byte_is_refused_or_harmless(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let f = ec_fixture();
        let good = ec_token(&f.cert, &f.signature);
        let mut json = good.clone();
        let i = index.index(json.len());
        json[i] = byte;
        if ec_validate(&json) {
            let a: WebEidToken = serde_json::from_slice(&json).unwrap();
            let b: WebEidToken = serde_json::from_slice(&good).unwrap();
            prop_assert_eq!(STANDARD.decode(&a.signature).ok(), STANDARD.decode(&b.signature).ok());
            prop_assert_eq!(a.unverified_certificate, b.unverified_certificate);
            prop_assert_eq!(a.algorithm, b.algorithm);
        }
    }
}

#[test]
fn the_unmutated_ec_fixture_passes() {
    let f = ec_fixture();
    assert!(ec_validate(&ec_token(&f.cert, &f.signature)));
}
