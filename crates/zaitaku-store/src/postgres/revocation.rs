//! The revocation index on PostgreSQL: a table keyed by CRL and serial,
//! written a CRL at a time (one statement of arrays per CRL, not a round trip
//! per serial).

use super::PostgresStore;
use crate::codec::{instant, to_instant};
use crate::error::StoreError;
use crate::revocation::{Coverage, CrlState, RevocationIndex, RevocationKey, RevokedSerial};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

/// Write the serials of the CRL just stored as `crl_id` (in the import's
/// transaction). The CRL it replaced took its serials with it (ON DELETE CASCADE).
pub async fn index(
    conn: &mut PgConnection,
    crl_id: i64,
    revoked: &[RevokedSerial],
) -> Result<(), StoreError> {
    let serials: Vec<&str> = revoked.iter().map(|r| r.serial.as_str()).collect();
    let dates: Vec<i64> = revoked.iter().map(|r| instant(r.revoked_at)).collect();
    sqlx::query(
        "INSERT INTO revoked_serials (crl_id, serial, revoked_at) \
         SELECT $1, s, d FROM unnest($2::text[], $3::bigint[]) AS e (s, d) \
         ON CONFLICT DO NOTHING",
    )
    .bind(crl_id)
    .bind(serials)
    .bind(dates)
    .execute(conn)
    .await?;
    Ok(())
}

fn coverage_from_row(row: &PgRow) -> Result<Coverage, StoreError> {
    let next_update: Option<i64> = row.try_get(3)?;
    let revoked_at: Option<i64> = row.try_get(4)?;
    Ok(Coverage {
        issuer: row.try_get(0)?,
        partition: row.try_get(1)?,
        this_update: to_instant(row.try_get(2)?, "CRL thisUpdate")?,
        next_update: next_update
            .map(|t| to_instant(t, "CRL nextUpdate"))
            .transpose()?,
        revoked_at: revoked_at
            .map(|t| to_instant(t, "revocation date"))
            .transpose()?,
    })
}

fn state_from_row(row: &PgRow) -> Result<CrlState, StoreError> {
    let next_update: Option<i64> = row.try_get(4)?;
    let entries: i64 = row.try_get(5)?;
    Ok(CrlState {
        issuer: row.try_get(0)?,
        signer_fingerprint: row.try_get(1)?,
        partition: row.try_get(2)?,
        this_update: to_instant(row.try_get(3)?, "CRL thisUpdate")?,
        next_update: next_update
            .map(|t| to_instant(t, "CRL nextUpdate"))
            .transpose()?,
        entries: u64::try_from(entries).map_err(|_| StoreError::Corrupt {
            what: "CRL entry count",
        })?,
    })
}

#[async_trait]
impl RevocationIndex for PostgresStore {
    async fn covering_crls(&self, key: &RevocationKey) -> Result<Vec<Coverage>, StoreError> {
        sqlx::query(
            "SELECT c.issuer, c.partition, c.this_update, c.next_update, r.revoked_at \
             FROM crls c LEFT JOIN revoked_serials r ON r.crl_id = c.id AND r.serial = $1 \
             WHERE c.signer_fingerprint = $2 \
               AND (c.partition IS NULL OR c.partition = ANY($3))",
        )
        .bind(&key.serial)
        .bind(&key.signer_fingerprint)
        .bind(&key.partitions)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(coverage_from_row)
        .collect()
    }

    async fn trust_generation(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT generation FROM trust_generation")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn crl_states(&self) -> Result<Vec<CrlState>, StoreError> {
        sqlx::query(
            "SELECT issuer, signer_fingerprint, partition, this_update, next_update, entries \
             FROM crls ORDER BY issuer, coalesce(partition, ''), id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(state_from_row)
        .collect()
    }
}
