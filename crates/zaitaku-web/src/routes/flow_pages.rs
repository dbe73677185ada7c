//! Loading a flow for this browser session, finding the screen for its step, and
//! the screens that only show a settled flow: completion and failure.

use crate::error::PageError;
use crate::i18n::Text;
use crate::random;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{
    Closing, CompletePage, FailedPage, Menu, OfferForm, RevokedPage, Stage, Wording, consent_rows,
    failure_text, qualification_rows, time_ja,
};
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use zaitaku_domain::{Consent, ConsentStatus, FailureReason, FlowStep, Institution, Purpose};
use zaitaku_store::{FlowContext, FlowRecord};

pub struct LoadedFlow {
    pub flow: FlowRecord,
    pub institution: Institution,
    /// The enrolled device that started the flow (「訪問用タブレット1」), if one did.
    pub device_name: Option<String>,
    /// Until when its pages are shown (`shown_until`), read once per request.
    pub shown_until: OffsetDateTime,
}

/// The flow, if it exists, belongs to this session and has not run out of time.
/// Every flow page, form and status request goes through here. A flow started
/// from an institution URL rotated away since goes no further (and nothing of
/// the new URL is shown). A settled flow's result stays viewable (reload, back
/// button) for `Lifetimes::result` after it settled; a flow closed with
/// 「閉じる」 shows nothing more.
pub async fn load_flow(
    state: &AppState,
    session: &Session,
    flow_id: &str,
) -> Result<LoadedFlow, PageError> {
    if !random::is_id(flow_id) {
        return Err(PageError::FlowNotFound);
    }
    let context = state
        .store
        .flow_in_context(flow_id)
        .await?
        .filter(|c| c.flow.session_hash == session.id_hash)
        .ok_or(PageError::FlowNotFound)?;
    // Deactivation ended its running flows; a settled one is not shown either.
    if !context.institution.is_active() {
        return Err(PageError::InstitutionClosed);
    }
    let device_name = crate::devices::gate::flow_requester(&context)?;
    let FlowContext {
        flow, institution, ..
    } = context;
    let now = OffsetDateTime::now_utc();
    let Some(shown_until) = shown_until(state, &flow)
        .await?
        .filter(|until| now < *until)
    else {
        let restart = format!("/i/{}", institution.url_token.as_str());
        return Err(if flow.step.is_settled() || flow.closed_at.is_some() {
            PageError::ResultClosed { restart }
        } else {
            PageError::FlowExpired { restart }
        });
    };
    Ok(LoadedFlow {
        flow,
        institution,
        device_name,
        shown_until,
    })
}

/// Until when the flow's pages are shown: a running flow until it expires (each
/// step renews it); a settled one `Lifetimes::result` after its challenge
/// settled it. `None` once 「閉じる」 closed it (or a settled flow's challenge is gone).
async fn shown_until(
    state: &AppState,
    flow: &FlowRecord,
) -> Result<Option<OffsetDateTime>, PageError> {
    if flow.closed_at.is_some() {
        return Ok(None);
    }
    if !flow.step.is_settled() {
        return Ok(Some(flow.expires_at));
    }
    let Some(reference) = &flow.challenge_ref else {
        return Ok(None);
    };
    let settled_at = state
        .store
        .challenge(reference)
        .await?
        .and_then(|c| c.settled_at);
    Ok(settled_at.map(|at| at + state.lifetimes.result))
}

/// Whether the flow's screen shows a card's result, so 「閉じる」 is offered: a
/// settled flow, or flow B after its view (the consent, while it is edited).
fn closable(step: &FlowStep) -> bool {
    step.is_settled() || (step.viewed().is_some() && !step.is_authenticating())
}

/// 「閉じる」 on a screen that shows a card's result: it and every other page
/// of the flow show nothing more, from now on, on any device (a CSRF-protected
/// POST; closing twice shows the same).
pub async fn close_result(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Form(form): Form<CloseForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let LoadedFlow { mut flow, .. } = load_flow(&state, &session, &flow_id).await?;
    let here = canonical_path(&flow);
    if !closable(&flow.step) {
        return Err(PageError::StaleForm { current: here });
    }
    flow.closed_at = Some(OffsetDateTime::now_utc());
    if !state.store.update_flow(&flow, None).await? {
        return Err(PageError::StaleForm { current: here });
    }
    Ok(Redirect::to(&here).into_response())
}

#[derive(serde::Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
}

/// The 「閉じる」 form of a screen that shows a card's result, and until when
/// it is shown (`LoadedFlow::shown_until`); `None` for a flow's other screens.
pub fn closing(session: &Session, flow: &FlowRecord, until: OffsetDateTime) -> Option<Closing> {
    closable(&flow.step).then(|| Closing {
        action: format!("/f/{}/close", flow.id),
        csrf: session.csrf_token.clone(),
        shown_until: Text.with("result-shown-until", "time", time_ja(until)),
    })
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
    let LoadedFlow {
        flow,
        institution,
        shown_until,
        ..
    } = load_flow(&state, &session, &flow_id).await?;
    if !flow.step.is_settled() {
        return Ok(to_current_step(&flow));
    }
    let closing = closing(&session, &flow, shown_until)
        .ok_or_else(|| PageError::Internal("a settled flow that cannot be closed".into()))?;
    match (&flow.step, flow.purpose) {
        (FlowStep::Failed(reason), _) => {
            Ok(
                failed_page(&state, &session, &flow, &institution, *reason, closing)
                    .await?
                    .into_response(),
            )
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
                closing,
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
                    closing,
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
                    closing,
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
    closing: Closing,
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
        closing,
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
