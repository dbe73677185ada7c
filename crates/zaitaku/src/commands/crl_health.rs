//! Whether each trusted root has a fresh CRL: what `zaitaku admin crl status`
//! lists and what `serve` raises an alarm about at every reload. Freshness is
//! the card core's rule (`revocation::freshness`), the one the validator uses.

use clap::Args;
use serde::Serialize;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use zaitaku_card::validate::revocation::{DEFAULT_CRL_MAX_AGE, Freshness, freshness};
use zaitaku_card::validate::summary::rfc3339;
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_store::CrlState;

/// How long a CRL without nextUpdate counts as fresh.
#[derive(Args)]
pub struct CrlMaxAge {
    /// Hours after its thisUpdate that a CRL without nextUpdate counts as
    /// fresh; after that it is stale like one past its nextUpdate.
    #[arg(long = "crl-max-age", value_name = "HOURS", env = "ZAITAKU_CRL_MAX_AGE",
          default_value_t = DEFAULT_CRL_MAX_AGE_HOURS,
          value_parser = clap::value_parser!(u64).range(1..=8_760))]
    hours: u64,
}

/// `revocation::DEFAULT_CRL_MAX_AGE` in hours, as the flag takes it.
const DEFAULT_CRL_MAX_AGE_HOURS: u64 = DEFAULT_CRL_MAX_AGE.as_secs() / 3600;

impl CrlMaxAge {
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.hours * 3600)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Fresh,
    Stale,
    /// A trusted root with no CRL at all.
    Missing,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Fresh => "fresh",
            Health::Stale => "stale",
            Health::Missing => "missing",
        }
    }
}

/// One line of the survey: a kept CRL, or a root without any.
#[derive(Debug, Clone, Serialize)]
pub struct CrlLine {
    pub issuer: String,
    pub partition: Option<String>,
    pub this_update: Option<String>,
    pub next_update: Option<String>,
    pub entries: Option<u64>,
    pub state: Health,
}

/// Every kept CRL with its state at `now`, then each anchor that signed none.
pub fn survey(
    anchors: &[TrustAnchor],
    crls: &[CrlState],
    now: SystemTime,
    max_age: Duration,
) -> Vec<CrlLine> {
    let mut lines: Vec<CrlLine> = crls
        .iter()
        .map(|crl| {
            let this_update = SystemTime::from(crl.this_update);
            let next_update = crl.next_update.map(SystemTime::from);
            let state = match freshness(this_update, next_update, now, max_age) {
                Freshness::Fresh => Health::Fresh,
                Freshness::Stale => Health::Stale,
            };
            CrlLine {
                issuer: crl.issuer.clone(),
                partition: crl.partition.clone(),
                this_update: Some(text(crl.this_update)),
                next_update: crl.next_update.map(text),
                entries: Some(crl.entries),
                state,
            }
        })
        .collect();
    let mut seen = Vec::new();
    for anchor in anchors {
        let fingerprint = anchor.fingerprint_sha256();
        if seen.contains(&fingerprint) || crls.iter().any(|c| c.signer_fingerprint == fingerprint) {
            continue;
        }
        lines.push(CrlLine {
            issuer: anchor.subject(),
            partition: None,
            this_update: None,
            next_update: None,
            entries: None,
            state: Health::Missing,
        });
        seen.push(fingerprint);
    }
    lines
}

/// The operator's alarm: one ERROR line per CRL that is not fresh.
pub fn raise_alarms(lines: &[CrlLine]) {
    for line in lines {
        let partition = line
            .partition
            .as_ref()
            .map(|p| format!(", partition {p}"))
            .unwrap_or_default();
        match line.state {
            Health::Fresh => {}
            Health::Stale => tracing::error!(
                "CRL stale: the CRL of {}{partition} is past its nextUpdate ({}) or, without one, too old; \
                 cards of this issuer are refused until a newer CRL is imported (`zaitaku admin crl import`)",
                line.issuer,
                line.next_update.as_deref().unwrap_or("none"),
            ),
            Health::Missing => tracing::error!(
                "CRL missing: the trusted root {} has no CRL; its cards are refused until one is \
                 imported (`zaitaku admin crl import`)",
                line.issuer,
            ),
        }
    }
}

fn text(t: OffsetDateTime) -> String {
    rfc3339(t.into())
}
