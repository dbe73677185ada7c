//! PostgreSQL: the browser sessions of the home-visit screens, and the purge of
//! everything that expired.

use crate::error::StoreError;
use crate::records::SessionRecord;
use crate::sqlite::codec::{instant, some_code, to_instant};
use sqlx::Row;
use sqlx::postgres::PgPool;
use time::OffsetDateTime;
use zaitaku_domain::AuthMethod;

pub async fn insert_session(pool: &PgPool, session: &SessionRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, csrf_token, created_at, expires_at, auth_method) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&session.id_hash)
    .bind(&session.csrf_token)
    .bind(instant(session.created_at))
    .bind(instant(session.expires_at))
    .bind(session.auth_method.map(AuthMethod::code))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn session(
    pool: &PgPool,
    id_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<SessionRecord>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT id_hash, csrf_token, created_at, expires_at, auth_method FROM sessions \
         WHERE id_hash = $1 AND expires_at > $2",
    )
    .bind(id_hash)
    .bind(instant(now))
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(SessionRecord {
        id_hash: row.try_get(0)?,
        csrf_token: row.try_get(1)?,
        created_at: to_instant(row.try_get(2)?, "session")?,
        expires_at: to_instant(row.try_get(3)?, "session")?,
        auth_method: match row.try_get::<Option<String>, _>(4)? {
            Some(code) => Some(some_code(&code, "session auth method", AuthMethod::parse)?),
            None => None,
        },
    }))
}

pub async fn set_session_auth_method(
    pool: &PgPool,
    id_hash: &str,
    method: AuthMethod,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET auth_method = $1 WHERE id_hash = $2")
        .bind(method.code())
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// In one transaction, as SQLite's: challenges of expired flows (and any a day
/// past its own expiry), expired flows, sessions and console sessions. The
/// number of rows deleted.
pub async fn purge_expired(pool: &PgPool, now: OffsetDateTime) -> Result<u64, StoreError> {
    let now = instant(now);
    let mut tx = pool.begin().await?;
    // Lock the expired flows first: a challenge another process would add to
    // one now waits for this purge (and then finds its flow gone), rather than
    // slipping in between the two deletes.
    sqlx::query("SELECT id FROM flows WHERE expires_at <= $1 FOR UPDATE")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let mut purged = 0;
    for sql in [
        "DELETE FROM challenges WHERE flow_id IN (SELECT id FROM flows WHERE expires_at <= $1) \
         OR expires_at <= $1 - 86400",
        "DELETE FROM flows WHERE expires_at <= $1",
        "DELETE FROM sessions WHERE expires_at <= $1",
        "DELETE FROM staff_sessions WHERE expires_at <= $1",
    ] {
        purged += sqlx::query(sql)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(purged)
}
