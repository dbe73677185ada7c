//! Flow A's screens that take input: item selection and confirmation.

use super::flow_pages::{LoadedFlow, load_flow, to_current_step};
use crate::error::PageError;
use crate::i18n::Text;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{
    ConfirmPage, FormOption, ItemChoice, Menu, PrescriptionChoice, SelectPage, Stage, Wording,
    consent_rows, explanation,
};
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use zaitaku_domain::{ChoiceError, ConsentChoices, Institution, PrescriptionForm};

const PRESCRIPTION_FIELD: &str = "prescription_form";

pub async fn select_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let LoadedFlow { flow, institution } = load_flow(&state, &session, &flow_id).await?;
    if flow.step.is_settled() {
        return Ok(to_current_step(&flow));
    }
    // 「選択内容を修正する」 and the back button keep what was chosen.
    let chosen = flow.step.choices();
    let page = select_view(
        &state,
        &session,
        &institution,
        &flow.id,
        |item| chosen.and_then(|c| c.agreed(item)),
        chosen.and_then(|c| c.prescription_form()),
        &[],
    );
    Ok(page.into_response())
}

pub async fn select_submit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let answer = |name: &str| -> Option<&str> {
        let mut values = fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            // A field sent twice is a tampered form: treat it as an invalid answer.
            (Some(_), Some(_)) => Some("\u{0}duplicate"),
            (first, None) => first,
            (None, Some(_)) => None,
        }
    };
    session.check_csrf(answer("csrf").unwrap_or_default())?;
    let LoadedFlow {
        mut flow,
        institution,
    } = load_flow(&state, &session, &flow_id).await?;
    if flow.step.is_settled() {
        return Err(PageError::StaleForm {
            current: super::flow_pages::canonical_path(&flow),
        });
    }
    let choices = match ConsentChoices::from_answers(
        &institution,
        |code| answer(code),
        answer(PRESCRIPTION_FIELD),
    ) {
        Ok(choices) => choices,
        Err(errors) => {
            let keep = |code: &str| match answer(code) {
                Some("1") => Some(true),
                Some("0") => Some(false),
                _ => None,
            };
            let form = answer(PRESCRIPTION_FIELD).and_then(|c| PrescriptionForm::parse(c).ok());
            let page = select_view(
                &state,
                &session,
                &institution,
                &flow.id,
                |item| keep(item.code()),
                form,
                &errors,
            );
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    flow.step = flow
        .step
        .choose(choices)
        .map_err(|e| PageError::Internal(e.to_string()))?;
    flow.challenge_ref = None;
    flow.expires_at = OffsetDateTime::now_utc() + state.lifetimes.flow;
    if !state.store.update_flow(&flow, None).await? {
        return Err(PageError::StaleForm {
            current: format!("/f/{}", flow.id),
        });
    }
    Ok(Redirect::to(&format!("/f/{}/confirm", flow.id)).into_response())
}

fn select_view(
    state: &AppState,
    session: &Session,
    institution: &Institution,
    flow_id: &str,
    selected: impl Fn(zaitaku_domain::ConsentItem) -> Option<bool>,
    form: Option<PrescriptionForm>,
    errors: &[ChoiceError],
) -> SelectPage {
    let wording = Wording::of(institution);
    let items = institution
        .offered_items
        .iter()
        .map(|&item| ItemChoice {
            code: item.code(),
            label: item.label(),
            explain_title: format!("{}{}", item.label(), Text.get("explain-title")),
            explanation: explanation(item),
            selected: selected(item),
            error: errors.iter().any(
                |e| matches!(e, ChoiceError::Unanswered(i) | ChoiceError::Invalid(i) if *i == item),
            ),
        })
        .collect();
    let prescription = institution
        .asks_prescription_form()
        .then(|| PrescriptionChoice {
            options: PrescriptionForm::ALL
                .iter()
                .map(|&f| FormOption {
                    code: f.code(),
                    label: f.label(),
                    checked: form == Some(f),
                })
                .collect(),
            error: errors.iter().any(|e| {
                matches!(
                    e,
                    ChoiceError::PrescriptionUnanswered | ChoiceError::PrescriptionInvalid
                )
            }),
        });
    SelectPage {
        t: Text,
        demo: state.demo.is_some(),
        institution_name: institution.name.clone(),
        menu: Menu::new(institution, session),
        steps: wording.steps(Stage::Select),
        heading: wording.select_heading(),
        action: format!("/f/{flow_id}/select"),
        csrf: session.csrf_token.clone(),
        items,
        prescription,
        submit_label: wording.select_button(),
        has_errors: !errors.is_empty(),
    }
}

pub async fn confirm_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let LoadedFlow { flow, institution } = load_flow(&state, &session, &flow_id).await?;
    let Some(choices) = flow.step.choices() else {
        return Ok(to_current_step(&flow));
    };
    let wording = Wording::of(&institution);
    Ok(ConfirmPage {
        t: Text,
        demo: state.demo.is_some(),
        institution_name: institution.name.clone(),
        menu: Menu::new(&institution, &session),
        steps: wording.steps(Stage::Confirm),
        heading: wording.confirm_heading(),
        rows: consent_rows(choices),
        action: format!("/f/{}/confirm", flow.id),
        csrf: session.csrf_token.clone(),
        fingerprint: choices.encode(),
        back_href: format!("/f/{}/select", flow.id),
    }
    .into_response())
}

#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    /// The choices this confirmation screen showed; they must still be the flow's.
    #[serde(default)]
    choices: String,
}

/// 「同意内容を登録する」: make the challenge and go to the authentication step.
/// Posting again (double click, reload, the time-out retry) never makes a second
/// live challenge: a live one is reused.
pub async fn confirm_submit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let LoadedFlow { flow, .. } = load_flow(&state, &session, &flow_id).await?;
    let current = super::flow_pages::canonical_path(&flow);
    let Some(choices) = flow.step.choices() else {
        return Err(PageError::StaleForm { current });
    };
    if choices.encode() != form.choices {
        return Err(PageError::StaleForm { current });
    }
    let next = flow.step.confirm().map_err(|_| PageError::StaleForm {
        current: current.clone(),
    })?;
    super::authentication_step::enter(&state, &session, flow, next, current).await
}
