//! The schema: both backends reach the same logical version.

use super::common::*;

async fn both_backends_reach_the_same_schema_version() {
    let (_dir, store) = fresh_store().await;
    assert_eq!(
        store.schema_version().await.unwrap(),
        zaitaku_store::SCHEMA_VERSION
    );
}

on_both_backends!(both_backends_reach_the_same_schema_version,);
