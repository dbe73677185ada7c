//! Enrolled devices: which browsers may start flows at an institution's URL
//! (`FlowsFrom`), what a device is called (`DeviceName`), and the one-time
//! activation code typed on a device to enrol it (`ActivationCode`).

use std::fmt;

/// Who may start flows at an institution's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FlowsFrom {
    /// Only the institution's enrolled devices (the default for new institutions).
    #[default]
    Enrolled,
    /// Anyone who knows the URL (the national service's behaviour).
    Anyone,
}

impl FlowsFrom {
    pub const ALL: [FlowsFrom; 2] = [FlowsFrom::Enrolled, FlowsFrom::Anyone];

    pub fn code(self) -> &'static str {
        match self {
            FlowsFrom::Enrolled => "enrolled",
            FlowsFrom::Anyone => "anyone",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The console's label.
    pub fn label(self) -> &'static str {
        match self {
            FlowsFrom::Enrolled => "登録した端末のみ",
            FlowsFrom::Anyone => "すべての端末",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub i64);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A device's name as staff see it (「訪問用タブレット1」): 1 to 32 characters
/// once trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceNameError {
    #[error("a device name has 1 to 32 characters, not {0}")]
    Length(usize),
    #[error("a device name may not hold control characters")]
    Control,
}

impl DeviceName {
    pub const MAX: usize = 32;

    pub fn parse(text: &str) -> Result<Self, DeviceNameError> {
        let text = text.trim();
        let length = text.chars().count();
        if !(1..=Self::MAX).contains(&length) {
            return Err(DeviceNameError::Length(length));
        }
        if text.chars().any(char::is_control) {
            return Err(DeviceNameError::Control);
        }
        Ok(DeviceName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A one-time activation code: 8 symbols of Crockford's base32 (no I, L, O or
/// U), 40 random bits, shown as `XXXX-XXXX`. Typed case-insensitively, with or
/// without the hyphen or spaces; I and L are read as 1 and O as 0, as
/// Crockford's decoding does. It is a credential: its debug output is masked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ActivationCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an activation code is 8 letters and digits, as XXXX-XXXX")]
pub struct ActivationCodeError;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl ActivationCode {
    pub const LEN: usize = 8;

    /// The code these 40 random bits spell.
    pub fn from_random(bytes: [u8; 5]) -> Self {
        let bits = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let code = (0..Self::LEN)
            .rev()
            .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
            .collect();
        ActivationCode(code)
    }

    pub fn parse(text: &str) -> Result<Self, ActivationCodeError> {
        let mut code = String::with_capacity(Self::LEN);
        for c in text.chars() {
            let symbol = match c.to_ascii_uppercase() {
                '-' | ' ' | '\u{3000}' => continue,
                'I' | 'L' => '1',
                'O' => '0',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                _ => return Err(ActivationCodeError),
            };
            code.push(symbol);
            if code.len() > Self::LEN {
                return Err(ActivationCodeError);
            }
        }
        if code.len() == Self::LEN {
            Ok(ActivationCode(code))
        } else {
            Err(ActivationCodeError)
        }
    }

    /// The 8 symbols, upper case, no hyphen: what is hashed and stored.
    pub fn canonical(&self) -> &str {
        &self.0
    }

    /// As shown to staff: `XXXX-XXXX`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_from_codes_round_trip() {
        for f in FlowsFrom::ALL {
            assert_eq!(FlowsFrom::parse(f.code()), Some(f));
        }
        assert_eq!(FlowsFrom::parse("everyone"), None);
        assert_eq!(FlowsFrom::default(), FlowsFrom::Enrolled);
    }

    #[test]
    fn device_names_are_trimmed_and_bounded() {
        assert_eq!(
            DeviceName::parse("  訪問用タブレット1 ").unwrap().as_str(),
            "訪問用タブレット1"
        );
        assert_eq!(DeviceName::parse("   "), Err(DeviceNameError::Length(0)));
        assert!(DeviceName::parse(&"端".repeat(32)).is_ok());
        assert_eq!(
            DeviceName::parse(&"端".repeat(33)),
            Err(DeviceNameError::Length(33))
        );
        assert_eq!(DeviceName::parse("a\u{7}b"), Err(DeviceNameError::Control));
        assert_eq!(DeviceName::parse("a\nb"), Err(DeviceNameError::Control));
    }

    #[test]
    fn activation_codes_use_the_unambiguous_alphabet() {
        let code = ActivationCode::from_random([0xff; 5]);
        assert_eq!(code.canonical(), "ZZZZZZZZ");
        let code = ActivationCode::from_random([0; 5]);
        assert_eq!(code.display(), "0000-0000");
        let code = ActivationCode::from_random([0x12, 0x34, 0x56, 0x78, 0x9a]);
        assert_eq!(code.canonical().len(), 8);
        assert!(!code.canonical().contains(['I', 'L', 'O', 'U']));
        assert_eq!(ActivationCode::parse(&code.display()), Ok(code.clone()));
        assert_eq!(
            ActivationCode::parse(&code.canonical().to_lowercase()),
            Ok(code)
        );
    }

    #[test]
    fn activation_codes_are_typed_loosely_but_not_wrongly() {
        let code = ActivationCode::parse("ab1d-ef23").unwrap();
        assert_eq!(code.display(), "AB1D-EF23");
        assert_eq!(ActivationCode::parse("AB1D EF23"), Ok(code.clone()));
        assert_eq!(ActivationCode::parse("ABID-EF23"), Ok(code.clone()));
        assert_eq!(ActivationCode::parse("ABlD-EF23"), Ok(code));
        assert!(ActivationCode::parse("AB1D-EF2").is_err());
        assert!(ActivationCode::parse("AB1D-EF234").is_err());
        assert!(ActivationCode::parse("AB1D-EF2U").is_err());
        assert!(ActivationCode::parse("AB1D-EF2!").is_err());
        assert!(ActivationCode::parse("").is_err());
        assert_eq!(
            format!("{:?}", ActivationCode::parse("AB1D-EF23").unwrap()),
            "ActivationCode(..)"
        );
    }
}
