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

/// The metrics' view of the pool: an idle store holds at least one connection
/// open, none in use, within its maximum.
async fn the_pool_use_is_counted_within_its_maximum() {
    let (_dir, store) = fresh_store().await;
    // A query first: a pool may open its connections lazily.
    store.institutions().await.unwrap();
    // sqlx gives a connection back to its pool in a task of its own: wait for it.
    let mut pool = store.pool_use();
    for _ in 0..100 {
        if pool.in_use == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        pool = store.pool_use();
    }
    assert!(pool.open >= 1, "{pool:?}");
    assert_eq!(pool.in_use, 0, "{pool:?}");
    assert!(pool.open <= pool.max, "{pool:?}");
}

on_both_backends!(
    both_backends_reach_the_same_schema_version,
    the_readiness_probe_reads_the_schema_version_afresh,
    the_pool_use_is_counted_within_its_maximum,
);
