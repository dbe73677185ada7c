//! What one client, session or institution may use, so that a client that
//! simply sends a lot meets a refusal before the database, the CPU or the
//! memory give way: caps on flows and challenges (counted by the store, in the
//! transaction that would write), on the status long-polls waiting in this
//! process (counted by `handoff::Wakeups`), and rates per client for the
//! requests that cost real work. The defaults are far above what a clinic
//! does (README, "Limits"); `zaitaku serve` takes each as an option.

pub mod client;
pub mod rate;

use crate::error::PageError;
use rate::{Rate, RateLimiter};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zaitaku_store::{CapReached, Caps};

pub use client::{Cidr, ClientAddress, Peer, TrustedProxies};

/// Status long-polls held at once in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollCaps {
    /// Waiting on one flow (one page, a few tabs at most).
    pub per_flow: usize,
    /// Waiting on all flows together; under the connection cap, so polls
    /// never hold every connection.
    pub in_all: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub flows: Caps,
    pub challenges: Caps,
    pub polls: PollCaps,
    /// Token submissions (`POST /auth/{ref}`: a signature and a certificate
    /// path to check) per client.
    pub token_checks: Rate,
    /// Console password attempts (`POST /console/login`: an argon2 hash) per
    /// client, besides the throttle per account; a remembered device's are not
    /// counted.
    pub console_logins: Rate,
    /// Activation codes typed at `/device` per client (40-bit codes, valid
    /// ten minutes: guessing one at this rate is hopeless).
    pub device_activations: Rate,
    /// New browsers the demo index enrols per client (`zaitaku demo` only):
    /// each is a device row per demo institution, so a client that drops its
    /// cookies in a loop meets a refusal before the table grows without end.
    pub demo_enrolments: Rate,
    pub trusted_proxies: TrustedProxies,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            flows: Caps {
                live_per_session: 50,
                per_institution_per_minute: 120,
            },
            challenges: Caps {
                live_per_session: 30,
                per_institution_per_minute: 240,
            },
            polls: PollCaps {
                per_flow: 4,
                in_all: 256,
            },
            token_checks: Rate { per_minute: 120 },
            console_logins: Rate { per_minute: 120 },
            device_activations: Rate { per_minute: 10 },
            demo_enrolments: Rate { per_minute: 30 },
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// How long a refused browser is asked to wait when a cap is reached: the
/// per-minute caps free up within a minute.
const CAP_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The limits of this process, with the rate counters they need.
#[derive(Clone)]
pub struct Guards {
    pub limits: Arc<Limits>,
    token_checks: Arc<RateLimiter>,
    console_logins: Arc<RateLimiter>,
    device_activations: Arc<RateLimiter>,
    demo_enrolments: Arc<RateLimiter>,
}

impl Default for Guards {
    fn default() -> Self {
        Guards::new(Limits::default())
    }
}

impl Guards {
    pub fn new(limits: Limits) -> Self {
        Guards {
            token_checks: Arc::new(RateLimiter::new(limits.token_checks)),
            console_logins: Arc::new(RateLimiter::new(limits.console_logins)),
            device_activations: Arc::new(RateLimiter::new(limits.device_activations)),
            demo_enrolments: Arc::new(RateLimiter::new(limits.demo_enrolments)),
            limits: Arc::new(limits),
        }
    }

    /// The page for a start a cap refused; `what` names the row for the log.
    pub fn refused(&self, what: &'static str, reached: CapReached) -> PageError {
        let scope = match reached {
            CapReached::Session => "session",
            CapReached::Institution => "institution",
        };
        tracing::warn!(what, scope, "refused: cap reached");
        match reached {
            CapReached::Session => PageError::TooManyOpen,
            CapReached::Institution => PageError::Busy {
                retry_after: CAP_RETRY_AFTER,
            },
        }
    }

    /// A token submission from `client`, or how long it must wait.
    pub fn token_check(&self, client: IpAddr) -> Result<(), Duration> {
        limited(
            "token check",
            self.token_checks.take(client, Instant::now()),
        )
    }

    /// A console password attempt from `client`, or how long it must wait.
    pub fn console_login(&self, client: IpAddr) -> Result<(), Duration> {
        limited(
            "console login",
            self.console_logins.take(client, Instant::now()),
        )
    }

    /// An activation code typed at `/device` by `client`, or how long it must wait.
    pub fn device_activation(&self, client: IpAddr) -> Result<(), Duration> {
        limited(
            "device activation",
            self.device_activations.take(client, Instant::now()),
        )
    }

    /// A new browser the demo index would enrol for `client`, or how long it must wait.
    pub fn demo_enrolment(&self, client: IpAddr) -> Result<(), Duration> {
        limited(
            "demo enrolment",
            self.demo_enrolments.take(client, Instant::now()),
        )
    }
}

fn limited(what: &'static str, taken: Result<(), Duration>) -> Result<(), Duration> {
    taken.inspect_err(|_| {
        // The client's address is not logged: it may be personal data.
        tracing::warn!(what, "refused: rate limit per client");
    })
}

/// `Retry-After` in whole seconds, at least one.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}
