//! The console's one writer of the access log: every console action that reads
//! or changes personal data or settings goes through [`record`], with the
//! staff login and the device the request came from ([`RequestDevice`]). The
//! entry joins its institution's hash chain in the store.

use super::staff_user::StaffUser;
use crate::error::PageError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;
use time::OffsetDateTime;
use zaitaku_domain::PersonId;
use zaitaku_store::{AccessAction, AccessActor, AccessEntry, StaffActor};

/// The enrolled device a console request came from, by name (`None`: none).
/// Handlers take it as an extractor and hand its name to [`record`].
#[derive(Debug, Clone, Default)]
pub struct RequestDevice(pub Option<String>);

impl FromRequestParts<AppState> for RequestDevice {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(RequestDevice(device_name(parts, state).await))
    }
}

/// The name of the live enrolled device of the staff member's institution
/// whose credential the request carries (`devices::current_device`: one
/// indexed read). The `StaffUser` extractor, before this one, left the user
/// in the request; without it, or without a device, none.
async fn device_name(parts: &Parts, state: &AppState) -> Option<String> {
    let institution = parts.extensions.get::<StaffUser>()?.institution_id;
    match crate::devices::current_device(state, &parts.headers, institution).await {
        Ok(device) => device.map(|d| d.name.to_string()),
        Err(e) => {
            tracing::warn!(cause = %e, "the request's device could not be read for the access log");
            None
        }
    }
}

/// Append one line to the access log: `user` did `action` (about `person`,
/// when about one patient) from `device`; `detail` is the search's filter,
/// what a change changed or why a 再照会 was refused, never a secret.
pub async fn record(
    state: &AppState,
    user: &StaffUser,
    device: Option<String>,
    action: AccessAction,
    person: Option<PersonId>,
    detail: Option<String>,
) -> Result<(), PageError> {
    let entry = AccessEntry {
        at: OffsetDateTime::now_utc(),
        institution: Some(user.institution_id),
        actor: AccessActor::Staff(actor(user)),
        person,
        action,
        device_name: device,
        detail,
    };
    Ok(state.store.record_access(&entry).await?)
}

/// The staff member as the logs copy them.
pub fn actor(user: &StaffUser) -> StaffActor {
    StaffActor {
        id: user.staff_id,
        login: user.login_name.clone(),
        name: user.display_name.clone(),
    }
}
