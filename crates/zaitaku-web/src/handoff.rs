//! Handing a challenge to an authenticator on another device: the authenticator
//! that fetches it first claims it with a secret only it holds (a code scanned
//! twice is refused the second time), both screens show the same short matching
//! code, and the pages waiting on a flow are woken when its challenge is claimed
//! or settled.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

pub use crate::limits::PollCaps;

/// How often a waiting status request re-reads the store when nothing in this
/// process woke it: the bound on "moves on by itself" across processes.
pub const RECHECK: Duration = Duration::from_secs(1);

/// The pages of this process waiting on each flow. A claim or settlement wakes
/// the waiters of its own flow only; other processes' changes are seen at the
/// next `RECHECK`. An entry lives while someone waits on it. How many wait, on
/// one flow and in all, is capped (`PollCaps`): each waiter holds a connection.
#[derive(Clone, Default)]
pub struct Wakeups(Arc<Mutex<Waiting>>);

#[derive(Default)]
struct Waiting {
    by_flow: HashMap<String, Arc<Notify>>,
    total: usize,
}

impl Wakeups {
    /// Wakes every page of this process now waiting on `flow_id`.
    pub fn announce(&self, flow_id: &str) {
        // Notified under the lock, so reference counts change only under it
        // (see `Waiter::drop`).
        if let Some(notify) = self.lock().by_flow.get(flow_id) {
            notify.notify_waiters();
        }
    }

    /// Registers a page waiting on `flow_id`, unless `caps` are reached.
    pub fn waiter(&self, flow_id: &str, caps: PollCaps) -> Option<Waiter> {
        let mut waiting = self.lock();
        if waiting.total >= caps.in_all {
            return None;
        }
        let entry = waiting.by_flow.entry(flow_id.to_owned()).or_default();
        // The map's own reference and one per waiter.
        if Arc::strong_count(entry) > caps.per_flow {
            if Arc::strong_count(entry) == 1 {
                waiting.by_flow.remove(flow_id); // made just now, for nobody
            }
            return None;
        }
        let notify = Arc::clone(entry);
        waiting.total += 1;
        Some(Waiter {
            wakeups: self.clone(),
            flow_id: flow_id.to_owned(),
            notify,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // Only map operations run under the lock; a poisoned one still holds a whole map.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn waited_flows(&self) -> usize {
        self.lock().by_flow.len()
    }
}

/// One page waiting on one flow.
pub struct Waiter {
    wakeups: Wakeups,
    flow_id: String,
    notify: Arc<Notify>,
}

impl Waiter {
    /// Starts listening. Listen before reading the flow, then wait on what this
    /// returns: an announcement in between is not lost.
    pub fn listen(&self) -> Listening<'_> {
        let mut notified = Box::pin(self.notify.notified());
        notified.as_mut().enable();
        Listening(notified)
    }
}

/// A waiter listening since `Waiter::listen`.
pub struct Listening<'a>(Pin<Box<Notified<'a>>>);

impl Listening<'_> {
    /// Until the flow is announced here, or `RECHECK` passes.
    pub async fn announced_or_recheck(self) {
        let _ = tokio::time::timeout(RECHECK, self.0).await;
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let mut waiting = self.wakeups.lock();
        waiting.total -= 1;
        // The map's reference and ours: we are the last waiter on this flow.
        if Arc::strong_count(&self.notify) == 2 {
            waiting.by_flow.remove(&self.flow_id);
        }
    }
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

    #[tokio::test]
    async fn an_announcement_wakes_only_its_own_flow_and_is_not_lost_between_listen_and_wait() {
        let wakeups = Wakeups::default();
        let mine = wakeups.waiter("flow-a", CAPS).unwrap();
        let other = wakeups.waiter("flow-b", CAPS).unwrap();
        let listening_mine = mine.listen();
        let listening_other = other.listen();
        // Announced after listening began but before the wait: still seen.
        wakeups.announce("flow-a");
        let woke = tokio::time::timeout(
            Duration::from_millis(500),
            listening_mine.announced_or_recheck(),
        )
        .await;
        assert!(woke.is_ok(), "the announced flow's waiter woke at once");
        let slept = tokio::time::timeout(RECHECK / 4, listening_other.announced_or_recheck()).await;
        assert!(
            slept.is_err(),
            "another flow's waiter sleeps on until its re-check"
        );
    }

    #[test]
    fn a_flow_is_forgotten_when_its_last_waiter_leaves() {
        let wakeups = Wakeups::default();
        let first = wakeups.waiter("flow-a", CAPS).unwrap();
        let second = wakeups.waiter("flow-a", CAPS).unwrap();
        assert_eq!(wakeups.waited_flows(), 1);
        drop(first);
        assert_eq!(wakeups.waited_flows(), 1);
        drop(second);
        assert_eq!(wakeups.waited_flows(), 0);
        wakeups.announce("flow-a");
        assert_eq!(wakeups.waited_flows(), 0, "announcing creates nothing");
    }

    const CAPS: PollCaps = PollCaps {
        per_flow: 4,
        in_all: 100,
    };

    #[test]
    fn waiters_over_the_caps_are_refused_and_places_come_back() {
        let wakeups = Wakeups::default();
        let caps = PollCaps {
            per_flow: 2,
            in_all: 3,
        };
        let a1 = wakeups.waiter("flow-a", caps).unwrap();
        let _a2 = wakeups.waiter("flow-a", caps).unwrap();
        assert!(wakeups.waiter("flow-a", caps).is_none(), "per flow");
        let _b1 = wakeups.waiter("flow-b", caps).unwrap();
        assert!(wakeups.waiter("flow-c", caps).is_none(), "in all");
        drop(a1);
        assert!(wakeups.waiter("flow-a", caps).is_some(), "a place freed");
        assert_eq!(wakeups.waited_flows(), 2, "the refused flow-c left nothing");
    }

    #[test]
    fn claims_match_only_their_secret() {
        let stored = claim_hash("secret");
        assert!(claim_matches(&stored, "secret"));
        assert!(!claim_matches(&stored, "secreT"));
        assert!(!claim_matches(&stored, ""));
    }
}
