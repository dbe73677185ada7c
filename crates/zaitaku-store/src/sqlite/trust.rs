//! Trust anchors and the newest CRL of each issuer, signer and partition.

use super::SqliteStore;
use super::codec::{self, Columns};
use crate::codec::instant;
use crate::error::StoreError;
use crate::records::{
    AnchorAdded, AnchorRemoved, CrlImport, CrlRecord, NewCrl, NewTrustAnchor, TrustAnchorRecord,
};
use crate::rows::{self, anchor_columns, crl_columns};
use crate::store::TrustStore;
use async_trait::async_trait;
use rusqlite::{Connection, Row, TransactionBehavior, params};
use time::OffsetDateTime;

pub fn add_anchors(
    conn: &mut Connection,
    anchors: &[NewTrustAnchor],
    at: OffsetDateTime,
) -> Result<Vec<AnchorAdded>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut answers = Vec::with_capacity(anchors.len());
    for anchor in anchors {
        if let Some(stored) = anchor_by_fingerprint(&tx, &anchor.fingerprint)? {
            answers.push(AnchorAdded::AlreadyPresent(stored));
            continue;
        }
        tx.prepare_cached(concat!(
            "INSERT INTO trust_anchors (",
            anchor_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?)"
        ))?
        .execute(params![
            anchor.der,
            anchor.subject,
            anchor.key_identifier,
            instant(anchor.not_before),
            instant(anchor.not_after),
            anchor.fingerprint,
            instant(at),
        ])?;
        answers.push(AnchorAdded::Added(TrustAnchorRecord {
            anchor: anchor.clone(),
            added_at: at,
        }));
    }
    tx.commit()?;
    Ok(answers)
}

fn anchor_by_fingerprint(
    conn: &Connection,
    fingerprint: &str,
) -> Result<Option<TrustAnchorRecord>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        anchor_columns!(),
        " FROM trust_anchors WHERE fingerprint = ?"
    ))?;
    codec::optional(&mut statement, [fingerprint], anchor_from_row)
}

pub fn anchors(conn: &Connection) -> Result<Vec<TrustAnchorRecord>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        anchor_columns!(),
        " FROM trust_anchors ORDER BY id"
    ))?;
    codec::all(&mut statement, [], anchor_from_row)
}

fn anchor_from_row(row: &Row<'_>) -> Result<TrustAnchorRecord, StoreError> {
    rows::anchor(&mut Columns::new(row))
}

/// The CRLs first (they name the anchor), then the anchor; its trigger moves the generation.
pub fn remove_anchor(
    conn: &mut Connection,
    fingerprint: &str,
) -> Result<Option<AnchorRemoved>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(record) = anchor_by_fingerprint(&tx, fingerprint)? else {
        return Ok(None);
    };
    let crls = tx
        .prepare_cached("DELETE FROM crls WHERE signer_fingerprint = ?")?
        .execute([fingerprint])?;
    tx.prepare_cached("DELETE FROM trust_anchors WHERE fingerprint = ?")?
        .execute([fingerprint])?;
    tx.commit()?;
    Ok(Some(AnchorRemoved {
        record,
        crls: crls as u64,
    }))
}

fn anchor_stored(conn: &Connection, fingerprint: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM trust_anchors WHERE fingerprint = ?")?
        .exists([fingerprint])?)
}

/// Each CRL replaces the one kept for its key if it supersedes it; the first
/// that does not rolls everything back.
pub fn import_crls(
    conn: &mut Connection,
    crls: &[NewCrl],
    at: OffsetDateTime,
) -> Result<CrlImport, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut replaced = Vec::with_capacity(crls.len());
    for (index, crl) in crls.iter().enumerate() {
        let kept = kept_crl(&tx, crl)?;
        if let Some(stored) = &kept
            && !crl.supersedes(&stored.crl)
        {
            // Dropping the transaction rolls back what this batch wrote so far.
            return Ok(CrlImport::NotNewer {
                index,
                stored: stored.clone(),
            });
        }
        tx.prepare_cached(
            "DELETE FROM crls WHERE issuer = ? AND signer_fingerprint = ? \
             AND coalesce(partition, '') = coalesce(?, '')",
        )?
        .execute(params![crl.issuer, crl.signer_fingerprint, crl.partition])?;
        tx.prepare_cached(concat!(
            "INSERT INTO crls (",
            crl_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))?
        .execute(params![
            crl.der,
            crl.issuer,
            crl.signer_fingerprint,
            crl.partition,
            instant(crl.this_update),
            crl.next_update.map(instant),
            crl.crl_number,
            i64::try_from(crl.entries).map_err(|_| StoreError::Database(
                "a CRL with more entries than SQLite can count".into()
            ))?,
            instant(at),
        ])?;
        super::revocation::index(&tx, tx.last_insert_rowid(), &crl.revoked)?;
        replaced.push(kept);
    }
    tx.commit()?;
    Ok(CrlImport::Imported(replaced))
}

fn kept_crl(conn: &Connection, crl: &NewCrl) -> Result<Option<CrlRecord>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        crl_columns!(),
        " FROM crls WHERE issuer = ? AND signer_fingerprint = ? \
         AND coalesce(partition, '') = coalesce(?, '')"
    ))?;
    codec::optional(
        &mut statement,
        params![crl.issuer, crl.signer_fingerprint, crl.partition],
        crl_from_row,
    )
}

pub fn crls(conn: &Connection) -> Result<Vec<CrlRecord>, StoreError> {
    let mut statement =
        conn.prepare_cached(concat!("SELECT ", crl_columns!(), " FROM crls ORDER BY id"))?;
    codec::all(&mut statement, [], crl_from_row)
}

fn crl_from_row(row: &Row<'_>) -> Result<CrlRecord, StoreError> {
    rows::crl(&mut Columns::new(row))
}

#[async_trait]
impl TrustStore for SqliteStore {
    async fn add_trust_anchors(
        &self,
        anchors: &[NewTrustAnchor],
        at: OffsetDateTime,
    ) -> Result<Vec<AnchorAdded>, StoreError> {
        let anchors = anchors.to_vec();
        self.write_durable(move |c| add_anchors(c, &anchors, at))
            .await
    }

    async fn trust_anchors(&self) -> Result<Vec<TrustAnchorRecord>, StoreError> {
        self.read(anchors).await
    }

    async fn trust_anchor_stored(&self, fingerprint: &str) -> Result<bool, StoreError> {
        let fingerprint = fingerprint.to_owned();
        self.read(move |c| anchor_stored(c, &fingerprint)).await
    }

    async fn remove_trust_anchor(
        &self,
        fingerprint: &str,
    ) -> Result<Option<AnchorRemoved>, StoreError> {
        let fingerprint = fingerprint.to_owned();
        self.write_durable(move |c| remove_anchor(c, &fingerprint))
            .await
    }

    async fn import_crls(
        &self,
        crls: &[NewCrl],
        at: OffsetDateTime,
    ) -> Result<CrlImport, StoreError> {
        let crls = crls.to_vec();
        self.write_durable(move |c| import_crls(c, &crls, at)).await
    }

    async fn crls(&self) -> Result<Vec<CrlRecord>, StoreError> {
        self.read(crls).await
    }
}
