//! The validator `serve` and `demo` use: the trust anchors and CRLs in the
//! database plus those given as flags, rebuilt from the database every few
//! seconds so that `admin trust add` and `admin crl import` reach running nodes
//! without a restart.

use super::CliError;
use std::sync::Arc;
use std::time::Duration;
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::{Validator, ValidatorConfig};
use zaitaku_store::Store;
use zaitaku_web::ValidatorHandle;

/// `base` (flags: anchors, CRLs, policies, revocation rule) plus the database's
/// anchors and CRLs. Stored values were checked when they were added; one that
/// no longer parses is an error, not skipped.
pub async fn load(store: &dyn Store, base: &ValidatorConfig) -> Result<ValidatorConfig, CliError> {
    let mut config = base.clone();
    for record in store.trust_anchors().await? {
        let anchors = TrustAnchor::load_all(&record.anchor.der)
            .map_err(|e| format!("stored trust anchor {}: {e}", record.anchor.fingerprint))?;
        config.trust_anchors.extend(anchors);
    }
    for record in store.crls().await? {
        let crl = Crl::load(&record.crl.der)
            .map_err(|e| format!("stored CRL of {}: {e}", record.crl.issuer))?;
        config.crls.push(crl);
    }
    Ok(config)
}

/// What a reload compares to tell whether anything changed.
fn fingerprint(config: &ValidatorConfig) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    (
        config.trust_anchors.iter().map(|a| a.der.clone()).collect(),
        config.crls.iter().map(|c| c.der().to_vec()).collect(),
    )
}

/// Reload every `every`, for as long as the runtime lives. A failed reload keeps
/// the validator in use and says so in the log.
pub fn spawn(
    store: Arc<dyn Store>,
    base: ValidatorConfig,
    handle: ValidatorHandle,
    every: Duration,
) {
    tokio::spawn(async move {
        let mut current = fingerprint(handle.current().config());
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            match load(store.as_ref(), &base).await {
                Ok(config) if config.trust_anchors.is_empty() => {
                    tracing::warn!("the reload found no trust anchor; keeping the current ones");
                }
                Ok(config) => {
                    let new = fingerprint(&config);
                    if new != current {
                        tracing::info!(
                            anchors = config.trust_anchors.len(),
                            crls = config.crls.len(),
                            "trust anchors and CRLs reloaded"
                        );
                        handle.replace(Validator::new(config));
                        current = new;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reloading trust anchors and CRLs failed; keeping the current ones");
                }
            }
        }
    });
}
