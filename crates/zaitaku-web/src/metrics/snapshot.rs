//! Everything the metrics show, at one moment: this process's counters and
//! what is read when asked (one query for the kept CRLs, the pool's state, the
//! resident memory).

use super::counters::Counters;
use super::process;
use crate::state::AppState;
use std::time::SystemTime;
use zaitaku_card::validate::revocation::{Freshness, freshness};
use zaitaku_store::{PoolUse, StoreError};

#[derive(Debug, Clone)]
pub struct Snapshot {
    counters: Counters,
    pub crls: Vec<CrlAge>,
    pub pool: PoolUse,
    pub resident_bytes: Option<u64>,
}

/// A kept CRL: whose, how old, and whether the validator still takes it.
#[derive(Debug, Clone)]
pub struct CrlAge {
    /// The issuing CA's name (RFC 4514): an institution's trust, not a person.
    pub issuer: String,
    pub partition: Option<String>,
    /// Seconds since its thisUpdate.
    pub age_seconds: u64,
    /// Past its nextUpdate or, without one, older than `--crl-max-age`: the
    /// validator's rule (`revocation::freshness`).
    pub stale: bool,
}

impl Snapshot {
    /// This process's counters at the moment the snapshot was taken.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub async fn take(state: &AppState) -> Result<Snapshot, StoreError> {
        Ok(Snapshot {
            counters: state.metrics.counters(),
            crls: crl_ages(state, SystemTime::now()).await?,
            pool: state.store.pool_use(),
            resident_bytes: process::resident_bytes(),
        })
    }
}

/// The CRLs kept in the database, each with its age and freshness at `now`.
pub async fn crl_ages(state: &AppState, now: SystemTime) -> Result<Vec<CrlAge>, StoreError> {
    let max_age = state.validator.current().config().crl_max_age;
    Ok(state
        .store
        .crl_states()
        .await?
        .into_iter()
        .map(|crl| {
            let this_update = SystemTime::from(crl.this_update);
            let next_update = crl.next_update.map(SystemTime::from);
            CrlAge {
                age_seconds: now
                    .duration_since(this_update)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
                stale: freshness(this_update, next_update, now, max_age) == Freshness::Stale,
                issuer: crl.issuer,
                partition: crl.partition,
            }
        })
        .collect())
}
