//! The schema: both backends reach the same logical version.

use super::common::*;

async fn both_backends_reach_the_same_schema_version() {
    let (_dir, store) = fresh_store().await;
    assert_eq!(
        store.schema_version().await.unwrap(),
        zaitaku_store::SCHEMA_VERSION
    );
}

/// The readiness probe (`/readyz`) reads the same version on a connection of
/// its own, and says so while the pool keeps working.
async fn the_readiness_probe_reads_the_schema_version_afresh() {
    let (_dir, store) = fresh_store().await;
    assert_eq!(
        store.probe_schema_version().await.unwrap(),
        zaitaku_store::SCHEMA_VERSION
    );
}

on_both_backends!(
    both_backends_reach_the_same_schema_version,
    the_readiness_probe_reads_the_schema_version_afresh,
);
