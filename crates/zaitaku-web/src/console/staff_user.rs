//! The logged-in staff member, as an extractor: every console page takes a
//! `StaffUser`. No session, an expired one, or one that is only half logged in
//! (password without code) sends the browser to `/console/login`; so does an
//! account disabled or removed since. A deactivated institution's console is
//! closed: every page answers so, whoever logs in.

use super::session;
use crate::error::PageError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use zaitaku_domain::{InstitutionId, StaffId, StaffRole};
use zaitaku_store::{StaffAccount, StaffSessionStage};

pub const LOGIN_PATH: &str = "/console/login";

#[derive(Debug, Clone)]
pub struct StaffUser {
    pub staff_id: StaffId,
    pub institution_id: InstitutionId,
    pub role: StaffRole,
    pub login_name: String,
    pub display_name: String,
    pub csrf_token: String,
}

impl StaffUser {
    pub fn is_administrator(&self) -> bool {
        self.role == StaffRole::Administrator
    }

    /// Every console form carries the session's CSRF token; compare without timing leaks.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        if crate::csrf::token_matches(&self.csrf_token, submitted) {
            Ok(())
        } else {
            Err(PageError::ConsoleFormRejected)
        }
    }

    /// Settings, the access log and the login history are for 管理者 only.
    pub fn require_administrator(&self) -> Result<(), PageError> {
        if self.is_administrator() {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let now = OffsetDateTime::now_utc();
        let found = session::current(&parts.headers, state, now)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        let to_login = || Redirect::to(LOGIN_PATH).into_response();
        let Some(record) = found.filter(|s| s.stage == StaffSessionStage::Complete) else {
            return Err(to_login());
        };
        let Some(staff_id) = record.staff_id else {
            return Err(to_login());
        };
        let account = state
            .store
            .staff(staff_id)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        // Read afresh on every request, so a reset, a disable or a removal made
        // by any process ends the session at its next request.
        let Some(account) = account.filter(StaffAccount::may_log_in) else {
            return Err(to_login());
        };
        let institution = state
            .store
            .institution(account.institution_id)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        if !institution.is_some_and(|i| i.is_active()) {
            return Err(PageError::ConsoleClosed.into_response());
        }
        state
            .store
            .touch_staff_session(
                &record.id_hash,
                now,
                session::renewed_expiry(state, &record, now),
            )
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        let user = StaffUser {
            staff_id,
            institution_id: account.institution_id,
            role: account.role,
            login_name: account.login_name.as_str().to_owned(),
            display_name: account.display_name,
            csrf_token: record.csrf_token,
        };
        // For the extractors after it (`access_record::RequestDevice`).
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: StaffRole) -> StaffUser {
        StaffUser {
            staff_id: StaffId(1),
            institution_id: InstitutionId(1),
            role,
            login_name: "sato".into(),
            display_name: "佐藤".into(),
            csrf_token: "abc".into(),
        }
    }

    #[test]
    fn csrf_must_match_and_staff_are_not_administrators() {
        let admin = user(StaffRole::Administrator);
        assert!(admin.check_csrf("abc").is_ok());
        assert!(admin.check_csrf("abd").is_err());
        assert!(admin.check_csrf("").is_err());
        assert!(admin.require_administrator().is_ok());
        let staff = user(StaffRole::Staff);
        assert!(!staff.is_administrator());
        assert!(matches!(
            staff.require_administrator(),
            Err(PageError::Forbidden)
        ));
    }
}
