//! How the card is read, as the manual's devices allow (domain notes §2, §7):
//! on the staff's smartphone itself, or from a tablet/PC through a smartphone
//! that scans a 2D code, or through an IC card reader attached to it.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthMethod {
    /// The smartphone showing the page reads the card (NFC) with its own app.
    #[default]
    SameDevice,
    /// Tablet/PC: the page shows a 2D code; a smartphone's app scans it and reads the card.
    QrCode,
    /// Tablet/PC: a desktop authenticator reads the card in an IC card reader.
    CardReader,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 3] = [
        AuthMethod::SameDevice,
        AuthMethod::QrCode,
        AuthMethod::CardReader,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuthMethod::SameDevice => "phone",
            AuthMethod::QrCode => "qr",
            AuthMethod::CardReader => "reader",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for m in AuthMethod::ALL {
            assert_eq!(AuthMethod::parse(m.code()), Some(m));
        }
        assert_eq!(AuthMethod::parse("nfc"), None);
    }
}
