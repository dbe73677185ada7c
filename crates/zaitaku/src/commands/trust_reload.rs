//! The validator `serve` and `demo` use: the trust anchors in the database plus
//! those given as flags. CRLs stay in the database, where the web side looks
//! each certificate up in the revocation index; only CRL files given as flags
//! are held in memory. Every few seconds one query asks whether anything
//! changed (the store's trust generation) and, only if so, the anchors and the
//! list of kept CRLs are read again; every time, a CRL that is stale or missing
//! is an ERROR in the log.

use super::crl_health;
use crate::setup::CliError;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::{Validator, ValidatorConfig};
use zaitaku_store::{CrlState, Store};
use zaitaku_web::ValidatorHandle;

/// What a reload reads: the validator's configuration and the kept CRLs.
pub struct Trust {
    pub config: ValidatorConfig,
    pub crls: Vec<CrlState>,
    /// The fingerprints of the anchors that came from the database and not
    /// from flags: a token under one is checked against the store each time.
    pub stored_anchors: BTreeSet<String>,
    generation: i64,
}

/// `base` (flags: anchors, CRL files, policies, revocation rule) plus the
/// database's anchors, and the list of kept CRLs. Stored anchors were checked
/// when they were added; one that no longer parses is an error, not skipped.
pub async fn load(store: &dyn Store, base: &ValidatorConfig) -> Result<Trust, CliError> {
    // Read first: a change landing during the reload is then seen by the next one.
    let generation = store.trust_generation().await?;
    let mut config = base.clone();
    let flagged: BTreeSet<String> = base
        .trust_anchors
        .iter()
        .map(TrustAnchor::fingerprint_sha256)
        .collect();
    let mut stored_anchors = BTreeSet::new();
    for record in store.trust_anchors().await? {
        let anchors = TrustAnchor::load_all(&record.anchor.der)
            .map_err(|e| format!("stored trust anchor {}: {e}", record.anchor.fingerprint))?;
        stored_anchors.extend(
            anchors
                .iter()
                .map(TrustAnchor::fingerprint_sha256)
                .filter(|f| !flagged.contains(f)),
        );
        config.trust_anchors.extend(anchors);
    }
    Ok(Trust {
        config,
        crls: store.crl_states().await?,
        stored_anchors,
        generation,
    })
}

impl Trust {
    /// Log an ERROR for each CRL that is stale or missing at `now`.
    pub fn raise_alarms(&self, now: SystemTime) {
        let lines = crl_health::survey(
            &self.config.trust_anchors,
            &self.crls,
            now,
            self.config.crl_max_age,
        );
        crl_health::raise_alarms(&lines);
    }
}

/// Reload every `every`, for as long as the runtime lives. A failed reload keeps
/// the validator in use and says so in the log.
pub fn spawn(
    store: Arc<dyn Store>,
    base: ValidatorConfig,
    handle: ValidatorHandle,
    mut current: Trust,
    every: Duration,
) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            match reload(store.as_ref(), &base, &current).await {
                Ok(Some(trust)) if trust.config.trust_anchors.is_empty() => {
                    tracing::warn!("the reload found no trust anchor; keeping the current ones");
                }
                Ok(Some(trust)) => {
                    tracing::info!(
                        anchors = trust.config.trust_anchors.len(),
                        crls = trust.crls.len(),
                        "trust anchors and CRLs reloaded"
                    );
                    handle.replace(
                        Validator::new(trust.config.clone()),
                        trust.stored_anchors.clone(),
                    );
                    current = trust;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "reloading trust anchors and CRLs failed; keeping the current ones");
                }
            }
            current.raise_alarms(SystemTime::now());
        }
    });
}

/// The new trust if the store's generation moved; `None` (one query) if not.
async fn reload(
    store: &dyn Store,
    base: &ValidatorConfig,
    current: &Trust,
) -> Result<Option<Trust>, CliError> {
    if store.trust_generation().await? == current.generation {
        return Ok(None);
    }
    load(store, base).await.map(Some)
}
