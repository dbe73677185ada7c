//! Console sessions: the cookie `zaitaku_console` (`__Host-` and `Secure` on
//! https), `HttpOnly`, `SameSite=Strict`, holding 256 random bits; the store keeps
//! only their SHA-256. A new id at each step of a login, an idle and an absolute
//! timeout, and deletion at logout.

use crate::cookies::CONSOLE;
use crate::random;
use crate::session::hash_id;
use crate::state::AppState;
use axum::http::HeaderMap;
use axum::response::Response;
use time::OffsetDateTime;
use zaitaku_domain::StaffId;
use zaitaku_store::{StaffSessionRecord, StaffSessionStage};

/// The id the browser sent, if it looks like one of ours.
pub fn cookie_id<'a>(headers: &'a HeaderMap, state: &AppState) -> Option<&'a str> {
    CONSOLE.read(headers, state.secure_cookies())
}

/// The live session the browser's cookie names, at any stage.
pub async fn current(
    headers: &HeaderMap,
    state: &AppState,
    now: OffsetDateTime,
) -> Result<Option<StaffSessionRecord>, zaitaku_store::StoreError> {
    match cookie_id(headers, state) {
        Some(id) => state.store.staff_session(&hash_id(id), now).await,
        None => Ok(None),
    }
}

/// A fresh session (its cookie value and its record) at `stage`.
pub fn fresh(
    state: &AppState,
    stage: StaffSessionStage,
    staff_id: Option<StaffId>,
    now: OffsetDateTime,
) -> (String, StaffSessionRecord) {
    let id = random::secret256();
    let record = StaffSessionRecord {
        id_hash: hash_id(&id),
        staff_id,
        csrf_token: random::secret256(),
        stage,
        created_at: now,
        last_seen_at: now,
        expires_at: now
            + state
                .lifetimes
                .console_idle
                .min(state.lifetimes.console_absolute),
    };
    (id, record)
}

/// When a session used at `now` expires: after the idle time, but never later
/// than the absolute lifetime from its start.
pub fn renewed_expiry(
    state: &AppState,
    session: &StaffSessionRecord,
    now: OffsetDateTime,
) -> OffsetDateTime {
    (now + state.lifetimes.console_idle).min(session.created_at + state.lifetimes.console_absolute)
}

pub fn set_cookie(response: &mut Response, state: &AppState, id: &str) {
    let max_age = state.lifetimes.console_absolute.whole_seconds();
    CONSOLE.set(response, state.secure_cookies(), id, max_age);
}

pub fn clear_cookie(response: &mut Response, state: &AppState) {
    CONSOLE.clear(response, state.secure_cookies());
}
