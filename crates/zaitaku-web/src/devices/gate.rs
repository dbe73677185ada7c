//! The one rule of who may start flows at an institution's URL: anyone, where
//! the institution allows it; else only a browser holding the credential of a
//! live (not revoked) device of that very institution. The store is read on
//! every request (one indexed read, no cache in the process), so a revocation
//! holds at once on every process. A further way in (an invitation shown by
//! an enrolled device) is one more variant of [`Admission`], decided here.

use super::Credential;
use crate::error::PageError;
use crate::state::AppState;
use axum::http::HeaderMap;
use time::OffsetDateTime;
use zaitaku_domain::{DeviceId, FlowsFrom, Institution};
use zaitaku_store::{DeviceRecord, FlowRecord};

/// Why this request may start flows at the institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The institution lets anyone who knows its URL start flows.
    Anyone,
    /// The browser is this live device of the institution.
    Device(DeviceRecord),
}

impl Admission {
    /// The device that starts the flow, for `flows.device_id`.
    pub fn device_id(&self) -> Option<DeviceId> {
        match self {
            Admission::Anyone => None,
            Admission::Device(device) => Some(device.id),
        }
    }
}

/// Whether the request with `headers` may start flows at `institution`:
/// `PageError::DeviceNotEnrolled` (the Japanese page that says what to do) if not.
/// A device's last-seen time is written at most once a minute.
pub async fn admit(
    state: &AppState,
    headers: &HeaderMap,
    institution: &Institution,
) -> Result<Admission, PageError> {
    if institution.flows_from == FlowsFrom::Anyone {
        return Ok(Admission::Anyone);
    }
    let Some(credential) = Credential::sent(headers, state.secure_cookies()) else {
        return Err(PageError::DeviceNotEnrolled);
    };
    let Some(device) = state
        .store
        .live_device(&credential.hash(), institution.id)
        .await?
    else {
        return Err(PageError::DeviceNotEnrolled);
    };
    let now = OffsetDateTime::now_utc();
    if device.due_for_last_seen(now) {
        state.store.touch_device(device.id, now).await?;
    }
    Ok(Admission::Device(device))
}

/// A flow started by a device goes no further once that device is revoked.
pub async fn flow_device_live(state: &AppState, flow: &FlowRecord) -> Result<(), PageError> {
    let Some(id) = flow.device_id else {
        return Ok(());
    };
    match state.store.device(id, Some(flow.institution_id)).await? {
        Some(device) if !device.is_revoked() => Ok(()),
        _ => Err(PageError::DeviceNotEnrolled),
    }
}
