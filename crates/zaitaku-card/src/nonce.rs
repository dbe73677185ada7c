//! Challenge nonces: 32 random bytes, sent and signed as their base64 text.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

const NONCE_BYTES: usize = 32;
/// Longest nonce text we accept from elsewhere (a server of another make may use more bytes).
const MAX_NONCE_TEXT: usize = 256;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ChallengeNonce(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    #[error("the nonce is not standard base64")]
    NotBase64,
    #[error("the nonce must carry at least {NONCE_BYTES} random bytes, this one has {0}")]
    TooShort(usize),
    #[error("the nonce is longer than {MAX_NONCE_TEXT} characters")]
    TooLong,
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

impl ChallengeNonce {
    /// A fresh nonce from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, NonceError> {
        let mut bytes = [0u8; NONCE_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| NonceError::Random(e.to_string()))?;
        Ok(ChallengeNonce(STANDARD.encode(bytes)))
    }

    pub fn parse(text: &str) -> Result<Self, NonceError> {
        if text.len() > MAX_NONCE_TEXT {
            return Err(NonceError::TooLong);
        }
        let bytes = STANDARD.decode(text).map_err(|_| NonceError::NotBase64)?;
        if bytes.len() < NONCE_BYTES {
            return Err(NonceError::TooShort(bytes.len()));
        }
        Ok(ChallengeNonce(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// A live nonce is a bearer secret until used: keep it out of logs.
impl fmt::Debug for ChallengeNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChallengeNonce({}…)", &self.0[..6.min(self.0.len())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_nonces_are_32_bytes_and_differ() {
        let a = ChallengeNonce::generate().unwrap();
        let b = ChallengeNonce::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(a.as_str()).unwrap().len(), 32);
        assert_eq!(ChallengeNonce::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn parse_rejects_short_bad_and_long() {
        assert_eq!(
            ChallengeNonce::parse(&STANDARD.encode([0u8; 16])),
            Err(NonceError::TooShort(16))
        );
        assert_eq!(
            ChallengeNonce::parse("not base64!"),
            Err(NonceError::NotBase64)
        );
        assert_eq!(
            ChallengeNonce::parse(&"A".repeat(300)),
            Err(NonceError::TooLong)
        );
    }

    #[test]
    fn debug_hides_the_nonce() {
        let n = ChallengeNonce::generate().unwrap();
        assert!(!format!("{n:?}").contains(n.as_str()));
    }
}
