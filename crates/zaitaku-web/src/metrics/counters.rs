//! What this process counts as it goes. One mutex over a few small maps: a
//! request takes it once, for a map look-up.

use axum::http::Method;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use zaitaku_domain::InstitutionKind;

/// Upper bounds (seconds) of the latency buckets; the last is above the
/// status page's 25-second long-poll.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The counters of this process; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Metrics(Arc<Mutex<Counters>>);

#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub requests: BTreeMap<RequestKey, Latency>,
    /// (purpose, institution kind).
    pub flows_started: BTreeMap<(&'static str, &'static str), u64>,
    /// (outcome, institution kind).
    pub flows_finished: BTreeMap<(&'static str, &'static str), u64>,
    /// By result: `accepted` or the refusal's code.
    pub token_checks: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequestKey {
    /// The route's pattern, e.g. `/i/{token}`.
    pub route: String,
    pub method: &'static str,
    pub status: u16,
}

/// A latency histogram: cumulative counts per bucket of [`LATENCY_BUCKETS`].
#[derive(Debug, Clone, Default)]
pub struct Latency {
    pub buckets: [u64; LATENCY_BUCKETS.len()],
    pub count: u64,
    pub sum_seconds: f64,
}

impl Latency {
    fn observe(&mut self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (bound, count) in LATENCY_BUCKETS.iter().zip(self.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum_seconds += seconds;
    }
}

impl Metrics {
    pub fn request(&self, key: RequestKey, took: Duration) {
        self.lock().requests.entry(key).or_default().observe(took);
    }

    /// A patient started a flow (`purpose`: registration, view, update, revoke).
    pub fn flow_started(&self, purpose: &'static str, kind: InstitutionKind) {
        *self
            .lock()
            .flows_started
            .entry((purpose, kind_label(kind)))
            .or_default() += 1;
    }

    /// A flow's card step reached an outcome (registered, viewed, updated,
    /// revoked, or the code of a refusal).
    pub fn flow_finished(&self, outcome: &'static str, kind: InstitutionKind) {
        *self
            .lock()
            .flows_finished
            .entry((outcome, kind_label(kind)))
            .or_default() += 1;
    }

    /// A posted token was checked: `accepted` or the code of its refusal.
    pub fn token_checked(&self, result: &'static str) {
        *self.lock().token_checks.entry(result).or_default() += 1;
    }

    pub(crate) fn counters(&self) -> Counters {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        // Counters only ever grow; a poisoned lock still holds whole numbers.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The institution kind as a label value.
pub fn kind_label(kind: InstitutionKind) -> &'static str {
    match kind {
        InstitutionKind::Clinic => "clinic",
        InstitutionKind::Pharmacy => "pharmacy",
        InstitutionKind::VisitingNursing => "visiting_nursing",
    }
}

/// The kind a label value names (the status page shows its Japanese name).
pub fn kind_named(label: &str) -> Option<InstitutionKind> {
    [
        InstitutionKind::Clinic,
        InstitutionKind::Pharmacy,
        InstitutionKind::VisitingNursing,
    ]
    .into_iter()
    .find(|k| kind_label(*k) == label)
}

/// The method as a label value; a method outside the standard ones is `OTHER`,
/// so a client cannot make new series.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_falls_in_every_bucket_at_or_above_it() {
        let mut latency = Latency::default();
        latency.observe(Duration::from_millis(30));
        assert_eq!(latency.buckets[..3], [0, 0, 0]);
        assert!(latency.buckets[3..].iter().all(|&c| c == 1));
        assert_eq!(latency.count, 1);
    }
}
