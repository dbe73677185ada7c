//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA-1, 30-second
//! steps, 6 digits, what every authenticator app understands. The server accepts
//! the step before and after the current one (clock drift), and never a step at
//! or before the last one it accepted, so a code cannot be used twice.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;
/// 160 bits, the length RFC 4226 recommends (SHA-1's output).
const SECRET_BYTES: usize = 20;

/// A shared TOTP secret, as authenticator apps take it: base32 without padding.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    pub fn generate() -> TotpSecret {
        let mut bytes = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
        TotpSecret(bytes)
    }

    /// Base32 (RFC 4648) letters; spaces and lower case are accepted, padding is not needed.
    pub fn parse(base32: &str) -> Option<TotpSecret> {
        let bytes = base32_decode(base32)?;
        (bytes.len() >= 10).then_some(TotpSecret(bytes))
    }

    pub fn base32(&self) -> String {
        base32_encode(&self.0)
    }

    /// The code of time step `step`, with `digits` digits (RFC 4226 §5.3).
    pub fn code_at_step(&self, step: i64, digits: u32) -> String {
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any length");
        mac.update(&step.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let offset = usize::from(digest[digest.len() - 1] & 0x0f);
        let binary = u32::from_be_bytes([
            digest[offset] & 0x7f,
            digest[offset + 1],
            digest[offset + 2],
            digest[offset + 3],
        ]);
        let value = binary % 10u32.pow(digits);
        format!("{value:0width$}", width = digits as usize)
    }

    /// The 6-digit code at unix time `unix_seconds`.
    pub fn code_at(&self, unix_seconds: i64) -> String {
        self.code_at_step(step_of(unix_seconds), DIGITS)
    }

    /// The step `code` belongs to, if it is the code of the current step or one
    /// next to it and later than `last_used`. Compared in constant time.
    pub fn verify(&self, code: &str, unix_seconds: i64, last_used: Option<i64>) -> Option<i64> {
        if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = step_of(unix_seconds);
        let mut found = None;
        // Every candidate is computed and compared, whichever matches.
        for step in [now - 1, now, now + 1] {
            let candidate = self.code_at_step(step, DIGITS);
            if bool::from(candidate.as_bytes().ct_eq(code.as_bytes())) {
                found = Some(step);
            }
        }
        found.filter(|step| last_used.is_none_or(|last| *step > last))
    }

    /// The `otpauth://` URI an authenticator app scans (Google's key URI format).
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        let label = format!("{}:{}", percent(issuer), percent(account));
        format!(
            "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            self.base32(),
            percent(issuer)
        )
    }
}

// A secret is never printed by accident.
impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let c = c.to_ascii_uppercase() as u8;
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

fn percent(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1: the 20-byte ASCII seed "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc_6238_test_vectors() {
        let secret = rfc_secret();
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(secret.code_at_step(step_of(time), 8), code, "T = {time}");
            // Six digits are the last six of the eight.
            assert_eq!(secret.code_at(time), code[2..], "T = {time}");
        }
    }

    #[test]
    fn neighbouring_steps_are_accepted_and_a_used_step_never_again() {
        let secret = rfc_secret();
        let now = 1_111_111_111;
        let step = step_of(now);
        let current = secret.code_at(now);
        assert_eq!(secret.verify(&current, now, None), Some(step));
        let previous = secret.code_at(now - 30);
        assert_eq!(secret.verify(&previous, now, None), Some(step - 1));
        let next = secret.code_at(now + 30);
        assert_eq!(secret.verify(&next, now, None), Some(step + 1));
        assert_eq!(secret.verify(&secret.code_at(now - 60), now, None), None);
        assert_eq!(secret.verify(&secret.code_at(now + 60), now, None), None);
        // Used: refused; a later step is still fine.
        assert_eq!(secret.verify(&current, now, Some(step)), None);
        assert_eq!(secret.verify(&previous, now, Some(step - 1)), None);
        assert_eq!(secret.verify(&next, now, Some(step)), Some(step + 1));
        for junk in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            assert_eq!(secret.verify(junk, now, None), None, "{junk}");
        }
    }

    #[test]
    fn base32_round_trips_as_rfc_4648_says() {
        // RFC 4648 §10 (padding left off).
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"fooba"), "MZXW6YTB");
        assert_eq!(base32_encode(b"f"), "MY");
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert!(base32_decode("MZ1W").is_none());
        let secret = TotpSecret::generate();
        assert_eq!(secret.base32().len(), 32);
        assert_eq!(TotpSecret::parse(&secret.base32()), Some(secret));
        assert!(TotpSecret::parse("MZXW").is_none(), "too short a secret");
    }

    #[test]
    fn the_uri_names_issuer_account_and_parameters() {
        let uri = TotpSecret(b"foobar-foobar".to_vec()).uri("Zaitaku 在宅", "sato");
        assert!(uri.starts_with("otpauth://totp/Zaitaku%20%E5%9C%A8%E5%AE%85:sato?secret="));
        assert!(uri.ends_with("&algorithm=SHA1&digits=6&period=30"));
        assert_eq!(format!("{:?}", TotpSecret::generate()), "TotpSecret(…)");
    }
}
