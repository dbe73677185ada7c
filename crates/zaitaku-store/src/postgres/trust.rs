//! PostgreSQL: trust anchors and the newest CRL of each issuer, signer and
//! partition.

use super::PostgresStore;
use super::columns::Columns;
use crate::codec::instant;
use crate::error::StoreError;
use crate::records::{
    AnchorAdded, AnchorRemoved, CrlImport, CrlRecord, NewCrl, NewTrustAnchor, TrustAnchorRecord,
};
use crate::rows::{self, anchor_columns, crl_columns};
use crate::store::TrustStore;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;

/// An arbitrary key for `pg_advisory_xact_lock`: CRL imports take turns across
/// processes, so the CRL an import compares with is still the kept one when it
/// replaces it.
const CRL_IMPORT_LOCK: i64 = 0x7a61_6974_616b_636c;

#[async_trait]
impl TrustStore for PostgresStore {
    async fn add_trust_anchors(
        &self,
        anchors: &[NewTrustAnchor],
        at: OffsetDateTime,
    ) -> Result<Vec<AnchorAdded>, StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        let mut answers = Vec::with_capacity(anchors.len());
        for anchor in anchors {
            // Another process adding the same anchor makes this insert wait for its
            // commit and then do nothing; the look-up below then finds its row.
            let added = sqlx::query(concat!(
                "INSERT INTO trust_anchors (",
                anchor_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (fingerprint) DO NOTHING"
            ))
            .bind(&anchor.der)
            .bind(&anchor.subject)
            .bind(&anchor.key_identifier)
            .bind(instant(anchor.not_before))
            .bind(instant(anchor.not_after))
            .bind(&anchor.fingerprint)
            .bind(instant(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 1 {
                answers.push(AnchorAdded::Added(TrustAnchorRecord {
                    anchor: anchor.clone(),
                    added_at: at,
                }));
                continue;
            }
            let stored = anchor_by_fingerprint(&mut tx, &anchor.fingerprint)
                .await?
                .ok_or_else(|| {
                    StoreError::Database("a trust anchor vanished while it was being added".into())
                })?;
            answers.push(AnchorAdded::AlreadyPresent(stored));
        }
        tx.commit().await?;
        Ok(answers)
    }

    async fn trust_anchors(&self) -> Result<Vec<TrustAnchorRecord>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            anchor_columns!(),
            " FROM trust_anchors ORDER BY id"
        ))
        .fetch_all(pool)
        .await?
        .iter()
        .map(anchor_from_row)
        .collect()
    }

    async fn trust_anchor_stored(&self, fingerprint: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar::<_, i32>("SELECT 1 FROM trust_anchors WHERE fingerprint = $1")
                .bind(fingerprint)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// The CRLs first (they name the anchor), then the anchor; its trigger moves the generation.
    async fn remove_trust_anchor(
        &self,
        fingerprint: &str,
    ) -> Result<Option<AnchorRemoved>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let crls = sqlx::query("DELETE FROM crls WHERE signer_fingerprint = $1")
            .bind(fingerprint)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let Some(row) = sqlx::query(concat!(
            "DELETE FROM trust_anchors WHERE fingerprint = $1 RETURNING ",
            anchor_columns!()
        ))
        .bind(fingerprint)
        .fetch_optional(&mut *tx)
        .await?
        else {
            // Dropping the transaction rolls back (there were no CRLs either).
            return Ok(None);
        };
        let record = anchor_from_row(&row)?;
        tx.commit().await?;
        Ok(Some(AnchorRemoved { record, crls }))
    }

    /// Each CRL replaces the one kept for its key if it supersedes it; the first
    /// that does not rolls everything back.
    async fn import_crls(
        &self,
        crls: &[NewCrl],
        at: OffsetDateTime,
    ) -> Result<CrlImport, StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CRL_IMPORT_LOCK)
            .execute(&mut *tx)
            .await?;
        let mut replaced = Vec::with_capacity(crls.len());
        for (index, crl) in crls.iter().enumerate() {
            let kept = kept_crl(&mut tx, crl).await?;
            if let Some(stored) = &kept
                && !crl.supersedes(&stored.crl)
            {
                // Dropping the transaction rolls back what this batch wrote so far.
                return Ok(CrlImport::NotNewer {
                    index,
                    stored: stored.clone(),
                });
            }
            sqlx::query(
                "DELETE FROM crls WHERE issuer = $1 AND signer_fingerprint = $2 \
                 AND coalesce(partition, '') = coalesce($3, '')",
            )
            .bind(&crl.issuer)
            .bind(&crl.signer_fingerprint)
            .bind(&crl.partition)
            .execute(&mut *tx)
            .await?;
            let crl_id: i64 = sqlx::query(concat!(
                "INSERT INTO crls (",
                crl_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
            ))
            .bind(&crl.der)
            .bind(&crl.issuer)
            .bind(&crl.signer_fingerprint)
            .bind(&crl.partition)
            .bind(instant(crl.this_update))
            .bind(crl.next_update.map(instant))
            .bind(&crl.crl_number)
            .bind(i64::try_from(crl.entries).map_err(|_| {
                StoreError::Database("a CRL with more entries than PostgreSQL can count".into())
            })?)
            .bind(instant(at))
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            super::revocation::index(&mut tx, crl_id, &crl.revoked).await?;
            replaced.push(kept);
        }
        tx.commit().await?;
        Ok(CrlImport::Imported(replaced))
    }

    async fn crls(&self) -> Result<Vec<CrlRecord>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!("SELECT ", crl_columns!(), " FROM crls ORDER BY id"))
            .fetch_all(pool)
            .await?
            .iter()
            .map(crl_from_row)
            .collect()
    }
}

async fn anchor_by_fingerprint(
    conn: &mut PgConnection,
    fingerprint: &str,
) -> Result<Option<TrustAnchorRecord>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        anchor_columns!(),
        " FROM trust_anchors WHERE fingerprint = $1"
    ))
    .bind(fingerprint)
    .fetch_optional(conn)
    .await?
    .map(|row| anchor_from_row(&row))
    .transpose()
}

fn anchor_from_row(row: &PgRow) -> Result<TrustAnchorRecord, StoreError> {
    rows::anchor(&mut Columns::new(row))
}

async fn kept_crl(conn: &mut PgConnection, crl: &NewCrl) -> Result<Option<CrlRecord>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        crl_columns!(),
        " FROM crls WHERE issuer = $1 AND signer_fingerprint = $2 \
         AND coalesce(partition, '') = coalesce($3, '')"
    ))
    .bind(&crl.issuer)
    .bind(&crl.signer_fingerprint)
    .bind(&crl.partition)
    .fetch_optional(conn)
    .await?
    .map(|row| crl_from_row(&row))
    .transpose()
}

fn crl_from_row(row: &PgRow) -> Result<CrlRecord, StoreError> {
    rows::crl(&mut Columns::new(row))
}
