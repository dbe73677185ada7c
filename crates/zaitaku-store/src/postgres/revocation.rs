//! The revocation index on PostgreSQL: a table keyed by CRL and serial,
//! written a CRL at a time (one statement of arrays per CRL, not a round trip
//! per serial).

use super::PostgresStore;
use super::columns::Columns;
use crate::codec::instant;
use crate::error::StoreError;
use crate::revocation::{Coverage, CrlState, RevocationIndex, RevocationKey, RevokedSerial};
use crate::rows::{self, crl_state_columns};
use async_trait::async_trait;
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

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
    rows::coverage(&mut Columns::new(row))
}

fn state_from_row(row: &PgRow) -> Result<CrlState, StoreError> {
    rows::crl_state(&mut Columns::new(row))
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
        sqlx::query(concat!(
            "SELECT ",
            crl_state_columns!(),
            " FROM crls ORDER BY issuer, coalesce(partition, ''), id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(state_from_row)
        .collect()
    }
}
