//! The access log, for administrators: who looked at which patient's
//! information, searched the list, re-queried (or was refused), revoked, or
//! changed settings, staff accounts or devices, from which device, newest
//! first; and when the tamper-evident chains were last verified
//! (`zaitaku admin audit verify`).

use super::frame::ConsoleFrame;
use super::staff_user::StaffUser;
use super::views::{AccessLogPage, AccessRow, jst};
use crate::error::PageError;
use crate::i18n::Text;
use crate::state::AppState;
use axum::extract::State;
use zaitaku_store::{AccessAction, AccessActor, AccessLogLine};

/// The newest lines shown; older ones stay in the database.
const SHOWN: u32 = 500;

pub async fn page(
    State(state): State<AppState>,
    user: StaffUser,
) -> Result<AccessLogPage, PageError> {
    user.require_administrator()?;
    let lines = state.store.access_log(user.institution_id, SHOWN).await?;
    let last = state
        .store
        .last_audit_verification(user.institution_id)
        .await?;
    let t = Text;
    let (verified, tampered) = match last {
        None => (t.get("console-audit-never"), false),
        Some(v) if v.intact => (t.with("console-audit-intact", "at", jst(v.at)), false),
        Some(v) => (t.with("console-audit-tampered", "at", jst(v.at)), true),
    };
    Ok(AccessLogPage {
        t,
        frame: ConsoleFrame::of(&state, &user).await?,
        verified,
        tampered,
        rows: lines.into_iter().map(row).collect(),
    })
}

fn row(line: AccessLogLine) -> AccessRow {
    let t = Text;
    let entry = line.entry;
    AccessRow {
        at: jst(entry.at),
        staff: match &entry.actor {
            AccessActor::Staff(s) => format!("{}（{}）", s.name, s.login),
            AccessActor::Cli => t.get("console-access-cli"),
        },
        device: entry.device_name.unwrap_or_else(|| t.get("value-none")),
        patient: entry.person.map(|p| {
            (
                line.person_name.unwrap_or_default(),
                format!("/console/patients/{}", p.0),
            )
        }),
        action: t.get(action_key(entry.action)),
        detail: entry.detail.unwrap_or_default(),
    }
}

/// The message key of each action's label.
fn action_key(action: AccessAction) -> &'static str {
    match action {
        AccessAction::View => "console-access-view",
        AccessAction::Search => "console-access-search",
        AccessAction::Requery => "console-access-requery",
        AccessAction::RequeryRefused => "console-access-requery-refused",
        AccessAction::Revoke => "console-access-revoke",
        AccessAction::SettingsChange => "console-access-settings",
        AccessAction::StaffChange => "console-access-staff-change",
        AccessAction::Export => "console-access-export",
        AccessAction::PersonExport => "console-access-person-export",
        AccessAction::PersonDelete => "console-access-person-delete",
        AccessAction::DeviceEnrol => "console-access-device-enrol",
        AccessAction::DeviceRevoke => "console-access-device-revoke",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_label() {
        for action in AccessAction::ALL {
            assert!(Text.has(action_key(action)), "{action:?}");
        }
    }
}
