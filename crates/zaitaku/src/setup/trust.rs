//! Which certificates may become trust anchors, and storing them: the one
//! path `admin trust add` and the demo share. A certificate that is not a CA,
//! or not valid now, is refused: the validator would refuse every card under
//! it, so storing it could only mislead.

use super::CliError;
use std::time::SystemTime;
use time::OffsetDateTime;
use zaitaku_card::pem::PemError;
use zaitaku_card::validate::summary::rfc3339;
use zaitaku_card::validate::trust::{TrustAnchor, TrustAnchorError};
use zaitaku_store::{AnchorAdded, NewTrustAnchor, Store};

/// Why an anchor may not be added.
pub enum AnchorRefusal {
    /// The file holds no certificate we can read.
    Unusable(String),
    /// A certificate that is not a usable root.
    Refused(String),
}

impl AnchorRefusal {
    pub fn message(&self) -> &str {
        match self {
            AnchorRefusal::Unusable(m) | AnchorRefusal::Refused(m) => m,
        }
    }
}

/// Every certificate in `bytes` (from `source`), as a trust anchor valid at `now`.
pub fn anchors_from(
    source: &str,
    bytes: &[u8],
    now: SystemTime,
) -> Result<Vec<TrustAnchor>, AnchorRefusal> {
    let anchors = TrustAnchor::load_all(bytes).map_err(|e| match e {
        TrustAnchorError::Pem(PemError::NoCertificate | PemError::BadCertificate(_)) => {
            AnchorRefusal::Unusable(format!("{source}: {e}"))
        }
        e => AnchorRefusal::Refused(format!("{source}: {e}")),
    })?;
    for anchor in &anchors {
        if !anchor.is_valid_at(now) {
            return Err(AnchorRefusal::Refused(format!(
                "{source}: trust anchor {} is not valid now (valid {} to {})",
                anchor.subject(),
                rfc3339(anchor.not_before()),
                rfc3339(anchor.not_after())
            )));
        }
    }
    Ok(anchors)
}

/// Store checked anchors: the one path `admin trust add` and the demo share.
pub async fn add_anchors(
    store: &dyn Store,
    anchors: &[TrustAnchor],
) -> Result<Vec<AnchorAdded>, CliError> {
    let records: Vec<NewTrustAnchor> = anchors.iter().map(record).collect();
    Ok(store
        .add_trust_anchors(&records, OffsetDateTime::now_utc())
        .await?)
}

fn record(anchor: &TrustAnchor) -> NewTrustAnchor {
    NewTrustAnchor {
        der: anchor.der.clone(),
        subject: anchor.subject(),
        key_identifier: anchor.key_identifier_hex(),
        not_before: anchor.not_before().into(),
        not_after: anchor.not_after().into(),
        fingerprint: anchor.fingerprint_sha256(),
    }
}

/// RFC 3339 in UTC, as certificate summaries print times.
pub fn timestamp(t: OffsetDateTime) -> String {
    rfc3339(t.into())
}
