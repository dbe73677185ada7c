//! Entering a flow's authentication step, shared by every flow (A's
//! confirmation, B's view and save, C's confirmation, and their time-out
//! retries): a fresh challenge bound to the flow, this session and the step's
//! purpose; or, when the flow's challenge is still live (a double click, a
//! reload), that one again, so a flow never has two live challenges.

use super::flow_pages::{LoadedFlow, canonical_path, load_flow};
use crate::error::PageError;
use crate::random;
use crate::session::Session;
use crate::state::AppState;
use axum::response::{IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use zaitaku_card::ChallengeNonce;
use zaitaku_domain::FlowStep;
use zaitaku_store::{ChallengeOpening, ChallengeRecord, ChallengeState, FlowRecord};

/// A form that leads to a card step.
#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    /// The choices the confirmation screen showed, when the flow has choices.
    #[serde(default)]
    choices: String,
    /// 「読み取り直す」: replace the flow's live challenge, once an authenticator
    /// claimed it (perhaps not the patient's), with a new one.
    #[serde(default)]
    renew: Option<String>,
}

impl ConfirmForm {
    /// Whether the form asks for a new challenge in place of a claimed one.
    pub fn renews(&self) -> bool {
        self.renew.is_some()
    }
}

/// A posted confirmation: this session's token, the choices the screen showed
/// still the flow's (a stale tab is refused), and `next` allowed from where the
/// flow is; then the card step.
pub async fn confirm(
    state: &AppState,
    session: &Session,
    flow_id: &str,
    form: &ConfirmForm,
    next: impl FnOnce(&FlowStep) -> Option<FlowStep>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let LoadedFlow { flow, .. } = load_flow(state, session, flow_id).await?;
    let current = canonical_path(&flow);
    let shown_still = flow
        .step
        .choices()
        .is_none_or(|choices| choices.encode() == form.choices);
    match next(&flow.step) {
        Some(next) if shown_still => open(state, session, flow, next, current, form.renews()).await,
        _ => Err(PageError::StaleForm { current }),
    }
}

/// Move `flow` to `next`, its authentication step, and send the browser there.
/// `current` is where to send a form that lost a race with another tab.
pub async fn enter(
    state: &AppState,
    session: &Session,
    flow: FlowRecord,
    next: FlowStep,
    current: String,
) -> Result<Response, PageError> {
    open(state, session, flow, next, current, false).await
}

/// `enter`; with `renew`, a live challenge that an authenticator has claimed is
/// replaced by a new one (the staff saw a reading their patient did not make):
/// the old one is cancelled in the same write, so its claimant can do nothing more.
async fn open(
    state: &AppState,
    session: &Session,
    mut flow: FlowRecord,
    next: FlowStep,
    current: String,
    renew: bool,
) -> Result<Response, PageError> {
    let there = Redirect::to(&format!("/f/{}/authenticate", flow.id)).into_response();
    let now = OffsetDateTime::now_utc();
    if let (true, Some(reference)) = (flow.step.is_authenticating(), &flow.challenge_ref) {
        let live = state
            .store
            .challenge(reference)
            .await?
            .filter(|c| c.state == ChallengeState::Pending && !c.is_expired(now));
        if live.is_some_and(|c| !(renew && c.claim_hash.is_some())) {
            return Ok(there);
        }
    }
    let purpose = next
        .authentication_purpose()
        .ok_or_else(|| PageError::Internal(format!("{} asks for no card", next.code())))?;
    let nonce =
        ChallengeNonce::generate().map_err(|e| PageError::Internal(format!("nonce: {e}")))?;
    let challenge = ChallengeRecord {
        reference: random::id128(),
        nonce: nonce.as_str().to_owned(),
        flow_id: flow.id.clone(),
        session_hash: session.id_hash.clone(),
        purpose,
        created_at: now,
        expires_at: now + state.lifetimes.challenge,
        state: ChallengeState::Pending,
        claim_hash: None,
        claimed_at: None,
        settled_at: None,
    };
    flow.step = next;
    flow.challenge_ref = Some(challenge.reference.clone());
    flow.expires_at = now + state.lifetimes.flow;
    let caps = &state.guards.limits.challenges;
    match state.store.open_challenge(&flow, &challenge, caps).await? {
        ChallengeOpening::Opened => Ok(there),
        ChallengeOpening::Stale => Err(PageError::StaleForm { current }),
        ChallengeOpening::Refused(reached) => Err(state.guards.refused("challenge", reached)),
    }
}
