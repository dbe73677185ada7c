//! The revocation index on SQLite: a `WITHOUT ROWID` table keyed by CRL and
//! serial, so a look-up is one index probe per covering CRL.

use super::SqliteStore;
use super::codec::{self, Columns};
use crate::codec::instant;
use crate::error::StoreError;
use crate::revocation::{Coverage, CrlState, RevocationIndex, RevocationKey, RevokedSerial};
use crate::rows::{self, crl_state_columns};
use async_trait::async_trait;
use rusqlite::{Connection, Row, params};

/// A kept CRL and, if it lists serial `?1`, the serial's revocation date.
macro_rules! coverage_select {
    () => {
        "SELECT c.issuer, c.partition, c.this_update, c.next_update, r.revoked_at \
         FROM crls c LEFT JOIN revoked_serials r ON r.crl_id = c.id AND r.serial = ?1 "
    };
}

/// Write the serials of the CRL just stored as `crl_id` (in the import's
/// transaction). The CRL it replaced took its serials with it (ON DELETE CASCADE).
pub fn index(conn: &Connection, crl_id: i64, revoked: &[RevokedSerial]) -> Result<(), StoreError> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO revoked_serials (crl_id, serial, revoked_at) VALUES (?, ?, ?)",
    )?;
    for entry in revoked {
        insert.execute(params![crl_id, entry.serial, instant(entry.revoked_at)])?;
    }
    Ok(())
}

/// One probe for the signer's complete CRL and one per partition.
fn covering(conn: &Connection, key: &RevocationKey) -> Result<Vec<Coverage>, StoreError> {
    let mut complete = conn.prepare_cached(concat!(
        coverage_select!(),
        "WHERE c.signer_fingerprint = ?2 AND c.partition IS NULL"
    ))?;
    let mut found = codec::all(
        &mut complete,
        params![key.serial, key.signer_fingerprint],
        coverage_from_row,
    )?;
    let mut partitioned = conn.prepare_cached(concat!(
        coverage_select!(),
        "WHERE c.signer_fingerprint = ?2 AND c.partition = ?3"
    ))?;
    for partition in &key.partitions {
        found.extend(codec::all(
            &mut partitioned,
            params![key.serial, key.signer_fingerprint, partition],
            coverage_from_row,
        )?);
    }
    Ok(found)
}

fn coverage_from_row(row: &Row<'_>) -> Result<Coverage, StoreError> {
    rows::coverage(&mut Columns::new(row))
}

fn generation(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT generation FROM trust_generation")?
        .query_row([], |row| row.get(0))?)
}

fn states(conn: &Connection) -> Result<Vec<CrlState>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        crl_state_columns!(),
        " FROM crls ORDER BY issuer, coalesce(partition, ''), id"
    ))?;
    codec::all(&mut statement, [], |row| {
        rows::crl_state(&mut Columns::new(row))
    })
}

#[async_trait]
impl RevocationIndex for SqliteStore {
    async fn covering_crls(&self, key: &RevocationKey) -> Result<Vec<Coverage>, StoreError> {
        let key = key.clone();
        self.read(move |c| covering(c, &key)).await
    }

    async fn trust_generation(&self) -> Result<i64, StoreError> {
        self.read(generation).await
    }

    async fn crl_states(&self) -> Result<Vec<CrlState>, StoreError> {
        self.read(states).await
    }
}
