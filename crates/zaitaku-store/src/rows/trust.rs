//! Trust anchors' and CRLs' rows, the same on both backends.

use super::Cursor;
use crate::codec::{to_instant, to_opt_instant};
use crate::error::StoreError;
use crate::records::{CrlRecord, NewCrl, NewTrustAnchor, TrustAnchorRecord};
use crate::revocation::{Coverage, CrlState};

/// The columns [`anchor`] reads, in its order.
macro_rules! anchor_columns {
    () => {
        "der, subject, key_identifier, not_before, not_after, fingerprint, added_at"
    };
}
pub(crate) use anchor_columns;

/// The columns [`crl`] reads, in its order.
macro_rules! crl_columns {
    () => {
        "der, issuer, signer_fingerprint, partition, this_update, next_update, crl_number, \
         entries, imported_at"
    };
}
pub(crate) use crl_columns;

/// A trust anchor from the columns of `anchor_columns!`.
pub fn anchor(c: &mut impl Cursor) -> Result<TrustAnchorRecord, StoreError> {
    Ok(TrustAnchorRecord {
        anchor: NewTrustAnchor {
            der: c.bytes()?,
            subject: c.text()?,
            key_identifier: c.opt_text()?,
            not_before: to_instant(c.int()?, "trust anchor validity")?,
            not_after: to_instant(c.int()?, "trust anchor validity")?,
            fingerprint: c.text()?,
        },
        added_at: to_instant(c.int()?, "trust anchor time added")?,
    })
}

/// A CRL (without its revoked serials) from the columns of `crl_columns!`.
pub fn crl(c: &mut impl Cursor) -> Result<CrlRecord, StoreError> {
    Ok(CrlRecord {
        crl: NewCrl {
            der: c.bytes()?,
            issuer: c.text()?,
            signer_fingerprint: c.text()?,
            partition: c.opt_text()?,
            this_update: to_instant(c.int()?, "CRL thisUpdate")?,
            next_update: to_opt_instant(c.opt_int()?, "CRL nextUpdate")?,
            crl_number: c.opt_text()?,
            entries: entries(c)?,
            revoked: Vec::new(),
        },
        imported_at: to_instant(c.int()?, "CRL time imported")?,
    })
}

fn entries(c: &mut impl Cursor) -> Result<u64, StoreError> {
    u64::try_from(c.int()?).map_err(|_| StoreError::Corrupt {
        what: "CRL entry count",
    })
}

/// The columns [`crl_state`] reads, in its order.
macro_rules! crl_state_columns {
    () => {
        "issuer, signer_fingerprint, partition, this_update, next_update, entries"
    };
}
pub(crate) use crl_state_columns;

/// A kept CRL's state from the columns of `crl_state_columns!`.
pub fn crl_state(c: &mut impl Cursor) -> Result<CrlState, StoreError> {
    Ok(CrlState {
        issuer: c.text()?,
        signer_fingerprint: c.text()?,
        partition: c.opt_text()?,
        this_update: to_instant(c.int()?, "CRL thisUpdate")?,
        next_update: to_opt_instant(c.opt_int()?, "CRL nextUpdate")?,
        entries: entries(c)?,
    })
}

/// A CRL that covers a card, from the columns c.issuer, c.partition,
/// c.this_update, c.next_update, and r.revoked_at (the serial's revocation
/// date, when the CRL lists it).
pub fn coverage(c: &mut impl Cursor) -> Result<Coverage, StoreError> {
    Ok(Coverage {
        issuer: c.text()?,
        partition: c.opt_text()?,
        this_update: to_instant(c.int()?, "CRL thisUpdate")?,
        next_update: to_opt_instant(c.opt_int()?, "CRL nextUpdate")?,
        revoked_at: to_opt_instant(c.opt_int()?, "revocation date")?,
    })
}
