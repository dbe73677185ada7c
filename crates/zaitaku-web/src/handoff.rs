//! Handing a challenge to an authenticator on another device: the authenticator
//! that fetches it first claims it with a secret only it holds (a code scanned
//! twice is refused the second time), both screens show the same short matching
//! code, and pages waiting on a flow are woken when anything settles.

use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::sync::Notify;

/// Woken whenever a challenge is claimed or settled in this process. Waiters
/// re-read their own flow, so other processes' changes are seen on the next
/// periodic check instead.
static CHANGED: Notify = Notify::const_new();

/// How often a waiting status request re-reads the store when nothing in this
/// process woke it: the bound on "moves on by itself" across processes.
pub const RECHECK: Duration = Duration::from_secs(1);

pub fn announce_change() {
    CHANGED.notify_waiters();
}

/// Wait until something changes here, or `RECHECK` passes.
pub async fn changed_or_recheck() {
    let _ = tokio::time::timeout(RECHECK, CHANGED.notified()).await;
}

/// The 4-digit code both the page and the authenticator show for one challenge,
/// so the staff can see the phone is answering the request on this screen.
pub fn matching_code(nonce: &str) -> String {
    let digest = Sha256::digest(format!("zaitaku-matching-code:{nonce}").as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    format!("{:04}", n % 10_000)
}

/// The stored form of a claim secret.
pub fn claim_hash(secret: &str) -> String {
    crate::session::hash_id(secret)
}

/// Whether `secret` is the one the stored hash was made from.
pub fn claim_matches(stored_hash: &str, secret: &str) -> bool {
    claim_hash(secret)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_codes_are_four_digits_and_differ_between_challenges() {
        let a = matching_code("nonce-a");
        assert_eq!(a.len(), 4);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(a, matching_code("nonce-a"));
        let distinct: std::collections::HashSet<_> =
            (0..50).map(|i| matching_code(&format!("n{i}"))).collect();
        assert!(distinct.len() > 40);
    }

    #[test]
    fn claims_match_only_their_secret() {
        let stored = claim_hash("secret");
        assert!(claim_matches(&stored, "secret"));
        assert!(!claim_matches(&stored, "secreT"));
        assert!(!claim_matches(&stored, ""));
    }
}
