//! `JpkiCard` against a fake that replays canned responses, for the cases a
//! virtual card cannot produce: a card pulled mid-way, odd status words.

use std::collections::VecDeque;

use zaitaku_card::{
    CardError, CardTransport, JpkiCard, Pin, PinStatus, StatusWord, TransportError, apdu,
};

/// An expected command and the transport's answer to it.
type Step = (Vec<u8>, Result<Vec<u8>, TransportError>);

/// Expects each command in order and answers with the scripted result.
struct Scripted {
    steps: VecDeque<Step>,
}

impl Scripted {
    fn new() -> Scripted {
        Scripted {
            steps: VecDeque::new(),
        }
    }

    fn then(mut self, command: Vec<u8>, response: &[u8]) -> Scripted {
        self.steps.push_back((command, Ok(response.to_vec())));
        self
    }

    fn then_fail(mut self, command: Vec<u8>, error: TransportError) -> Scripted {
        self.steps.push_back((command, Err(error)));
        self
    }

    /// Starts with a successful SELECT of the JPKI AP.
    fn opened() -> Scripted {
        Scripted::new().then(apdu::select_jpki_ap(), &[0x90, 0x00])
    }

    fn assert_finished(&self) {
        assert!(
            self.steps.is_empty(),
            "{} commands not sent",
            self.steps.len()
        );
    }
}

impl CardTransport for Scripted {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let (expected, response) = self
            .steps
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected extra command {command:02X?}"));
        assert_eq!(command, expected.as_slice(), "command out of script");
        response
    }
}

fn ok(mut data: Vec<u8>) -> Vec<u8> {
    data.extend([0x90, 0x00]);
    data
}

fn pin() -> Pin {
    Pin::parse("1234").expect("valid PIN")
}

#[test]
fn card_pulled_while_reading_the_certificate() {
    let script = Scripted::opened()
        .then(apdu::select_ef(apdu::ef::AUTH_CERTIFICATE), &[0x90, 0x00])
        .then(
            apdu::read_binary(0, 4).expect("fits"),
            &ok(vec![0x30, 0x82, 0x02, 0x00]),
        )
        .then(
            apdu::read_binary(4, 256).expect("fits"),
            &ok(vec![0xAB; 256]),
        )
        .then_fail(
            apdu::read_binary(260, 256).expect("fits"),
            TransportError::CardRemoved,
        );
    let mut card = JpkiCard::open(script).expect("select AP");
    let error = card.read_auth_certificate().expect_err("card pulled");
    assert!(
        matches!(error, CardError::Transport(TransportError::CardRemoved)),
        "{error:?}"
    );
    assert!(error.to_string().contains("card was removed"), "{error}");
    card.into_transport().assert_finished();
}

#[test]
fn card_pulled_during_verify() {
    let script = Scripted::opened()
        .then(apdu::select_ef(apdu::ef::AUTH_PIN), &[0x90, 0x00])
        .then(apdu::verify_status(), &[0x63, 0xC3])
        .then_fail(apdu::verify_pin(&pin()), TransportError::CardRemoved);
    let mut card = JpkiCard::open(script).expect("select AP");
    let error = card.verify_pin(&pin()).expect_err("card pulled");
    assert!(matches!(
        error,
        CardError::Transport(TransportError::CardRemoved)
    ));
    card.into_transport().assert_finished();
}

#[test]
fn certificate_read_in_chunks_with_an_exact_length() {
    let mut certificate = vec![0x30, 0x82, 0x01, 0x01];
    certificate.extend((0..0x101).map(|i| i as u8));
    let script = Scripted::opened()
        .then(apdu::select_ef(apdu::ef::AUTH_CERTIFICATE), &[0x90, 0x00])
        .then(
            apdu::read_binary(0, 4).expect("fits"),
            &ok(certificate[..4].to_vec()),
        )
        .then(
            apdu::read_binary(4, 256).expect("fits"),
            &ok(certificate[4..260].to_vec()),
        )
        .then(
            apdu::read_binary(260, 1).expect("fits"),
            &ok(certificate[260..].to_vec()),
        );
    let mut card = JpkiCard::open(script).expect("select AP");
    assert_eq!(card.read_auth_certificate().expect("read"), certificate);
    card.into_transport().assert_finished();
}

#[test]
fn oversized_certificate_is_rejected_before_reading_it() {
    let script = Scripted::opened()
        .then(apdu::select_ef(apdu::ef::AUTH_CERTIFICATE), &[0x90, 0x00])
        .then(
            apdu::read_binary(0, 4).expect("fits"),
            &ok(vec![0x30, 0x82, 0x20, 0x01]),
        );
    let mut card = JpkiCard::open(script).expect("select AP");
    let error = card.read_auth_certificate().expect_err("too large");
    assert!(
        matches!(error, CardError::CertificateTooLarge { len: 0x2005 }),
        "{error:?}"
    );
    card.into_transport().assert_finished();
}

#[test]
fn short_read_is_a_malformed_certificate() {
    let script = Scripted::opened()
        .then(apdu::select_ef(apdu::ef::AUTH_CERTIFICATE), &[0x90, 0x00])
        .then(
            apdu::read_binary(0, 4).expect("fits"),
            &ok(vec![0x30, 0x82, 0x00, 0x10]),
        )
        .then(
            apdu::read_binary(4, 16).expect("fits"),
            &[0x01, 0x02, 0x62, 0x82],
        );
    let mut card = JpkiCard::open(script).expect("select AP");
    let error = card.read_auth_certificate().expect_err("short");
    assert!(
        matches!(error, CardError::MalformedCertificate(_)),
        "{error:?}"
    );
}

#[test]
fn unexpected_status_words_are_reported_in_hex() {
    let not_jpki = Scripted::new().then(apdu::select_jpki_ap(), &[0x6A, 0x82]);
    let error = JpkiCard::open(not_jpki).err().expect("no JPKI AP");
    assert!(matches!(error, CardError::NotJpkiCard), "{error:?}");

    let script =
        Scripted::opened().then(apdu::select_ef(apdu::ef::AUTH_CERTIFICATE), &[0x6F, 0x00]);
    let mut card = JpkiCard::open(script).expect("select AP");
    let error = card.read_auth_certificate().expect_err("6F 00");
    assert!(
        matches!(
            error,
            CardError::UnexpectedStatus {
                sw: StatusWord(0x6F00),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("6F 00"), "{error}");

    let script = Scripted::opened()
        .then(apdu::select_ef(apdu::ef::AUTH_PIN), &[0x90, 0x00])
        .then(apdu::verify_status(), &[0x63, 0xC3])
        .then(apdu::verify_pin(&pin()), &[0x65, 0x81]);
    let mut card = JpkiCard::open(script).expect("select AP");
    let error = card.verify_pin(&pin()).expect_err("memory failure");
    assert!(error.to_string().contains("65 81"), "{error}");
}

#[test]
fn a_response_without_status_word_is_an_error() {
    let script = Scripted::new().then(apdu::select_jpki_ap(), &[0x90]);
    let error = JpkiCard::open(script).err().expect("one byte");
    assert!(
        matches!(error, CardError::MalformedResponse { len: 1 }),
        "{error:?}"
    );
}

#[test]
fn pin_status_variants() {
    let script = Scripted::opened()
        .then(apdu::select_ef(apdu::ef::AUTH_PIN), &[0x90, 0x00])
        .then(apdu::verify_status(), &[0x63, 0xC1])
        .then(apdu::select_ef(apdu::ef::AUTH_PIN), &[0x90, 0x00])
        .then(apdu::verify_status(), &[0x69, 0x84])
        .then(apdu::select_ef(apdu::ef::AUTH_PIN), &[0x90, 0x00])
        .then(apdu::verify_status(), &[0x63, 0xC0])
        .then(apdu::select_ef(apdu::ef::AUTH_PIN), &[0x90, 0x00])
        .then(apdu::verify_status(), &[0x90, 0x00]);
    let mut card = JpkiCard::open(script).expect("select AP");
    assert_eq!(card.pin_status().expect("1 left"), PinStatus::TriesLeft(1));
    assert_eq!(card.pin_status().expect("69 84"), PinStatus::Blocked);
    assert_eq!(card.pin_status().expect("63 C0"), PinStatus::Blocked);
    assert_eq!(
        card.pin_status().expect("verified"),
        PinStatus::TriesLeft(3)
    );
    card.into_transport().assert_finished();
}

#[test]
fn get_response_collects_a_t0_signature() {
    let digest_info = [0x5A; 51];
    let signature: Vec<u8> = (0..=255).collect();
    let script = Scripted::opened()
        .then(apdu::select_ef(apdu::ef::AUTH_KEY), &[0x90, 0x00])
        .then(
            apdu::compute_digital_signature(&digest_info).expect("fits"),
            &[0x61, 0x00],
        )
        .then(apdu::get_response(0x00), &ok(signature.clone()));
    let mut card = JpkiCard::open(script).expect("select AP");
    assert_eq!(
        card.sign_digest_info(&digest_info).expect("sign"),
        signature
    );
    card.into_transport().assert_finished();
}

#[test]
fn oversized_digest_info_is_refused_without_talking_to_the_card() {
    let mut card = JpkiCard::open(Scripted::opened()).expect("select AP");
    let error = card.sign_digest_info(&[0u8; 300]).expect_err("too long");
    assert!(matches!(error, CardError::DigestInfoLength { len: 300 }));
    let error = card.sign_digest_info(&[]).expect_err("empty");
    assert!(matches!(error, CardError::DigestInfoLength { len: 0 }));
    card.into_transport().assert_finished();
}

#[test]
fn transports_can_be_boxed_or_borrowed() {
    let mut borrowed = Scripted::opened();
    JpkiCard::open(&mut borrowed).expect("borrowed transport");
    borrowed.assert_finished();

    let boxed: Box<dyn CardTransport> = Box::new(Scripted::opened());
    JpkiCard::open(boxed).expect("boxed transport");
}
