//! Both card generations side by side: ES384 tokens from P-384 cards, RSA and ECDSA
//! roots issuing either kind of card, the refusals (mismatched or unsupported
//! algorithms, SHA-1, unnatural curve/hash pairs), anchors that are not self-signed,
//! ten-year certificates, and the signature checked before any status is told.

use crate::common;

use crate::common::*;
use der::asn1::{AnyRef, BitStringRef};
use der::{Decode, Encode, Sequence};
use serde_json::Value;
use x509_cert::ext::pkix::KeyUsages;
use zaitaku_card::keys::{KeyKind, KeyPair};
use zaitaku_card::test_ca::TestCa;
use zaitaku_card::token::{TokenAlgorithm, WebEidToken};
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::signature::{SignatureError, verify_signed_der};
use zaitaku_card::validate::{RevocationPolicy, ValidCertificate, Validator};
use zaitaku_card::{ChallengeNonce, Origin};

const EMAIL_PROTECTION: zaitaku_card::oids::ObjectIdentifier =
    zaitaku_card::oids::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");

const KINDS: [KeyKind; 4] = [
    KeyKind::Rsa2048,
    KeyKind::P256,
    KeyKind::P384,
    KeyKind::P521,
];

fn check_at(
    validator: &Validator,
    token: &WebEidToken,
    o: &Origin,
    n: &ChallengeNonce,
    at: std::time::SystemTime,
) -> Result<ValidCertificate, &'static str> {
    validator
        .validate_token(token.to_json().as_bytes(), o, n, at)
        .map_err(|r| r.error.code())
}

fn check(
    validator: &Validator,
    token: &WebEidToken,
    o: &Origin,
    n: &ChallengeNonce,
) -> Result<ValidCertificate, &'static str> {
    check_at(validator, token, o, n, now())
}

/// `token` with its JSON field `field` set to `value`.
fn with_field(token: &WebEidToken, field: &str, value: &str) -> WebEidToken {
    let mut json: Value = serde_json::from_str(&token.to_json()).unwrap();
    json[field] = Value::String(value.to_owned());
    serde_json::from_value(json).unwrap()
}

#[test]
fn an_es384_token_from_a_p384_card_passes_under_a_root_of_every_kind() {
    for kind in KINDS {
        let ca = ca_with(kind);
        let (o, n) = (origin(), nonce());
        let token = es384_token_for(&p384_card_cert(ca, |_| {}), &o, &n);
        let valid = check(&validator_trusting(&[ca]), &token, &o, &n)
            .unwrap_or_else(|e| panic!("P-384 card under a {kind} root: {e}"));
        assert_eq!(
            valid.trust_anchor.subject,
            ca.certificate().tbs_certificate().subject().to_string()
        );
    }
}

#[test]
fn an_rs256_token_from_an_rsa_card_passes_under_a_root_of_every_kind() {
    for kind in KINDS {
        let ca = ca_with(kind);
        let (o, n) = (origin(), nonce());
        let cert = ca.issue(card_key().as_public_key(), &spec()).unwrap();
        let token = token_for(&cert, &o, &n);
        check(&validator_trusting(&[ca]), &token, &o, &n)
            .unwrap_or_else(|e| panic!("RSA card under a {kind} root: {e}"));
    }
}

#[test]
fn a_service_trusting_an_rsa_and_an_ec_root_accepts_cards_of_both() {
    let (rsa_root, ec_root) = (ca_with(KeyKind::Rsa2048), ca_with(KeyKind::P384));
    let both = validator_trusting(&[rsa_root, ec_root]);
    let (o, n) = (origin(), nonce());
    let today = token_for(
        &rsa_root.issue(card_key().as_public_key(), &spec()).unwrap(),
        &o,
        &n,
    );
    let next = es384_token_for(&p384_card_cert(ec_root, |_| {}), &o, &n);
    assert!(check(&both, &today, &o, &n).is_ok());
    assert!(check(&both, &next, &o, &n).is_ok());
    // Each root alone accepts only its own cards.
    assert_eq!(
        check(&validator_trusting(&[rsa_root]), &next, &o, &n).unwrap_err(),
        "certificate_untrusted"
    );
    assert_eq!(
        check(&validator_trusting(&[ec_root]), &today, &o, &n).unwrap_err(),
        "certificate_untrusted"
    );
}

#[test]
fn an_es384_token_fails_for_another_origin_nonce_or_a_tampered_signature() {
    let ca = ca_with(KeyKind::P384);
    let v = validator_trusting(&[ca]);
    let (o, n) = (origin(), nonce());
    let token = es384_token_for(&p384_card_cert(ca, |_| {}), &o, &n);
    let elsewhere = Origin::parse("https://zaitaku.example.com").unwrap();
    assert_eq!(
        check(&v, &token, &elsewhere, &n).unwrap_err(),
        "signature_invalid"
    );
    assert_eq!(
        check(&v, &token, &o, &nonce()).unwrap_err(),
        "signature_invalid"
    );

    let mut signature = es384_signature(&o, &n);
    signature[10] ^= 0x01;
    let tampered = WebEidToken::new(
        TokenAlgorithm::Es384,
        &p384_card_cert(ca, |_| {}),
        &signature,
        "t",
    );
    assert_eq!(
        check(&v, &tampered, &o, &n).unwrap_err(),
        "signature_invalid"
    );
    // DER instead of r ‖ s, or a cut signature, is the wrong length.
    let truncated = WebEidToken::new(
        TokenAlgorithm::Es384,
        &p384_card_cert(ca, |_| {}),
        &signature[..95],
        "t",
    );
    assert_eq!(
        check(&v, &truncated, &o, &n).unwrap_err(),
        "signature_invalid_length"
    );
}

#[test]
fn the_token_algorithm_must_be_the_one_the_certificate_key_makes() {
    let ca = ca_with(KeyKind::P384);
    let v = validator_trusting(&[ca]);
    let (o, n) = (origin(), nonce());
    // An RS256 token from an EC certificate.
    let ec_token = es384_token_for(&p384_card_cert(ca, |_| {}), &o, &n);
    assert_eq!(
        check(&v, &with_field(&ec_token, "algorithm", "RS256"), &o, &n).unwrap_err(),
        "token_algorithm_mismatch"
    );
    // An ES384 token from an RSA certificate.
    let rsa_token = token_for(
        &ca.issue(card_key().as_public_key(), &spec()).unwrap(),
        &o,
        &n,
    );
    assert_eq!(
        check(&v, &with_field(&rsa_token, "algorithm", "ES384"), &o, &n).unwrap_err(),
        "token_algorithm_mismatch"
    );
}

#[test]
fn algorithms_no_my_number_card_makes_are_unsupported() {
    let (o, n) = (origin(), nonce());
    let token = token_for(&card_cert(|_| {}), &o, &n);
    for algorithm in [
        "ES256", "ES512", "PS256", "PS384", "PS512", "RS384", "RS512", "RS1", "HS256", "none",
        "rs256", "",
    ] {
        assert_eq!(
            check(
                &validator(),
                &with_field(&token, "algorithm", algorithm),
                &o,
                &n
            )
            .unwrap_err(),
            "token_unsupported_algorithm",
            "{algorithm:?}"
        );
    }
}

#[test]
fn a_card_key_other_than_rsa_or_p384_is_refused() {
    for kind in [KeyKind::P256, KeyKind::P521] {
        let ca = ca_with(KeyKind::P384);
        let key = KeyPair::generate(kind).unwrap();
        let cert = ca.issue(&key, &spec()).unwrap();
        let (o, n) = (origin(), nonce());
        // Whatever it claims, a signature of the right length cannot make it a card.
        let token = WebEidToken::new(TokenAlgorithm::Es384, &cert, &[0x01; 96], "t");
        assert_eq!(
            check(&validator_trusting(&[ca]), &token, &o, &n).unwrap_err(),
            "certificate_unsupported_key",
            "{kind}"
        );
        assert_eq!(
            validator_trusting(&[ca])
                .validate_certificate(&cert, now())
                .map(|_| ())
                .map_err(|r| r.error.code()),
            Ok(()),
            "the certificate alone has a valid path; only a token needs a card key"
        );
    }
}

#[test]
fn an_ec_card_keeps_the_profile_rules() {
    let ca = ca_with(KeyKind::P384);
    let v = validator_trusting(&[ca]);
    let (o, n) = (origin(), nonce());
    let code = |edit: fn(&mut zaitaku_card::test_ca::LeafSpec)| {
        let token = es384_token_for(&p384_card_cert(ca, edit), &o, &n);
        check(&v, &token, &o, &n).map(|_| ())
    };
    assert_eq!(
        code(|s| s.key_usage = vec![KeyUsages::DigitalSignature, KeyUsages::KeyCertSign]),
        Err("certificate_is_ca")
    );
    assert_eq!(
        code(|s| s.key_usage = vec![KeyUsages::DigitalSignature, KeyUsages::CRLSign]),
        Err("certificate_is_ca")
    );
    assert_eq!(
        code(|s| s.key_usage = vec![KeyUsages::KeyAgreement]),
        Err("certificate_wrong_key_usage")
    );
    // Other bits beside digitalSignature are tolerated (Estonian cards add keyAgreement).
    assert_eq!(
        code(|s| s.key_usage = vec![KeyUsages::DigitalSignature, KeyUsages::KeyAgreement]),
        Ok(())
    );
    assert_eq!(
        code(|s| s.extended_key_usage = Some(vec![EMAIL_PROTECTION])),
        Err("certificate_missing_client_auth")
    );
    assert_eq!(
        code(|s| s.policies = vec![zaitaku_card::oids::JPKI_SIGN_POLICY]),
        Err("certificate_policy_not_allowed")
    );
}

#[test]
fn ten_year_certificates_pass_through_their_whole_life() {
    let day = days(1);
    for (kind, cert_of) in [(KeyKind::Rsa2048, false), (KeyKind::P384, true)] {
        let ca = ca_with(kind);
        let (o, n) = (origin(), nonce());
        let edit = |s: &mut zaitaku_card::test_ca::LeafSpec| {
            s.not_after = s.not_before + day * 3652;
        };
        let token = if cert_of {
            es384_token_for(&p384_card_cert(ca, edit), &o, &n)
        } else {
            let mut s = spec();
            edit(&mut s);
            token_for(&ca.issue(card_key().as_public_key(), &s).unwrap(), &o, &n)
        };
        let v = validator_trusting(&[ca]);
        for years in [0, 5, 6, 9] {
            let at = now() + day * (365 * years + 1);
            check_at(&v, &token, &o, &n, at)
                .unwrap_or_else(|e| panic!("{kind} card in year {years}: {e}"));
        }
        assert_eq!(
            check_at(&v, &token, &o, &n, now() + day * 3653).unwrap_err(),
            "certificate_expired"
        );
    }
}

#[test]
fn an_intermediate_ca_may_be_the_trust_anchor() {
    for (root_kind, sub_kind) in [
        (KeyKind::Rsa2048, KeyKind::P384),
        (KeyKind::P521, KeyKind::Rsa2048),
    ] {
        let root = ca_with(root_kind);
        let intermediate = root
            .generate_subordinate("CN=Zaitaku Issuing CA,O=Zaitaku,C=JP", sub_kind)
            .unwrap();
        assert_ne!(
            intermediate.certificate().tbs_certificate().issuer(),
            intermediate.certificate().tbs_certificate().subject(),
            "not self-signed"
        );
        let (o, n) = (origin(), nonce());
        let token = es384_token_for(&p384_card_cert(&intermediate, |_| {}), &o, &n);
        let valid = check(&validator_trusting(&[&intermediate]), &token, &o, &n)
            .unwrap_or_else(|e| panic!("{root_kind} root, {sub_kind} intermediate: {e}"));
        assert_eq!(
            valid.trust_anchor.subject,
            "CN=Zaitaku Issuing CA,O=Zaitaku,C=JP"
        );
        // Trusting only the root does not build a path through an intermediate we were not given.
        assert_eq!(
            check(&validator_trusting(&[root]), &token, &o, &n).unwrap_err(),
            "certificate_untrusted"
        );
    }
}

/// The signature and path come first: a token nobody could sign learns nothing of the
/// certificate's status.
#[test]
fn a_bad_signature_is_told_before_any_status_of_the_certificate() {
    let ca = ca_with(KeyKind::P384);
    let (o, n) = (origin(), nonce());
    let expired = p384_card_cert(ca, |s| {
        s.not_before = now() - days(400);
        s.not_after = now() - days(30);
    });
    let not_yet = p384_card_cert(ca, |s| s.not_before = now() + days(30));
    let bad_policy = p384_card_cert(ca, |s| {
        s.policies = vec![zaitaku_card::oids::JPKI_SIGN_POLICY]
    });
    let revoked = p384_card_cert(ca, |_| {});
    let serial = zaitaku_card::test_ca::serial_of(&revoked).unwrap();
    let crl = ca
        .issue_crl(
            &[(serial, now() - days(1))],
            now() - days(1),
            now() + days(7),
        )
        .unwrap();
    let mut config = common::config();
    config.trust_anchors = vec![anchor(ca)];
    config.crls = vec![Crl::load(&crl).unwrap()];
    config.revocation = RevocationPolicy::Required;
    let v = Validator::new(config);
    let forged = |cert: &[u8]| {
        let mut signature = es384_signature(&o, &n);
        signature[0] ^= 0x80;
        WebEidToken::new(TokenAlgorithm::Es384, cert, &signature, "t")
    };
    // With a good signature each says what it is…
    for (cert, code) in [
        (&expired, "certificate_expired"),
        (&not_yet, "certificate_not_yet_valid"),
        (&bad_policy, "certificate_policy_not_allowed"),
        (&revoked, "certificate_revoked"),
    ] {
        assert_eq!(
            check(&v, &es384_token_for(cert, &o, &n), &o, &n).unwrap_err(),
            code
        );
        // …without one, only that the signature is bad.
        assert_eq!(
            check(&v, &forged(cert), &o, &n).unwrap_err(),
            "signature_invalid",
            "{code}"
        );
    }
    // The same for today's cards, and for a root nobody trusts.
    let rsa_expired = card_cert(|s| {
        s.not_before = now() - days(400);
        s.not_after = now() - days(30);
    });
    let mut signature = card_signature(&o, &n);
    signature[5] ^= 0x01;
    let forged_rsa = WebEidToken::new(TokenAlgorithm::Rs256, &rsa_expired, &signature, "t");
    assert_eq!(
        check(&validator(), &forged_rsa, &o, &n).unwrap_err(),
        "signature_invalid"
    );
    assert_eq!(
        check(&validator(), &token_for(&rsa_expired, &o, &n), &o, &n).unwrap_err(),
        "certificate_expired"
    );
    assert_eq!(
        check(
            &validator_trusting(&[ca_with(KeyKind::P256)]),
            &forged(&expired),
            &o,
            &n
        )
        .unwrap_err(),
        "signature_invalid"
    );
}

#[test]
fn crls_signed_by_ec_roots_revoke_their_cards() {
    for kind in [KeyKind::P256, KeyKind::P384, KeyKind::P521] {
        let ca = ca_with(kind);
        let cert = p384_card_cert(ca, |_| {});
        let serial = zaitaku_card::test_ca::serial_of(&cert).unwrap();
        let crl = ca
            .issue_crl(
                &[(serial, now() - days(1))],
                now() - days(1),
                now() + days(7),
            )
            .unwrap();
        assert!(anchor(ca).signed(&crl), "{kind}");
        let mut config = common::config();
        config.trust_anchors = vec![anchor(ca)];
        config.crls = vec![Crl::load(&crl).unwrap()];
        let (o, n) = (origin(), nonce());
        assert_eq!(
            check(
                &Validator::new(config),
                &es384_token_for(&cert, &o, &n),
                &o,
                &n
            )
            .unwrap_err(),
            "certificate_revoked",
            "{kind}"
        );
    }
}

/// Any signed X.509 object, re-assembled after its to-be-signed part was changed.
#[derive(Sequence)]
struct Signed<'a> {
    tbs: AnyRef<'a>,
    algorithm: AnyRef<'a>,
    signature: BitStringRef<'a>,
}

/// `der` with every `from` replaced by `to` (same length), then signed again by
/// `ca`'s RSA key over SHA-1, as an old CA would: `prefix` is SHA-1's DigestInfo.
fn resigned_rsa(der: &[u8], from: &[u8], to: &[u8], ca: &TestCa, prefix: &[u8]) -> Vec<u8> {
    let mut bytes = der.to_vec();
    let mut i = 0;
    while let Some(at) = bytes[i..].windows(from.len()).position(|w| w == from) {
        bytes[i + at..i + at + from.len()].copy_from_slice(to);
        i += at + from.len();
    }
    let object = Signed::from_der(&bytes).unwrap();
    let tbs = object.tbs.to_der().unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &tbs);
    let KeyPair::Rsa(key) = ca.key() else {
        unreachable!()
    };
    let digest_info = [prefix, digest.as_ref()].concat();
    let signature = key
        .sign(rsa::Pkcs1v15Sign::new_unprefixed(), &digest_info)
        .unwrap();
    Signed {
        tbs: object.tbs,
        algorithm: object.algorithm,
        signature: BitStringRef::from_bytes(&signature).unwrap(),
    }
    .to_der()
    .unwrap()
}

const SHA256_WITH_RSA_OID: [u8; 11] = [
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B,
];
const SHA1_WITH_RSA_OID: [u8; 11] = [
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x05,
];
const SHA1_DIGEST_INFO_PREFIX: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00, 0x04, 0x14,
];

fn sha1_signed(der: &[u8]) -> Vec<u8> {
    resigned_rsa(
        der,
        &SHA256_WITH_RSA_OID,
        &SHA1_WITH_RSA_OID,
        ca_with(KeyKind::Rsa2048),
        &SHA1_DIGEST_INFO_PREFIX,
    )
}

#[test]
fn sha1_signed_certificates_and_crls_are_refused() {
    let ca = ca_with(KeyKind::Rsa2048);
    let cert = ca.issue(card_key().as_public_key(), &spec()).unwrap();
    let sha1_cert = sha1_signed(&cert);
    let issuer = ca.certificate().tbs_certificate().subject_public_key_info();
    // A genuine SHA-1 signature by the right key, refused for its algorithm.
    assert!(matches!(
        verify_signed_der(&sha1_cert, issuer),
        Err(SignatureError::UnsupportedAlgorithm(oid)) if oid == "1.2.840.113549.1.1.5"
    ));
    let (o, n) = (origin(), nonce());
    assert_eq!(
        check(
            &validator_trusting(&[ca]),
            &token_for(&sha1_cert, &o, &n),
            &o,
            &n
        )
        .unwrap_err(),
        "certificate_untrusted"
    );
    assert!(
        check(
            &validator_trusting(&[ca]),
            &token_for(&cert, &o, &n),
            &o,
            &n
        )
        .is_ok()
    );

    let crl = ca.issue_crl(&[], now() - days(1), now() + days(7)).unwrap();
    let sha1_crl = sha1_signed(&crl);
    assert!(anchor(ca).signed(&crl));
    assert!(!anchor(ca).signed(&sha1_crl));
    assert!(matches!(
        verify_signed_der(&sha1_crl, issuer),
        Err(SignatureError::UnsupportedAlgorithm(_))
    ));
}
