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
        insert_row(&mut *self.pool.acquire().await?, session).await
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

async fn insert_row(
    conn: &mut sqlx::PgConnection,
    session: &SessionRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, csrf_token, created_at, expires_at, auth_method) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&session.id_hash)
    .bind(&session.csrf_token)
    .bind(instant(session.created_at))
    .bind(instant(session.expires_at))
    .bind(session.auth_method.map(AuthMethod::code))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A session stored with its first flow. Its id may name an expired row not
/// yet purged (the browser kept its cookie): that row is replaced. A live one
/// (two first forms posted at once) is kept as it is.
pub(super) async fn insert_or_renew(
    conn: &mut sqlx::PgConnection,
    session: &SessionRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, csrf_token, created_at, expires_at, auth_method) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id_hash) DO UPDATE SET csrf_token = excluded.csrf_token, \
         created_at = excluded.created_at, expires_at = excluded.expires_at, \
         auth_method = excluded.auth_method WHERE sessions.expires_at <= excluded.created_at",
    )
    .bind(&session.id_hash)
    .bind(&session.csrf_token)
    .bind(instant(session.created_at))
    .bind(instant(session.expires_at))
    .bind(session.auth_method.map(AuthMethod::code))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
