//! End to end in the library: a virtual card answers APDUs, the authenticator turns
//! its signature into a Web eID token, and the validator accepts exactly that token.

use crate::common::*;
use zaitaku_card::authenticator::sign_challenge;
use zaitaku_card::{CardError, JpkiCard, Pin, VirtualCard};

fn new_card(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("card.json");
    let cert = card_cert(|_| {});
    VirtualCard::create(
        &path,
        card_key().clone(),
        cert,
        &Pin::parse("4321").unwrap(),
    )
    .unwrap();
    path
}

#[test]
fn a_virtual_card_token_passes_the_validator() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_card(dir.path());
    let (o, n) = (origin(), nonce());
    let mut card = JpkiCard::open(VirtualCard::open(&path).unwrap()).unwrap();
    let token = sign_challenge(&mut card, &Pin::parse("4321").unwrap(), &o, &n, "test").unwrap();
    let valid = validator()
        .validate_token(token.to_json().as_bytes(), &o, &n, now())
        .unwrap();
    assert_eq!(valid.certificate.subject_cn.unwrap().len(), 23);
    // The same token is worthless for another challenge.
    let err = validator()
        .validate_token(token.to_json().as_bytes(), &o, &nonce(), now())
        .unwrap_err();
    assert_eq!(err.error.code(), "signature_invalid");
}

#[test]
fn a_wrong_pin_gives_no_token_and_the_third_blocks_the_card() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_card(dir.path());
    let (o, n) = (origin(), nonce());
    let wrong = Pin::parse("0000").unwrap();
    for expected_left in [2u8, 1] {
        let mut card = JpkiCard::open(VirtualCard::open(&path).unwrap()).unwrap();
        match sign_challenge(&mut card, &wrong, &o, &n, "test") {
            Err(CardError::WrongPin { tries_left }) => assert_eq!(tries_left, expected_left),
            other => panic!("expected a wrong PIN, got {other:?}"),
        }
    }
    let mut card = JpkiCard::open(VirtualCard::open(&path).unwrap()).unwrap();
    assert!(matches!(
        sign_challenge(&mut card, &wrong, &o, &n, "test"),
        Err(CardError::PinBlocked)
    ));
    drop(card);
    // Even the right PIN no longer helps, after a "restart" too.
    let mut card = JpkiCard::open(VirtualCard::open(&path).unwrap()).unwrap();
    let right = Pin::parse("4321").unwrap();
    assert!(matches!(
        sign_challenge(&mut card, &right, &o, &n, "test"),
        Err(CardError::PinBlocked)
    ));
}

/// The next generation: a P-384 virtual card answers the same APDUs with r ‖ s over
/// the SHA-384 hash it is given, and its ES384 token passes under an RSA root and an
/// EC root alike.
#[test]
fn a_p384_virtual_card_token_passes_under_either_kind_of_root() {
    use zaitaku_card::TokenAlgorithm;
    use zaitaku_card::authenticator::{P384_SIGNATURE_LEN, card_algorithm};
    use zaitaku_card::keys::KeyKind;
    for root in [KeyKind::Rsa2048, KeyKind::P384] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.json");
        let ca = ca_with(root);
        let cert = p384_card_cert(ca, |_| {});
        assert_eq!(card_algorithm(&cert).unwrap(), TokenAlgorithm::Es384);
        VirtualCard::create(
            &path,
            p384_card_key().clone(),
            cert,
            &Pin::parse("4321").unwrap(),
        )
        .unwrap();
        let (o, n) = (origin(), nonce());
        let mut card = JpkiCard::open(VirtualCard::open(&path).unwrap()).unwrap();
        let token =
            sign_challenge(&mut card, &Pin::parse("4321").unwrap(), &o, &n, "test").unwrap();
        assert_eq!(token.algorithm, "ES384");
        assert_eq!(token.parse().unwrap().signature.len(), P384_SIGNATURE_LEN);
        let v = validator_trusting(&[ca]);
        v.validate_token(token.to_json().as_bytes(), &o, &n, now())
            .unwrap_or_else(|e| panic!("under a {root} root: {e}"));
        let err = v
            .validate_token(token.to_json().as_bytes(), &o, &nonce(), now())
            .unwrap_err();
        assert_eq!(err.error.code(), "signature_invalid");
    }
}

/// A P-384 card is given the 48-byte hash; a DigestInfo (what an RSA card takes) is a
/// wrong length, and an RSA card refuses the bare hash.
#[test]
fn each_kind_of_virtual_card_takes_only_its_own_input() {
    use zaitaku_card::keys::KeyKind;
    let dir = tempfile::tempdir().unwrap();
    let pin = Pin::parse("4321").unwrap();
    let p384 = dir.path().join("p384.json");
    let ca = ca_with(KeyKind::P384);
    VirtualCard::create(
        &p384,
        p384_card_key().clone(),
        p384_card_cert(ca, |_| {}),
        &pin,
    )
    .unwrap();
    let rsa = new_card(dir.path());
    for (path, wrong) in [(&p384, vec![0u8; 51]), (&rsa, vec![0u8; 48])] {
        let mut card = JpkiCard::open(VirtualCard::open(path).unwrap()).unwrap();
        card.verify_pin(&pin).unwrap();
        match card.sign_digest_info(&wrong) {
            Err(CardError::UnexpectedStatus { sw, .. }) => {
                assert_eq!(sw, zaitaku_card::StatusWord::WRONG_LENGTH)
            }
            other => panic!("{other:?}"),
        }
    }
}
