//! The 4-digit PIN of the JPKI user-authentication key.

use std::fmt;

/// Number of digits in a JPKI user-authentication PIN.
pub const PIN_LENGTH: usize = 4;

/// A syntactically valid JPKI user-authentication PIN: exactly 4 ASCII digits.
///
/// `Debug` is redacted so a PIN cannot end up in logs by accident. There is
/// deliberately no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin([u8; PIN_LENGTH]);

/// Why a string is not a valid PIN. The messages never repeat the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinFormatError {
    #[error("the PIN is empty; enter the 4-digit PIN of your My Number card")]
    Empty,
    #[error("the PIN must be exactly 4 digits, but {0} characters were given")]
    WrongLength(usize),
    #[error("the PIN must contain only the digits 0-9 (half-width)")]
    NotAsciiDigits,
}

impl Pin {
    /// Parses a PIN. Full-width digits such as "１２３４" are rejected rather
    /// than converted: the card compares raw ASCII bytes.
    pub fn parse(text: &str) -> Result<Pin, PinFormatError> {
        if text.is_empty() {
            return Err(PinFormatError::Empty);
        }
        let char_count = text.chars().count();
        if char_count != PIN_LENGTH {
            return Err(PinFormatError::WrongLength(char_count));
        }
        // Four chars but not four bytes means non-ASCII characters.
        let bytes: [u8; PIN_LENGTH] = text
            .as_bytes()
            .try_into()
            .map_err(|_| PinFormatError::NotAsciiDigits)?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(PinFormatError::NotAsciiDigits);
        }
        Ok(Pin(bytes))
    }

    /// The ASCII bytes sent in the VERIFY command.
    pub fn as_bytes(&self) -> &[u8; PIN_LENGTH] {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

impl std::str::FromStr for Pin {
    type Err = PinFormatError;

    fn from_str(text: &str) -> Result<Pin, PinFormatError> {
        Pin::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_four_ascii_digits() {
        let pin = Pin::parse("0123").expect("valid PIN");
        assert_eq!(pin.as_bytes(), b"0123");
    }

    #[test]
    fn rejects_malformed_pins() {
        assert_eq!(Pin::parse(""), Err(PinFormatError::Empty));
        assert_eq!(Pin::parse("123"), Err(PinFormatError::WrongLength(3)));
        assert_eq!(Pin::parse("12345"), Err(PinFormatError::WrongLength(5)));
        assert_eq!(Pin::parse("12a4"), Err(PinFormatError::NotAsciiDigits));
        assert_eq!(Pin::parse("１２３４"), Err(PinFormatError::NotAsciiDigits));
        assert_eq!(Pin::parse(" 123"), Err(PinFormatError::NotAsciiDigits));
        assert_eq!(Pin::parse("٠١٢٣"), Err(PinFormatError::NotAsciiDigits));
    }

    #[test]
    fn debug_is_redacted() {
        let pin = Pin::parse("9876").expect("valid PIN");
        let shown = format!("{pin:?} {:?}", Some(pin.clone()));
        assert_eq!(format!("{pin:?}"), "Pin(****)");
        assert!(!shown.contains("9876"));
        assert!(!shown.chars().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn error_messages_do_not_echo_the_input() {
        let message = Pin::parse("12a4").unwrap_err().to_string();
        assert!(!message.contains("12a4"));
        assert_eq!(
            Pin::parse("12345").unwrap_err().to_string(),
            "the PIN must be exactly 4 digits, but 5 characters were given"
        );
    }
}
