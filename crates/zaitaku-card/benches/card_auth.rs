//! `cargo bench -p zaitaku-card`: what one card authentication costs.
//! A plain harness (no extra dependency): each case runs for about a second and
//! prints the mean time per operation. Numbers go in the README, not in assertions.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};
use zaitaku_card::authenticator::sign_challenge;
use zaitaku_card::test_ca::{DEFAULT_CA_NAME, LeafSpec, TestCa, generate_rsa_key};
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::{
    ChallengeNonce, JpkiCard, Origin, Pin, Validator, ValidatorConfig, VirtualCard, oids,
};

fn bench(name: &str, mut op: impl FnMut()) {
    op(); // warm up
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        op();
        runs += 1;
    }
    let per_op = start.elapsed() / runs;
    println!(
        "{name:<52} {:>10.1} µs/op  ({runs} runs)",
        per_op.as_secs_f64() * 1e6
    );
}

fn main() {
    let ca = TestCa::generate(DEFAULT_CA_NAME).unwrap();
    let key = generate_rsa_key().unwrap();
    let cert = ca
        .issue(key.as_public_key(), &LeafSpec::jpki_auth(365).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let card_path = dir.path().join("card.json");
    let pin = Pin::parse("1234").unwrap();
    VirtualCard::create(&card_path, key, cert, &pin).unwrap();

    let anchor = TrustAnchor::new(ca.certificate().clone(), ca.certificate_der().unwrap()).unwrap();
    let mut config = ValidatorConfig::new(vec![anchor]);
    config.allowed_policies.push(oids::ZAITAKU_TEST_CARD_POLICY);
    let validator = Validator::new(config);
    let origin = Origin::parse("https://zaitaku.example.jp").unwrap();
    let nonce = ChallengeNonce::generate().unwrap();

    let sign = || {
        let mut card = JpkiCard::open(VirtualCard::open(&card_path).unwrap()).unwrap();
        sign_challenge(&mut card, &pin, &origin, &nonce, "bench").unwrap()
    };
    let token = sign().to_json();

    bench("server: validate a token (parse, path, RS256)", || {
        black_box(
            validator
                .validate_token(token.as_bytes(), &origin, &nonce, SystemTime::now())
                .unwrap(),
        );
    });
    bench("server: make a challenge nonce", || {
        black_box(ChallengeNonce::generate().unwrap());
    });
    bench(
        "card: open virtual card, verify PIN, sign (durable)",
        || {
            black_box(sign());
        },
    );
}
