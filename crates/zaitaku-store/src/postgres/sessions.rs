//! PostgreSQL: sessions.

#![allow(unused_imports)]

use super::*;

pub async fn insert_session(pool: &PgPool, session: &SessionRecord) -> Result<(), StoreError> {
    todo!("insert_session")
}

pub async fn session(
    pool: &PgPool,
    id_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<SessionRecord>, StoreError> {
    todo!("session")
}

pub async fn set_session_auth_method(
    pool: &PgPool,
    id_hash: &str,
    method: AuthMethod,
) -> Result<(), StoreError> {
    todo!("set_session_auth_method")
}

pub async fn purge_expired(pool: &PgPool, now: OffsetDateTime) -> Result<u64, StoreError> {
    todo!("purge_expired")
}
