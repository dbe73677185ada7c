//! Unguessable identifiers: flows, challenges, sessions, CSRF tokens, URL tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `bytes` random bytes from the OS, base64url without padding.
pub fn token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS generator failing is not recoverable: nothing secure can be made.
    getrandom::fill(&mut buf).expect("the operating system's random generator failed");
    URL_SAFE_NO_PAD.encode(&buf)
}

/// 128 bits: flow ids, challenge references, operation ids need no more.
pub fn id128() -> String {
    token(16)
}

/// 256 bits: session cookies, CSRF tokens, institution URL tokens.
pub fn secret256() -> String {
    token(32)
}

/// Whether `text` looks like one of our ids: base64url only, bounded length. Used
/// to refuse junk before it reaches the store.
pub fn is_id(text: &str) -> bool {
    (16..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_and_well_formed() {
        let (a, b) = (id128(), id128());
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert_eq!(secret256().len(), 43);
        assert!(is_id(&a));
        assert!(!is_id("../../etc/passwd"));
        assert!(!is_id("short"));
    }
}
