//! The terminal's side of the card session of `card auth`: the tries left and the
//! warning go to a writer (standard error), the PIN comes from a closure. The
//! session itself is `zaitaku_auth_client::session`, shared with the desktop app.

use std::io::Write;
use zaitaku_auth_client::CLI_APP_VERSION;
pub(super) use zaitaku_auth_client::session::SessionError;
use zaitaku_auth_client::session::SessionEvents;
use zaitaku_card::{CardTransport, ChallengeNonce, Origin, Pin, WebEidToken};
// The tests below name the card's errors through `use super::*`.
#[cfg(test)]
use zaitaku_card::CardError;

/// Printed when the next wrong PIN would block the card.
pub(super) const LAST_TRY_WARNING: &str = "warning: 1 PIN try left; one more wrong PIN blocks the card until the municipal office resets it";

/// The session's events, told in a terminal.
struct Terminal<'a, F> {
    get_pin: Option<F>,
    messages: &'a mut dyn Write,
}

impl<F: FnOnce() -> Result<Pin, String>> SessionEvents for Terminal<'_, F> {
    fn tries_left(&mut self, tries_left: u8) {
        // Messages are a courtesy: a closed standard error must not stop the session.
        let _ = writeln!(self.messages, "PIN tries left: {tries_left}");
        if tries_left == 1 {
            let _ = writeln!(self.messages, "{LAST_TRY_WARNING}");
        }
    }

    fn pin(&mut self) -> Result<Pin, String> {
        let get_pin = self
            .get_pin
            .take()
            .ok_or_else(|| "the PIN was already asked for".to_owned())?;
        get_pin()
    }
}

/// Has the card on `transport` sign the challenge `nonce` for `origin`, writing the
/// tries left (and a warning at one) to `messages` before calling `get_pin`. A
/// blocked card is never asked for a PIN, let alone sent one.
pub(super) fn sign_with_card<T: CardTransport>(
    transport: T,
    origin: &Origin,
    nonce: &ChallengeNonce,
    get_pin: impl FnOnce() -> Result<Pin, String>,
    messages: &mut dyn Write,
) -> Result<WebEidToken, SessionError> {
    let mut terminal = Terminal {
        get_pin: Some(get_pin),
        messages,
    };
    zaitaku_auth_client::sign_with_card(transport, origin, nonce, CLI_APP_VERSION, &mut terminal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::sync::OnceLock;
    use std::time::SystemTime;
    use zaitaku_card::simulated::{Apdu, Exchange, Removal, SimulatedCard};
    use zaitaku_card::test_ca::{DEFAULT_CA_NAME, TestCa};
    use zaitaku_card::token::signed_value_hash;
    use zaitaku_card::validate::trust::TrustAnchor;
    use zaitaku_card::{Validator, ValidatorConfig, oids, sha256_digest_info};

    const PIN: &str = "7391";
    const WRONG_PIN: &str = "5555";
    const ORIGIN: &str = "https://zaitaku.example.jp";

    /// One CA and one card key per test binary: RSA key generation is the slow part.
    fn ca() -> &'static TestCa {
        static CA: OnceLock<TestCa> = OnceLock::new();
        CA.get_or_init(|| TestCa::generate(DEFAULT_CA_NAME).unwrap())
    }

    /// A fresh copy of one card (key, certificate, full PIN counter).
    fn card() -> SimulatedCard {
        static CARD: OnceLock<SimulatedCard> = OnceLock::new();
        CARD.get_or_init(|| SimulatedCard::issue(ca(), pin(PIN)).unwrap())
            .clone()
    }

    fn pin(text: &str) -> Pin {
        Pin::parse(text).unwrap()
    }

    fn origin() -> Origin {
        Origin::parse(ORIGIN).unwrap()
    }

    /// What one run of the session did.
    struct Run {
        result: Result<WebEidToken, SessionError>,
        messages: String,
        pin_asked: bool,
    }

    fn run(card: &mut SimulatedCard, typed: &str, nonce: &ChallengeNonce) -> Run {
        let asked = Cell::new(false);
        let mut messages = Vec::new();
        let result = sign_with_card(
            &mut *card,
            &origin(),
            nonce,
            || {
                asked.set(true);
                Ok(pin(typed))
            },
            &mut messages,
        );
        Run {
            result,
            messages: String::from_utf8(messages).unwrap(),
            pin_asked: asked.get(),
        }
    }

    fn validator() -> Validator {
        let ca = ca();
        let anchor =
            TrustAnchor::new(ca.certificate().clone(), ca.certificate_der().unwrap()).unwrap();
        let mut config = ValidatorConfig::new(vec![anchor]);
        config.allowed_policies.push(oids::ZAITAKU_TEST_CARD_POLICY);
        Validator::new(config)
    }

    fn hex(text: &str) -> Vec<u8> {
        text.split_whitespace()
            .map(|byte| u8::from_str_radix(byte, 16).unwrap())
            .collect()
    }

    fn commands(card: &SimulatedCard) -> Vec<Vec<u8>> {
        card.transcript()
            .iter()
            .map(|exchange| exchange.command.clone())
            .collect()
    }

    /// domain.md section 6, written out byte for byte rather than with the builders.
    const SELECT_AP: &str = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";
    const SELECT_CERTIFICATE: &str = "00 A4 02 0C 02 00 0A";
    const SELECT_PIN: &str = "00 A4 02 0C 02 00 18";
    const SELECT_KEY: &str = "00 A4 02 0C 02 00 17";
    const PIN_STATUS: &str = "00 20 00 80";

    /// SELECT AP, then the certificate read in 256-byte chunks after its 4-byte header.
    fn opening(certificate_len: usize) -> Vec<Vec<u8>> {
        let mut expected = vec![hex(SELECT_AP), hex(SELECT_CERTIFICATE)];
        expected.push(hex("00 B0 00 00 04"));
        let mut offset = 4;
        while offset < certificate_len {
            let chunk = (certificate_len - offset).min(256);
            let [high, low] = (offset as u16).to_be_bytes();
            expected.push(vec![0x00, 0xB0, high, low, (chunk % 256) as u8]);
            offset += chunk;
        }
        expected
    }

    fn verify_pin(text: &str) -> Vec<u8> {
        let mut command = hex("00 20 00 80 04");
        command.extend_from_slice(text.as_bytes());
        command
    }

    fn sign_command(nonce: &ChallengeNonce) -> Vec<u8> {
        let digest_info = sha256_digest_info(&signed_value_hash(&origin(), nonce));
        let mut command = hex("80 2A 00 80 33");
        command.extend_from_slice(&digest_info);
        command.push(0x00);
        command
    }

    fn assert_removed(run: &Run) {
        let error = run.result.as_ref().expect_err("no token");
        assert!(matches!(error, SessionError::CardRemoved), "{error:?}");
        assert_eq!(
            error.to_string(),
            "the card was removed or stopped answering; place it on the reader and try again"
        );
        assert_eq!(error.page_error(), None, "the page is not told");
    }

    #[test]
    fn the_card_signs_and_the_token_verifies_with_its_certificate() {
        let mut card = card();
        let nonce = ChallengeNonce::generate().unwrap();
        let run = run(&mut card, PIN, &nonce);
        let token = run.result.expect("token");

        let valid = validator()
            .validate_token(
                token.to_json().as_bytes(),
                &origin(),
                &nonce,
                SystemTime::now(),
            )
            .expect("the token verifies");
        // Signed with the key of the certificate the card holds.
        let serial = zaitaku_card::test_ca::serial_of(card.certificate_der()).unwrap();
        assert_eq!(
            valid.certificate.serial,
            zaitaku_card::validate::summary::serial_hex(&serial)
        );
        assert_eq!(run.messages, "PIN tries left: 3\n");
        assert!(run.pin_asked);
        assert_eq!(card.tries_left(), 3);

        let mut expected = opening(card.certificate_der().len());
        expected.extend([
            hex(SELECT_PIN),
            hex(PIN_STATUS),
            // The PIN is asked for here; VERIFY checks the status again before sending it.
            hex(SELECT_PIN),
            hex(PIN_STATUS),
            verify_pin(PIN),
            hex(SELECT_KEY),
            sign_command(&nonce),
        ]);
        assert_eq!(commands(&card), expected);
        // Every answer is 90 00 but the PIN status: 63 C3, three tries.
        for Exchange { command, response } in card.transcript() {
            let response = response.as_ref().expect("answered");
            let sw = &response[response.len() - 2..];
            let expected = if command == &hex(PIN_STATUS) {
                "63 C3"
            } else {
                "90 00"
            };
            assert_eq!(sw, hex(expected), "answer to {command:02X?}");
        }
    }

    #[test]
    fn a_t0_card_hands_over_its_signature_with_get_response() {
        let mut card = card().t0();
        let nonce = ChallengeNonce::generate().unwrap();
        let run = run(&mut card, PIN, &nonce);
        let token = run.result.expect("token");
        validator()
            .validate_token(
                token.to_json().as_bytes(),
                &origin(),
                &nonce,
                SystemTime::now(),
            )
            .expect("the token verifies");
        let sent = commands(&card);
        assert_eq!(sent[sent.len() - 2], sign_command(&nonce));
        assert_eq!(sent[sent.len() - 1], hex("00 C0 00 00 00"));
    }

    #[test]
    fn a_wrong_pin_says_how_many_tries_are_left() {
        let mut card = card();
        let nonce = ChallengeNonce::generate().unwrap();
        let first = run(&mut card, WRONG_PIN, &nonce);
        let error = first.result.expect_err("wrong PIN");
        assert!(matches!(error, SessionError::WrongPin { tries_left: 2 }));
        assert_eq!(
            error.to_string(),
            "wrong PIN: 2 tries left before the card locks"
        );
        assert_eq!(error.page_error(), None, "another try may follow");
        assert_eq!(first.messages, "PIN tries left: 3\n");
        assert_eq!(card.tries_left(), 2);
        assert_eq!(commands(&card).last(), Some(&verify_pin(WRONG_PIN)));
        assert!(!card.commands().contains(&Apdu::Sign));

        let second = run(&mut card, WRONG_PIN, &nonce);
        assert_eq!(
            second.result.expect_err("wrong PIN").to_string(),
            "wrong PIN: 1 try left before the card locks"
        );
        assert_eq!(card.tries_left(), 1);
    }

    #[test]
    fn one_try_left_is_warned_about_and_the_pin_is_still_sent() {
        let mut card = card().with_tries_left(1);
        let nonce = ChallengeNonce::generate().unwrap();
        let run = run(&mut card, PIN, &nonce);
        assert_eq!(
            run.messages,
            format!("PIN tries left: 1\n{LAST_TRY_WARNING}\n")
        );
        assert!(run.pin_asked);
        assert!(card.was_sent_a_pin());
        run.result.expect("the right PIN still works");
        assert_eq!(card.tries_left(), 3, "a right PIN resets the counter");
    }

    #[test]
    fn the_last_wrong_pin_blocks_the_card_and_the_page_is_told() {
        let mut card = card().with_tries_left(1);
        let run = run(&mut card, WRONG_PIN, &ChallengeNonce::generate().unwrap());
        assert!(run.messages.contains(LAST_TRY_WARNING));
        let error = run.result.expect_err("blocked");
        assert!(matches!(error, SessionError::PinBlocked), "{error:?}");
        assert_eq!(error.page_error(), Some("pin_blocked"));
        assert_eq!(card.tries_left(), 0);
    }

    #[test]
    fn a_blocked_card_is_never_asked_for_or_sent_a_pin() {
        let mut card = card().with_tries_left(0);
        let run = run(&mut card, PIN, &ChallengeNonce::generate().unwrap());
        let error = run.result.expect_err("blocked");
        assert!(matches!(error, SessionError::PinBlocked), "{error:?}");
        assert_eq!(
            error.to_string(),
            "the PIN is blocked; it can only be reset at your municipal office"
        );
        assert_eq!(error.page_error(), Some("pin_blocked"));
        assert!(!run.pin_asked, "the PIN was asked for");
        assert_eq!(run.messages, "");

        let mut expected = opening(card.certificate_der().len());
        expected.extend([hex(SELECT_PIN), hex(PIN_STATUS)]);
        assert_eq!(commands(&card), expected);
        assert_eq!(
            card.transcript().last().unwrap().response,
            Some(hex("69 84"))
        );
        assert!(!card.was_sent_a_pin());
        assert!(
            !commands(&card)
                .iter()
                .any(|command| command.starts_with(&hex(PIN_STATUS)) && command.len() > 4)
        );
    }

    #[test]
    fn a_card_pulled_after_select_stops_before_the_pin() {
        let mut card = card().removed(Removal::After(Apdu::SelectAp));
        let run = run(&mut card, PIN, &ChallengeNonce::generate().unwrap());
        assert_removed(&run);
        assert!(!run.pin_asked);
        assert_eq!(
            card.commands(),
            [Apdu::SelectAp, Apdu::SelectEf(0x000A)],
            "nothing after the failed command"
        );
        assert_eq!(card.transcript()[1].response, None);
        assert_eq!(card.tries_left(), 3);
    }

    #[test]
    fn a_card_pulled_after_verify_signs_nothing_and_can_try_again() {
        let mut card = card().removed(Removal::After(Apdu::VerifyPin));
        let nonce = ChallengeNonce::generate().unwrap();
        let pulled = run(&mut card, PIN, &nonce);
        assert_removed(&pulled);
        assert!(pulled.pin_asked);
        assert_eq!(card.tries_left(), 3, "the PIN was right");
        let sent = card.commands();
        assert_eq!(
            sent[sent.len() - 2..],
            [Apdu::VerifyPin, Apdu::SelectEf(0x0017)]
        );
        assert!(!sent.contains(&Apdu::Sign));

        // Back on the reader, the same challenge can still be signed.
        card.reinsert();
        let again = run(&mut card, PIN, &nonce);
        let token = again.result.expect("token on the second try");
        validator()
            .validate_token(
                token.to_json().as_bytes(),
                &origin(),
                &nonce,
                SystemTime::now(),
            )
            .expect("the token verifies");
    }

    #[test]
    fn a_card_pulled_during_verify_or_sign_is_a_removed_card() {
        for at in [
            Apdu::PinStatus,
            Apdu::VerifyPin,
            Apdu::SelectEf(0x0017),
            Apdu::Sign,
        ] {
            let mut card = card().removed(Removal::During(at));
            let run = run(&mut card, PIN, &ChallengeNonce::generate().unwrap());
            assert_removed(&run);
            assert_eq!(card.commands().last(), Some(&at), "{at:?}");
            assert_eq!(card.transcript().last().unwrap().response, None);
        }
    }

    #[test]
    fn a_pin_that_cannot_be_read_is_not_sent() {
        let mut card = card();
        let result = sign_with_card(
            &mut card,
            &origin(),
            &ChallengeNonce::generate().unwrap(),
            || Err("cannot read the PIN: end of input".to_owned()),
            &mut std::io::sink(),
        );
        let error = result.expect_err("no PIN");
        assert_eq!(error.to_string(), "cannot read the PIN: end of input");
        assert_eq!(error.page_error(), None);
        assert!(!card.was_sent_a_pin());
    }

    #[test]
    fn other_card_errors_name_the_card() {
        let error = SessionError::from(CardError::NotJpkiCard);
        assert_eq!(
            error.to_string(),
            "card: this card has no JPKI application; is it a My Number card?"
        );
        assert_eq!(error.page_error(), None);
    }
}
