//! Password attempts, counted before the password is checked: each account's
//! attempts from unknown browsers share one counter, and each browser where the
//! account has logged in before (a remembered device) has its own. Past a few
//! free attempts a counter waits longer and longer before its next attempt, so
//! guessing stays slow however many requests arrive at once, while a stranger
//! who knows only a login name slows down only the unknown browsers: the staff
//! member's own devices keep their own count.

use time::{Duration, OffsetDateTime};
use zaitaku_domain::StaffId;

/// How a counter's delay grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Attempts allowed back to back before the first wait.
    pub free_attempts: u32,
    /// The wait after the last free attempt; each further attempt doubles it.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl ThrottlePolicy {
    /// The wait before the next attempt, once `attempts` have been counted.
    pub fn delay_after(&self, attempts: u32) -> Duration {
        if attempts < self.free_attempts {
            return Duration::ZERO;
        }
        let doublings = (attempts - self.free_attempts).min(20);
        let delay = self.first_delay * (1i32 << doublings);
        delay.min(self.max_delay)
    }
}

/// Whose counter an attempt goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptKey {
    /// The account's attempts from browsers it has not logged in from.
    Account(StaffId),
    /// A remembered device of the account (the SHA-256 of its cookie).
    Device {
        staff_id: StaffId,
        token_hash: String,
    },
}

impl AttemptKey {
    pub fn staff_id(&self) -> StaffId {
        match self {
            AttemptKey::Account(id) | AttemptKey::Device { staff_id: id, .. } => *id,
        }
    }

    /// The stored key.
    pub fn code(&self) -> String {
        match self {
            AttemptKey::Account(id) => format!("account:{}", id.0),
            AttemptKey::Device { token_hash, .. } => format!("device:{token_hash}"),
        }
    }
}

/// The answer to a claimed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptClaim {
    /// Counted (this is the `n`-th since the counter last started): check the password.
    Counted(u32),
    /// This counter must wait until then: nothing counted, the password is not checked.
    Throttled(OffsetDateTime),
    /// The account is locked (wrong codes) until then: nothing counted.
    Locked(OffsetDateTime),
}

/// A counter's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    pub attempts: u32,
    pub next_at: OffsetDateTime,
}
