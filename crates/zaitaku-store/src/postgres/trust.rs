//! PostgreSQL: trust.

#![allow(unused_imports)]

use super::*;

pub async fn add_trust_anchors(
    pool: &PgPool,
    anchors: &[NewTrustAnchor],
    at: OffsetDateTime,
) -> Result<Vec<AnchorAdded>, StoreError> {
    todo!("add_trust_anchors")
}

pub async fn trust_anchors(pool: &PgPool) -> Result<Vec<TrustAnchorRecord>, StoreError> {
    todo!("trust_anchors")
}

pub async fn import_crls(
    pool: &PgPool,
    crls: &[NewCrl],
    at: OffsetDateTime,
) -> Result<CrlImport, StoreError> {
    todo!("import_crls")
}

pub async fn crls(pool: &PgPool) -> Result<Vec<CrlRecord>, StoreError> {
    todo!("crls")
}
