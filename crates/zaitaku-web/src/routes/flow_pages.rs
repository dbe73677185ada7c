//! Loading a flow for this browser session, finding the screen for its step, and
//! the screens that only show a settled flow: completion and failure.

use crate::error::PageError;
use crate::i18n::Text;
use crate::random;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{
    CompletePage, FailedPage, Menu, OfferForm, RevokedPage, Stage, Wording, consent_rows,
    failure_text, qualification_rows,
};
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use zaitaku_domain::{Consent, ConsentStatus, FailureReason, FlowStep, Institution, Purpose};
use zaitaku_store::FlowRecord;

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
    // Deactivation ended its running flows; a settled one is not shown either.
    if !institution.is_active() {
        return Err(PageError::InstitutionClosed);
    }
    crate::devices::gate::flow_device_live(state, &flow).await?;
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
