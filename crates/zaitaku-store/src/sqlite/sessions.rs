use super::codec::{instant, to_instant};
use crate::error::StoreError;
use crate::records::SessionRecord;
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;

pub async fn insert(pool: &SqlitePool, s: &SessionRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&s.id_hash)
    .bind(&s.csrf_token)
    .bind(instant(s.created_at))
    .bind(instant(s.expires_at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn live(
    pool: &SqlitePool,
    id_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<SessionRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT id_hash, csrf_token, created_at, expires_at FROM sessions \
         WHERE id_hash = ? AND expires_at > ?",
    )
    .bind(id_hash)
    .bind(instant(now))
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(SessionRecord {
        id_hash: row.try_get("id_hash")?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: to_instant(row.try_get("created_at")?, "session")?,
        expires_at: to_instant(row.try_get("expires_at")?, "session")?,
    }))
}
