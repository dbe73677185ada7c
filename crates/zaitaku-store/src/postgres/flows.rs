//! PostgreSQL: flows.

#![allow(unused_imports)]

use super::*;

pub async fn insert_flow(pool: &PgPool, flow: &FlowRecord) -> Result<(), StoreError> {
    todo!("insert_flow")
}

pub async fn flow(pool: &PgPool, id: &str) -> Result<Option<FlowRecord>, StoreError> {
    todo!("flow")
}

pub async fn flow_with_institution(
    pool: &PgPool,
    id: &str,
) -> Result<Option<(FlowRecord, Institution)>, StoreError> {
    todo!("flow_with_institution")
}

pub async fn update_flow(
    pool: &PgPool,
    flow: &FlowRecord,
    new_challenge: Option<&ChallengeRecord>,
) -> Result<bool, StoreError> {
    todo!("update_flow")
}

pub async fn challenge(
    pool: &PgPool,
    reference: &str,
) -> Result<Option<ChallengeRecord>, StoreError> {
    todo!("challenge")
}

pub async fn claim_challenge(
    pool: &PgPool,
    reference: &str,
    claim_hash: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    todo!("claim_challenge")
}

pub async fn settle_failure(
    pool: &PgPool,
    challenge_ref: &str,
    reason: FailureReason,
    at: OffsetDateTime,
) -> Result<(), SettleError> {
    todo!("settle_failure")
}
