//! The real, public JPKI data in `../shared/data/jpki/`: three generations of the
//! user-authentication root, one real (expired) card certificate, and a signature a
//! real card made. Read in place, never copied into the repository.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use zaitaku_card::validate::signature::{SignatureError, verify_rs256};
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::validate::{Validator, ValidatorConfig};

fn jpki(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/jpki")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn roots(files: &[&str]) -> Vec<TrustAnchor> {
    files
        .iter()
        .flat_map(|f| TrustAnchor::load_all(&jpki(f)).unwrap())
        .collect()
}

fn validator(files: &[&str]) -> Validator {
    // JPKI's own policy is the default; nothing test-only is allowed here.
    Validator::new(ValidatorConfig::new(roots(files)))
}

/// 2020-01-01T00:00:00Z, inside the real certificate's validity (2019-07-25 to 2024-05-02).
fn in_2020() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_836_800)
}

#[test]
fn every_published_root_loads_as_a_trust_anchor() {
    for file in [
        "auth-root-2015.pem",
        "auth-root-2019.pem",
        "auth-root-2023.pem",
        "sign-root-2015.pem",
        "sign-root-2019.pem",
        "sign-root-2023.pem",
    ] {
        assert_eq!(roots(&[file]).len(), 1, "{file}");
    }
}

#[test]
fn the_real_certificate_validates_against_its_root_inside_its_validity() {
    let valid = validator(&["auth-root-2015.pem"])
        .validate_certificate(&jpki("real-auth-cert.der"), in_2020())
        .unwrap();
    assert_eq!(
        valid.certificate.subject_cn.as_deref(),
        Some("840444E37PAFHN08220003A")
    );
    assert_eq!(valid.certificate.serial, "012D57CA");
    assert!(
        valid
            .certificate
            .issuer
            .contains("OU=JPKI for user authentication")
    );
    assert_eq!(valid.policy, "1.2.392.200149.8.5.1.3.30");
    assert_eq!(
        valid.trust_anchor.key_identifier.as_deref(),
        Some("9567951B5CA70D84A0FFF1D85A87F1AAB1340385")
    );
}

#[test]
fn the_real_certificate_is_found_among_all_three_generations() {
    let valid = validator(&[
        "auth-root-2015.pem",
        "auth-root-2019.pem",
        "auth-root-2023.pem",
    ])
    .validate_certificate(&jpki("real-auth-cert.der"), in_2020())
    .unwrap();
    assert_eq!(valid.trust_anchor.serial, "01");
}

#[test]
fn the_real_certificate_is_expired_today() {
    let err = validator(&["auth-root-2015.pem"])
        .validate_certificate(&jpki("real-auth-cert.der"), SystemTime::now())
        .unwrap_err();
    assert_eq!(err.error.code(), "certificate_expired");
    assert!(
        err.error.to_string().contains("2024-05-02T14:59:59Z"),
        "{}",
        err.error
    );
}

#[test]
fn another_generation_of_root_does_not_trust_it() {
    for other in [
        "auth-root-2019.pem",
        "auth-root-2023.pem",
        "sign-root-2015.pem",
    ] {
        let err = validator(&[other])
            .validate_certificate(&jpki("real-auth-cert.der"), in_2020())
            .unwrap_err();
        assert_eq!(err.error.code(), "certificate_untrusted", "{other}");
    }
}

#[test]
fn pem_and_der_of_the_real_certificate_agree() {
    let from_pem = zaitaku_card::pem::load_certificates(&jpki("real-auth-cert.pem")).unwrap();
    assert_eq!(from_pem[0].1, jpki("real-auth-cert.der"));
}

fn real_key() -> spki::SubjectPublicKeyInfoOwned {
    let (cert, _) = zaitaku_card::pem::load_certificates(&jpki("real-auth-cert.der"))
        .unwrap()
        .remove(0);
    cert.tbs_certificate().subject_public_key_info().clone()
}

#[test]
fn the_real_card_signature_verifies_with_the_certificate_key() {
    let signature = jpki("real-auth-signature/message1.sha256-rsa-pkcs1v15.sig");
    assert_eq!(jpki("real-auth-signature/message1.bin"), b"message1");
    verify_rs256(&real_key(), b"message1", &signature).unwrap();
}

#[test]
fn the_real_card_signature_fails_over_any_other_message() {
    let signature = jpki("real-auth-signature/message1.sha256-rsa-pkcs1v15.sig");
    for other in [&b"message2"[..], b"message1\n", b"", b"Message1"] {
        assert_eq!(
            verify_rs256(&real_key(), other, &signature),
            Err(SignatureError::Invalid)
        );
    }
    // The SHA-1 signature over the same message is not an RS256 signature.
    let sha1 = jpki("real-auth-signature/message1.sha1-rsa-pkcs1v15.sig");
    assert_eq!(
        verify_rs256(&real_key(), b"message1", &sha1),
        Err(SignatureError::Invalid)
    );
}
