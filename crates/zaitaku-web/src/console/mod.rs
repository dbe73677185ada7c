//! The institution's console: staff log in with a password and a TOTP code, and
//! every console page takes a [`StaffUser`] and shows a [`ConsoleFrame`] around
//! its content (`templates/console_layout.html`). Console sessions are their own
//! (cookie `zaitaku_console`), separate from the patient screens' sessions.

mod access_log;
mod access_record;
pub mod accounts;
pub mod devices;
mod enrol;
mod frame;
mod login;
mod logins;
mod password;
mod patient;
mod patients;
mod revoke;
mod session;
mod settings;
mod staff_accounts;
mod staff_user;
mod status;
pub mod totp;
mod views;

pub use frame::ConsoleFrame;
// The posted forms, for `crate::forms`.
pub use enrol::EnrolForm;
pub use login::{CodeForm, LoginForm};
pub use revoke::RevokeForm;
pub use settings::SettingsForm;
pub use staff_user::StaffUser;

use crate::security;
use crate::state::AppState;
use axum::Router;
use axum::middleware::from_fn;
use axum::response::Redirect;
use axum::routing::{get, post};

/// Where a complete login (and `/console`) leads.
/// A console form that is only a button: its session's CSRF token and nothing else.
#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    pub(crate) csrf: String,
}

/// `?done=…` after an action: which notice the page shows (empty: none).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Outcome {
    #[serde(default)]
    pub(crate) done: String,
}

pub const HOME_PATH: &str = "/console/patients";

/// Every `/console/…` route; mounted by the app beside the patient screens.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to(HOME_PATH) }))
        .route(
            "/console/login",
            get(login::login_page).post(login::login_submit),
        )
        .route(
            "/console/login/code",
            get(login::code_page).post(login::code_submit),
        )
        .route("/console/logout", post(login::logout))
        .route(
            "/console/enrol/{token}",
            get(enrol::page).post(enrol::submit),
        )
        .route("/console/enrol/{token}/code.svg", get(enrol::code_image))
        .route("/console/logins", get(logins::page))
        .route("/console/patients", get(patients::list))
        .route("/console/patients/{person}", get(patient::page))
        .route("/console/patients/{person}/requery", post(patient::requery))
        .route(
            "/console/patients/{person}/revoke",
            get(revoke::confirm_page).post(revoke::submit),
        )
        .route(
            "/console/settings",
            get(settings::page).post(settings::save),
        )
        .route("/console/settings/qr.svg", get(settings::code_svg))
        .route("/console/settings/qr.png", get(settings::code_png))
        .route(
            "/console/settings/rotate-url",
            get(settings::rotate_page).post(settings::rotate),
        )
        .route("/console/access-log", get(access_log::page))
        .route(devices::PATH, get(devices::page))
        .route("/console/devices/enrol", post(devices::enrol_this))
        .route("/console/devices/code", post(devices::issue_code))
        .route("/console/devices/{id}/revoke", post(devices::revoke))
        .route("/console/status", get(status::page))
        .route(staff_accounts::PATH, get(staff_accounts::page))
        .route("/console/staff/{login}", post(staff_accounts::change))
        .route(
            "/console/staff/{login}/remove",
            get(staff_accounts::remove_page).post(staff_accounts::remove),
        )
        .layer(from_fn(security::refuse_cross_site_posts))
}
