//! Revocation by look-up. The validator does not read CRLs per token: it says
//! which certificate it needs a status for (a [`RevocationQuery`]: the signing
//! anchor, the partitions the certificate names, its serial), something that
//! holds CRLs answers with the CRLs that cover it ([`CoveringCrl`]), and
//! [`judge`] turns that answer into a status. `zaitaku serve` answers from an
//! index in its database; [`CrlSet`] answers from CRLs held in memory (files
//! given on the command line). No I/O here.

use super::crl::{Crl, RevocationStatus};
use super::summary::{rfc3339, serial_hex};
use super::trust::TrustAnchor;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use x509_cert::Certificate;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::name::DistributionPointName;

/// How long a CRL without nextUpdate counts as fresh after its thisUpdate,
/// unless configured otherwise (`zaitaku serve --crl-max-age`).
pub const DEFAULT_CRL_MAX_AGE: Duration = Duration::from_secs(48 * 3600);

/// Which CRLs could speak for a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationQuery {
    /// SHA-256 fingerprint (`AB:CD:…`) of the trust anchor that issued the
    /// certificate: CRLs are kept per signing anchor.
    pub signer_fingerprint: String,
    /// The distribution points the certificate names, in the form
    /// [`Crl::partition`] gives a partitioned CRL's. A complete CRL (no
    /// partition) of the signer covers every certificate.
    pub partitions: Vec<String>,
    /// Upper-case hex, as in certificate summaries.
    pub serial: String,
}

/// A stored CRL that covers the queried certificate, and whether it lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoveringCrl {
    pub issuer: String,
    pub partition: Option<String>,
    pub this_update: SystemTime,
    pub next_update: Option<SystemTime>,
    /// The revocation date when this CRL lists the serial.
    pub revoked_at: Option<SystemTime>,
}

/// Answers a [`RevocationQuery`] from CRLs whose signatures were checked when
/// they were loaded. An implementation returns the newest CRL it keeps for the
/// signer and each covering partition.
pub trait RevocationLookup {
    fn covering(&self, query: &RevocationQuery) -> Vec<CoveringCrl>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    Stale,
}

/// The one rule for a CRL's freshness at `at`: stale once its nextUpdate has
/// passed, or, without a nextUpdate, once it is older than `max_age`.
pub fn freshness(
    this_update: SystemTime,
    next_update: Option<SystemTime>,
    at: SystemTime,
    max_age: Duration,
) -> Freshness {
    let until = next_update.unwrap_or(this_update + max_age);
    if at > until {
        Freshness::Stale
    } else {
        Freshness::Fresh
    }
}

/// The certificate's status from the CRLs that cover it. A listing counts as
/// revoked whatever the CRL's age and whatever the entry's date (a date in
/// the future is still a revocation); "good" needs a fresh CRL.
pub fn judge(covering: &[CoveringCrl], at: SystemTime, max_age: Duration) -> RevocationStatus {
    if let Some(when) = covering.iter().filter_map(|c| c.revoked_at).min() {
        return RevocationStatus::Revoked {
            revoked_at: rfc3339(when),
        };
    }
    let usable = covering.iter().filter(|c| c.this_update <= at);
    let fresh = usable
        .clone()
        .filter(|c| freshness(c.this_update, c.next_update, at, max_age) == Freshness::Fresh)
        .map(|c| c.this_update)
        .max();
    if let Some(this_update) = fresh {
        return RevocationStatus::Good {
            crl_this_update: rfc3339(this_update),
        };
    }
    let reason = match usable.max_by_key(|c| c.this_update) {
        Some(stale) => {
            let partition = stale
                .partition
                .as_ref()
                .map(|p| format!(", partition {p}"))
                .unwrap_or_default();
            let why = match stale.next_update {
                Some(next) => format!("it expired at {}", rfc3339(next)),
                None => format!(
                    "it has no nextUpdate and is older than {} hours",
                    max_age.as_secs() / 3600
                ),
            };
            format!("the CRL of {}{partition} is stale: {why}", stale.issuer)
        }
        None if !covering.is_empty() => "the only CRL was issued after the check time".into(),
        None => "no CRL from the certificate's issuer covers it".into(),
    };
    RevocationStatus::NotChecked { reason }
}

/// The query for `cert`, issued by `anchor`.
pub fn query_for(cert: &Certificate, anchor: &TrustAnchor) -> RevocationQuery {
    let tbs = cert.tbs_certificate();
    let mut partitions = Vec::new();
    if let Ok(Some((_, points))) = tbs.get_extension::<CrlDistributionPoints>() {
        for point in points.0 {
            if let Some(DistributionPointName::FullName(names)) = point.distribution_point {
                let texts: Vec<String> = names.iter().map(super::crl::general_name).collect();
                // A CRL naming several points is kept under all of them joined.
                if texts.len() > 1 {
                    partitions.push(texts.join("; "));
                }
                partitions.extend(texts);
            }
        }
    }
    RevocationQuery {
        signer_fingerprint: anchor.fingerprint_sha256(),
        partitions,
        serial: serial_hex(tbs.serial_number().as_bytes()),
    }
}

/// CRLs held in memory, each checked once against the anchors when the set is
/// made; a CRL no anchor signed, or one the validator could never use, is left
/// out. Only the newest per signer and partition is kept.
#[derive(Debug, Default)]
pub struct CrlSet {
    by_scope: HashMap<(String, Option<String>), HeldCrl>,
}

#[derive(Debug)]
struct HeldCrl {
    issuer: String,
    this_update: SystemTime,
    next_update: Option<SystemTime>,
    revoked: HashMap<String, SystemTime>,
}

impl CrlSet {
    pub fn new(crls: &[Crl], anchors: &[TrustAnchor]) -> CrlSet {
        let mut by_scope: HashMap<(String, Option<String>), HeldCrl> = HashMap::new();
        for crl in crls {
            let Some(signer) = crl.signer(anchors) else {
                continue;
            };
            let (Ok(partition), Ok(entries)) = (crl.partition(), crl.entries()) else {
                continue;
            };
            let key = (signer.fingerprint_sha256(), partition);
            if by_scope
                .get(&key)
                .is_some_and(|held| held.this_update >= crl.this_update())
            {
                continue;
            }
            let held = HeldCrl {
                issuer: crl.issuer(),
                this_update: crl.this_update(),
                next_update: crl.next_update(),
                revoked: entries
                    .into_iter()
                    .map(|e| (e.serial, e.revoked_at))
                    .collect(),
            };
            by_scope.insert(key, held);
        }
        CrlSet { by_scope }
    }

    pub fn is_empty(&self) -> bool {
        self.by_scope.is_empty()
    }
}

impl RevocationLookup for CrlSet {
    fn covering(&self, query: &RevocationQuery) -> Vec<CoveringCrl> {
        let scopes = std::iter::once(None).chain(query.partitions.iter().cloned().map(Some));
        scopes
            .filter_map(|partition| {
                let key = (query.signer_fingerprint.clone(), partition);
                let held = self.by_scope.get(&key)?;
                Some(CoveringCrl {
                    issuer: held.issuer.clone(),
                    partition: key.1,
                    this_update: held.this_update,
                    next_update: held.next_update,
                    revoked_at: held.revoked.get(&query.serial).copied(),
                })
            })
            .collect()
    }
}
