//! Loading a flow for this browser session, finding the screen for its step, and
//! the screens that only show state: authentication wait, completion, failure.

use crate::error::PageError;
use crate::i18n::Text;
use crate::random;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{
    AuthenticatePage, CompletePage, FailedPage, Menu, RetryForm, RevokedPage, Stage, Wording,
    consent_rows, failure_text, qualification_rows,
};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use time::OffsetDateTime;
use zaitaku_domain::{FlowStep, Institution, Purpose};
use zaitaku_store::{ChallengeState, FlowRecord};

pub struct LoadedFlow {
    pub flow: FlowRecord,
    pub institution: Institution,
}

/// The flow, if it exists, belongs to this session and has not run out of time.
/// A settled flow stays viewable (reload, back button) until it is purged.
pub async fn load_flow(
    state: &AppState,
    session: &Session,
    flow_id: &str,
) -> Result<LoadedFlow, PageError> {
    if !random::is_id(flow_id) {
        return Err(PageError::FlowNotFound);
    }
    let (flow, institution) = state
        .store
        .flow_with_institution(flow_id)
        .await?
        .filter(|(f, _)| f.session_hash == session.id_hash)
        .ok_or(PageError::FlowNotFound)?;
    if !flow.step.is_settled() && OffsetDateTime::now_utc() >= flow.expires_at {
        return Err(PageError::FlowExpired {
            restart: format!("/i/{}", institution.url_token.as_str()),
        });
    }
    Ok(LoadedFlow { flow, institution })
}

/// The one screen that shows a flow's current step.
pub fn canonical_path(flow: &FlowRecord) -> String {
    let page = match flow.step {
        FlowStep::Select => "select",
        FlowStep::Confirm(_) => "confirm",
        FlowStep::Authenticate(_) | FlowStep::RevokeAuthenticate => "authenticate",
        FlowStep::RevokeConfirm => "revoke",
        FlowStep::Done | FlowStep::Failed(_) => "complete",
    };
    format!("/f/{}/{page}", flow.id)
}

pub fn to_current_step(flow: &FlowRecord) -> Response {
    Redirect::to(&canonical_path(flow)).into_response()
}

pub async fn resume(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let loaded = load_flow(&state, &session, &flow_id).await?;
    Ok(to_current_step(&loaded.flow))
}

pub async fn authenticate_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let LoadedFlow { flow, institution } = load_flow(&state, &session, &flow_id).await?;
    let (true, Some(reference)) = (flow.step.is_authenticating(), &flow.challenge_ref) else {
        return Ok(to_current_step(&flow));
    };
    let challenge = state.store.challenge(reference).await?;
    let live = challenge.as_ref().is_some_and(|c| {
        c.state == ChallengeState::Pending && !c.is_expired(OffsetDateTime::now_utc())
    });
    // The retry goes back through the step's own confirmation, which makes a
    // fresh challenge (flow A also checks the choices are still the ones shown).
    let timed_out = (!live).then(|| match &flow.step {
        FlowStep::Authenticate(choices) => RetryForm {
            action: format!("/f/{}/confirm", flow.id),
            csrf: session.csrf_token.clone(),
            fingerprint: choices.encode(),
        },
        _ => RetryForm {
            action: format!("/f/{}/revoke", flow.id),
            csrf: session.csrf_token.clone(),
            fingerprint: String::new(),
        },
    });
    let wording = Wording::of(&institution);
    let steps = match flow.purpose {
        Purpose::Revoke => wording.revoke_steps(Stage::Authenticate),
        _ => wording.steps(Stage::Authenticate),
    };
    let auth_link = format!("{}/auth/{reference}", state.origin.as_str());
    let reader_href = if state.demo.is_some() {
        format!("/demo/reader/{reference}")
    } else {
        app_link(&auth_link)
    };
    Ok(AuthenticatePage {
        t: Text,
        demo: state.demo.is_some(),
        institution_name: institution.name.clone(),
        menu: Menu::new(&institution, &session),
        steps,
        timed_out,
        reader_href,
        auth_link,
        status_url: format!("/f/{}/status", flow.id),
        check_href: format!("/f/{}/authenticate", flow.id),
    }
    .into_response())
}

/// Hands the authentication link to an authenticator app on the same device.
fn app_link(auth_link: &str) -> String {
    let mut encoded = String::new();
    for b in auth_link.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("zaitaku-auth://authenticate?link={encoded}")
}

/// Polled by the authentication page: has the card signed yet?
pub async fn status(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let flow = load_flow(&state, &session, &flow_id).await?.flow;
    let next = canonical_path(&flow);
    let state_name = match (&flow.step, &flow.challenge_ref) {
        (step, Some(reference)) if step.is_authenticating() => {
            match state.store.challenge(reference).await? {
                Some(c)
                    if c.state == ChallengeState::Pending
                        && !c.is_expired(OffsetDateTime::now_utc()) =>
                {
                    "pending"
                }
                _ => "expired",
            }
        }
        (FlowStep::Done, _) => "done",
        (FlowStep::Failed(_), _) => "failed",
        _ => "moved",
    };
    Ok(Json(json!({ "state": state_name, "next": next })).into_response())
}

pub async fn complete_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let LoadedFlow { flow, institution } = load_flow(&state, &session, &flow_id).await?;
    let demo = state.demo.is_some();
    match flow.step {
        FlowStep::Failed(reason) => {
            let (title, body, guidance) = failure_text(reason);
            Ok(FailedPage {
                t: Text,
                demo,
                institution_name: institution.name.clone(),
                menu: Menu::new(&institution, &session),
                title,
                body,
                guidance,
                restart_href: format!("/i/{}", institution.url_token.as_str()),
            }
            .into_response())
        }
        FlowStep::Done if flow.purpose == Purpose::Revoke => {
            let consent_id = flow.consent_id.ok_or_else(|| {
                PageError::Internal("a done revocation without its consent".into())
            })?;
            let consent = state
                .store
                .consent_by_id(consent_id)
                .await?
                .ok_or_else(|| PageError::Internal("revoked consent is missing".into()))?;
            let wording = Wording::of(&institution);
            let mut rows = vec![(Text.get("row-institution"), institution.name.clone())];
            rows.extend(
                consent
                    .choices
                    .items()
                    .map(|(item, _)| (item.label().to_owned(), Text.get("revoked-item"))),
            );
            if wording.withdraws_prescription_form() {
                rows.push((Text.get("prescription-form"), Text.get("revoked-form")));
            }
            Ok(RevokedPage {
                t: Text,
                demo,
                institution_name: institution.name.clone(),
                menu: Menu::new(&institution, &session),
                steps: wording.revoke_steps(Stage::Complete),
                heading: wording.revoked_heading(),
                rows,
            }
            .into_response())
        }
        FlowStep::Done => {
            let (Some(consent_id), Some(person_id)) = (flow.consent_id, flow.person_id) else {
                return Err(PageError::Internal(
                    "a done flow without its consent".into(),
                ));
            };
            let consent = state
                .store
                .consent_by_id(consent_id)
                .await?
                .ok_or_else(|| PageError::Internal("consent of a done flow is missing".into()))?;
            let person =
                state.store.person(person_id).await?.ok_or_else(|| {
                    PageError::Internal("person of a done flow is missing".into())
                })?;
            let wording = Wording::of(&institution);
            let mut rows = vec![(Text.get("row-institution"), institution.name.clone())];
            rows.extend(consent_rows(&consent.choices));
            rows.push((
                Text.get("row-expires"),
                crate::views::date_ja(consent.expires_on),
            ));
            Ok(CompletePage {
                t: Text,
                demo,
                institution_name: institution.name.clone(),
                menu: Menu::new(&institution, &session),
                steps: wording.steps(Stage::Complete),
                heading: wording.complete_heading(),
                done_message: wording.complete_message(),
                consent_rows: rows,
                qualification_rows: qualification_rows(&person.qualification),
            }
            .into_response())
        }
        _ => Ok(to_current_step(&flow)),
    }
}
