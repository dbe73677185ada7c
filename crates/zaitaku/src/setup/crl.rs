//! Which CRLs may be imported, and importing them: the one path
//! `admin crl import` and the demo share. A CRL is taken only if a stored trust
//! anchor signed it, it is current (its nextUpdate has not passed, its
//! thisUpdate is not in the future), the validator could use it, and it is
//! newer than the one kept for its issuer and partition. All are imported, or none.

use super::CliError;
use super::trust::timestamp;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::summary::rfc3339;
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_store::{CrlImport, CrlRecord, NewCrl, RevokedSerial, Store};

/// Clocks differ a little: a CRL issued this far in the future is still taken.
const CLOCK_SLACK: Duration = Duration::from_secs(300);

/// What importing did, when it could be tried.
pub enum Imported {
    /// Each CRL, in order, with the one it replaced.
    All(Vec<(NewCrl, Option<CrlRecord>)>),
    /// Nothing was imported, for this reason.
    Refused(String),
    /// Nothing was imported: a CRL is not newer than the one kept (this says which).
    NotNewer(String),
}

/// Check each CRL (named by its source) against the stored anchors and import
/// them all, or none: the one path `admin crl import` and the demo share.
pub async fn import_crls(
    store: &dyn Store,
    crls: &[(String, Crl)],
    now: SystemTime,
) -> Result<Imported, CliError> {
    let mut anchors = Vec::new();
    for record in store.trust_anchors().await? {
        anchors.extend(TrustAnchor::load_all(&record.anchor.der)?);
    }
    let mut checked = Vec::with_capacity(crls.len());
    for (source, crl) in crls {
        match check(crl, &anchors, now) {
            Ok(new) => checked.push(new),
            Err(why) => return Ok(Imported::Refused(format!("{source}: {why}"))),
        }
    }
    match store
        .import_crls(&checked, OffsetDateTime::now_utc())
        .await?
    {
        CrlImport::Imported(replaced) => {
            Ok(Imported::All(checked.into_iter().zip(replaced).collect()))
        }
        CrlImport::NotNewer { index, stored } => {
            let s = &stored.crl;
            Ok(Imported::NotNewer(format!(
                "{}: not newer than the CRL already imported for {} (thisUpdate {}{})",
                crls[index].0,
                s.issuer,
                timestamp(s.this_update),
                s.crl_number
                    .as_ref()
                    .map(|n| format!(", number {n}"))
                    .unwrap_or_default()
            )))
        }
    }
}

/// The CRL as the store keeps it, or why it may not be imported. Public for
/// the fuzz target `crl_der`.
pub fn check(crl: &Crl, anchors: &[TrustAnchor], now: SystemTime) -> Result<NewCrl, String> {
    let issuer = crl.issuer();
    let Some(signer) = crl.signer(anchors) else {
        return Err(if anchors.iter().any(|a| a.subject() == issuer) {
            format!("the signature does not verify with any stored trust anchor named {issuer}")
        } else {
            format!(
                "no stored trust anchor is named {issuer} (add its root with `zaitaku admin trust add`)"
            )
        });
    };
    if let Some(next) = crl.next_update()
        && next < now
    {
        return Err(format!(
            "the CRL is stale: its nextUpdate {} has passed",
            rfc3339(next)
        ));
    }
    if crl.this_update() > now + CLOCK_SLACK {
        return Err(format!(
            "the CRL's thisUpdate {} is in the future (is this machine's clock right?)",
            rfc3339(crl.this_update())
        ));
    }
    let partition = crl.partition().map_err(|e| e.to_string())?;
    let crl_number = crl.number().map_err(|e| e.to_string())?;
    let revoked = crl
        .entries()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|e| RevokedSerial {
            serial: e.serial,
            revoked_at: e.revoked_at.into(),
        })
        .collect();
    Ok(NewCrl {
        der: crl.der().to_vec(),
        issuer,
        signer_fingerprint: signer.fingerprint_sha256(),
        partition,
        this_update: crl.this_update().into(),
        next_update: crl.next_update().map(Into::into),
        crl_number,
        entries: crl.revoked_count() as u64,
        revoked,
    })
}
