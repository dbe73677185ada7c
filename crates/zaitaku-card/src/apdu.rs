//! ISO 7816-4 short APDUs for the JPKI user-authentication application.
//!
//! Builders produce the exact bytes the card expects; [`Response`] splits the
//! card's answer into data and status word.

use std::fmt;

/// AID of the JPKI application (the "AP").
pub const JPKI_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];

/// Elementary files of the user-authentication part of the JPKI application.
pub mod ef {
    /// User-authentication certificate; readable without a PIN.
    pub const AUTH_CERTIFICATE: u16 = 0x000A;
    /// User-authentication private key, used by COMPUTE DIGITAL SIGNATURE.
    pub const AUTH_KEY: u16 = 0x0017;
    /// User-authentication PIN, used by VERIFY.
    pub const AUTH_PIN: u16 = 0x0018;
    /// PIN of the digital-signature part (6 to 16 characters, 5 tries), which
    /// Zaitaku never uses; OpenSC asks its tries left when it binds the card.
    pub const SIGN_PIN: u16 = 0x001B;
}

/// Largest response data a short APDU can ask for (Le = 00 means 256).
pub const MAX_SHORT_LE: usize = 256;

/// Largest command data a short APDU can carry.
pub const MAX_SHORT_LC: usize = 255;

pub const CLA_ISO: u8 = 0x00;
pub const CLA_PROPRIETARY: u8 = 0x80;
pub const INS_SELECT: u8 = 0xA4;
pub const INS_READ_BINARY: u8 = 0xB0;
pub const INS_VERIFY: u8 = 0x20;
pub const INS_COMPUTE_DIGITAL_SIGNATURE: u8 = 0x2A;
pub const INS_GET_RESPONSE: u8 = 0xC0;

/// SELECT by DF name of the JPKI application, no response data.
pub fn select_jpki_ap() -> Vec<u8> {
    let mut command = vec![CLA_ISO, INS_SELECT, 0x04, 0x0C, JPKI_AID.len() as u8];
    command.extend_from_slice(&JPKI_AID);
    command
}

/// SELECT of an elementary file by its file identifier, no response data.
pub fn select_ef(file_id: u16) -> Vec<u8> {
    let [high, low] = file_id.to_be_bytes();
    vec![CLA_ISO, INS_SELECT, 0x02, 0x0C, 0x02, high, low]
}

/// READ BINARY of `length` bytes (1 to 256) at `offset` (at most 0x7FFF,
/// because bit 8 of P1 would mean a short EF identifier).
pub fn read_binary(offset: u16, length: usize) -> Result<Vec<u8>, ApduBuildError> {
    if offset > 0x7FFF {
        return Err(ApduBuildError::OffsetTooLarge(offset));
    }
    if length == 0 || length > MAX_SHORT_LE {
        return Err(ApduBuildError::ResponseLengthOutOfRange(length));
    }
    let [high, low] = offset.to_be_bytes();
    // 256 is encoded as 00 in a short Le; every other value fits in one byte.
    let le = (length % MAX_SHORT_LE) as u8;
    Ok(vec![CLA_ISO, INS_READ_BINARY, high, low, le])
}

/// VERIFY without data: asks for the PIN status without spending a try.
pub fn verify_status() -> Vec<u8> {
    vec![CLA_ISO, INS_VERIFY, 0x00, 0x80]
}

/// VERIFY with the PIN.
pub fn verify_pin(pin: &crate::Pin) -> Vec<u8> {
    let digits = pin.as_bytes();
    let mut command = vec![CLA_ISO, INS_VERIFY, 0x00, 0x80, digits.len() as u8];
    command.extend_from_slice(digits);
    command
}

/// COMPUTE DIGITAL SIGNATURE over `digest_info`, asking for all response data.
pub fn compute_digital_signature(digest_info: &[u8]) -> Result<Vec<u8>, ApduBuildError> {
    if digest_info.is_empty() || digest_info.len() > MAX_SHORT_LC {
        return Err(ApduBuildError::DataLengthOutOfRange(digest_info.len()));
    }
    let mut command = vec![
        CLA_PROPRIETARY,
        INS_COMPUTE_DIGITAL_SIGNATURE,
        0x00,
        0x80,
        digest_info.len() as u8,
    ];
    command.extend_from_slice(digest_info);
    command.push(0x00);
    Ok(command)
}

/// GET RESPONSE, used when a T=0 card answers `61 xx`.
pub fn get_response(length: u8) -> Vec<u8> {
    vec![CLA_ISO, INS_GET_RESPONSE, 0x00, 0x00, length]
}

/// A value that does not fit in a short APDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApduBuildError {
    #[error("READ BINARY offset {0:#06x} is beyond 0x7FFF")]
    OffsetTooLarge(u16),
    #[error("a short APDU can ask for 1 to 256 bytes, not {0}")]
    ResponseLengthOutOfRange(usize),
    #[error("a short APDU can carry 1 to 255 bytes of data, not {0}")]
    DataLengthOutOfRange(usize),
}

/// ISO 7816-4 status word (SW1 SW2).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const SUCCESS: StatusWord = StatusWord(0x9000);
    /// Warning: end of file reached before reading Le bytes.
    pub const END_OF_FILE: StatusWord = StatusWord(0x6282);
    /// Wrong length (Lc or Le).
    pub const WRONG_LENGTH: StatusWord = StatusWord(0x6700);
    /// Security status not satisfied: the PIN has not been verified.
    pub const SECURITY_STATUS_NOT_SATISFIED: StatusWord = StatusWord(0x6982);
    /// Authentication method blocked: the PIN is blocked.
    pub const PIN_BLOCKED: StatusWord = StatusWord(0x6984);
    /// Command not allowed: no current EF, or the wrong kind of EF.
    pub const COMMAND_NOT_ALLOWED: StatusWord = StatusWord(0x6986);
    pub const FILE_NOT_FOUND: StatusWord = StatusWord(0x6A82);
    /// Wrong P1/P2, including an offset beyond the end of the file.
    pub const WRONG_P1_P2: StatusWord = StatusWord(0x6B00);
    pub const INS_NOT_SUPPORTED: StatusWord = StatusWord(0x6D00);
    pub const CLA_NOT_SUPPORTED: StatusWord = StatusWord(0x6E00);
    /// No precise diagnosis.
    pub const UNKNOWN_ERROR: StatusWord = StatusWord(0x6F00);

    pub fn from_bytes(sw1: u8, sw2: u8) -> StatusWord {
        StatusWord(u16::from_be_bytes([sw1, sw2]))
    }

    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }

    pub fn sw1(self) -> u8 {
        self.to_bytes()[0]
    }

    pub fn sw2(self) -> u8 {
        self.to_bytes()[1]
    }

    pub fn is_success(self) -> bool {
        self == StatusWord::SUCCESS
    }

    /// For `63 Cx` (verification failed / PIN status), the tries left `x`.
    pub fn tries_left(self) -> Option<u8> {
        (self.sw1() == 0x63 && self.sw2() & 0xF0 == 0xC0).then_some(self.sw2() & 0x0F)
    }

    /// The `63 Cx` status word for `tries_left` (at most 15).
    pub fn with_tries_left(tries_left: u8) -> StatusWord {
        StatusWord::from_bytes(0x63, 0xC0 | (tries_left & 0x0F))
    }

    /// For `61 xx` (more response data waiting for GET RESPONSE), `xx`.
    pub fn bytes_available(self) -> Option<u8> {
        (self.sw1() == 0x61).then_some(self.sw2())
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X} {:02X}", self.sw1(), self.sw2())
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({:04X})", self.0)
    }
}

/// A response APDU: data followed by the status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: StatusWord,
}

impl Response {
    /// Splits raw response bytes; `None` when they are too short to hold SW1 SW2.
    pub fn parse(raw: &[u8]) -> Option<Response> {
        let (data, sw) = raw.split_last_chunk::<2>()?;
        Some(Response {
            data: data.to_vec(),
            sw: StatusWord::from_bytes(sw[0], sw[1]),
        })
    }

    pub fn new(data: Vec<u8>, sw: StatusWord) -> Response {
        Response { data, sw }
    }

    /// Raw bytes as sent by a card: data then SW1 SW2.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(self.data.len() + 2);
        raw.extend_from_slice(&self.data);
        raw.extend_from_slice(&self.sw.to_bytes());
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_commands_match_the_jpki_bytes() {
        assert_eq!(
            select_jpki_ap(),
            [
                0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00,
                0x01
            ]
        );
        assert_eq!(
            select_ef(ef::AUTH_CERTIFICATE),
            [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]
        );
        assert_eq!(
            select_ef(ef::AUTH_PIN),
            [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18]
        );
    }

    #[test]
    fn read_binary_encodes_offset_and_le() {
        assert_eq!(read_binary(0, 4), Ok(vec![0x00, 0xB0, 0x00, 0x00, 0x04]));
        assert_eq!(
            read_binary(0x0104, 256),
            Ok(vec![0x00, 0xB0, 0x01, 0x04, 0x00])
        );
        assert_eq!(
            read_binary(0x8000, 4),
            Err(ApduBuildError::OffsetTooLarge(0x8000))
        );
        assert_eq!(
            read_binary(0, 257),
            Err(ApduBuildError::ResponseLengthOutOfRange(257))
        );
    }

    #[test]
    fn verify_and_sign_commands() {
        let pin = crate::Pin::parse("1234").expect("valid PIN");
        assert_eq!(verify_status(), [0x00, 0x20, 0x00, 0x80]);
        assert_eq!(
            verify_pin(&pin),
            [0x00, 0x20, 0x00, 0x80, 0x04, b'1', b'2', b'3', b'4']
        );
        let command = compute_digital_signature(&[0xAA; 51]).expect("fits");
        assert_eq!(&command[..5], &[0x80, 0x2A, 0x00, 0x80, 51]);
        assert_eq!(command.len(), 5 + 51 + 1);
        assert_eq!(command.last(), Some(&0x00));
        assert!(compute_digital_signature(&[]).is_err());
        assert!(compute_digital_signature(&[0; 256]).is_err());
    }

    #[test]
    fn status_word_helpers() {
        assert_eq!(StatusWord(0x63C2).tries_left(), Some(2));
        assert_eq!(StatusWord(0x63C0).tries_left(), Some(0));
        assert_eq!(StatusWord(0x6300).tries_left(), None);
        assert_eq!(StatusWord::PIN_BLOCKED.tries_left(), None);
        assert_eq!(StatusWord::with_tries_left(3), StatusWord(0x63C3));
        assert_eq!(StatusWord(0x6110).bytes_available(), Some(0x10));
        assert_eq!(StatusWord::FILE_NOT_FOUND.to_string(), "6A 82");
    }

    #[test]
    fn response_parse_splits_status_word() {
        let response = Response::parse(&[0x01, 0x02, 0x90, 0x00]).expect("long enough");
        assert_eq!(response.data, [0x01, 0x02]);
        assert!(response.sw.is_success());
        assert_eq!(response.to_bytes(), [0x01, 0x02, 0x90, 0x00]);
        assert_eq!(Response::parse(&[0x90]), None);
    }
}
