//! The access log, for administrators: who looked at which patient's information,
//! and who re-queried or revoked, newest first.

use super::frame::ConsoleFrame;
use super::staff_user::StaffUser;
use super::views::{AccessLogPage, AccessRow, jst};
use crate::error::PageError;
use crate::i18n::Text;
use crate::state::AppState;
use axum::extract::State;
use zaitaku_store::AccessAction;

/// The newest lines shown; older ones stay in the database.
const SHOWN: u32 = 500;

pub async fn page(
    State(state): State<AppState>,
    user: StaffUser,
) -> Result<AccessLogPage, PageError> {
    user.require_administrator()?;
    let lines = state.store.access_log(user.institution_id, SHOWN).await?;
    let t = Text;
    Ok(AccessLogPage {
        t,
        frame: ConsoleFrame::of(&state, &user).await?,
        rows: lines
            .into_iter()
            .map(|line| AccessRow {
                at: jst(line.entry.at),
                staff: format!("{}（{}）", line.entry.staff.name, line.entry.staff.login),
                patient: line.person_name,
                patient_href: format!("/console/patients/{}", line.entry.person.0),
                action: match line.entry.action {
                    AccessAction::View => t.get("console-access-view"),
                    AccessAction::Requery => t.get("console-access-requery"),
                    AccessAction::Revoke => t.get("console-access-revoke"),
                },
            })
            .collect(),
    })
}
