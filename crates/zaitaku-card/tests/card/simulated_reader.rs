//! `JpkiCard` and the authenticator against `simulated::SimulatedCard`, a JPKI card
//! on a simulated PC/SC reader that really signs: the APDU exchange of domain.md
//! section 6, a blocked PIN, and a card pulled part-way.

use crate::common;

use common::{ca, card_key, config, nonce, origin, p384_card_cert, p384_card_key};
use zaitaku_card::authenticator::{P384_SIGNATURE_LEN, card_sign_input, sign_challenge};
use zaitaku_card::simulated::{Apdu, Removal, SimulatedCard};
use zaitaku_card::test_ca::LeafSpec;
use zaitaku_card::token::signed_value_hash;
use zaitaku_card::{
    CardError, CardTransport, JpkiCard, Pin, PinStatus, TokenAlgorithm, TransportError, Validator,
    sha256_digest_info,
};

const PIN: &str = "7391";

fn pin(text: &str) -> Pin {
    Pin::parse(text).unwrap()
}

fn card() -> SimulatedCard {
    let certificate = ca()
        .issue(
            card_key().as_public_key(),
            &LeafSpec::jpki_auth(365).unwrap(),
        )
        .unwrap();
    SimulatedCard::new(card_key().clone(), certificate, pin(PIN))
}

#[test]
fn the_section_6_exchange_gives_a_token_that_verifies() {
    let mut sim = card();
    let (origin, nonce) = (origin(), nonce());
    let mut card = JpkiCard::open(&mut sim).unwrap();
    let token = sign_challenge(&mut card, &pin(PIN), &origin, &nonce, "test/1").unwrap();

    Validator::new(config())
        .validate_token(token.to_json().as_bytes(), &origin, &nonce, common::now())
        .expect("signed by the certificate's key");

    let sent: Vec<&[u8]> = sim
        .transcript()
        .iter()
        .map(|e| e.command.as_slice())
        .collect();
    assert_eq!(
        sent[0],
        [
            0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00,
            0x01
        ]
    );
    assert_eq!(sent[1], [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]);
    assert_eq!(sent[2], [0x00, 0xB0, 0x00, 0x00, 0x04]);
    let after_certificate = sent.len() - 5;
    assert!(
        sent[3..after_certificate]
            .iter()
            .all(|c| c[..2] == [0x00, 0xB0])
    );
    assert_eq!(
        sent[after_certificate..after_certificate + 3],
        [
            &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18][..],
            &[0x00, 0x20, 0x00, 0x80],
            &[0x00, 0x20, 0x00, 0x80, 0x04, b'7', b'3', b'9', b'1'],
        ]
    );
    assert_eq!(
        sent[sent.len() - 2],
        [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x17]
    );
    let mut sign = vec![0x80, 0x2A, 0x00, 0x80, 51];
    sign.extend(sha256_digest_info(&signed_value_hash(&origin, &nonce)));
    sign.push(0x00);
    assert_eq!(sent[sent.len() - 1], sign.as_slice());
}

#[test]
fn the_card_behaves_like_a_jpki_card() {
    let mut sim = card();
    let mut card = JpkiCard::open(&mut sim).unwrap();
    assert!(matches!(
        card.sign_digest_info(&[0x5A; 51]),
        Err(CardError::SecurityStatusNotSatisfied)
    ));
    assert_eq!(card.pin_status().unwrap(), PinStatus::TriesLeft(3));
    assert!(matches!(
        card.verify_pin(&pin("0000")),
        Err(CardError::WrongPin { tries_left: 2 })
    ));
    card.verify_pin(&pin(PIN)).unwrap();
    // ISO 7816-4: once verified, VERIFY without data answers 90 00.
    assert_eq!(card.pin_status().unwrap(), PinStatus::TriesLeft(3));
    assert_eq!(card.sign_digest_info(&[0x5A; 51]).unwrap().len(), 256);
    assert_eq!(sim.tries_left(), 3);

    // Another application is not there.
    let mut fresh = self::card();
    let answer = fresh
        .transmit(&[0x00, 0xA4, 0x04, 0x0C, 0x02, 0xA0, 0x00])
        .unwrap();
    assert_eq!(answer, [0x6A, 0x82]);
}

#[test]
fn a_blocked_card_is_never_sent_the_pin() {
    let mut sim = card().with_tries_left(0);
    let mut card = JpkiCard::open(&mut sim).unwrap();
    assert_eq!(card.pin_status().unwrap(), PinStatus::Blocked);
    assert!(matches!(
        card.verify_pin(&pin(PIN)),
        Err(CardError::PinBlocked)
    ));
    assert!(!sim.was_sent_a_pin());
    assert_eq!(
        sim.commands(),
        [
            Apdu::SelectAp,
            Apdu::SelectEf(0x0018),
            Apdu::PinStatus,
            Apdu::SelectEf(0x0018),
            Apdu::PinStatus
        ]
    );
}

#[test]
fn three_wrong_pins_block_the_card() {
    let mut sim = card();
    let mut card = JpkiCard::open(&mut sim).unwrap();
    for tries_left in [2, 1] {
        assert!(matches!(
            card.verify_pin(&pin("0000")),
            Err(CardError::WrongPin { tries_left: t }) if t == tries_left
        ));
    }
    assert!(matches!(
        card.verify_pin(&pin("0000")),
        Err(CardError::PinBlocked)
    ));
    // The right PIN is too late, and is not even sent.
    assert!(matches!(
        card.verify_pin(&pin(PIN)),
        Err(CardError::PinBlocked)
    ));
    assert_eq!(sim.tries_left(), 0);
    assert_eq!(
        sim.commands()
            .iter()
            .filter(|c| **c == Apdu::VerifyPin)
            .count(),
        3
    );
}

#[test]
fn a_card_pulled_after_select_fails_the_next_command() {
    let mut sim = card().removed(Removal::After(Apdu::SelectAp));
    let mut card = JpkiCard::open(&mut sim).expect("SELECT was answered");
    let error = card.read_auth_certificate().unwrap_err();
    assert!(matches!(
        error,
        CardError::Transport(TransportError::CardRemoved)
    ));
    assert_eq!(
        error.to_string(),
        "the card was removed or stopped answering; place it on the reader and try again"
    );
    // Every later command fails the same way.
    assert!(matches!(
        card.pin_status(),
        Err(CardError::Transport(TransportError::CardRemoved))
    ));
    assert!(sim.is_removed());
    assert_eq!(
        sim.transcript()[0].response.as_deref(),
        Some(&[0x90, 0x00][..])
    );
    assert!(sim.transcript()[1..].iter().all(|e| e.response.is_none()));
}

#[test]
fn a_wrong_pin_lost_with_the_card_still_counts() {
    let mut sim = card().removed(Removal::During(Apdu::VerifyPin));
    let mut card = JpkiCard::open(&mut sim).unwrap();
    assert!(matches!(
        card.verify_pin(&pin("0000")),
        Err(CardError::Transport(TransportError::CardRemoved))
    ));
    assert_eq!(
        sim.tries_left(),
        2,
        "the card spent the try before it was pulled"
    );

    // Back on the reader: a new session, nothing verified, the counter kept.
    sim.reinsert();
    let mut card = JpkiCard::open(&mut sim).unwrap();
    assert_eq!(card.pin_status().unwrap(), PinStatus::TriesLeft(2));
    assert!(matches!(
        card.sign_digest_info(&[0x5A; 51]),
        Err(CardError::SecurityStatusNotSatisfied)
    ));
}

#[test]
fn a_t0_card_needs_get_response_for_the_signature() {
    let mut sim = card().t0();
    let (origin, nonce) = (origin(), nonce());
    let mut card = JpkiCard::open(&mut sim).unwrap();
    let token = sign_challenge(&mut card, &pin(PIN), &origin, &nonce, "test/1").unwrap();
    Validator::new(config())
        .validate_token(token.to_json().as_bytes(), &origin, &nonce, common::now())
        .expect("signed by the certificate's key");
    let kinds = sim.commands();
    assert_eq!(kinds[kinds.len() - 2..], [Apdu::Sign, Apdu::GetResponse]);
    let sign_answer = sim.transcript()[kinds.len() - 2].response.clone().unwrap();
    assert_eq!(sign_answer, [0x61, 0x00]);
}

/// The next generation on the simulated reader: a P-384 card (under today's RSA
/// root) answers the same APDUs, is given the 48-byte SHA-384 input and signs
/// with ECDSA; the ES384 token verifies, and its wrong PINs count down the same.
#[test]
fn a_p384_card_signs_an_es384_token_that_verifies() {
    let certificate = p384_card_cert(ca(), |_| {});
    let mut sim = SimulatedCard::new(p384_card_key().clone(), certificate, pin(PIN));
    assert!(sim.public_key().is_none(), "no RSA key on this card");
    let (origin, nonce) = (origin(), nonce());
    let mut card = JpkiCard::open(&mut sim).unwrap();
    let wrong = card.verify_pin(&pin("0000"));
    assert!(matches!(wrong, Err(CardError::WrongPin { tries_left: 2 })));
    let token = sign_challenge(&mut card, &pin(PIN), &origin, &nonce, "test/1").unwrap();
    let json: serde_json::Value = serde_json::from_str(&token.to_json()).unwrap();
    assert_eq!(json["algorithm"], "ES384");
    Validator::new(config())
        .validate_token(token.to_json().as_bytes(), &origin, &nonce, common::now())
        .expect("signed by the certificate's P-384 key");
    assert_eq!(sim.tries_left(), 3, "the right PIN resets the counter");

    let last = sim.transcript().last().unwrap();
    let mut sign = vec![0x80, 0x2A, 0x00, 0x80, 48];
    sign.extend(card_sign_input(TokenAlgorithm::Es384, &origin, &nonce));
    sign.push(0x00);
    assert_eq!(last.command, sign);
    let answer = last.response.as_ref().unwrap();
    assert_eq!(answer.len(), P384_SIGNATURE_LEN + 2);
    assert_eq!(answer[P384_SIGNATURE_LEN..], [0x90, 0x00]);

    // RSA's DigestInfo is the wrong input for this card: refused, nothing signed.
    let mut sim = SimulatedCard::issue_p384(ca(), pin(PIN)).unwrap();
    let mut card = JpkiCard::open(&mut sim).unwrap();
    card.verify_pin(&pin(PIN)).unwrap();
    let digest_info = sha256_digest_info(&signed_value_hash(&origin, &nonce));
    assert!(card.sign_digest_info(&digest_info).is_err());
}
