//! Flow B's screens that take input: the viewed consent to edit (「更新内容を確認する」),
//! the confirmation (「同意内容を更新する」), and a fresh card request for the view.

use super::authentication_step::ConfirmForm;
use super::flow_pages::{LoadedFlow, canonical_path, closing, load_flow, to_current_step};
use super::registration::{Answers, PostedAnswers, SelectScreen, select_view};
use crate::error::PageError;
use crate::i18n::Text;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{ConfirmPage, Menu, Stage, Wording, agree_label};
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use zaitaku_domain::{ConsentChoices, FlowStep, Institution, ReviseError};

fn update_screen(institution: &Institution, flow_id: &str, notice: Option<String>) -> SelectScreen {
    let wording = Wording::of(institution);
    SelectScreen {
        steps: wording.update_steps(Stage::Select),
        heading: Text.get("update-select-title"),
        lead: wording.update_select_lead(),
        action: format!("/f/{flow_id}/update"),
        submit_label: Text.get("button-confirm-update"),
        notice,
    }
}

/// The viewed consent, pre-selected; or the answers as edited so far.
pub async fn edit_page(
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
    if flow.step.viewed().is_none() {
        return Ok(to_current_step(&flow));
    }
    let screen = update_screen(&institution, &flow.id, None);
    let answers = Answers::Chosen(flow.step.choices());
    let mut page = select_view(&state, &session, &institution, screen, answers);
    // The viewed consent is on screen: it can be closed at once.
    page.closing = closing(&session, &flow, shown_until);
    Ok(page.into_response())
}

/// 「更新内容を確認する」: on to the confirmation, unless nothing was changed.
pub async fn edit_submit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = PostedAnswers(fields);
    session.check_csrf(form.get("csrf").unwrap_or_default())?;
    let LoadedFlow {
        mut flow,
        institution,
        ..
    } = load_flow(&state, &session, &flow_id).await?;
    let stale = || PageError::StaleForm {
        current: canonical_path(&flow),
    };
    let draft = match form.choices(&institution) {
        Ok(draft) => draft,
        Err(errors) => {
            let screen = update_screen(&institution, &flow.id, None);
            let answers = Answers::Invalid(&form, &errors);
            let page = select_view(&state, &session, &institution, screen, answers);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let next = match flow.step.revise(draft.clone()) {
        Ok(next) => next,
        Err(ReviseError::Step(_)) => return Err(stale()),
        Err(ReviseError::Unchanged) => {
            let screen = update_screen(&institution, &flow.id, Some(Text.get("update-unchanged")));
            let answers = Answers::Chosen(Some(&draft));
            let page = select_view(&state, &session, &institution, screen, answers);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    flow.step = next;
    flow.challenge_ref = None;
    flow.expires_at = OffsetDateTime::now_utc() + state.lifetimes.flow;
    if !state.store.update_flow(&flow, None).await? {
        return Err(PageError::StaleForm {
            current: format!("/f/{}", flow.id),
        });
    }
    Ok(Redirect::to(&format!("/f/{}/update/confirm", flow.id)).into_response())
}

pub async fn confirm_page(
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
    let (FlowStep::UpdateConfirm { viewed, draft }
    | FlowStep::UpdateAuthenticate { viewed, draft }) = &flow.step
    else {
        return Ok(to_current_step(&flow));
    };
    let wording = Wording::of(&institution);
    Ok(ConfirmPage {
        t: Text,
        demo: state.demo.is_some(),
        institution_name: institution.name.clone(),
        menu: Menu::new(&institution, &session),
        steps: wording.update_steps(Stage::Confirm),
        heading: wording.update_confirm_heading(),
        lead: Text.get("update-confirm-lead"),
        rows: change_rows(&viewed.choices, draft),
        submit_label: Text.get("button-update"),
        action: format!("/f/{}/update/confirm", flow.id),
        csrf: session.csrf_token.clone(),
        fingerprint: draft.encode(),
        back_href: format!("/f/{}/update", flow.id),
        closing: closing(&session, &flow, shown_until),
    }
    .into_response())
}

/// The edited answers, each changed one with what it was.
fn change_rows(viewed: &ConsentChoices, draft: &ConsentChoices) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = draft
        .items()
        .map(|(item, agreed)| {
            let mut value = agree_label(agreed);
            if let Some(before) = viewed.agreed(item).filter(|&before| before != agreed) {
                value += &Text.with("changed-from", "old", agree_label(before));
            }
            (item.label().to_owned(), value)
        })
        .collect();
    if let Some(form) = draft.prescription_form() {
        let mut value = form.label().to_owned();
        if let Some(before) = viewed.prescription_form().filter(|&before| before != form) {
            value += &Text.with("changed-from", "old", before.label());
        }
        rows.push((Text.get("prescription-form"), value));
    }
    rows
}

/// 「同意内容を更新する」: a challenge for the purpose `update`, to be answered by
/// the same person's card.
pub async fn confirm_submit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let next = |step: &FlowStep| step.confirm_update().ok();
    super::authentication_step::confirm(&state, &session, &flow_id, &form, next).await
}

/// 「もう一度認証する」 after the viewing challenge timed out.
pub async fn retry_view(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let next = |step: &FlowStep| {
        (*step == FlowStep::ViewAuthenticate).then_some(FlowStep::ViewAuthenticate)
    };
    super::authentication_step::confirm(&state, &session, &flow_id, &form, next).await
}
