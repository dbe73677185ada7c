//! The one-time enrolment link: the staff member chooses a password, adds the
//! TOTP secret to an authenticator app (base32 or a 2D code of its `otpauth://`
//! URI) and proves it with a current code. The link dies when used or after 72
//! hours; a finished enrolment is logged in at once, under a new session id.

use super::totp::TotpSecret;
use super::views::{EnrolPage, grouped};
use super::{HOME_PATH, password, session};
use crate::csrf::token_matches;
use crate::error::PageError;
use crate::i18n::Text;
use crate::random;
use crate::session::hash_id;
use crate::state::AppState;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use zaitaku_domain::{LoginName, LoginOutcome, NewPassword, PasswordError};
use zaitaku_store::{EnrolmentWrite, StaffAccount, StaffSessionRecord, StaffSessionStage};

/// The issuer authenticator apps show beside the login name.
const ISSUER: &str = "Zaitaku";

#[derive(Deserialize)]
pub struct EnrolForm {
    csrf: String,
    password: String,
    password_again: String,
    code: String,
}

impl EnrolForm {
    /// The chosen password, typed the same twice, or the text key of why not.
    pub fn new_password(&self, login: &LoginName) -> Result<NewPassword, &'static str> {
        if self.password != self.password_again {
            return Err("console-enrol-mismatch");
        }
        NewPassword::parse(&self.password, login).map_err(password_error_key)
    }

    /// The code as typed, without surrounding spaces ([`TotpSecret::verify`] reads it).
    pub fn code(&self) -> &str {
        self.code.trim()
    }
}

async fn account(state: &AppState, token: &str) -> Result<StaffAccount, PageError> {
    if !random::is_id(token) {
        return Err(PageError::EnrolmentLinkDead);
    }
    state
        .store
        .staff_by_enrolment(&hash_id(token), OffsetDateTime::now_utc())
        .await?
        .ok_or(PageError::EnrolmentLinkDead)
}

fn secret(account: &StaffAccount) -> Result<TotpSecret, PageError> {
    TotpSecret::parse(&account.totp_secret)
        .ok_or_else(|| PageError::Internal("stored TOTP secret is malformed".to_owned()))
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let account = account(&state, &token).await?;
    let now = OffsetDateTime::now_utc();
    let (new_cookie, current) = match session::current(&headers, &state, now).await? {
        Some(s) => (None, s),
        None => {
            let (id, record) = session::fresh(&state, StaffSessionStage::Login, None, now);
            state.store.insert_staff_session(&record).await?;
            (Some(id), record)
        }
    };
    let page = enrol_page(&state, &token, &account, &current, None).await?;
    let mut response = page.into_response();
    if let Some(id) = new_cookie {
        session::set_cookie(&mut response, &state, &id);
    }
    Ok(response)
}

async fn enrol_page(
    state: &AppState,
    token: &str,
    account: &StaffAccount,
    current: &StaffSessionRecord,
    error: Option<String>,
) -> Result<EnrolPage, PageError> {
    let institution = state
        .store
        .institution(account.institution_id)
        .await?
        .ok_or_else(|| PageError::Internal("staff member's institution is gone".to_owned()))?;
    Ok(EnrolPage {
        t: Text,
        demo: state.demo.is_some(),
        csrf: current.csrf_token.clone(),
        action: format!("/console/enrol/{token}"),
        institution_name: institution.name,
        login_name: account.login_name.as_str().to_owned(),
        display_name: account.display_name.clone(),
        role: account.role.label(),
        secret: grouped(&secret(account)?.base32()),
        image_src: format!("/console/enrol/{token}/code.svg"),
        error,
    })
}

/// The `otpauth://` URI as a 2D code, for the authenticator app to scan.
pub async fn code_image(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let account = account(&state, &token).await?;
    let uri = secret(&account)?.uri(ISSUER, account.login_name.as_str());
    let svg = crate::code_image::svg(&uri)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<EnrolForm>,
) -> Result<Response, PageError> {
    let account = account(&state, &token).await?;
    let now = OffsetDateTime::now_utc();
    let current = session::current(&headers, &state, now)
        .await?
        .filter(|s| token_matches(&s.csrf_token, &form.csrf))
        .ok_or(PageError::FormRejected)?;
    let refuse = |key: &str| {
        let message = Text.get(key);
        let (state, token, account, current) = (&state, &token, &account, &current);
        async move {
            let page = enrol_page(state, token, account, current, Some(message)).await?;
            Ok::<_, PageError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    };
    let password = match form.new_password(&account.login_name) {
        Ok(p) => p,
        Err(key) => return refuse(key).await,
    };
    let Some(step) =
        secret(&account)?.verify(form.code(), now.unix_timestamp(), account.totp_last_step)
    else {
        return refuse("console-code-wrong").await;
    };
    let password_hash = password::hash(&password)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let (id, record) = session::fresh(&state, StaffSessionStage::Complete, Some(account.id), now);
    let done = state
        .store
        .complete_enrolment(&EnrolmentWrite {
            staff_id: account.id,
            token_hash: hash_id(&token),
            password_hash,
            totp_step: Some(step),
            replaces: Some(current.id_hash.clone()),
            session: Some(record),
            at: now,
        })
        .await?;
    if !done {
        // Used by a concurrent request, or expired meanwhile.
        return Err(PageError::EnrolmentLinkDead);
    }
    tracing::info!(staff = %account.id, outcome = LoginOutcome::Enrolment.code(), "console enrolment");
    let mut response = Redirect::to(HOME_PATH).into_response();
    session::set_cookie(&mut response, &state, &id);
    Ok(response)
}

fn password_error_key(e: PasswordError) -> &'static str {
    match e {
        PasswordError::TooShort => "console-password-too-short",
        PasswordError::TooLong => "console-password-too-long",
        PasswordError::ControlCharacter => "console-password-control",
        PasswordError::IsLoginName => "console-password-login-name",
    }
}
