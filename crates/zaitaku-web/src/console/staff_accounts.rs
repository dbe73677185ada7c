//! `/console/staff`: the 管理者's page of their institution's console accounts.
//! An account can be disabled (its sessions end at once, on every process:
//! every console request reads the account afresh) and enabled again, given
//! the other role, or removed after a confirmation page. Nothing here may leave
//! the institution without a 管理者 who can log in: the store refuses such a
//! change in the same transaction that makes it (`StaffChange::keep_an_administrator`).
//! Adding and resetting accounts stays with the operator (`zaitaku admin staff`).

use super::access_record::{self, RequestDevice};
use super::views::{StaffPage, StaffRemovePage, StaffRow};
use super::{ConsoleFrame, CsrfForm, Outcome, StaffUser};
use crate::error::PageError;
use crate::i18n::Text;
use crate::state::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use zaitaku_domain::{LoginName, StaffRole, StaffStatus};
use zaitaku_store::{AccessAction, StaffAccount, StaffAction, StaffChange, StaffChangeOutcome};

pub const PATH: &str = "/console/staff";

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    csrf: String,
    /// disable, enable, administrator or staff (the new role).
    action: String,
}

pub async fn page(
    State(state): State<AppState>,
    user: StaffUser,
    Query(outcome): Query<Outcome>,
) -> Result<StaffPage, PageError> {
    user.require_administrator()?;
    let (notice, refusal) = match outcome.done.as_str() {
        "disabled" | "enabled" | "role" | "removed" => (
            Some(Text.get(&format!("console-staff-done-{}", outcome.done))),
            None,
        ),
        "last-admin" | "gone" => (
            None,
            Some(Text.get(&format!("console-staff-refused-{}", outcome.done))),
        ),
        _ => (None, None),
    };
    let now = OffsetDateTime::now_utc();
    let rows = state
        .store
        .staff_of_institution(user.institution_id)
        .await?
        .into_iter()
        .filter(|a| a.status != StaffStatus::Removed)
        .map(|a| row(&a, &user, now))
        .collect();
    Ok(StaffPage {
        t: Text,
        frame: ConsoleFrame::of(&state, &user).await?,
        rows,
        notice,
        refusal,
    })
}

fn row(a: &StaffAccount, user: &StaffUser, now: OffsetDateTime) -> StaffRow {
    let state_key = if a.status == StaffStatus::Disabled {
        None
    } else if a.is_locked(now) {
        Some("console-staff-locked")
    } else if !a.is_enrolled() {
        Some("console-staff-pending")
    } else {
        None
    };
    StaffRow {
        action: format!("{PATH}/{}", a.login_name),
        remove_href: format!("{PATH}/{}/remove", a.login_name),
        login_name: a.login_name.as_str().to_owned(),
        display_name: a.display_name.clone(),
        role: a.role.label(),
        other_role: other_role(a.role),
        status: a.status.label(),
        note: state_key.map(|k| Text.get(k)),
        active: a.status == StaffStatus::Active,
        is_self: a.id == user.staff_id,
    }
}

/// The role a button offers: the one the account does not have.
fn other_role(role: StaffRole) -> StaffRole {
    match role {
        StaffRole::Administrator => StaffRole::Staff,
        StaffRole::Staff => StaffRole::Administrator,
    }
}

pub async fn change(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    Path(login): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    user.check_csrf(&form.csrf)?;
    let action = match form.action.as_str() {
        "disable" => StaffAction::Disable,
        "enable" => StaffAction::Enable,
        code => StaffAction::SetRole(StaffRole::parse(code).ok_or(PageError::ConsoleFormRejected)?),
    };
    apply(&state, &user, device, &login, action).await
}

pub async fn remove_page(
    State(state): State<AppState>,
    user: StaffUser,
    Path(login): Path<String>,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    let Some(account) = colleague(&state, &user, &login).await? else {
        return Ok(back("gone"));
    };
    Ok(StaffRemovePage {
        t: Text,
        frame: ConsoleFrame::of(&state, &user).await?,
        action: format!("{PATH}/{}/remove", account.login_name),
        login_name: account.login_name.as_str().to_owned(),
        display_name: account.display_name,
        role: account.role.label(),
        csrf: user.csrf_token.clone(),
    }
    .into_response())
}

pub async fn remove(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    Path(login): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    user.check_csrf(&form.csrf)?;
    apply(&state, &user, device, &login, StaffAction::Remove).await
}

/// An account of the user's own institution that is not removed.
async fn colleague(
    state: &AppState,
    user: &StaffUser,
    login: &str,
) -> Result<Option<StaffAccount>, PageError> {
    let Ok(login) = LoginName::parse(login) else {
        return Ok(None);
    };
    Ok(state
        .store
        .staff_by_login(&login)
        .await?
        .filter(|a| a.institution_id == user.institution_id && a.status != StaffStatus::Removed))
}

async fn apply(
    state: &AppState,
    user: &StaffUser,
    device: RequestDevice,
    login: &str,
    action: StaffAction,
) -> Result<Response, PageError> {
    let Ok(login) = LoginName::parse(login) else {
        return Ok(back("gone"));
    };
    let outcome = state
        .store
        .change_staff(&StaffChange {
            login,
            action,
            institution: Some(user.institution_id),
            keep_an_administrator: true,
        })
        .await?;
    let done = match outcome {
        StaffChangeOutcome::Changed { account, .. } => {
            tracing::info!(
                by = user.staff_id.0,
                staff_id = account.id.0,
                status = account.status.code(),
                role = account.role.code(),
                "console account changed from the console"
            );
            let t = Text;
            let change = match action {
                StaffAction::Disable => t.get("console-access-detail-staff-disabled"),
                StaffAction::Enable => t.get("console-access-detail-staff-enabled"),
                StaffAction::Remove => t.get("console-access-detail-staff-removed"),
                StaffAction::SetRole(role) => {
                    t.with("console-access-detail-staff-role", "role", role.label())
                }
            };
            let detail = format!(
                "{}（{}）：{change}",
                account.display_name,
                account.login_name.as_str()
            );
            access_record::record(
                state,
                user,
                device.0,
                AccessAction::StaffChange,
                None,
                Some(detail),
            )
            .await?;
            match action {
                StaffAction::Disable => "disabled",
                StaffAction::Enable => "enabled",
                StaffAction::Remove => "removed",
                StaffAction::SetRole(_) => "role",
            }
        }
        StaffChangeOutcome::LastAdministrator => "last-admin",
        StaffChangeOutcome::NotFound | StaffChangeOutcome::Removed => "gone",
    };
    // The user's own session may have ended with this change: the next page says so.
    Ok(back(done))
}

fn back(done: &str) -> Response {
    Redirect::to(&format!("{PATH}?done={done}")).into_response()
}
