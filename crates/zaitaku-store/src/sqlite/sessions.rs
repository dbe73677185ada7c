use super::SqliteStore;
use super::codec::{self, Columns};
use crate::codec::instant;
use crate::error::StoreError;
use crate::records::SessionRecord;
use crate::rows;
use crate::store::SessionStore;
use async_trait::async_trait;
use rusqlite::{Connection, params};
use time::OffsetDateTime;
use zaitaku_domain::AuthMethod;

pub fn insert(conn: &Connection, s: &SessionRecord) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO sessions (id_hash, csrf_token, created_at, expires_at, auth_method) \
         VALUES (?, ?, ?, ?, ?)",
    )?
    .execute(params![
        s.id_hash,
        s.csrf_token,
        instant(s.created_at),
        instant(s.expires_at),
        s.auth_method.map(AuthMethod::code),
    ])?;
    Ok(())
}

/// A session stored with its first flow. Its id may name an expired row not
/// yet purged (the browser kept its cookie): that row is replaced. A live one
/// (two first forms posted at once) is kept as it is.
pub fn insert_or_renew(conn: &Connection, s: &SessionRecord) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO sessions (id_hash, csrf_token, created_at, expires_at, auth_method) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO UPDATE SET csrf_token = excluded.csrf_token, \
         created_at = excluded.created_at, expires_at = excluded.expires_at, \
         auth_method = excluded.auth_method WHERE sessions.expires_at <= excluded.created_at",
    )?
    .execute(params![
        s.id_hash,
        s.csrf_token,
        instant(s.created_at),
        instant(s.expires_at),
        s.auth_method.map(AuthMethod::code),
    ])?;
    Ok(())
}

pub fn set_auth_method(
    conn: &Connection,
    id_hash: &str,
    method: AuthMethod,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE sessions SET auth_method = ? WHERE id_hash = ?")?
        .execute(params![method.code(), id_hash])?;
    Ok(())
}

pub fn live(
    conn: &Connection,
    id_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<SessionRecord>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id_hash, csrf_token, created_at, expires_at, auth_method FROM sessions \
         WHERE id_hash = ? AND expires_at > ?",
    )?;
    codec::optional(&mut statement, params![id_hash, instant(now)], |row| {
        rows::session(&mut Columns::new(row))
    })
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let session = session.clone();
        self.write(move |c| insert(c, &session)).await
    }

    async fn session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.read(move |c| live(c, &id_hash, now)).await
    }

    async fn set_session_auth_method(
        &self,
        id_hash: &str,
        method: AuthMethod,
    ) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.write(move |c| set_auth_method(c, &id_hash, method))
            .await
    }
}
