//! Flow C's confirmation: 「すべての同意を取消す」, then the card.

use super::authentication_step::ConfirmForm;
use super::flow_pages::{LoadedFlow, load_flow, to_current_step};
use crate::error::PageError;
use crate::i18n::Text;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{Menu, RevokeConfirmPage, Stage, Wording};
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Response};
use zaitaku_domain::FlowStep;

pub async fn revoke_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let LoadedFlow {
        flow, institution, ..
    } = load_flow(&state, &session, &flow_id).await?;
    if !matches!(
        flow.step,
        FlowStep::RevokeConfirm | FlowStep::RevokeAuthenticate
    ) {
        return Ok(to_current_step(&flow));
    }
    let wording = Wording::of(&institution);
    Ok(RevokeConfirmPage {
        t: Text,
        demo: state.demo.is_some(),
        institution_name: institution.name.clone(),
        menu: Menu::new(&institution, &session),
        steps: wording.revoke_steps(Stage::Confirm),
        heading: wording.revoke_heading(),
        withdraws_form: wording.withdraws_prescription_form(),
        action: format!("/f/{}/revoke", flow.id),
        csrf: session.csrf_token.clone(),
        back_href: format!("/i/{}", institution.url_token.as_str()),
    }
    .into_response())
}

/// 「すべての同意を取消す」 confirmed: a challenge for the purpose `revoke`.
pub async fn revoke_submit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let next = |step: &FlowStep| step.confirm_revocation().ok();
    super::authentication_step::confirm(&state, &session, &flow_id, &form, next).await
}
