//! Logging in: the password (`/console/login`), then the 6-digit code of the
//! authenticator app (`/console/login/code`), each step under a new session id;
//! and logging out.
//!
//! Each password attempt is counted before the password is hashed, in one store
//! transaction (`claim_login_attempt`): an account's attempts from unknown
//! browsers share one counter, and each browser where it logged in before (a
//! remembered device, cookie `zaitaku_staff_device`) has its own. Five attempts
//! pass at once; then a counter waits 1 minute, and twice as long after each
//! further attempt, up to an hour (`THROTTLE`). A stranger who knows a login
//! name slows down only its unknown browsers. Five wrong codes in a row (which
//! needs the right password) lock the account for 15 minutes (`lockout`);
//! `zaitaku admin staff unlock` clears both. A failed login says the same,
//! whether the login name exists, the password was wrong or the attempt was
//! refused, and costs the same argon2 work.

use super::session;
use super::staff_user::{LOGIN_PATH, StaffUser};
use super::totp::TotpSecret;
use super::views::{CodePage, LoginPage};
use super::{HOME_PATH, password};
use crate::cookies::STAFF_DEVICE;
use crate::csrf::token_matches;
use crate::error::PageError;
use crate::i18n::Text;
use crate::limits::ClientAddress;
use crate::session::hash_id;
use crate::state::AppState;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use zaitaku_domain::{LoginName, LoginOutcome, StaffId};
use zaitaku_store::{
    AttemptClaim, AttemptKey, Lockout, LoginCompletion, LoginRecord, StaffAccount,
    StaffSessionRecord, StaffSessionStage, ThrottlePolicy,
};

pub const CODE_PATH: &str = "/console/login/code";

/// Japan's medical-information security guideline asks for a lockout. Wrong
/// codes lock: only someone who knows the password can make them. It lasts
/// `Lifetimes::lockout` (15 minutes unless configured).
pub fn lockout(state: &AppState) -> Lockout {
    Lockout {
        max_failures: 5,
        duration: state.lifetimes.lockout,
    }
}

/// Password attempts per counter: five at once, then 1, 2, 4, … minutes apart,
/// at most an hour: about 30 guesses on the first day, 24 a day after.
pub const THROTTLE: ThrottlePolicy = ThrottlePolicy {
    free_attempts: 5,
    first_delay: Duration::minutes(1),
    max_delay: Duration::hours(1),
};

/// How long a browser is remembered after a login from it.
const DEVICE_LIFETIME: Duration = Duration::days(90);

/// How much of a typed login name the log keeps.
const LOGGED_NAME_MAX: usize = 64;

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    login: String,
    password: String,
}

impl LoginForm {
    /// The login name as typed, without surrounding spaces.
    pub fn typed_login(&self) -> &str {
        self.login.trim()
    }

    /// The account's name, if what was typed can be one.
    pub fn login_name(&self) -> Option<LoginName> {
        LoginName::parse(self.typed_login()).ok()
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

impl CodeForm {
    /// The code as typed, without surrounding spaces ([`TotpSecret::verify`] reads it).
    pub fn code(&self) -> &str {
        self.code.trim()
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let now = OffsetDateTime::now_utc();
    match session::current(&headers, &state, now).await? {
        Some(s) if s.stage == StaffSessionStage::Complete => {
            Ok(Redirect::to(HOME_PATH).into_response())
        }
        Some(s) => Ok(login_form(&state, &s.csrf_token, String::new(), None).into_response()),
        // A form shown before under this cookie (another tab): the same token.
        None => match session::cookie_id(&headers, &state) {
            Some(id) => {
                let csrf = crate::csrf::token_for(id);
                Ok(login_form(&state, &csrf, String::new(), None).into_response())
            }
            None => fresh_login_form(&state, StatusCode::OK, String::new(), None).await,
        },
    }
}

fn login_form(state: &AppState, csrf: &str, login: String, error: Option<String>) -> LoginPage {
    LoginPage {
        t: Text,
        demo: state.demo.is_some(),
        csrf: csrf.to_owned(),
        login,
        error,
    }
}

/// The login form under a new session id, stored nowhere: showing a form
/// starts nothing, so it writes nothing. Its token is derived from the id
/// (`csrf::token_for`), and the password step checks it so.
async fn fresh_login_form(
    state: &AppState,
    status: StatusCode,
    login: String,
    error: Option<String>,
) -> Result<Response, PageError> {
    let id = crate::random::secret256();
    let csrf = crate::csrf::token_for(&id);
    let mut response = (status, login_form(state, &csrf, login, error)).into_response();
    session::set_cookie(&mut response, state, &id);
    Ok(response)
}

/// The session a password form was posted from, if its token is that
/// session's: a stored one at any stage, or the unstored one of a fresh form.
async fn posting_session(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
    now: OffsetDateTime,
) -> Result<Option<LoginForms>, PageError> {
    if let Some(stored) = session::current(headers, state, now).await? {
        return Ok(
            token_matches(&stored.csrf_token, csrf).then_some(LoginForms {
                id_hash: stored.id_hash,
                csrf_token: stored.csrf_token,
            }),
        );
    }
    Ok(session::cookie_id(headers, state)
        .map(|id| (hash_id(id), crate::csrf::token_for(id)))
        .filter(|(_, token)| token_matches(token, csrf))
        .map(|(id_hash, csrf_token)| LoginForms {
            id_hash,
            csrf_token,
        }))
}

/// The session of the password form: the one a successful password replaces.
struct LoginForms {
    id_hash: String,
    csrf_token: String,
}

fn failed() -> Option<String> {
    Some(Text.get("console-login-failed"))
}

pub async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(client): ClientAddress,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let now = OffsetDateTime::now_utc();
    let current = posting_session(&state, &headers, &form.csrf, now)
        .await?
        .ok_or(PageError::FormRejected)?;
    let typed = form.typed_login();
    let account = match form.login_name() {
        Some(name) => state.store.staff_by_login(&name).await?,
        None => None,
    }
    .filter(StaffAccount::may_log_in);
    let key = match &account {
        Some(a) => Some(attempt_key(&state, &headers, a.id, now).await?),
        None => None,
    };
    // A place in the hashing queue first: a request turned away counts nothing.
    let lane = match &key {
        Some(AttemptKey::Device { .. }) => password::Lane::Priority,
        _ => password::Lane::Shared,
    };
    // Per client, before any argon2 work or count, for the shared lane: one
    // address cannot fill it, and a stranger behind the staff's own address
    // cannot keep their remembered devices out.
    if lane == password::Lane::Shared {
        state
            .guards
            .console_login(client)
            .map_err(|retry_after| PageError::Busy { retry_after })?;
    }
    let place = match password::queue(lane) {
        Ok(place) => place,
        Err(_) => {
            tracing::warn!("console login turned away: too many password checks waiting");
            let busy = login_form(
                &state,
                &current.csrf_token,
                typed.to_owned(),
                Some(Text.get("console-login-busy")),
            );
            return Ok((
                StatusCode::SERVICE_UNAVAILABLE,
                [(axum::http::header::RETRY_AFTER, "5")],
                busy,
            )
                .into_response());
        }
    };
    // Counted before the password is looked at: parallel requests get no more.
    let counted = match &key {
        Some(key) => matches!(
            state.store.claim_login_attempt(key, now, &THROTTLE).await?,
            AttemptClaim::Counted(_)
        ),
        None => false,
    };
    // Always one argon2 verification, against a decoy hash when there is no
    // account or the attempt was refused.
    let phc = account
        .as_ref()
        .filter(|_| counted)
        .and_then(|a| a.password_hash.as_deref());
    let password_ok = password::verify(place, &form.password, phc)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let attempt = |outcome, account: Option<&StaffAccount>| LoginRecord {
        at: now,
        login_name: typed.chars().take(LOGGED_NAME_MAX).collect(),
        staff_id: account.map(|a| a.id),
        institution_id: account.map(|a| a.institution_id),
        outcome,
    };
    let outcome = match &account {
        None => {
            state
                .store
                .record_login(&attempt(LoginOutcome::UnknownLogin, None))
                .await?;
            LoginOutcome::UnknownLogin
        }
        Some(a) if !counted => {
            state
                .store
                .record_login(&attempt(LoginOutcome::Locked, Some(a)))
                .await?;
            LoginOutcome::Locked
        }
        Some(a) if !password_ok => {
            // Already counted: only the log is written.
            state
                .store
                .record_login(&attempt(LoginOutcome::WrongPassword, Some(a)))
                .await?;
            LoginOutcome::WrongPassword
        }
        Some(a) => {
            let (id, record) =
                session::fresh(&state, StaffSessionStage::PasswordOk, Some(a.id), now);
            state
                .store
                .replace_staff_session(&current.id_hash, &record)
                .await?;
            let mut response = Redirect::to(CODE_PATH).into_response();
            session::set_cookie(&mut response, &state, &id);
            return Ok(response);
        }
    };
    log_outcome(account.as_ref().map(|a| a.id), outcome);
    Ok((
        StatusCode::UNAUTHORIZED,
        login_form(&state, &current.csrf_token, typed.to_owned(), failed()),
    )
        .into_response())
}

/// The session, if it is waiting for its code.
async fn password_only(
    state: &AppState,
    headers: &HeaderMap,
    now: OffsetDateTime,
) -> Result<Option<(StaffSessionRecord, StaffId)>, PageError> {
    Ok(session::current(headers, state, now)
        .await?
        .filter(|s| s.stage == StaffSessionStage::PasswordOk)
        .and_then(|s| s.staff_id.map(|id| (s, id))))
}

pub async fn code_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let now = OffsetDateTime::now_utc();
    let Some((current, _)) = password_only(&state, &headers, now).await? else {
        return Ok(Redirect::to(LOGIN_PATH).into_response());
    };
    Ok(code_form(&state, &current, None).into_response())
}

fn code_form(state: &AppState, current: &StaffSessionRecord, error: Option<String>) -> CodePage {
    CodePage {
        t: Text,
        demo: state.demo.is_some(),
        csrf: current.csrf_token.clone(),
        error,
    }
}

pub async fn code_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let now = OffsetDateTime::now_utc();
    let Some((current, staff_id)) = password_only(&state, &headers, now).await? else {
        return Ok(Redirect::to(LOGIN_PATH).into_response());
    };
    if !token_matches(&current.csrf_token, &form.csrf) {
        return Err(PageError::FormRejected);
    }
    let Some(account) = state
        .store
        .staff(staff_id)
        .await?
        .filter(StaffAccount::may_log_in)
    else {
        state.store.delete_staff_session(&current.id_hash).await?;
        return Ok(Redirect::to(LOGIN_PATH).into_response());
    };
    let attempt = |outcome| LoginRecord {
        at: now,
        login_name: account.login_name.as_str().to_owned(),
        staff_id: Some(account.id),
        institution_id: Some(account.institution_id),
        outcome,
    };
    if account.is_locked(now) {
        state
            .store
            .record_login(&attempt(LoginOutcome::Locked))
            .await?;
        state.store.delete_staff_session(&current.id_hash).await?;
        log_outcome(Some(account.id), LoginOutcome::Locked);
        return fresh_login_form(&state, StatusCode::UNAUTHORIZED, String::new(), failed()).await;
    }
    let secret = TotpSecret::parse(&account.totp_secret).ok_or(PageError::Internal(
        "stored TOTP secret is malformed".to_owned(),
    ))?;
    if let Some(step) = secret.verify(form.code(), now.unix_timestamp(), account.totp_last_step) {
        let (id, record) =
            session::fresh(&state, StaffSessionStage::Complete, Some(account.id), now);
        let completed = state
            .store
            .complete_login(&LoginCompletion {
                staff_id: account.id,
                totp_step: step,
                replaces: current.id_hash.clone(),
                session: record,
                at: now,
            })
            .await?;
        if completed {
            log_outcome(Some(account.id), LoginOutcome::Success);
            let mut response = Redirect::to(HOME_PATH).into_response();
            session::set_cookie(&mut response, &state, &id);
            remember_device(&state, &headers, account.id, now, &mut response).await?;
            return Ok(response);
        }
        // Another request used this step first: a replayed code.
    }
    log_outcome(Some(account.id), LoginOutcome::WrongCode);
    let locked = state
        .store
        .record_login_failure(&attempt(LoginOutcome::WrongCode), &lockout(&state))
        .await?;
    if locked {
        return fresh_login_form(&state, StatusCode::UNAUTHORIZED, String::new(), failed()).await;
    }
    Ok((
        StatusCode::UNAUTHORIZED,
        code_form(&state, &current, Some(Text.get("console-code-wrong"))),
    )
        .into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: StaffUser,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    if let Some(id) = session::cookie_id(&headers, &state) {
        state
            .store
            .delete_staff_session(&crate::session::hash_id(id))
            .await?;
    }
    tracing::info!(staff = %user.staff_id, "console logout");
    let mut response = Redirect::to(LOGIN_PATH).into_response();
    session::clear_cookie(&mut response, &state);
    Ok(response)
}

/// Whose counter a password attempt on `staff_id` from this browser goes to.
async fn attempt_key(
    state: &AppState,
    headers: &HeaderMap,
    staff_id: StaffId,
    now: OffsetDateTime,
) -> Result<AttemptKey, PageError> {
    if let Some(id) = STAFF_DEVICE.read(headers, state.secure_cookies()) {
        let token_hash = hash_id(id);
        if state.store.staff_device(&token_hash, now).await? == Some(staff_id) {
            return Ok(AttemptKey::Device {
                staff_id,
                token_hash,
            });
        }
    }
    Ok(AttemptKey::Account(staff_id))
}

/// After a completed login: the counter used starts again, and this browser
/// is remembered for the account (a new cookie unless it already was).
async fn remember_device(
    state: &AppState,
    headers: &HeaderMap,
    staff_id: StaffId,
    now: OffsetDateTime,
    response: &mut Response,
) -> Result<(), PageError> {
    let key = attempt_key(state, headers, staff_id, now).await?;
    state.store.clear_login_attempts(&key).await?;
    let (id, token_hash) = match (&key, STAFF_DEVICE.read(headers, state.secure_cookies())) {
        (AttemptKey::Device { token_hash, .. }, Some(id)) => (id.to_owned(), token_hash.clone()),
        _ => {
            let id = crate::random::secret256();
            let hash = hash_id(&id);
            (id, hash)
        }
    };
    state
        .store
        .remember_staff_device(&token_hash, staff_id, now + DEVICE_LIFETIME)
        .await?;
    STAFF_DEVICE.set(
        response,
        state.secure_cookies(),
        &id,
        DEVICE_LIFETIME.whole_seconds(),
    );
    Ok(())
}

/// Outcomes go to the log by staff id and code: never a name, password or code.
fn log_outcome(staff: Option<StaffId>, outcome: LoginOutcome) {
    match staff {
        Some(staff) => tracing::info!(%staff, outcome = outcome.code(), "console login"),
        None => tracing::info!(outcome = outcome.code(), "console login"),
    }
}
