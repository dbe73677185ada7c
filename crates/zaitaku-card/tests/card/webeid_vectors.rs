//! Web eID's published test tokens (`../shared/data/webeid/`), made by software this
//! project did not write: an ES384 token from an Estonian test card (P-384 key, under
//! a P-521 intermediate CA) and an RS256 token from a Latvian demo card. Both signed
//! the nonce in `nonce.txt` for the origin `https://ria.ee`.

use std::time::{Duration, SystemTime};
use zaitaku_card::shared_data;
use zaitaku_card::token::{TokenAlgorithm, WebEidToken};
use zaitaku_card::validate::signature::{SignatureError, verify_token_signature};
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::validate::{Validator, ValidatorConfig};
use zaitaku_card::{ChallengeNonce, Origin, oids};

const ORIGIN: &str = "https://ria.ee";
/// The Estonian test card's policy; allowed only where a test says so.
const ESTEID_TEST_POLICY: &str = "1.3.6.1.4.1.51361.1.2.1";

struct WebEid {
    dir: std::path::PathBuf,
}

impl WebEid {
    fn open(test: &str) -> Option<WebEid> {
        shared_data::folder("webeid", test).map(|dir| WebEid { dir })
    }

    fn read(&self, file: &str) -> Vec<u8> {
        let path = self.dir.join(file);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn nonce(&self) -> ChallengeNonce {
        let text = String::from_utf8(self.read("nonce.txt")).unwrap();
        ChallengeNonce::parse(text.trim()).unwrap()
    }

    /// A base64 field of the token in `file`, decoded.
    fn base64_field(&self, file: &str, field: &str) -> Vec<u8> {
        use base64::Engine;
        let json: serde_json::Value = serde_json::from_slice(&self.read(file)).unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(json[field].as_str().unwrap())
            .unwrap()
    }

    fn certificate_der(&self, file: &str) -> Vec<u8> {
        self.base64_field(file, "unverifiedCertificate")
    }

    /// The token's fields as they are (the RS256 one has `issuerApp`, which our
    /// strict parser refuses; see `token.rs`), decoded by hand.
    fn fields(&self, file: &str) -> (String, spki::SubjectPublicKeyInfoOwned, Vec<u8>) {
        use der::Decode;
        let json: serde_json::Value = serde_json::from_slice(&self.read(file)).unwrap();
        let cert = x509_cert::Certificate::from_der(&self.certificate_der(file)).unwrap();
        (
            json["algorithm"].as_str().unwrap().to_owned(),
            cert.tbs_certificate().subject_public_key_info().clone(),
            self.base64_field(file, "signature"),
        )
    }

    /// The signature step alone, as the validator runs it.
    fn signature_step(
        &self,
        file: &str,
        origin: &str,
        nonce: &ChallengeNonce,
    ) -> Result<(), SignatureError> {
        let (algorithm, key, signature) = self.fields(file);
        let algorithm = TokenAlgorithm::from_name(&algorithm).unwrap();
        let origin = Origin::parse(origin).unwrap();
        verify_token_signature(
            algorithm,
            &key,
            &algorithm.signed_value(&origin, nonce),
            &signature,
        )
    }
}

/// 2023-01-01T00:00:00Z: inside the ES384 card's validity (2021-07-22 to 2026-07-09).
fn in_2023() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_672_531_200)
}

fn other_origins_and_nonces(w: &WebEid) -> Vec<(&'static str, ChallengeNonce)> {
    vec![
        ("https://ria.ee.example", w.nonce()),
        ("https://www.ria.ee", w.nonce()),
        ("https://zaitaku.example.jp", w.nonce()),
        (ORIGIN, ChallengeNonce::generate().unwrap()),
        (
            ORIGIN,
            ChallengeNonce::parse("12345678123456781234567812345678912356789124").unwrap(),
        ),
    ]
}

#[test]
fn the_es384_token_verifies_for_its_origin_and_nonce_only() {
    let Some(w) =
        WebEid::open("webeid_vectors::the_es384_token_verifies_for_its_origin_and_nonce_only")
    else {
        return;
    };
    w.signature_step("es384-token.json", ORIGIN, &w.nonce())
        .unwrap();
    for (origin, nonce) in other_origins_and_nonces(&w) {
        assert_eq!(
            w.signature_step("es384-token.json", origin, &nonce),
            Err(SignatureError::Invalid),
            "{origin}"
        );
    }
}

#[test]
fn the_rs256_token_verifies_at_the_signature_step_for_its_origin_and_nonce_only() {
    let Some(w) = WebEid::open("webeid_vectors::the_rs256_token_verifies_at_the_signature_step")
    else {
        return;
    };
    w.signature_step("rs256-token.json", ORIGIN, &w.nonce())
        .unwrap();
    for (origin, nonce) in other_origins_and_nonces(&w) {
        assert_eq!(
            w.signature_step("rs256-token.json", origin, &nonce),
            Err(SignatureError::Invalid),
            "{origin}"
        );
    }
}

#[test]
fn the_rs256_token_with_issuer_app_is_refused_by_the_strict_parser() {
    let Some(w) = WebEid::open("webeid_vectors::the_rs256_token_with_issuer_app_is_refused") else {
        return;
    };
    // `issuerApp` is a field of a draft before web-eid:1.0; the parser takes the 1.0
    // shape only (appVersion, no unknown fields).
    let err = WebEidToken::from_json(&w.read("rs256-token.json")).unwrap_err();
    assert!(err.to_string().contains("issuerApp"), "{err}");
}

fn esteid_validator(w: &WebEid, allow_policy: bool) -> Validator {
    let anchors = TrustAnchor::load_all(&w.read("TEST_of_ESTEID2018.cer")).unwrap();
    let mut config = ValidatorConfig::new(anchors);
    if allow_policy {
        config.allowed_policies = vec![oids::ObjectIdentifier::new_unwrap(ESTEID_TEST_POLICY)];
    }
    Validator::new(config)
}

#[test]
fn the_es384_token_validates_whole_under_its_p521_intermediate_inside_its_validity() {
    let Some(w) = WebEid::open("webeid_vectors::the_es384_token_validates_whole") else {
        return;
    };
    let anchor = &TrustAnchor::load_all(&w.read("TEST_of_ESTEID2018.cer")).unwrap()[0];
    // An intermediate CA (issued by TEST of EE-GovCA2018), not a self-signed root.
    let tbs = anchor.certificate.tbs_certificate();
    assert_ne!(tbs.issuer(), tbs.subject());

    let origin = Origin::parse(ORIGIN).unwrap();
    let token = w.read("es384-token.json");
    let valid = esteid_validator(&w, true)
        .validate_token(&token, &origin, &w.nonce(), in_2023())
        .unwrap();
    assert_eq!(valid.policy, ESTEID_TEST_POLICY);
    assert!(valid.trust_anchor.subject.contains("CN=TEST of ESTEID2018"));
    assert_eq!(valid.certificate.serial, "639386B21C683CC160F967DCD2014469");

    // The path alone, as `cert verify` checks it.
    let valid_path = esteid_validator(&w, true);
    valid_path
        .validate_certificate(&w.certificate_der("es384-token.json"), in_2023())
        .unwrap();

    // Its policy is not JPKI's: refused unless allowed.
    assert_eq!(
        esteid_validator(&w, false)
            .validate_token(&token, &origin, &w.nonce(), in_2023())
            .unwrap_err()
            .error
            .code(),
        "certificate_policy_not_allowed"
    );
    // The certificate expired on 2026-07-09.
    let after = SystemTime::UNIX_EPOCH + Duration::from_secs(1_783_900_800); // 2026-07-13
    assert_eq!(
        esteid_validator(&w, true)
            .validate_token(&token, &origin, &w.nonce(), after)
            .unwrap_err()
            .error
            .code(),
        "certificate_expired"
    );
    // Another origin is told only that the signature is bad, expired or not.
    let elsewhere = Origin::parse("https://zaitaku.example.jp").unwrap();
    for at in [in_2023(), after] {
        assert_eq!(
            esteid_validator(&w, true)
                .validate_token(&token, &elsewhere, &w.nonce(), at)
                .unwrap_err()
                .error
                .code(),
            "signature_invalid"
        );
    }
}
