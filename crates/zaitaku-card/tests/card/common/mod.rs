//! Shared fixtures: test roots and card keys made once per test binary (RSA key
//! generation is the slow part), and helpers to sign tokens as a card would.
#![allow(dead_code)]

use rsa::{Pkcs1v15Sign, PrivateKey};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};
use zaitaku_card::keys::{KeyKind, KeyPair};
use zaitaku_card::oids;
use zaitaku_card::test_ca::{DEFAULT_CA_NAME, LeafSpec, TestCa, generate_rsa_key};
use zaitaku_card::token::{TokenAlgorithm, WebEidToken, signed_value_hash};
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::validate::{Validator, ValidatorConfig};
use zaitaku_card::{ChallengeNonce, Origin};

pub const ORIGIN: &str = "https://zaitaku.example.jp";

pub fn ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| TestCa::generate(DEFAULT_CA_NAME).expect("test CA"))
}

/// A second root with the same name and another key, like a later JPKI generation.
pub fn other_generation_ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| TestCa::generate(DEFAULT_CA_NAME).expect("second test CA"))
}

pub fn card_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| generate_rsa_key().expect("card key"))
}

pub fn anchor(ca: &TestCa) -> TrustAnchor {
    TrustAnchor::new(ca.certificate().clone(), ca.certificate_der().unwrap()).unwrap()
}

/// Trusts `ca()` and accepts the test policy.
pub fn config() -> ValidatorConfig {
    let mut config = ValidatorConfig::new(vec![anchor(ca())]);
    config.allowed_policies.push(oids::ZAITAKU_TEST_CARD_POLICY);
    config
}

pub fn validator() -> Validator {
    Validator::new(config())
}

pub fn spec() -> LeafSpec {
    LeafSpec::jpki_auth(365).unwrap()
}

/// A card certificate from `ca()` with `edit` applied to the JPKI profile.
pub fn card_cert(edit: impl FnOnce(&mut LeafSpec)) -> Vec<u8> {
    let mut s = spec();
    edit(&mut s);
    ca().issue(card_key().as_public_key(), &s).unwrap()
}

pub fn origin() -> Origin {
    Origin::parse(ORIGIN).unwrap()
}

pub fn nonce() -> ChallengeNonce {
    ChallengeNonce::generate().unwrap()
}

/// What a JPKI card returns for COMPUTE DIGITAL SIGNATURE over the token's DigestInfo.
pub fn card_signature(origin: &Origin, nonce: &ChallengeNonce) -> Vec<u8> {
    card_key()
        .sign(
            Pkcs1v15Sign::new::<rsa::sha2::Sha256>(),
            &signed_value_hash(origin, nonce),
        )
        .unwrap()
}

pub fn token_for(cert_der: &[u8], origin: &Origin, nonce: &ChallengeNonce) -> WebEidToken {
    WebEidToken::new(
        zaitaku_card::TokenAlgorithm::Rs256,
        cert_der,
        &card_signature(origin, nonce),
        "https://zaitaku.example.jp/authenticator/0.1.0",
    )
}

pub fn now() -> SystemTime {
    SystemTime::now()
}

pub fn days(n: u64) -> Duration {
    Duration::from_secs(n * 24 * 3600)
}

/// A root of each key kind, made once: `ca_with(KeyKind::Rsa2048)` is not `ca()`.
pub fn ca_with(kind: KeyKind) -> &'static TestCa {
    static CAS: [OnceLock<TestCa>; 4] = [const { OnceLock::new() }; 4];
    let index = [
        KeyKind::Rsa2048,
        KeyKind::P256,
        KeyKind::P384,
        KeyKind::P521,
    ]
    .iter()
    .position(|k| *k == kind)
    .unwrap();
    CAS[index].get_or_init(|| {
        TestCa::generate_with_key(&format!("CN=Zaitaku {kind} Root,O=Zaitaku,C=JP"), kind)
            .expect("test CA")
    })
}

/// The next-generation card's key (P-384), made once.
pub fn p384_card_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| KeyPair::generate(KeyKind::P384).expect("P-384 key"))
}

/// A P-384 card certificate from `ca` with `edit` applied to the JPKI profile.
pub fn p384_card_cert(ca: &TestCa, edit: impl FnOnce(&mut LeafSpec)) -> Vec<u8> {
    let mut s = spec();
    edit(&mut s);
    ca.issue(p384_card_key(), &s).unwrap()
}

/// What the assumed P-384 card answers: r ‖ s over the SHA-384 hash it is given.
pub fn es384_signature(origin: &Origin, nonce: &ChallengeNonce) -> Vec<u8> {
    use p384::ecdsa::signature::hazmat::PrehashSigner;
    let KeyPair::P384(key) = p384_card_key() else {
        unreachable!()
    };
    let hash = TokenAlgorithm::Es384.signed_value_hash(origin, nonce);
    let signature: p384::ecdsa::Signature = key.sign_prehash(&hash).unwrap();
    signature.to_bytes().to_vec()
}

pub fn es384_token_for(cert_der: &[u8], origin: &Origin, nonce: &ChallengeNonce) -> WebEidToken {
    WebEidToken::new(
        TokenAlgorithm::Es384,
        cert_der,
        &es384_signature(origin, nonce),
        "https://zaitaku.example.jp/authenticator/0.1.0",
    )
}

/// Trusts each of `cas` and accepts the test policy.
pub fn validator_trusting(cas: &[&TestCa]) -> Validator {
    let mut config = ValidatorConfig::new(cas.iter().map(|ca| anchor(ca)).collect());
    config.allowed_policies.push(oids::ZAITAKU_TEST_CARD_POLICY);
    Validator::new(config)
}
