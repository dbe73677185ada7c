//! Every step of the token validator, each failure with its own test.

use crate::common::*;
use der::asn1::OctetString;
use serde_json::{Value, json};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::KeyUsages;
use zaitaku_card::oids;
use zaitaku_card::validate::crl::{Crl, RevocationStatus};
use zaitaku_card::validate::{RevocationPolicy, ValidCertificate, Validator};
use zaitaku_card::{ChallengeNonce, Origin};

fn check(
    validator: &Validator,
    token_json: &[u8],
    o: &Origin,
    n: &ChallengeNonce,
) -> Result<ValidCertificate, &'static str> {
    validator
        .validate_token(token_json, o, n, now())
        .map_err(|r| r.error.code())
}

/// `token` checked by `validator()` now.
fn verdict(
    token: &zaitaku_card::WebEidToken,
    o: &Origin,
    n: &ChallengeNonce,
) -> Result<ValidCertificate, &'static str> {
    check(&validator(), token.to_json().as_bytes(), o, n)
}

/// A token from a JPKI-profile card certificate with `edit` applied, checked by `validator()`.
fn code_for(
    edit: impl FnOnce(&mut zaitaku_card::test_ca::LeafSpec),
) -> Result<ValidCertificate, &'static str> {
    let (o, n) = (origin(), nonce());
    let token = token_for(&card_cert(edit), &o, &n);
    verdict(&token, &o, &n)
}

fn good_token() -> (Vec<u8>, Origin, ChallengeNonce) {
    let (o, n) = (origin(), nonce());
    (
        token_for(&card_cert(|_| {}), &o, &n).to_json().into_bytes(),
        o,
        n,
    )
}

#[test]
fn a_good_token_passes_and_names_the_certificate() {
    let cert = card_cert(|s| s.subject_cn = "840444E37PAFHN08220003A".into());
    let (o, n) = (origin(), nonce());
    let token = token_for(&cert, &o, &n);
    let valid = verdict(&token, &o, &n).unwrap();
    assert_eq!(
        valid.certificate.subject_cn.as_deref(),
        Some("840444E37PAFHN08220003A")
    );
    assert_eq!(
        valid.certificate.issuer,
        ca().certificate().tbs_certificate().subject().to_string()
    );
    let serial = zaitaku_card::test_ca::serial_of(&cert).unwrap();
    assert_eq!(
        valid.certificate.serial,
        zaitaku_card::validate::summary::serial_hex(&serial)
    );
    assert_eq!(valid.policy, oids::ZAITAKU_TEST_CARD_POLICY.to_string());
    assert!(matches!(
        valid.revocation,
        RevocationStatus::NotChecked { .. }
    ));
}

#[test]
fn wrong_origin_fails_the_signature() {
    let (token, _, n) = good_token();
    let elsewhere = Origin::parse("https://phishing.example.com").unwrap();
    assert_eq!(
        check(&validator(), &token, &elsewhere, &n).unwrap_err(),
        "signature_invalid"
    );
}

#[test]
fn another_nonce_fails_the_signature() {
    let (token, o, _) = good_token();
    assert_eq!(
        check(&validator(), &token, &o, &nonce()).unwrap_err(),
        "signature_invalid"
    );
}

#[test]
fn tampered_signature_fails() {
    let (o, n) = (origin(), nonce());
    let mut sig = card_signature(&o, &n);
    sig[100] ^= 0x01;
    let token = zaitaku_card::WebEidToken::new(
        zaitaku_card::TokenAlgorithm::Rs256,
        &card_cert(|_| {}),
        &sig,
        "t",
    );
    assert_eq!(verdict(&token, &o, &n).unwrap_err(), "signature_invalid");
}

#[test]
fn truncated_signature_fails() {
    let (o, n) = (origin(), nonce());
    let sig = card_signature(&o, &n);
    let token = zaitaku_card::WebEidToken::new(
        zaitaku_card::TokenAlgorithm::Rs256,
        &card_cert(|_| {}),
        &sig[..255],
        "t",
    );
    assert_eq!(
        verdict(&token, &o, &n).unwrap_err(),
        "signature_invalid_length"
    );
}

#[test]
fn signature_over_a_bare_nonce_is_refused() {
    // A key signs whatever it is sent; a signature without the origin binding must not pass.
    use rsa::Pkcs1v15Sign;
    use sha2::{Digest, Sha256};
    let (o, n) = (origin(), nonce());
    let bare: [u8; 32] = Sha256::digest(n.as_str().as_bytes()).into();
    let sig = card_key()
        .sign(Pkcs1v15Sign::new::<Sha256>(), &bare)
        .unwrap();
    let token = zaitaku_card::WebEidToken::new(
        zaitaku_card::TokenAlgorithm::Rs256,
        &card_cert(|_| {}),
        &sig,
        "t",
    );
    assert_eq!(verdict(&token, &o, &n).unwrap_err(), "signature_invalid");
}

#[test]
fn expired_certificate_fails() {
    let (o, n) = (origin(), nonce());
    let token = token_for(&card_cert(|_| {}), &o, &n);
    let later = now() + days(400);
    let err = validator()
        .validate_token(token.to_json().as_bytes(), &o, &n, later)
        .unwrap_err();
    assert_eq!(err.error.code(), "certificate_expired");
    assert!(
        err.certificate.is_some(),
        "the rejection names the certificate"
    );
}

#[test]
fn not_yet_valid_certificate_fails() {
    let result = code_for(|s| {
        s.not_before = now() + days(1);
        s.not_after = now() + days(10);
    });
    assert_eq!(result.unwrap_err(), "certificate_not_yet_valid");
}

#[test]
fn untrusted_root_fails_even_with_the_same_name() {
    let (o, n) = (origin(), nonce());
    let cert = other_generation_ca()
        .issue(card_key().as_public_key(), &spec())
        .unwrap();
    let token = token_for(&cert, &o, &n);
    assert_eq!(
        verdict(&token, &o, &n).unwrap_err(),
        "certificate_untrusted"
    );
}

#[test]
fn several_generations_of_one_name_are_told_apart_by_key() {
    let (o, n) = (origin(), nonce());
    let cert = other_generation_ca()
        .issue(card_key().as_public_key(), &spec())
        .unwrap();
    let mut config = config();
    config.trust_anchors.push(anchor(other_generation_ca()));
    let valid = check(
        &Validator::new(config),
        token_for(&cert, &o, &n).to_json().as_bytes(),
        &o,
        &n,
    )
    .unwrap();
    let second = anchor(other_generation_ca()).summary();
    assert_eq!(valid.trust_anchor, second);
    assert_ne!(valid.trust_anchor, anchor(ca()).summary());
}

#[test]
fn wrong_key_usage_fails() {
    assert_eq!(
        code_for(|s| s.key_usage = vec![KeyUsages::KeyEncipherment]).unwrap_err(),
        "certificate_wrong_key_usage"
    );
}

#[test]
fn missing_key_usage_fails() {
    assert_eq!(
        code_for(|s| s.key_usage.clear()).unwrap_err(),
        "certificate_missing_key_usage"
    );
}

#[test]
fn missing_client_auth_fails() {
    let email_protection = const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
    assert_eq!(
        code_for(|s| s.extended_key_usage = Some(vec![email_protection])).unwrap_err(),
        "certificate_missing_client_auth"
    );
}

#[test]
fn absent_extended_key_usage_is_allowed() {
    assert!(code_for(|s| s.extended_key_usage = None).is_ok());
}

#[test]
fn signing_certificate_with_non_repudiation_fails() {
    assert_eq!(
        code_for(|s| s.key_usage = vec![KeyUsages::NonRepudiation]).unwrap_err(),
        "certificate_is_signing_certificate"
    );
    assert_eq!(
        code_for(|s| s.key_usage = vec![KeyUsages::DigitalSignature, KeyUsages::NonRepudiation])
            .unwrap_err(),
        "certificate_is_signing_certificate"
    );
}

#[test]
fn signing_policy_fails() {
    assert_eq!(
        code_for(|s| s.policies = vec![oids::JPKI_SIGN_POLICY]).unwrap_err(),
        "certificate_policy_not_allowed"
    );
}

#[test]
fn missing_policy_fails() {
    assert_eq!(
        code_for(|s| s.policies.clear()).unwrap_err(),
        "certificate_policy_not_allowed"
    );
}

#[test]
fn test_policy_is_refused_unless_configured() {
    let (o, n) = (origin(), nonce());
    let token = token_for(&card_cert(|_| {}), &o, &n);
    let jpki_only = Validator::new(zaitaku_card::ValidatorConfig::new(vec![anchor(ca())]));
    assert_eq!(
        check(&jpki_only, token.to_json().as_bytes(), &o, &n).unwrap_err(),
        "certificate_policy_not_allowed"
    );
}

#[test]
fn ca_certificate_is_not_a_card() {
    assert_eq!(
        code_for(|s| s.key_usage = vec![KeyUsages::DigitalSignature, KeyUsages::KeyCertSign])
            .unwrap_err(),
        "certificate_is_ca"
    );
}

#[test]
fn unknown_critical_extension_fails() {
    let unknown = Extension {
        extn_id: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.9.9"),
        critical: true,
        extn_value: OctetString::new(vec![0x05, 0x00]).unwrap(),
    };
    assert_eq!(
        code_for(|s| s.extra_extensions.push(unknown)).unwrap_err(),
        "certificate_unknown_critical_extension"
    );
}

#[test]
fn unknown_non_critical_extension_is_ignored() {
    let unknown = Extension {
        extn_id: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.9.9"),
        critical: false,
        extn_value: OctetString::new(vec![0x05, 0x00]).unwrap(),
    };
    assert!(code_for(|s| s.extra_extensions.push(unknown)).is_ok());
}

#[test]
fn duplicate_extension_is_malformed() {
    let mut spec = spec();
    let dup = Extension {
        extn_id: oids::ext::EXTENDED_KEY_USAGE,
        critical: false,
        extn_value: OctetString::new(
            der::Encode::to_der(&x509_cert::ext::pkix::ExtendedKeyUsage(vec![
                oids::EKU_CLIENT_AUTH,
            ]))
            .unwrap(),
        )
        .unwrap(),
    };
    spec.extra_extensions.push(dup);
    let cert = ca().issue(card_key().as_public_key(), &spec).unwrap();
    let (o, n) = (origin(), nonce());
    assert_eq!(
        check(
            &validator(),
            token_for(&cert, &o, &n).to_json().as_bytes(),
            &o,
            &n
        )
        .unwrap_err(),
        "certificate_malformed_extension"
    );
}

fn with_crls(crls: Vec<Vec<u8>>, policy: RevocationPolicy) -> Validator {
    let mut config = config();
    config.crls = crls.iter().map(|c| Crl::load(c).unwrap()).collect();
    config.revocation = policy;
    Validator::new(config)
}

fn cert_and_serial() -> (Vec<u8>, Vec<u8>) {
    let cert = card_cert(|_| {});
    let serial = zaitaku_card::test_ca::serial_of(&cert).unwrap();
    (cert, serial)
}

#[test]
fn revoked_by_crl_fails() {
    let (cert, serial) = cert_and_serial();
    let crl = ca()
        .issue_crl(
            &[(serial, now() - days(1))],
            now() - days(1),
            now() + days(7),
        )
        .unwrap();
    let (o, n) = (origin(), nonce());
    let v = with_crls(vec![crl], RevocationPolicy::AllowNotChecked);
    assert_eq!(
        check(&v, token_for(&cert, &o, &n).to_json().as_bytes(), &o, &n).unwrap_err(),
        "certificate_revoked"
    );
}

#[test]
fn a_current_crl_without_the_serial_says_good() {
    let (cert, _) = cert_and_serial();
    let crl = ca()
        .issue_crl(
            &[(vec![0x01, 0x02], now())],
            now() - days(1),
            now() + days(7),
        )
        .unwrap();
    let (o, n) = (origin(), nonce());
    let v = with_crls(vec![crl], RevocationPolicy::Required);
    let valid = check(&v, token_for(&cert, &o, &n).to_json().as_bytes(), &o, &n).unwrap();
    assert!(matches!(valid.revocation, RevocationStatus::Good { .. }));
}

#[test]
fn crl_from_another_issuer_does_not_count() {
    let (cert, serial) = cert_and_serial();
    // Same issuer name, other key: it may not revoke or clear our card.
    let foreign = other_generation_ca()
        .issue_crl(
            &[(serial, now() - days(1))],
            now() - days(1),
            now() + days(7),
        )
        .unwrap();
    let (o, n) = (origin(), nonce());
    let token = token_for(&cert, &o, &n).to_json();
    let lenient = with_crls(vec![foreign.clone()], RevocationPolicy::AllowNotChecked);
    let valid = check(&lenient, token.as_bytes(), &o, &n).unwrap();
    assert!(matches!(
        valid.revocation,
        RevocationStatus::NotChecked { .. }
    ));
    let strict = with_crls(vec![foreign], RevocationPolicy::Required);
    assert_eq!(
        check(&strict, token.as_bytes(), &o, &n).unwrap_err(),
        "revocation_unknown"
    );
}

#[test]
fn stale_crl_is_not_checked() {
    let (cert, _) = cert_and_serial();
    let crl = ca()
        .issue_crl(&[], now() - days(40), now() - days(10))
        .unwrap();
    let (o, n) = (origin(), nonce());
    let v = with_crls(vec![crl], RevocationPolicy::Required);
    let err = v
        .validate_token(token_for(&cert, &o, &n).to_json().as_bytes(), &o, &n, now())
        .unwrap_err();
    assert_eq!(err.error.code(), "revocation_unknown");
    assert!(err.error.to_string().contains("expired"), "{}", err.error);
}

#[test]
fn no_crl_with_revocation_required_fails() {
    let (o, n) = (origin(), nonce());
    let v = with_crls(vec![], RevocationPolicy::Required);
    let token = token_for(&card_cert(|_| {}), &o, &n).to_json();
    assert_eq!(
        check(&v, token.as_bytes(), &o, &n).unwrap_err(),
        "revocation_unknown"
    );
}

/// The good token as JSON, with `edit` applied to the object.
fn edited(
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> (Vec<u8>, Origin, ChallengeNonce) {
    let (token, o, n) = good_token();
    let mut value: Value = serde_json::from_slice(&token).unwrap();
    edit(value.as_object_mut().unwrap());
    (serde_json::to_vec(&value).unwrap(), o, n)
}

fn code_of_edit(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> &'static str {
    let (token, o, n) = edited(edit);
    check(&validator(), &token, &o, &n).unwrap_err()
}

#[test]
fn malformed_tokens_get_distinct_errors() {
    let (o, n) = (origin(), nonce());
    let v = validator();
    assert_eq!(check(&v, b"", &o, &n).unwrap_err(), "token_empty");
    assert_eq!(
        check(&v, b"{not json", &o, &n).unwrap_err(),
        "token_malformed_json"
    );
    assert_eq!(
        check(&v, b"[]", &o, &n).unwrap_err(),
        "token_malformed_json"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.remove("signature");
        }),
        "token_malformed_json"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("extra".into(), json!(1));
        }),
        "token_malformed_json"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("signature".into(), json!(42));
        }),
        "token_malformed_json"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("format".into(), json!("web-eid:2.0"));
        }),
        "token_unsupported_format"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("algorithm".into(), json!("RS1"));
        }),
        "token_unsupported_algorithm"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("algorithm".into(), json!("ES256"));
        }),
        "token_unsupported_algorithm"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("unverifiedCertificate".into(), json!("@@@"));
        }),
        "token_invalid_base64"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("signature".into(), json!("***"));
        }),
        "token_invalid_base64"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("signature".into(), json!(""));
        }),
        "signature_invalid_length"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("unverifiedCertificate".into(), json!("MAMCAQE="));
        }),
        "certificate_invalid_der"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("unverifiedCertificate".into(), json!(""));
        }),
        "certificate_invalid_der"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("appVersion".into(), json!(""));
        }),
        "token_invalid_app_version"
    );
    assert_eq!(
        code_of_edit(|m| {
            m.insert("appVersion".into(), json!("a\u{0}b"));
        }),
        "token_invalid_app_version"
    );
}

#[test]
fn oversized_token_is_refused_before_parsing() {
    let (o, n) = (origin(), nonce());
    let huge = format!("{{\"pad\":\"{}\"}}", "A".repeat(20_000));
    assert_eq!(
        check(&validator(), huge.as_bytes(), &o, &n).unwrap_err(),
        "token_too_large"
    );
    let big_cert =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![0u8; 7000]);
    assert_eq!(
        code_of_edit(|m| {
            m.insert("unverifiedCertificate".into(), json!(big_cert));
        }),
        "certificate_too_large"
    );
}
