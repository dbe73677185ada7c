//! A simulated card in a PC/SC reader, for tests (feature `testing`).
//!
//! [`SimulatedCard`] is a My Number card's JPKI user-authentication application
//! held in memory, answering the APDUs of domain.md section 6 byte for byte:
//! SELECT AP `00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01`, SELECT EF
//! `00 A4 02 0C 02 <fid>`, READ BINARY `00 B0` of the certificate (EF 000A),
//! the PIN status `00 20 00 80` → `63 Cx` / `69 84`, VERIFY
//! `00 20 00 80 04 <PIN>` (EF 0018, 3 tries), and COMPUTE DIGITAL SIGNATURE
//! `80 2A 00 80 Lc <DigestInfo> 00` (EF 0017) with a real RSA key, so what it
//! signs verifies against its certificate. A next-generation card
//! ([`SimulatedCard::issue_p384`]) holds a P-384 key instead and signs the
//! 48-byte SHA-384 input with ECDSA, answering r ‖ s, as `authenticator.rs`
//! assumes (the one place that says what such a card is sent).
//!
//! Unlike [`crate::VirtualCard`] it keeps no file, records every command it was
//! sent (the transcript tests assert on), and can be taken off the reader at a
//! chosen point: from then on every command fails with
//! [`TransportError::CardRemoved`], which is what `PcscTransport` turns
//! PC/SC's "removed card" (and "reset", "unpowered", "unresponsive") into.

use p384::ecdsa::signature::hazmat::PrehashSigner;
use rsa::{Pkcs1v15Sign, PublicKey};

use crate::authenticator::{P384_SIGN_INPUT_LEN, P384_SIGNATURE_LEN};
use crate::keys::{KeyKind, KeyPair};

use crate::apdu::{self, Response, StatusWord, ef};
use crate::jpki::MAX_PIN_TRIES;
use crate::pin::Pin;
use crate::test_ca::{self, LeafSpec, TestCa, TestCaError};
use crate::transport::{CardTransport, TransportError};
use crate::virtual_card::command::Command;

/// The kinds of command the JPKI session uses, to script removals and read transcripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apdu {
    /// SELECT of the JPKI application.
    SelectAp,
    /// SELECT of an elementary file (see [`crate::apdu::ef`]).
    SelectEf(u16),
    ReadBinary,
    /// VERIFY without data: how many tries are left.
    PinStatus,
    /// VERIFY carrying a PIN.
    VerifyPin,
    /// COMPUTE DIGITAL SIGNATURE.
    Sign,
    GetResponse,
    Other,
}

impl Apdu {
    /// What kind of command `command` is.
    pub fn of(command: &[u8]) -> Apdu {
        match command {
            [0x00, 0xA4, 0x04, 0x0C, ..] => Apdu::SelectAp,
            [0x00, 0xA4, 0x02, 0x0C, 0x02, high, low] => {
                Apdu::SelectEf(u16::from_be_bytes([*high, *low]))
            }
            [0x00, 0xB0, ..] => Apdu::ReadBinary,
            [0x00, 0x20, 0x00, 0x80] => Apdu::PinStatus,
            [0x00, 0x20, 0x00, 0x80, _, ..] => Apdu::VerifyPin,
            [0x80, 0x2A, ..] => Apdu::Sign,
            [0x00, 0xC0, ..] => Apdu::GetResponse,
            _ => Apdu::Other,
        }
    }
}

/// When the card leaves the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The card answers the first command of this kind, then is gone: the next
    /// command fails.
    After(Apdu),
    /// The card carries out the first command of this kind but is gone before
    /// its answer arrives, so the host gets an error for that command. A VERIFY
    /// lost this way may still have spent a try, as on a real card.
    During(Apdu),
}

/// One command the host sent and what came back; `None` when the card was gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub command: Vec<u8>,
    pub response: Option<Vec<u8>>,
}

/// Security state of one card session; lost when the card leaves the reader.
#[derive(Debug, Default, Clone)]
struct Session {
    ap_selected: bool,
    current_ef: Option<u16>,
    pin_verified: bool,
    /// A T=0 card's answer waiting for GET RESPONSE.
    pending: Option<Vec<u8>>,
}

/// A JPKI card on a simulated reader. Use it through `&mut` to read the
/// transcript afterwards. A clone is another card with the same key, certificate
/// and state.
#[derive(Clone)]
pub struct SimulatedCard {
    private_key: KeyPair,
    certificate_der: Vec<u8>,
    pin: Pin,
    tries_left: u8,
    session: Session,
    /// Answers signatures with `61 xx` and waits for GET RESPONSE, as T=0 cards do.
    t0: bool,
    removal: Option<Removal>,
    removed: bool,
    transcript: Vec<Exchange>,
}

impl SimulatedCard {
    /// A card holding `private_key` (RSA, or P-384 for the next generation) and
    /// `certificate_der`, with a fresh PIN counter.
    pub fn new(
        private_key: impl Into<KeyPair>,
        certificate_der: Vec<u8>,
        pin: Pin,
    ) -> SimulatedCard {
        SimulatedCard {
            private_key: private_key.into(),
            certificate_der,
            pin,
            tries_left: MAX_PIN_TRIES,
            session: Session::default(),
            t0: false,
            removal: None,
            removed: false,
            transcript: Vec::new(),
        }
    }

    /// A card with a new RSA-2048 key and a JPKI-profile certificate from `ca`.
    pub fn issue(ca: &TestCa, pin: Pin) -> Result<SimulatedCard, TestCaError> {
        let key = test_ca::generate_rsa_key()?;
        let certificate = ca.issue(key.as_public_key(), &LeafSpec::jpki_auth(365)?)?;
        Ok(SimulatedCard::new(key, certificate, pin))
    }

    /// A next-generation card: a new P-384 key and a JPKI-profile certificate
    /// from `ca` (a root of either kind).
    pub fn issue_p384(ca: &TestCa, pin: Pin) -> Result<SimulatedCard, TestCaError> {
        let key = KeyPair::generate(KeyKind::P384)?;
        let certificate = ca.issue(&key, &LeafSpec::jpki_auth(365)?)?;
        Ok(SimulatedCard::new(key, certificate, pin))
    }

    /// Sets the PIN counter, as if wrong PINs had been tried before; 0 is blocked.
    pub fn with_tries_left(mut self, tries_left: u8) -> SimulatedCard {
        self.tries_left = tries_left.min(MAX_PIN_TRIES);
        self
    }

    /// Answers COMPUTE DIGITAL SIGNATURE with `61 00` and the signature to GET RESPONSE.
    pub fn t0(mut self) -> SimulatedCard {
        self.t0 = true;
        self
    }

    /// Takes the card off the reader at `removal`.
    pub fn removed(mut self, removal: Removal) -> SimulatedCard {
        self.removal = Some(removal);
        self
    }

    /// Puts a removed card back: a new card session, nothing selected or verified;
    /// the PIN counter is what the card last stored.
    pub fn reinsert(&mut self) {
        self.removed = false;
        self.removal = None;
        self.session = Session::default();
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The RSA public key; `None` for a P-384 card.
    pub fn public_key(&self) -> Option<&PublicKey> {
        match &self.private_key {
            KeyPair::Rsa(key) => Some(key.as_public_key()),
            _ => None,
        }
    }

    /// PIN tries left; 0 means blocked.
    pub fn tries_left(&self) -> u8 {
        self.tries_left
    }

    pub fn is_removed(&self) -> bool {
        self.removed
    }

    /// Every command sent so far, in order, with the card's answer.
    pub fn transcript(&self) -> &[Exchange] {
        &self.transcript
    }

    /// The kinds of the commands sent so far, in order.
    pub fn commands(&self) -> Vec<Apdu> {
        self.transcript
            .iter()
            .map(|exchange| Apdu::of(&exchange.command))
            .collect()
    }

    /// Whether a VERIFY carrying a PIN was ever sent, answered or not.
    pub fn was_sent_a_pin(&self) -> bool {
        self.commands().contains(&Apdu::VerifyPin)
    }

    fn process(&mut self, raw: &[u8]) -> Response {
        let command = match Command::parse(raw) {
            Ok(command) => command,
            Err(sw) => return sw_only(sw),
        };
        // Anything but GET RESPONSE drops a waiting T=0 answer.
        let pending = self.session.pending.take();
        match (command.cla, command.ins) {
            (apdu::CLA_ISO, apdu::INS_SELECT) => sw_only(self.select(&command)),
            (apdu::CLA_ISO, apdu::INS_READ_BINARY) => self.read_binary(&command),
            (apdu::CLA_ISO, apdu::INS_VERIFY) => sw_only(self.verify(&command)),
            (apdu::CLA_PROPRIETARY, apdu::INS_COMPUTE_DIGITAL_SIGNATURE) => self.sign(&command),
            (apdu::CLA_ISO, apdu::INS_GET_RESPONSE) => get_response(&command, pending),
            (apdu::CLA_ISO | apdu::CLA_PROPRIETARY, _) => sw_only(StatusWord::INS_NOT_SUPPORTED),
            _ => sw_only(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, command: &Command<'_>) -> StatusWord {
        match (command.p1, command.p2) {
            (0x04, 0x0C) if command.data == apdu::JPKI_AID => {
                self.session = Session {
                    ap_selected: true,
                    ..Session::default()
                };
                StatusWord::SUCCESS
            }
            (0x04, 0x0C) => StatusWord::FILE_NOT_FOUND,
            (0x02, 0x0C) => {
                let known = [ef::AUTH_CERTIFICATE, ef::AUTH_KEY, ef::AUTH_PIN];
                match <[u8; 2]>::try_from(command.data).map(u16::from_be_bytes) {
                    Ok(file_id) if self.session.ap_selected && known.contains(&file_id) => {
                        self.session.current_ef = Some(file_id);
                        StatusWord::SUCCESS
                    }
                    Ok(_) => StatusWord::FILE_NOT_FOUND,
                    Err(_) => StatusWord::WRONG_LENGTH,
                }
            }
            _ => StatusWord::WRONG_P1_P2,
        }
    }

    fn read_binary(&self, command: &Command<'_>) -> Response {
        let (true, Some(le)) = (command.data.is_empty(), command.le) else {
            return sw_only(StatusWord::WRONG_LENGTH);
        };
        if command.p1 & 0x80 != 0 {
            return sw_only(StatusWord::WRONG_P1_P2);
        }
        if self.session.current_ef != Some(ef::AUTH_CERTIFICATE) {
            return sw_only(StatusWord::COMMAND_NOT_ALLOWED);
        }
        let offset = usize::from(u16::from_be_bytes([command.p1, command.p2]));
        match self.certificate_der.get(offset..) {
            Some(rest) if rest.len() >= le => {
                Response::new(rest[..le].to_vec(), StatusWord::SUCCESS)
            }
            Some(rest) if !rest.is_empty() => Response::new(rest.to_vec(), StatusWord::END_OF_FILE),
            _ => sw_only(StatusWord::WRONG_P1_P2),
        }
    }

    fn verify(&mut self, command: &Command<'_>) -> StatusWord {
        if (command.p1, command.p2) != (0x00, 0x80) || command.le.is_some() {
            return StatusWord::WRONG_P1_P2;
        }
        if self.session.current_ef != Some(ef::AUTH_PIN) {
            return StatusWord::COMMAND_NOT_ALLOWED;
        }
        if self.tries_left == 0 {
            return StatusWord::PIN_BLOCKED;
        }
        if command.data.is_empty() {
            // ISO 7816-4: no data asks for the state; a verified PIN needs nothing more.
            return if self.session.pin_verified {
                StatusWord::SUCCESS
            } else {
                StatusWord::with_tries_left(self.tries_left)
            };
        }
        self.session.pin_verified = false;
        if command.data != self.pin.as_bytes() {
            self.tries_left -= 1;
            return StatusWord::with_tries_left(self.tries_left);
        }
        self.tries_left = MAX_PIN_TRIES;
        self.session.pin_verified = true;
        StatusWord::SUCCESS
    }

    fn sign(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0x00, 0x80) || command.data.is_empty() {
            return sw_only(StatusWord::WRONG_P1_P2);
        }
        if self.session.current_ef != Some(ef::AUTH_KEY) {
            return sw_only(StatusWord::COMMAND_NOT_ALLOWED);
        }
        if !self.session.pin_verified {
            return sw_only(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
        }
        let signature = match &self.private_key {
            // The card pads exactly what it is sent (PKCS#1 v1.5) and signs it.
            KeyPair::Rsa(key) => key.sign(Pkcs1v15Sign::new_unprefixed(), command.data).ok(),
            // A P-384 card signs the 48-byte hash it is given: r ‖ s.
            KeyPair::P384(key) if command.data.len() == P384_SIGN_INPUT_LEN => {
                PrehashSigner::<p384::ecdsa::Signature>::sign_prehash(key, command.data)
                    .ok()
                    .map(|s| s.to_bytes().to_vec())
                    .filter(|s| s.len() == P384_SIGNATURE_LEN)
            }
            _ => None,
        };
        let Some(signature) = signature else {
            return sw_only(StatusWord::WRONG_LENGTH);
        };
        if self.t0 {
            let available = (signature.len() % 256) as u8;
            self.session.pending = Some(signature);
            return sw_only(StatusWord::from_bytes(0x61, available));
        }
        Response::new(signature, StatusWord::SUCCESS)
    }
}

impl CardTransport for SimulatedCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.removed {
            self.record(command, None);
            return Err(TransportError::CardRemoved);
        }
        let kind = Apdu::of(command);
        let response = self.process(command).to_bytes();
        match self.removal {
            Some(Removal::During(at)) if at == kind => {
                self.take_off();
                self.record(command, None);
                Err(TransportError::CardRemoved)
            }
            Some(Removal::After(at)) if at == kind => {
                self.take_off();
                self.record(command, Some(response.clone()));
                Ok(response)
            }
            _ => {
                self.record(command, Some(response.clone()));
                Ok(response)
            }
        }
    }
}

impl SimulatedCard {
    fn take_off(&mut self) {
        self.removed = true;
        self.removal = None;
        self.session = Session::default();
    }

    fn record(&mut self, command: &[u8], response: Option<Vec<u8>>) {
        self.transcript.push(Exchange {
            command: command.to_vec(),
            response,
        });
    }
}

fn sw_only(sw: StatusWord) -> Response {
    Response::new(Vec::new(), sw)
}

fn get_response(command: &Command<'_>, pending: Option<Vec<u8>>) -> Response {
    match (pending, command.le) {
        (Some(data), Some(le)) if le == data.len() => Response::new(data, StatusWord::SUCCESS),
        (Some(data), Some(_)) => sw_only(StatusWord::from_bytes(0x6C, (data.len() % 256) as u8)),
        _ => sw_only(StatusWord::COMMAND_NOT_ALLOWED),
    }
}
