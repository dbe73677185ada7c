//! The real, public JPKI data in `../shared/data/jpki/`: three generations of the
//! user-authentication root, one real (expired) card certificate, and a signature a
//! real card made. Read in place (see `zaitaku_card::shared_data`), never copied into
//! the repository.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use zaitaku_card::shared_data;
use zaitaku_card::validate::signature::{SignatureError, verify_rs256};
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::validate::{Validator, ValidatorConfig};

/// The `jpki/` folder of the shared data.
struct Jpki(PathBuf);

impl Jpki {
    /// `None` (the test is skipped, loudly) when the shared data is missing.
    fn open(test: &str) -> Option<Jpki> {
        shared_data::folder("jpki", test).map(Jpki)
    }

    fn read(&self, file: &str) -> Vec<u8> {
        let path = self.0.join(file);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn roots(&self, files: &[&str]) -> Vec<TrustAnchor> {
        files
            .iter()
            .flat_map(|f| TrustAnchor::load_all(&self.read(f)).unwrap())
            .collect()
    }

    fn validator(&self, files: &[&str]) -> Validator {
        // JPKI's own policy is the default; nothing test-only is allowed here.
        Validator::new(ValidatorConfig::new(self.roots(files)))
    }

    fn real_key(&self) -> spki::SubjectPublicKeyInfoOwned {
        let (cert, _) = zaitaku_card::pem::load_certificates(&self.read("real-auth-cert.der"))
            .unwrap()
            .remove(0);
        cert.tbs_certificate().subject_public_key_info().clone()
    }
}

/// 2020-01-01T00:00:00Z, inside the real certificate's validity (2019-07-25 to 2024-05-02).
fn in_2020() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_836_800)
}

#[test]
fn every_published_root_loads_as_a_trust_anchor() {
    let Some(j) = Jpki::open("real_jpki::every_published_root_loads_as_a_trust_anchor") else {
        return;
    };
    for file in [
        "auth-root-2015.pem",
        "auth-root-2019.pem",
        "auth-root-2023.pem",
        "sign-root-2015.pem",
        "sign-root-2019.pem",
        "sign-root-2023.pem",
    ] {
        assert_eq!(j.roots(&[file]).len(), 1, "{file}");
    }
}

#[test]
fn the_real_certificate_validates_against_its_root_inside_its_validity() {
    let Some(j) = Jpki::open(
        "real_jpki::the_real_certificate_validates_against_its_root_inside_its_validity",
    ) else {
        return;
    };
    let valid = j
        .validator(&["auth-root-2015.pem"])
        .validate_certificate(&j.read("real-auth-cert.der"), in_2020())
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
    let Some(j) =
        Jpki::open("real_jpki::the_real_certificate_is_found_among_all_three_generations")
    else {
        return;
    };
    let valid = j
        .validator(&[
            "auth-root-2015.pem",
            "auth-root-2019.pem",
            "auth-root-2023.pem",
        ])
        .validate_certificate(&j.read("real-auth-cert.der"), in_2020())
        .unwrap();
    assert_eq!(valid.trust_anchor.serial, "01");
}

#[test]
fn the_real_certificate_is_expired_today() {
    let Some(j) = Jpki::open("real_jpki::the_real_certificate_is_expired_today") else {
        return;
    };
    let err = j
        .validator(&["auth-root-2015.pem"])
        .validate_certificate(&j.read("real-auth-cert.der"), SystemTime::now())
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
    let Some(j) = Jpki::open("real_jpki::another_generation_of_root_does_not_trust_it") else {
        return;
    };
    for other in [
        "auth-root-2019.pem",
        "auth-root-2023.pem",
        "sign-root-2015.pem",
    ] {
        let err = j
            .validator(&[other])
            .validate_certificate(&j.read("real-auth-cert.der"), in_2020())
            .unwrap_err();
        assert_eq!(err.error.code(), "certificate_untrusted", "{other}");
    }
}

#[test]
fn pem_and_der_of_the_real_certificate_agree() {
    let Some(j) = Jpki::open("real_jpki::pem_and_der_of_the_real_certificate_agree") else {
        return;
    };
    let from_pem = zaitaku_card::pem::load_certificates(&j.read("real-auth-cert.pem")).unwrap();
    assert_eq!(from_pem[0].1, j.read("real-auth-cert.der"));
}

#[test]
fn the_real_card_signature_verifies_with_the_certificate_key() {
    let Some(j) =
        Jpki::open("real_jpki::the_real_card_signature_verifies_with_the_certificate_key")
    else {
        return;
    };
    let signature = j.read("real-auth-signature/message1.sha256-rsa-pkcs1v15.sig");
    assert_eq!(j.read("real-auth-signature/message1.bin"), b"message1");
    verify_rs256(&j.real_key(), b"message1", &signature).unwrap();
}

#[test]
fn the_real_card_signature_fails_over_any_other_message() {
    let Some(j) = Jpki::open("real_jpki::the_real_card_signature_fails_over_any_other_message")
    else {
        return;
    };
    let signature = j.read("real-auth-signature/message1.sha256-rsa-pkcs1v15.sig");
    for other in [&b"message2"[..], b"message1\n", b"", b"Message1"] {
        assert_eq!(
            verify_rs256(&j.real_key(), other, &signature),
            Err(SignatureError::Invalid)
        );
    }
    // The SHA-1 signature over the same message is not an RS256 signature.
    let sha1 = j.read("real-auth-signature/message1.sha1-rsa-pkcs1v15.sig");
    assert_eq!(
        verify_rs256(&j.real_key(), b"message1", &sha1),
        Err(SignatureError::Invalid)
    );
}
