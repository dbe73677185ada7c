//! The one rule of who may start flows at an institution's URL: anyone, where
//! the institution allows it; else only a browser holding the credential of a
//! live (not revoked) device of that very institution. The store is read on
//! every request (one indexed read, no cache in the process), so a revocation
//! holds at once on every process. The one other way in: a patient's phone
//! whose browser session opened an invitation that a live device of the
//! institution showed, within the admission's half hour (`invitations`).

use crate::error::PageError;
use crate::session::Session;
use crate::state::AppState;
use axum::http::HeaderMap;
use time::OffsetDateTime;
use zaitaku_domain::{DeviceId, FlowsFrom, Institution};
use zaitaku_store::{DeviceRecord, FlowContext};

/// Why this request may start flows at the institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The institution lets anyone who knows its URL start flows.
    Anyone,
    /// The browser is this live device of the institution.
    Device(DeviceRecord),
    /// The browser session opened an invitation this live device showed.
    Invited(DeviceRecord),
}

impl Admission {
    /// The device that starts the flow, for `flows.device_id`.
    pub fn device_id(&self) -> Option<DeviceId> {
        match self {
            Admission::Anyone => None,
            Admission::Device(device) | Admission::Invited(device) => Some(device.id),
        }
    }
}

/// Whether the request with `headers`, in browser session `session`, may
/// start flows at `institution`: `PageError::DeviceNotEnrolled` (the Japanese
/// page that says what to do) if not. A device's last-seen time is written at
/// most once a minute.
pub async fn admit(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
    institution: &Institution,
) -> Result<Admission, PageError> {
    if institution.flows_from == FlowsFrom::Anyone {
        return Ok(Admission::Anyone);
    }
    let now = OffsetDateTime::now_utc();
    let device = super::current_device(state, headers, institution.id).await?;
    let Some(device) = device else {
        // A session the store does not hold opened no invitation.
        if !session.stored {
            return Err(PageError::DeviceNotEnrolled);
        }
        return match state
            .store
            .admitted_device(&session.id_hash, institution.id, now)
            .await?
        {
            Some(device) => Ok(Admission::Invited(device)),
            None => Err(PageError::DeviceNotEnrolled),
        };
    };
    if device.due_for_last_seen(now) {
        state.store.touch_device(device.id, now).await?;
    }
    Ok(Admission::Device(device))
}

/// Whether a flow may go on, the one rule its pages, the authenticator API
/// and the demo reader ask: not once the institution's URL it was started
/// from was rotated away (`PageError::UrlChanged`), nor once the device that
/// started it was revoked (`PageError::DeviceNotEnrolled`). If it may, the
/// name of the live device that started it (`None` where anyone may start
/// flows). `context` is the store's one read of the flow.
pub fn flow_requester(context: &FlowContext) -> Result<Option<String>, PageError> {
    if !context.flow.started_from(&context.institution) {
        return Err(PageError::UrlChanged);
    }
    match (context.flow.device_id, &context.device) {
        (None, _) => Ok(None),
        (Some(_), Some(device)) if !device.is_revoked() => {
            Ok(Some(device.name.as_str().to_owned()))
        }
        (Some(_), _) => Err(PageError::DeviceNotEnrolled),
    }
}
