//! Browser sessions, kept in the store: the cookie holds a random 256-bit id, the
//! store only its SHA-256, so a copy of the database opens no session.

use crate::cookies::SESSION;
use crate::error::PageError;
use crate::random;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use zaitaku_domain::AuthMethod;
use zaitaku_store::SessionRecord;

#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub csrf_token: String,
    /// How this browser's staff read cards, as last chosen (default: this smartphone).
    pub auth_method: AuthMethod,
    /// Whether the store holds this session. A browser's session is written with
    /// its first flow (`record`), never by a page that starts nothing.
    pub stored: bool,
}

impl Session {
    /// Every form carries the session's CSRF token; compare without timing leaks.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        if crate::csrf::token_matches(&self.csrf_token, submitted) {
            Ok(())
        } else {
            Err(PageError::FormRejected)
        }
    }

    /// The row to store with this session's first flow (`None` once stored),
    /// remembering `auth_method`; it lasts `lifetime` (`Lifetimes::session`).
    pub fn record(
        &self,
        auth_method: AuthMethod,
        now: OffsetDateTime,
        lifetime: Duration,
    ) -> Option<SessionRecord> {
        (!self.stored).then(|| SessionRecord {
            id_hash: self.id_hash.clone(),
            csrf_token: self.csrf_token.clone(),
            created_at: now,
            expires_at: now + lifetime,
            auth_method: Some(auth_method),
        })
    }
}

/// On a response: a browser without a session cookie gets none (a refused
/// start at an institution that only its devices may use leaves nothing).
#[derive(Debug, Clone, Copy)]
pub struct NoNewSession;

pub fn hash_id(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Load the session named by the cookie, or begin one, and make it available to
/// handlers as an extension. Beginning one writes nothing: the id goes to the
/// cookie, the CSRF token is derived from it (`csrf::token_for`), and the store
/// gets the session with its first flow. A cookie naming no stored session
/// (one not stored yet, or expired) keeps its id, so that forms of other tabs
/// opened meanwhile still carry the right token.
pub async fn load_or_start(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, PageError> {
    let secure = state.secure_cookies();
    let now = OffsetDateTime::now_utc();
    let cookie = SESSION.read(request.headers(), secure).map(str::to_owned);
    let existing = match &cookie {
        Some(id) => state.store.session(&hash_id(id), now).await?,
        None => None,
    };
    let (session, new_cookie) = match (existing, cookie) {
        (Some(record), _) => (
            Session {
                id_hash: record.id_hash,
                csrf_token: record.csrf_token,
                auth_method: record.auth_method.unwrap_or_default(),
                stored: true,
            },
            None,
        ),
        (None, cookie) => {
            let fresh = cookie.is_none();
            let id = cookie.unwrap_or_else(random::secret256);
            let session = Session {
                id_hash: hash_id(&id),
                csrf_token: crate::csrf::token_for(&id),
                auth_method: AuthMethod::default(),
                stored: false,
            };
            (session, fresh.then_some(id))
        }
    };
    request.extensions_mut().insert(session);
    let mut response = next.run(request).await;
    if let Some(id) = new_cookie
        && response.extensions().get::<NoNewSession>().is_none()
    {
        SESSION.set(
            &mut response,
            secure,
            &id,
            state.lifetimes.session.whole_seconds(),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_must_match_exactly() {
        let s = Session {
            id_hash: "h".into(),
            csrf_token: "abc".into(),
            auth_method: AuthMethod::default(),
            stored: true,
        };
        assert!(s.check_csrf("abc").is_ok());
        assert!(s.check_csrf("abd").is_err());
        assert!(s.check_csrf("").is_err());
        assert_eq!(hash_id("x").len(), 64);
    }
}
