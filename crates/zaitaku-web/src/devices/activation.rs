//! `/device`: where a one-time activation code is typed on the device to
//! enrol. A right code sets the device cookie (creating the browser's secret
//! if it had none) and stores the device; a wrong, used or expired one says so
//! and writes nothing. Tries are limited per client (`Guards::device_activation`).

use super::{Credential, code_hash};
use crate::error::PageError;
use crate::i18n::Text;
use crate::limits::ClientAddress;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{DeviceEnrolled, DevicePage};
use axum::Extension;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use zaitaku_domain::ActivationCode;
use zaitaku_store::{Activation, DeviceRecord};

#[derive(Deserialize)]
pub struct ActivationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

impl ActivationForm {
    /// The code as typed, if it is one (case, hyphen and spaces as the staff like).
    pub fn code(&self) -> Option<ActivationCode> {
        ActivationCode::parse(&self.code).ok()
    }
}

fn page(state: &AppState, session: &Session, typed: String, error: Option<String>) -> DevicePage {
    DevicePage {
        t: Text,
        demo: state.demo.is_some(),
        csrf: session.csrf_token.clone(),
        code: typed,
        error,
        enrolled: None,
    }
}

pub async fn form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> DevicePage {
    page(&state, &session, String::new(), None)
}

pub async fn submit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<ActivationForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    state
        .guards
        .device_activation(client)
        .map_err(|retry_after| PageError::Busy { retry_after })?;
    let refused = |key: &str| {
        let typed = form.code.chars().take(20).collect();
        let page = page(&state, &session, typed, Some(Text.get(key)));
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let Some(code) = form.code() else {
        return refused("device-code-malformed");
    };
    let secure = state.secure_cookies();
    let credential = Credential::sent_or_new(&headers, secure);
    let activation = state
        .store
        .activate_device(
            &code_hash(&code),
            &credential.hash(),
            OffsetDateTime::now_utc(),
        )
        .await?;
    let (device, heading) = match activation {
        Activation::Enrolled(device) => (device, "device-enrolled-title"),
        Activation::AlreadyEnrolled(device) => (device, "device-already-title"),
        Activation::Unknown => return refused("device-code-unknown"),
        Activation::Used => return refused("device-code-used"),
        Activation::Expired => return refused("device-code-expired"),
    };
    tracing::info!(device = device.id.0, "device enrolled by activation code");
    let mut response = enrolled_page(&state, device, heading)
        .await?
        .into_response();
    credential.set_cookie(&mut response, secure);
    Ok(response)
}

async fn enrolled_page(
    state: &AppState,
    device: DeviceRecord,
    heading: &str,
) -> Result<DevicePage, PageError> {
    let institution = state
        .store
        .institution(device.institution_id)
        .await?
        .ok_or_else(|| PageError::Internal("a device of no institution".to_owned()))?;
    Ok(DevicePage {
        t: Text,
        demo: state.demo.is_some(),
        csrf: String::new(),
        code: String::new(),
        error: None,
        enrolled: Some(DeviceEnrolled {
            heading: Text.get(heading),
            device_name: device.name.to_string(),
            institution_name: institution.name,
            institution_href: format!("/i/{}", institution.url_token.as_str()),
        }),
    })
}
