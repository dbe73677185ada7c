//! PostgreSQL: the browser sessions of the home-visit screens, and the purge of
//! everything that expired.

use super::PostgresStore;
use crate::codec::{instant, some_code, to_instant};
use crate::error::StoreError;
use crate::records::SessionRecord;
use crate::store::SessionStore;
use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;
use zaitaku_domain::AuthMethod;

#[async_trait]
impl SessionStore for PostgresStore {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let pool = &self.pool;
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

    async fn session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let pool = &self.pool;
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

    async fn set_session_auth_method(
        &self,
        id_hash: &str,
        method: AuthMethod,
    ) -> Result<(), StoreError> {
        let pool = &self.pool;
        sqlx::query("UPDATE sessions SET auth_method = $1 WHERE id_hash = $2")
            .bind(method.code())
            .bind(id_hash)
            .execute(pool)
            .await?;
        Ok(())
    }
}
