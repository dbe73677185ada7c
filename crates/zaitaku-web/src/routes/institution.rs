//! The institution URL: the preparation screen, and the start of flows A, B and C.

use crate::devices::gate;
use crate::error::PageError;
use crate::i18n::Text;
use crate::random;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{Menu, PreparePage, Stage, Wording};
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use zaitaku_domain::{AuthMethod, FlowStep, Institution, Purpose, UrlToken};
use zaitaku_store::FlowRecord;

/// The institution the URL names, if it still accepts patients.
pub async fn institution_by_token(state: &AppState, token: &str) -> Result<Institution, PageError> {
    let token = UrlToken::parse(token).map_err(|_| PageError::NotFound)?;
    let institution = state
        .store
        .institution_by_url_token(&token)
        .await?
        .ok_or(PageError::NotFound)?;
    if !institution.is_active() {
        return Err(PageError::InstitutionClosed);
    }
    Ok(institution)
}

pub async fn prepare(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<PreparePage, PageError> {
    let institution = institution_by_token(&state, &token).await?;
    gate::admit(&state, &headers, &session, &institution).await?;
    let menu = Menu::new(&institution, &session);
    let token = institution.url_token.as_str();
    Ok(PreparePage {
        t: Text,
        demo: state.demo.is_some(),
        steps: Wording::of(&institution).steps(Stage::Access),
        action: format!("/i/{token}/registration"),
        qr_href: format!("/i/{token}/qr"),
        institution_name: institution.name,
        menu,
        csrf: session.csrf_token,
    })
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    csrf: String,
    /// The tablet/PC menu's way of reading the card for this flow (and after).
    method: Option<String>,
}

impl StartForm {
    /// The way of reading the card the menu chose, if it names one.
    pub fn method(&self) -> Option<AuthMethod> {
        self.method.as_deref().and_then(AuthMethod::parse)
    }
}

/// 「同意登録をする」 (and the menu's 「同意登録」): a new flow A for this browser
/// session.
pub async fn start_registration(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Result<Redirect, PageError> {
    let flow = start(
        &state,
        session,
        &token,
        &headers,
        &form,
        Purpose::Register,
        FlowStep::Select,
    )
    .await?;
    Ok(Redirect::to(&format!("/f/{}/select", flow.id)))
}

/// The menu's 「同意照会・更新」: a new flow B, straight to the card that shows the consent.
pub async fn start_inquiry(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Result<Response, PageError> {
    let step = FlowStep::ViewAuthenticate;
    let flow = start(
        &state,
        session.clone(),
        &token,
        &headers,
        &form,
        Purpose::Update,
        step,
    )
    .await?;
    let current = format!("/f/{}", flow.id);
    super::authentication_step::enter(&state, &session, flow, FlowStep::ViewAuthenticate, current)
        .await
}

/// The menu's 「すべての同意を取消す」: a new flow C for this browser session.
pub async fn start_revocation(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Result<Redirect, PageError> {
    let step = FlowStep::RevokeConfirm;
    let flow = start(
        &state,
        session,
        &token,
        &headers,
        &form,
        Purpose::Revoke,
        step,
    )
    .await?;
    Ok(Redirect::to(&format!("/f/{}/revoke", flow.id)))
}

async fn start(
    state: &AppState,
    session: Session,
    token: &str,
    headers: &HeaderMap,
    form: &StartForm,
    purpose: Purpose,
    step: FlowStep,
) -> Result<FlowRecord, PageError> {
    session.check_csrf(&form.csrf)?;
    let institution = institution_by_token(state, token).await?;
    // Nothing is written for a browser the institution does not admit.
    let admission = gate::admit(state, headers, &session, &institution).await?;
    let chosen = form.method();
    let now = OffsetDateTime::now_utc();
    // A session not stored yet is stored with this flow, in one transaction.
    let new_session = session.record(
        chosen.unwrap_or(session.auth_method),
        now,
        state.lifetimes.session,
    );
    if let Some(method) = chosen
        && method != session.auth_method
        && session.stored
    {
        state
            .store
            .set_session_auth_method(&session.id_hash, method)
            .await?;
    }
    let flow = FlowRecord {
        id: random::id128(),
        session_hash: session.id_hash,
        institution_id: institution.id,
        purpose,
        step,
        challenge_ref: None,
        person_id: None,
        consent_id: None,
        created_at: now,
        expires_at: now + state.lifetimes.flow,
        version: 0,
        device_id: admission.device_id(),
        // What the flow started from: a rotation of the URL ends it (`load_flow`).
        url_token: institution.url_token.clone(),
        closed_at: None,
    };
    state
        .store
        .start_flow(&flow, new_session.as_ref(), &state.guards.limits.flows)
        .await?
        .map_err(|reached| state.guards.refused("flow", reached))?;
    state.metrics.flow_started(purpose.code(), institution.kind);
    Ok(flow)
}
