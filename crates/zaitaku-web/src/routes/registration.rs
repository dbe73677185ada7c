//! Flow A's screens that take input: item selection and confirmation.

use super::authentication_step::ConfirmForm;
use super::flow_pages::{LoadedFlow, load_flow, to_current_step};
use crate::error::PageError;
use crate::i18n::Text;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{
    ConfirmPage, FormOption, ItemChoice, Menu, PrescriptionChoice, SelectPage, Stage, StepView,
    Wording, consent_rows, explanation,
};
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use zaitaku_domain::{
    ChoiceError, ConsentChoices, ConsentItem, FlowStep, Institution, PrescriptionForm,
};

const PRESCRIPTION_FIELD: &str = "prescription_form";

pub async fn select_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let LoadedFlow {
        flow, institution, ..
    } = load_flow(&state, &session, &flow_id).await?;
    if !matches!(
        flow.step,
        FlowStep::Select | FlowStep::Confirm(_) | FlowStep::Authenticate(_)
    ) {
        return Ok(to_current_step(&flow));
    }
    // 「選択内容を修正する」 and the back button keep what was chosen.
    let page = select_view(
        &state,
        &session,
        &institution,
        registration_screen(&institution, &flow.id),
        Answers::Chosen(flow.step.choices()),
    );
    Ok(page.into_response())
}

pub async fn select_submit(
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
    let choices = match form.choices(&institution) {
        Ok(choices) => choices,
        Err(errors) => {
            let screen = registration_screen(&institution, &flow.id);
            let page = select_view(
                &state,
                &session,
                &institution,
                screen,
                Answers::Invalid(&form, &errors),
            );
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    flow.step = flow
        .step
        .choose(choices)
        .map_err(|_| PageError::StaleForm {
            current: super::flow_pages::canonical_path(&flow),
        })?;
    flow.challenge_ref = None;
    flow.expires_at = OffsetDateTime::now_utc() + state.lifetimes.flow;
    if !state.store.update_flow(&flow, None).await? {
        return Err(PageError::StaleForm {
            current: format!("/f/{}", flow.id),
        });
    }
    Ok(Redirect::to(&format!("/f/{}/confirm", flow.id)).into_response())
}

/// The posted selection form, as name/value pairs.
pub struct PostedAnswers(pub Vec<(String, String)>);

impl PostedAnswers {
    pub fn get(&self, name: &str) -> Option<&str> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            // A field sent twice is a tampered form: treat it as an invalid answer.
            (Some(_), Some(_)) => Some("\u{0}duplicate"),
            (first, None) => first,
            (None, Some(_)) => None,
        }
    }

    pub fn choices(&self, institution: &Institution) -> Result<ConsentChoices, Vec<ChoiceError>> {
        ConsentChoices::from_answers(
            institution,
            |code| self.get(code),
            self.get(PRESCRIPTION_FIELD),
        )
    }
}

/// What the selection form shows checked.
pub enum Answers<'a> {
    /// Stored choices (or nothing yet).
    Chosen(Option<&'a ConsentChoices>),
    /// A refused submission: its answers kept, its errors marked.
    Invalid(&'a PostedAnswers, &'a [ChoiceError]),
}

/// What differs between flow A's selection screen and flow B's.
pub struct SelectScreen {
    pub steps: Vec<StepView>,
    pub heading: String,
    pub lead: String,
    pub action: String,
    pub submit_label: String,
    /// A notice above the form (flow B: nothing was changed).
    pub notice: Option<String>,
}

fn registration_screen(institution: &Institution, flow_id: &str) -> SelectScreen {
    let wording = Wording::of(institution);
    SelectScreen {
        steps: wording.steps(Stage::Select),
        heading: wording.select_heading(),
        lead: Text.get("select-lead"),
        action: format!("/f/{flow_id}/select"),
        submit_label: wording.select_button(),
        notice: None,
    }
}

pub fn select_view(
    state: &AppState,
    session: &Session,
    institution: &Institution,
    screen: SelectScreen,
    answers: Answers<'_>,
) -> SelectPage {
    let (errors, form): (&[ChoiceError], Option<PrescriptionForm>) = match &answers {
        Answers::Chosen(chosen) => (&[], chosen.and_then(|c| c.prescription_form())),
        Answers::Invalid(posted, errors) => (
            errors,
            posted
                .get(PRESCRIPTION_FIELD)
                .and_then(|c| PrescriptionForm::parse(c).ok()),
        ),
    };
    let selected = |item: ConsentItem| match &answers {
        Answers::Chosen(chosen) => chosen.and_then(|c| c.agreed(item)),
        Answers::Invalid(posted, _) => match posted.get(item.code()) {
            Some("1") => Some(true),
            Some("0") => Some(false),
            _ => None,
        },
    };
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
        steps: screen.steps,
        heading: screen.heading,
        lead: screen.lead,
        notice: screen.notice,
        action: screen.action,
        csrf: session.csrf_token.clone(),
        items,
        prescription,
        submit_label: screen.submit_label,
        has_errors: !errors.is_empty(),
        closing: None,
    }
}

pub async fn confirm_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let LoadedFlow {
        flow, institution, ..
    } = load_flow(&state, &session, &flow_id).await?;
    let (FlowStep::Confirm(choices) | FlowStep::Authenticate(choices)) = &flow.step else {
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
        lead: Text.get("confirm-lead"),
        rows: consent_rows(choices),
        submit_label: Text.get("button-register"),
        action: format!("/f/{}/confirm", flow.id),
        csrf: session.csrf_token.clone(),
        fingerprint: choices.encode(),
        back_href: format!("/f/{}/select", flow.id),
        closing: None,
    }
    .into_response())
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
    let next = |step: &FlowStep| step.confirm().ok();
    super::authentication_step::confirm(&state, &session, &flow_id, &form, next).await
}
