//! Flow C's confirmation: 「すべての同意を取消す」, then the card.

use super::flow_pages::{LoadedFlow, canonical_path, load_flow, to_current_step};
use crate::error::PageError;
use crate::i18n::Text;
use crate::random;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{RevokeConfirmPage, Stage, Wording};
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use zaitaku_card::ChallengeNonce;
use zaitaku_domain::FlowStep;
use zaitaku_store::{ChallengeRecord, ChallengeState};

pub async fn revoke_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let LoadedFlow { flow, institution } = load_flow(&state, &session, &flow_id).await?;
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
        steps: wording.revoke_steps(Stage::Confirm),
        heading: wording.revoke_heading(),
        withdraws_form: wording.withdraws_prescription_form(),
        action: format!("/f/{}/revoke", flow.id),
        csrf: session.csrf_token.clone(),
        back_href: format!("/i/{}", institution.url_token.as_str()),
    }
    .into_response())
}

#[derive(serde::Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

/// 「すべての同意を取消す」 confirmed: a challenge for the purpose `revoke`. A
/// second post (double click, time-out retry) reuses a live challenge.
pub async fn revoke_submit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let LoadedFlow { mut flow, .. } = load_flow(&state, &session, &flow_id).await?;
    let current = canonical_path(&flow);
    let next = flow
        .step
        .confirm_revocation()
        .map_err(|_| PageError::StaleForm {
            current: current.clone(),
        })?;
    let now = OffsetDateTime::now_utc();
    if let (FlowStep::RevokeAuthenticate, Some(reference)) = (&flow.step, &flow.challenge_ref) {
        let live = state
            .store
            .challenge(reference)
            .await?
            .is_some_and(|c| c.state == ChallengeState::Pending && !c.is_expired(now));
        if live {
            return Ok(Redirect::to(&format!("/f/{}/authenticate", flow.id)).into_response());
        }
    }
    let nonce =
        ChallengeNonce::generate().map_err(|e| PageError::Internal(format!("nonce: {e}")))?;
    let challenge = ChallengeRecord {
        reference: random::id128(),
        nonce: nonce.as_str().to_owned(),
        flow_id: flow.id.clone(),
        session_hash: session.id_hash.clone(),
        purpose: flow.purpose,
        created_at: now,
        expires_at: now + state.lifetimes.challenge,
        state: ChallengeState::Pending,
    };
    flow.step = next;
    flow.challenge_ref = Some(challenge.reference.clone());
    flow.expires_at = now + state.lifetimes.flow;
    if !state.store.update_flow(&flow, Some(&challenge)).await? {
        return Err(PageError::StaleForm { current });
    }
    Ok(Redirect::to(&format!("/f/{}/authenticate", flow.id)).into_response())
}
