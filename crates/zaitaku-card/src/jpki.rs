//! Host-side client of the JPKI user-authentication application.

use crate::apdu::{self, Response, StatusWord, ef};
use crate::pin::Pin;
use crate::transport::{CardTransport, TransportError};

/// Tries a fresh or just-verified PIN has.
pub const MAX_PIN_TRIES: u8 = 3;

/// Certificates larger than this are refused; the real one is about 1.6 KB.
pub const MAX_CERTIFICATE_LEN: usize = 8 * 1024;

/// Bytes read first to learn the DER length (`30 82 LL LL`).
const CERTIFICATE_HEADER_LEN: usize = 4;

/// Guards against a card that keeps answering `61 xx` forever.
const MAX_GET_RESPONSE_ROUNDS: usize = 16;

/// State of the user-authentication PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    TriesLeft(u8),
    /// Three wrong PINs in a row; only the municipal office can reset it.
    Blocked,
}

/// Errors of a JPKI card operation, worded for the end user of a CLI.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("this card has no JPKI application; is it a My Number card?")]
    NotJpkiCard,
    #[error("wrong PIN: {} before the card locks", tries_phrase(*tries_left))]
    WrongPin { tries_left: u8 },
    #[error("the PIN is blocked; it can only be reset at your municipal office")]
    PinBlocked,
    #[error("the card refused to sign: the PIN has not been verified")]
    SecurityStatusNotSatisfied,
    #[error(
        "the certificate on the card claims {len} bytes, more than the {MAX_CERTIFICATE_LEN} allowed"
    )]
    CertificateTooLarge { len: usize },
    #[error("the certificate on the card is malformed: {0}")]
    MalformedCertificate(&'static str),
    #[error("the card's key cannot sign a Web eID token: {0}")]
    UnsupportedKey(String),
    #[error("the card answered with a {len}-byte signature where {expected} bytes were expected")]
    SignatureLength { expected: usize, len: usize },
    #[error("the data to sign is {len} bytes; the card accepts 1 to 255 bytes")]
    DigestInfoLength { len: usize },
    #[error("the card sent a malformed response ({len} bytes, too short for a status word)")]
    MalformedResponse { len: usize },
    #[error("the card answered {command} with the unexpected status {sw}")]
    UnexpectedStatus {
        command: &'static str,
        sw: StatusWord,
    },
}

fn tries_phrase(tries_left: u8) -> String {
    match tries_left {
        1 => "1 try left".to_owned(),
        n => format!("{n} tries left"),
    }
}

/// A JPKI card with its application selected.
///
/// The card keeps the "PIN verified" state for the card session, so sign
/// right after [`JpkiCard::verify_pin`] on the same transport.
pub struct JpkiCard<T: CardTransport> {
    transport: T,
}

impl<T: CardTransport> JpkiCard<T> {
    /// Selects the JPKI application.
    pub fn open(transport: T) -> Result<Self, CardError> {
        let mut card = JpkiCard { transport };
        let response = card.exchange(&apdu::select_jpki_ap())?;
        match response.sw {
            StatusWord::SUCCESS => Ok(card),
            StatusWord::FILE_NOT_FOUND => Err(CardError::NotJpkiCard),
            sw => Err(unexpected("SELECT (JPKI application)", sw)),
        }
    }

    /// Reads the user-authentication certificate (DER). Needs no PIN.
    pub fn read_auth_certificate(&mut self) -> Result<Vec<u8>, CardError> {
        self.select_ef(ef::AUTH_CERTIFICATE, "SELECT (certificate)")?;
        let header = self.read_binary_exact(0, CERTIFICATE_HEADER_LEN)?;
        let total_len = der_sequence_len(&header)?;
        if total_len > MAX_CERTIFICATE_LEN {
            return Err(CardError::CertificateTooLarge { len: total_len });
        }
        let mut certificate = Vec::with_capacity(total_len);
        certificate.extend_from_slice(&header[..total_len.min(header.len())]);
        while certificate.len() < total_len {
            let chunk_len = (total_len - certificate.len()).min(apdu::MAX_SHORT_LE);
            let chunk = self.read_binary_exact(certificate.len(), chunk_len)?;
            certificate.extend_from_slice(&chunk);
        }
        Ok(certificate)
    }

    /// Asks how many PIN tries are left, without spending one.
    pub fn pin_status(&mut self) -> Result<PinStatus, CardError> {
        self.select_ef(ef::AUTH_PIN, "SELECT (PIN)")?;
        let response = self.exchange(&apdu::verify_status())?;
        match response.sw {
            StatusWord::PIN_BLOCKED => Ok(PinStatus::Blocked),
            // Some cards answer 90 00 once the PIN is verified; a correct PIN
            // has just reset the counter.
            StatusWord::SUCCESS => Ok(PinStatus::TriesLeft(MAX_PIN_TRIES)),
            sw => match sw.tries_left() {
                Some(0) => Ok(PinStatus::Blocked),
                Some(tries_left) => Ok(PinStatus::TriesLeft(tries_left)),
                None => Err(unexpected("VERIFY (PIN status)", sw)),
            },
        }
    }

    /// Verifies the PIN. Checks the status first, so a PIN is never sent to a
    /// blocked card.
    pub fn verify_pin(&mut self, pin: &Pin) -> Result<(), CardError> {
        if self.pin_status()? == PinStatus::Blocked {
            return Err(CardError::PinBlocked);
        }
        let response = self.exchange(&apdu::verify_pin(pin))?;
        match response.sw {
            StatusWord::SUCCESS => Ok(()),
            StatusWord::PIN_BLOCKED => Err(CardError::PinBlocked),
            sw => match sw.tries_left() {
                Some(0) => Err(CardError::PinBlocked),
                Some(tries_left) => Err(CardError::WrongPin { tries_left }),
                None => Err(unexpected("VERIFY", sw)),
            },
        }
    }

    /// Signs `digest_info` with the user-authentication key (COMPUTE DIGITAL
    /// SIGNATURE). What a card is given and answers depends on its key; see
    /// [`crate::authenticator`]: an RSA card pads exactly these bytes with PKCS#1 v1.5,
    /// so the result is an RS256 signature when given a SHA-256 DigestInfo.
    pub fn sign_digest_info(&mut self, digest_info: &[u8]) -> Result<Vec<u8>, CardError> {
        let command = apdu::compute_digital_signature(digest_info).map_err(|_| {
            CardError::DigestInfoLength {
                len: digest_info.len(),
            }
        })?;
        self.select_ef(ef::AUTH_KEY, "SELECT (private key)")?;
        let response = self.exchange(&command)?;
        match response.sw {
            StatusWord::SUCCESS => Ok(response.data),
            StatusWord::SECURITY_STATUS_NOT_SATISFIED => Err(CardError::SecurityStatusNotSatisfied),
            sw => Err(unexpected("COMPUTE DIGITAL SIGNATURE", sw)),
        }
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn into_transport(self) -> T {
        self.transport
    }

    fn select_ef(&mut self, file_id: u16, command: &'static str) -> Result<(), CardError> {
        let response = self.exchange(&apdu::select_ef(file_id))?;
        match response.sw {
            StatusWord::SUCCESS => Ok(()),
            sw => Err(unexpected(command, sw)),
        }
    }

    /// Reads exactly `length` bytes; a short read means the DER length lied.
    fn read_binary_exact(&mut self, offset: usize, length: usize) -> Result<Vec<u8>, CardError> {
        let offset = u16::try_from(offset)
            .map_err(|_| CardError::MalformedCertificate("offset out of range"))?;
        let command = apdu::read_binary(offset, length)
            .map_err(|_| CardError::MalformedCertificate("offset out of range"))?;
        let response = self.exchange(&command)?;
        match response.sw {
            StatusWord::SUCCESS | StatusWord::END_OF_FILE if response.data.len() != length => Err(
                CardError::MalformedCertificate("the file is shorter than its DER length"),
            ),
            StatusWord::SUCCESS => Ok(response.data),
            sw => Err(unexpected("READ BINARY", sw)),
        }
    }

    /// Sends a command and collects `61 xx` continuations (T=0 readers).
    fn exchange(&mut self, command: &[u8]) -> Result<Response, CardError> {
        let mut response = self.transmit_once(command)?;
        let mut rounds = 0;
        while let Some(available) = response.sw.bytes_available() {
            rounds += 1;
            if rounds > MAX_GET_RESPONSE_ROUNDS {
                return Err(unexpected("GET RESPONSE", response.sw));
            }
            let next = self.transmit_once(&apdu::get_response(available))?;
            response.data.extend_from_slice(&next.data);
            response.sw = next.sw;
        }
        Ok(response)
    }

    fn transmit_once(&mut self, command: &[u8]) -> Result<Response, CardError> {
        let raw = self.transport.transmit(command)?;
        Response::parse(&raw).ok_or(CardError::MalformedResponse { len: raw.len() })
    }
}

fn unexpected(command: &'static str, sw: StatusWord) -> CardError {
    CardError::UnexpectedStatus { command, sw }
}

/// Total length (header included) of the DER SEQUENCE starting with `header`.
fn der_sequence_len(header: &[u8]) -> Result<usize, CardError> {
    match *header {
        [0x30, short, ..] if short < 0x80 => Ok(2 + usize::from(short)),
        [0x30, 0x81, len, ..] => Ok(3 + usize::from(len)),
        [0x30, 0x82, high, low, ..] => Ok(4 + usize::from(u16::from_be_bytes([high, low]))),
        // 0x83 and longer forms are at least 64 KiB: far above the limit.
        [0x30, 0x83..=0x84, ..] => Err(CardError::CertificateTooLarge { len: usize::MAX }),
        [0x30, ..] => Err(CardError::MalformedCertificate(
            "unsupported DER length encoding",
        )),
        _ => Err(CardError::MalformedCertificate(
            "it does not start with a DER SEQUENCE",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert_eq!(der_sequence_len(&[0x30, 0x82, 0x06, 0x21]).ok(), Some(1573));
        assert_eq!(der_sequence_len(&[0x30, 0x81, 0x90, 0x02]).ok(), Some(147));
        assert_eq!(der_sequence_len(&[0x30, 0x02, 0x05, 0x00]).ok(), Some(4));
        assert!(matches!(
            der_sequence_len(&[0x04, 0x82, 0x06, 0x21]),
            Err(CardError::MalformedCertificate(_))
        ));
        assert!(matches!(
            der_sequence_len(&[0x30, 0x80, 0x00, 0x00]),
            Err(CardError::MalformedCertificate(_))
        ));
    }

    #[test]
    fn messages_for_end_users() {
        assert_eq!(
            CardError::WrongPin { tries_left: 2 }.to_string(),
            "wrong PIN: 2 tries left before the card locks"
        );
        assert_eq!(
            CardError::WrongPin { tries_left: 1 }.to_string(),
            "wrong PIN: 1 try left before the card locks"
        );
        assert_eq!(
            CardError::PinBlocked.to_string(),
            "the PIN is blocked; it can only be reset at your municipal office"
        );
        assert_eq!(
            CardError::SecurityStatusNotSatisfied.to_string(),
            "the card refused to sign: the PIN has not been verified"
        );
        assert_eq!(
            CardError::UnexpectedStatus {
                command: "READ BINARY",
                sw: StatusWord(0x6A82)
            }
            .to_string(),
            "the card answered READ BINARY with the unexpected status 6A 82"
        );
    }
}
