//! Loading a flow for this browser session, finding the screen for its step, and
//! the screens that only show state: authentication wait, completion, failure.

use crate::error::PageError;
use crate::i18n::Text;
use crate::random;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{
    AuthenticatePage, CompletePage, FailedPage, Menu, OfferForm, RetryForm, RevokedPage, Stage,
    Wording, consent_rows, failure_text, qualification_rows,
};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use time::OffsetDateTime;
use zaitaku_domain::{Consent, ConsentStatus, FailureReason, FlowStep, Institution, Purpose};
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
        FlowStep::Authenticate(_)
        | FlowStep::ViewAuthenticate
        | FlowStep::UpdateAuthenticate { .. }
        | FlowStep::RevokeAuthenticate => "authenticate",
        FlowStep::UpdateSelect { .. } => "update",
        FlowStep::UpdateConfirm { .. } => "update/confirm",
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
    let Some(purpose) = flow.step.authentication_purpose() else {
        return Ok(to_current_step(&flow));
    };
    let challenge = match &flow.challenge_ref {
        Some(reference) => state.store.challenge(reference).await?,
        None => None,
    };
    let live = challenge
        .as_ref()
        .filter(|c| c.state == ChallengeState::Pending && !c.is_expired(OffsetDateTime::now_utc()));
    let wording = Wording::of(&institution);
    let steps = match purpose {
        Purpose::Register => wording.steps(Stage::Authenticate),
        Purpose::View => wording.update_steps(Stage::Inquiry),
        Purpose::Update => wording.update_steps(Stage::Authenticate),
        Purpose::Revoke => wording.revoke_steps(Stage::Authenticate),
    };
    let reference = match live {
        Some(c) => c.reference.clone(),
        // The retry goes back through the step's own confirmation, which makes a
        // fresh challenge (flows A and B also check the choices are still the ones shown).
        None => {
            let (page, fingerprint) = match &flow.step {
                FlowStep::Authenticate(choices) => ("confirm", choices.encode()),
                FlowStep::UpdateAuthenticate { draft, .. } => ("update/confirm", draft.encode()),
                FlowStep::ViewAuthenticate => ("inquiry", String::new()),
                _ => ("revoke", String::new()),
            };
            return Ok(AuthenticatePage {
                t: Text,
                demo: state.demo.is_some(),
                institution_name: institution.name.clone(),
                menu: Menu::new(&institution, &session),
                steps,
                timed_out: Some(RetryForm {
                    action: format!("/f/{}/{page}", flow.id),
                    csrf: session.csrf_token.clone(),
                    fingerprint,
                }),
                reader_href: String::new(),
                auth_link: String::new(),
                status_url: String::new(),
                check_href: String::new(),
            }
            .into_response());
        }
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
        timed_out: None,
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
    match (&flow.step, flow.purpose) {
        (FlowStep::Failed(reason), _) => {
            Ok(failed_page(&state, &session, &flow, &institution, *reason)
                .await?
                .into_response())
        }
        (FlowStep::Done, Purpose::Revoke) => {
            let consent = flow_consent(&state, &flow).await?;
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
                demo: state.demo.is_some(),
                institution_name: institution.name.clone(),
                menu: Menu::new(&institution, &session),
                steps: wording.revoke_steps(Stage::Complete),
                heading: wording.revoked_heading(),
                rows,
            }
            .into_response())
        }
        (FlowStep::Done, purpose) => {
            let consent = flow_consent(&state, &flow).await?;
            let wording = Wording::of(&institution);
            let mut rows = vec![(Text.get("row-institution"), institution.name.clone())];
            rows.extend(consent_rows(&consent.choices));
            rows.push((
                Text.get("row-expires"),
                crate::views::date_ja(consent.expires_on),
            ));
            let page = if purpose == Purpose::Update {
                // Flow B confirms no qualification: it shows the consent only.
                CompletePage {
                    t: Text,
                    demo: state.demo.is_some(),
                    institution_name: institution.name.clone(),
                    menu: Menu::new(&institution, &session),
                    steps: wording.update_steps(Stage::Complete),
                    heading: wording.updated_heading(),
                    done_message: wording.updated_message(),
                    staff_check: Text.get("updated-staff-check"),
                    consent_rows: rows,
                    qualification_rows: Vec::new(),
                }
            } else {
                let person_id = flow.person_id.ok_or_else(|| {
                    PageError::Internal("a done registration without its person".into())
                })?;
                let person = state.store.person(person_id).await?.ok_or_else(|| {
                    PageError::Internal("person of a done flow is missing".into())
                })?;
                CompletePage {
                    t: Text,
                    demo: state.demo.is_some(),
                    institution_name: institution.name.clone(),
                    menu: Menu::new(&institution, &session),
                    steps: wording.steps(Stage::Complete),
                    heading: wording.complete_heading(),
                    done_message: wording.complete_message(),
                    staff_check: Text.get("complete-staff-check"),
                    consent_rows: rows,
                    qualification_rows: qualification_rows(&person.qualification),
                }
            };
            Ok(page.into_response())
        }
        _ => Ok(to_current_step(&flow)),
    }
}

/// The consent a settled flow wrote or refused to overwrite.
async fn flow_consent(state: &AppState, flow: &FlowRecord) -> Result<Consent, PageError> {
    let id = flow
        .consent_id
        .ok_or_else(|| PageError::Internal("a done flow without its consent".into()))?;
    state
        .store
        .consent_by_id(id)
        .await?
        .ok_or_else(|| PageError::Internal("the consent of a flow is missing".into()))
}

/// Why the flow ended, and what the person can do next: register when flow B
/// found nothing, view again when flow B's update lost a race.
async fn failed_page(
    state: &AppState,
    session: &Session,
    flow: &FlowRecord,
    institution: &Institution,
    reason: FailureReason,
) -> Result<FailedPage, PageError> {
    let (title, mut body, guidance) = failure_text(reason);
    let token = institution.url_token.as_str();
    let offer = |page: &str, label: &str| {
        Some(OfferForm {
            action: format!("/i/{token}/{page}"),
            csrf: session.csrf_token.clone(),
            label: Text.get(label),
        })
    };
    let mut nothing_written = Text.get("failed-nothing-written");
    let mut consent_rows_now = Vec::new();
    let mut next = None;
    if flow.purpose == Purpose::Update {
        nothing_written = Text.get("failed-update-not-saved");
        match reason {
            FailureReason::NothingRegistered => {
                body = Text.get("failure-nothing-registered-inquiry-body");
                nothing_written = Text.get("failed-nothing-written");
                next = offer("registration", "button-start-registration");
            }
            FailureReason::UpdateConflict => {
                let consent = flow_consent(state, flow).await?;
                consent_rows_now = current_rows(&consent);
                next = offer("inquiry", "button-inquiry-again");
            }
            _ => {}
        }
    }
    Ok(FailedPage {
        t: Text,
        demo: state.demo.is_some(),
        institution_name: institution.name.clone(),
        menu: Menu::new(institution, session),
        title,
        body,
        guidance,
        consent_rows: consent_rows_now,
        offer: next,
        nothing_written,
        restart_href: format!("/i/{token}"),
    })
}

/// The consent as it stands: its answers and expiry, or that it was revoked.
fn current_rows(consent: &Consent) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    match consent.status {
        ConsentStatus::Active => {
            rows.extend(consent_rows(&consent.choices));
            rows.push((
                Text.get("row-expires"),
                crate::views::date_ja(consent.expires_on),
            ));
        }
        ConsentStatus::Revoked(_) => {
            rows.extend(
                consent
                    .choices
                    .items()
                    .map(|(item, _)| (item.label().to_owned(), Text.get("revoked-item"))),
            );
        }
    }
    rows
}
