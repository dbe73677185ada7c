//! End to end in the library: a virtual card answers APDUs, the authenticator turns
//! its signature into a Web eID token, and the validator accepts exactly that token.

mod common;

use common::*;
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
