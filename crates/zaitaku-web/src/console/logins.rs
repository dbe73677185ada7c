//! `/console/logins`: the login history of the administrator's own institution's
//! staff, newest first. Attempts with unknown login names belong to no
//! institution and show nowhere.

use super::views::{LoginRow, LoginsPage, jst};
use super::{ConsoleFrame, StaffUser};
use crate::error::PageError;
use crate::i18n::Text;
use crate::state::AppState;
use axum::extract::State;
use zaitaku_domain::LoginOutcome;

/// The page shows this many of the latest attempts.
const SHOWN: u32 = 500;

pub async fn page(State(state): State<AppState>, user: StaffUser) -> Result<LoginsPage, PageError> {
    user.require_administrator()?;
    let rows = state
        .store
        .staff_logins(user.institution_id, SHOWN)
        .await?
        .into_iter()
        .map(|r| LoginRow {
            at: jst(r.at),
            login_name: r.login_name,
            outcome: r.outcome.label(),
            success: matches!(r.outcome, LoginOutcome::Success | LoginOutcome::Enrolment),
        })
        .collect();
    Ok(LoginsPage {
        t: Text,
        frame: ConsoleFrame::of(&state, &user).await?,
        rows,
    })
}
