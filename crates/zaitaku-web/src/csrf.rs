//! Every form, on the patient screens and in the console, carries its session's
//! CSRF token; this is the one comparison all of them use, and the one rule
//! that makes a token for a session the store does not hold yet.
//!
//! A browser's first page writes nothing (a request that starts nothing must
//! not cost a row): its session id is made and sent in the cookie, and its
//! token is derived from that id, `SHA-256("zaitaku-csrf-v1:" ‖ id)`, so the
//! first form posted can be checked before anything is stored. This is a
//! double-submit token bound to the session: a forged form must carry the
//! token of the victim's cookie, which is 256 random bits, `HttpOnly` (and
//! `__Host-` on https), so another site can neither read it nor, from the
//! token shown in a page, work back to it. A server key (HMAC) would add
//! nothing here, since anyone can fetch a fresh id and its token from any
//! page, and it would have to be shared by every node; a hash needs no key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The CSRF token of the session whose cookie holds `session_id`.
pub fn token_for(session_id: &str) -> String {
    let digest = Sha256::digest(format!("zaitaku-csrf-v1:{session_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

/// Whether the submitted token is the session's, compared in constant time so
/// response timing tells nothing about the expected value.
pub fn token_matches(expected: &str, submitted: &str) -> bool {
    expected.as_bytes().ct_eq(submitted.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abc", "abd"));
        assert!(!token_matches("abc", "ab"));
        assert!(!token_matches("abc", ""));
    }

    #[test]
    fn derived_tokens_are_ids_that_differ_per_session() {
        let id = crate::random::secret256();
        let a = token_for(&id);
        assert!(crate::random::is_id(&a));
        assert_ne!(a, id, "the page never shows the cookie's id");
        assert_eq!(a, token_for(&id), "the same session, the same token");
        assert_ne!(
            token_for("one-session-id-xx"),
            token_for("two-session-id-xx")
        );
    }
}
