//! `/console/devices` (端末): the institution's enrolled devices, who enrolled
//! each and when, when each was last seen, and which are revoked. Staff see the
//! list; the 管理者 enrols this very browser, issues a one-time activation
//! code for another device (shown once, valid ten minutes, typed at `/device`)
//! and revokes a device, which holds at once on every process (the gate reads
//! the store on every request).

use super::access_record::{self, RequestDevice};
use super::views::{DeviceRow, DevicesPage, IssuedCode, jst};
use super::{ConsoleFrame, CsrfForm, Outcome, StaffUser};
use crate::devices::{self, Credential};
use crate::error::PageError;
use crate::i18n::Text;
use crate::state::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use zaitaku_domain::{DeviceId, DeviceName};
use zaitaku_store::{AccessAction, DeviceActor, DeviceRecord, Enrolled};

pub const PATH: &str = "/console/devices";

/// 「この端末を登録」 and 「登録コードを発行」: the device's name.
#[derive(Debug, Deserialize)]
pub struct DeviceNameForm {
    csrf: String,
    #[serde(default)]
    name: String,
}

impl DeviceNameForm {
    pub fn name(&self) -> Option<DeviceName> {
        DeviceName::parse(&self.name).ok()
    }
}

pub async fn page(
    State(state): State<AppState>,
    user: StaffUser,
    headers: HeaderMap,
    Query(outcome): Query<Outcome>,
) -> Result<Response, PageError> {
    let (notice, refusal) = match outcome.done.as_str() {
        "enrolled" | "already" | "revoked" => (
            Some(Text.get(&format!("console-devices-done-{}", outcome.done))),
            None,
        ),
        "gone" => (None, Some(Text.get("console-devices-refused-gone"))),
        _ => (None, None),
    };
    let view = View {
        notice,
        refusal,
        ..View::default()
    };
    Ok(render(&state, &user, &headers, view).await?.into_response())
}

/// What differs between the page's appearances.
#[derive(Default)]
struct View {
    notice: Option<String>,
    refusal: Option<String>,
    issued: Option<IssuedCode>,
    /// The name typed, kept after a refusal.
    name: String,
}

async fn render(
    state: &AppState,
    user: &StaffUser,
    headers: &HeaderMap,
    view: View,
) -> Result<DevicesPage, PageError> {
    let this_browser = this_browser(state, headers, user).await?;
    let rows = state
        .store
        .devices(Some(user.institution_id))
        .await?
        .iter()
        .map(|d| row(d, this_browser.as_ref()))
        .collect();
    Ok(DevicesPage {
        t: Text,
        frame: ConsoleFrame::of(state, user).await?,
        rows,
        is_administrator: user.is_administrator(),
        this_browser: this_browser.map(|d| d.name.to_string()),
        notice: view.notice,
        refusal: view.refusal,
        issued: view.issued,
        name: view.name,
        csrf: user.csrf_token.clone(),
    })
}

/// The console browser's own live device at the staff member's institution, if
/// it is one: for the list, and for whoever logs what a console request did.
pub async fn this_browser(
    state: &AppState,
    headers: &HeaderMap,
    user: &StaffUser,
) -> Result<Option<DeviceRecord>, PageError> {
    Ok(devices::current_device(state, headers, user.institution_id).await?)
}

fn row(d: &DeviceRecord, this_browser: Option<&DeviceRecord>) -> DeviceRow {
    DeviceRow {
        name: d.name.to_string(),
        enrolled_by: d.enrolled_by.clone(),
        enrolled_at: jst(d.enrolled_at),
        last_seen: d.last_seen_at.map(jst),
        revoked: d
            .revoked_at
            .map(|at| format!("{}（{}）", jst(at), d.revoked_by.as_deref().unwrap_or("-"))),
        revoke_action: format!("{PATH}/{}/revoke", d.id),
        is_this_browser: this_browser.is_some_and(|t| t.id == d.id),
    }
}

fn back(done: &str) -> Response {
    Redirect::to(&format!("{PATH}?done={done}")).into_response()
}

fn actor(user: &StaffUser) -> DeviceActor {
    DeviceActor::Staff {
        id: user.staff_id,
        login: user.login_name.clone(),
    }
}

async fn refused_name(
    state: &AppState,
    user: &StaffUser,
    headers: &HeaderMap,
    form: &DeviceNameForm,
) -> Result<Response, PageError> {
    let view = View {
        refusal: Some(Text.get("console-devices-name-invalid")),
        name: form.name.chars().take(64).collect(),
        ..View::default()
    };
    let page = render(state, user, headers, view).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// 「この端末を登録」: this browser becomes a device of the staff member's institution.
pub async fn enrol_this(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    headers: HeaderMap,
    Form(form): Form<DeviceNameForm>,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    user.check_csrf(&form.csrf)?;
    let Some(name) = form.name() else {
        return refused_name(&state, &user, &headers, &form).await;
    };
    let secure = state.secure_cookies();
    let credential = Credential::sent_or_new(&headers, secure);
    let enrolled = devices::enrol(
        state.store.as_ref(),
        &credential,
        user.institution_id,
        name,
        actor(&user),
    )
    .await?;
    let done = match &enrolled {
        Enrolled::New(new) => {
            tracing::info!(
                by = user.staff_id.0,
                device = new.id.0,
                "device enrolled from the console"
            );
            let detail = format!("{}（このブラウザ）", new.name);
            let action = AccessAction::DeviceEnrol;
            access_record::record(&state, &user, device.0, action, None, Some(detail)).await?;
            "enrolled"
        }
        Enrolled::Existing(_) => "already",
    };
    let mut response = back(done);
    credential.set_cookie(&mut response, secure);
    Ok(response)
}

/// 「登録コードを発行」: a one-time activation code, shown on this page only.
pub async fn issue_code(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    headers: HeaderMap,
    Form(form): Form<DeviceNameForm>,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    user.check_csrf(&form.csrf)?;
    let Some(name) = form.name() else {
        return refused_name(&state, &user, &headers, &form).await;
    };
    let (code, expires_at) = devices::issue_activation_code(
        state.store.as_ref(),
        user.institution_id,
        name.clone(),
        actor(&user),
    )
    .await?;
    tracing::info!(
        by = user.staff_id.0,
        "device activation code issued from the console"
    );
    let detail = format!("{name}（端末登録コードを発行）");
    let action = AccessAction::DeviceEnrol;
    access_record::record(&state, &user, device.0, action, None, Some(detail)).await?;
    let view = View {
        issued: Some(IssuedCode {
            code: code.display(),
            device_name: name.to_string(),
            expires_at: jst(expires_at),
        }),
        ..View::default()
    };
    let mut response = render(&state, &user, &headers, view).await?.into_response();
    // The code is shown once: not kept by the browser's cache.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// 「取消」: the device starts nothing from its next request on.
pub async fn revoke(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    user.check_csrf(&form.csrf)?;
    let revoked = state
        .store
        .revoke_device(
            DeviceId(id),
            Some(user.institution_id),
            &actor(&user),
            OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(match revoked {
        Some(revoked) => {
            tracing::info!(
                by = user.staff_id.0,
                device = revoked.id.0,
                "device revoked from the console"
            );
            let detail = revoked.name.to_string();
            let action = AccessAction::DeviceRevoke;
            access_record::record(&state, &user, device.0, action, None, Some(detail)).await?;
            back("revoked")
        }
        None => back("gone"),
    })
}
