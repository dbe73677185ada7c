//! PostgreSQL: the browser sessions of the home-visit screens, and the purge of
//! everything that expired.

use super::PostgresStore;
use super::columns::Columns;
use crate::codec::instant;
use crate::error::StoreError;
use crate::records::SessionRecord;
use crate::rows;
use crate::store::SessionStore;
use async_trait::async_trait;
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
        rows::session(&mut Columns::new(&row)).map(Some)
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
