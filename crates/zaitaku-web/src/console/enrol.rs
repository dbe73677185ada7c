//! The one-time enrolment link: the staff member chooses a password, adds the
//! TOTP secret to an authenticator app (base32 or a 2D code of its `otpauth://`
//! URI) and proves it with a current code. The link dies when used (and then
//! says so) or after 72 hours; a finished enrolment is logged in at once, under
//! a new session id.
//!
//! Each visit of the link shows a fresh secret, to that console session only,
//! and voids the one shown before: whoever saw the link earlier (a colleague, a
//! mail scanner, a proxy) holds a secret that can no longer be enrolled, and
//! the confirmation enrols exactly the secret its own page showed.

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
use zaitaku_store::{
    EnrolmentWrite, ShownSecret, StaffAccount, StaffSessionRecord, StaffSessionStage,
};

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

/// The account of a pending, unexpired link; else why the link cannot be used.
async fn pending_account(state: &AppState, token: &str) -> Result<StaffAccount, PageError> {
    if !random::is_id(token) {
        return Err(PageError::EnrolmentLinkDead);
    }
    match state
        .store
        .staff_by_enrolment(&hash_id(token), OffsetDateTime::now_utc())
        .await?
    {
        Some(account) => Ok(account),
        None => Err(gone(state, token).await),
    }
}

/// A link that is no longer pending: used, or expired or unknown.
async fn gone(state: &AppState, token: &str) -> PageError {
    match state.store.enrolment_link_used(&hash_id(token)).await {
        Ok(true) => PageError::EnrolmentLinkUsed,
        Ok(false) => PageError::EnrolmentLinkDead,
        Err(e) => e.into(),
    }
}

/// The secret the link showed last, if it was shown to `session`.
fn shown_to(account: &StaffAccount, session: &StaffSessionRecord) -> Option<ShownSecret> {
    account
        .enrolment_secret
        .clone()
        .filter(|shown| shown.session_hash == session.id_hash)
}

fn parse(shown: &ShownSecret) -> Result<TotpSecret, PageError> {
    TotpSecret::parse(&shown.secret)
        .ok_or_else(|| PageError::Internal("stored TOTP secret is malformed".to_owned()))
}

/// A fresh secret for this visit, shown to `session`: any earlier one is void.
async fn show_fresh(
    state: &AppState,
    token: &str,
    session: &StaffSessionRecord,
) -> Result<(StaffAccount, TotpSecret), PageError> {
    let secret = TotpSecret::generate();
    let shown = ShownSecret {
        secret: secret.base32(),
        session_hash: session.id_hash.clone(),
    };
    let now = OffsetDateTime::now_utc();
    match state
        .store
        .show_enrolment_secret(&hash_id(token), &shown, now)
        .await?
    {
        Some(account) => Ok((account, secret)),
        None => Err(gone(state, token).await),
    }
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    pending_account(&state, &token).await?;
    let now = OffsetDateTime::now_utc();
    let (new_cookie, current) = match session::current(&headers, &state, now).await? {
        Some(s) => (None, s),
        None => {
            let (id, record) = session::fresh(&state, StaffSessionStage::Login, None, now);
            state.store.insert_staff_session(&record).await?;
            (Some(id), record)
        }
    };
    let (account, secret) = show_fresh(&state, &token, &current).await?;
    let page = enrol_page(&state, &token, &account, &secret, &current, None).await?;
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
    secret: &TotpSecret,
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
        secret: grouped(&secret.base32()),
        image_src: format!("/console/enrol/{token}/code.svg"),
        error,
    })
}

/// The `otpauth://` URI of the secret the page showed, as a 2D code for the
/// authenticator app to scan: only for the session it was shown to.
pub async fn code_image(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let account = pending_account(&state, &token).await?;
    let now = OffsetDateTime::now_utc();
    let current = session::current(&headers, &state, now)
        .await?
        .ok_or(PageError::NotFound)?;
    let shown = shown_to(&account, &current).ok_or(PageError::NotFound)?;
    let uri = parse(&shown)?.uri(ISSUER, account.login_name.as_str());
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
    let account = pending_account(&state, &token).await?;
    let now = OffsetDateTime::now_utc();
    let current = session::current(&headers, &state, now)
        .await?
        .filter(|s| token_matches(&s.csrf_token, &form.csrf))
        .ok_or(PageError::FormRejected)?;
    let Some(shown) = shown_to(&account, &current) else {
        // The link was opened again since this page (here or elsewhere): the
        // secret this person added is void. A new one, for this session.
        return renewed(&state, &token, &current).await;
    };
    let secret = parse(&shown)?;
    let refuse = |key: &str| {
        let message = Text.get(key);
        let (state, token, account, secret, current) =
            (&state, &token, &account, &secret, &current);
        async move {
            let page = enrol_page(state, token, account, secret, current, Some(message)).await?;
            Ok::<_, PageError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    };
    let password = match form.new_password(&account.login_name) {
        Ok(p) => p,
        Err(key) => return refuse(key).await,
    };
    let Some(step) = secret.verify(form.code(), now.unix_timestamp(), account.totp_last_step)
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
            shown: Some(shown),
            replaces: Some(current.id_hash.clone()),
            session: Some(record),
            at: now,
        })
        .await?;
    if !done {
        // Used by a concurrent request, expired, or opened again meanwhile.
        pending_account(&state, &token).await?;
        return renewed(&state, &token, &current).await;
    }
    tracing::info!(staff = %account.id, outcome = LoginOutcome::Enrolment.code(), "console enrolment");
    let mut response = Redirect::to(HOME_PATH).into_response();
    session::set_cookie(&mut response, &state, &id);
    Ok(response)
}

/// The page again with a fresh secret, saying the one added before is void.
async fn renewed(
    state: &AppState,
    token: &str,
    current: &StaffSessionRecord,
) -> Result<Response, PageError> {
    let (account, secret) = show_fresh(state, token, current).await?;
    let message = Text.get("console-enrol-secret-renewed");
    let page = enrol_page(state, token, &account, &secret, current, Some(message)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

fn password_error_key(e: PasswordError) -> &'static str {
    match e {
        PasswordError::TooShort => "console-password-too-short",
        PasswordError::TooLong => "console-password-too-long",
        PasswordError::ControlCharacter => "console-password-control",
        PasswordError::IsLoginName => "console-password-login-name",
    }
}
