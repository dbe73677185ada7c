//! The authentication step's screen, in the way this browser's staff read cards
//! (the manual's devices): on this smartphone (「読み取り開始」 opens the app), on
//! a tablet/PC through a smartphone that scans this challenge's 2D code, or on
//! a tablet/PC through an IC card reader. Also its status, which the page
//! long-polls so it moves on by itself, and the 2D code image.

use super::flow_pages::{LoadedFlow, canonical_path, load_flow, to_current_step};
use crate::error::PageError;
use crate::handoff;
use crate::i18n::Text;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{AuthenticatePage, Menu, MethodLink, RetryForm, Stage, Waiting, Wording};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use zaitaku_domain::{AuthMethod, FlowStep, Purpose};
use zaitaku_store::{ChallengeRecord, ChallengeState, FlowRecord};

/// A status request waits at most this long for a change, under common proxy timeouts.
const LONG_POLL: Duration = Duration::from_secs(25);

#[derive(Deserialize)]
pub struct MethodQuery {
    method: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Query(query): Query<MethodQuery>,
) -> Result<Response, PageError> {
    let LoadedFlow { flow, institution } = load_flow(&state, &session, &flow_id).await?;
    let Some(purpose) = flow.step.authentication_purpose() else {
        return Ok(to_current_step(&flow));
    };
    // The staff's choice of reading is remembered for the session.
    let mut method = session.auth_method;
    if let Some(chosen) = query.method.as_deref().and_then(AuthMethod::parse) {
        if chosen != method {
            state
                .store
                .set_session_auth_method(&session.id_hash, chosen)
                .await?;
        }
        method = chosen;
    }
    let wording = Wording::of(&institution);
    let steps = match purpose {
        Purpose::Register => wording.steps(Stage::Authenticate),
        Purpose::View => wording.update_steps(Stage::Inquiry),
        Purpose::Update => wording.update_steps(Stage::Authenticate),
        Purpose::Revoke => wording.revoke_steps(Stage::Authenticate),
    };
    let here = format!("/f/{}/authenticate", flow.id);
    let methods = AuthMethod::ALL
        .into_iter()
        .map(|m| MethodLink {
            label: method_label(m),
            href: format!("{here}?method={}", m.code()),
            current: m == method,
        })
        .collect();
    let current = flow_challenge(&state, &flow).await?;
    if !matches!(current, Current::Live(_)) {
        // Settled between the two reads? Then this is no longer the flow's screen.
        let again = load_flow(&state, &session, &flow_id).await?.flow;
        if again.step != flow.step || again.challenge_ref != flow.challenge_ref {
            return Ok(to_current_step(&again));
        }
    }
    let (timed_out, waiting) = match current {
        Current::Live(challenge) => (None, Some(waiting(&state, &flow, &challenge, method))),
        Current::Cancelled => (Some(retry_form(&session, &flow, true)), None),
        Current::Ended => (Some(retry_form(&session, &flow, false)), None),
    };
    let device = crate::devices::flow_device_name(state.store.as_ref(), &flow).await?;
    Ok(AuthenticatePage {
        t: Text,
        demo: state.demo.is_some(),
        requester: zaitaku_card::protocol::requester(&institution.name, device.as_deref()),
        institution_name: institution.name.clone(),
        menu: Menu::new(&institution, &session),
        steps,
        methods,
        timed_out,
        waiting,
    }
    .into_response())
}

fn method_label(method: AuthMethod) -> String {
    Text.get(match method {
        AuthMethod::SameDevice => "method-phone",
        AuthMethod::QrCode => "method-qr",
        AuthMethod::CardReader => "method-reader",
    })
}

/// Where the flow's challenge stands, for a flow at its authentication step.
enum Current {
    /// Pending and unexpired: the page waits for the card.
    Live(ChallengeRecord),
    /// Its authenticator reported the reading cancelled.
    Cancelled,
    /// Expired (or gone): the time-out screen.
    Ended,
}

async fn flow_challenge(state: &AppState, flow: &FlowRecord) -> Result<Current, PageError> {
    let Some(reference) = &flow.challenge_ref else {
        return Ok(Current::Ended);
    };
    let now = OffsetDateTime::now_utc();
    Ok(match state.store.challenge(reference).await? {
        Some(c) if c.state == ChallengeState::Pending && !c.is_expired(now) => Current::Live(c),
        // Only the claimer's cancel ends the challenge a flow still waits for
        // (going back to the selection moves the flow off this step).
        Some(c) if c.state == ChallengeState::Cancelled => Current::Cancelled,
        _ => Current::Ended,
    })
}

async fn live_challenge(
    state: &AppState,
    flow: &FlowRecord,
) -> Result<Option<ChallengeRecord>, PageError> {
    let Some(reference) = &flow.challenge_ref else {
        return Ok(None);
    };
    let now = OffsetDateTime::now_utc();
    Ok(state
        .store
        .challenge(reference)
        .await?
        .filter(|c| c.state == ChallengeState::Pending && !c.is_expired(now)))
}

/// The retry goes back through the step's own confirmation, which makes a fresh
/// challenge (flows A and B also check the choices are still the ones shown).
fn retry_form(session: &Session, flow: &FlowRecord, cancelled: bool) -> RetryForm {
    let (page, fingerprint) = match &flow.step {
        FlowStep::Authenticate(choices) => ("confirm", choices.encode()),
        FlowStep::UpdateAuthenticate { draft, .. } => ("update/confirm", draft.encode()),
        FlowStep::ViewAuthenticate => ("inquiry", String::new()),
        _ => ("revoke", String::new()),
    };
    RetryForm {
        action: format!("/f/{}/{page}", flow.id),
        csrf: session.csrf_token.clone(),
        fingerprint,
        cancelled,
    }
}

fn waiting(
    state: &AppState,
    flow: &FlowRecord,
    challenge: &ChallengeRecord,
    method: AuthMethod,
) -> Waiting {
    let auth_link = format!("{}/auth/{}", state.origin.as_str(), challenge.reference);
    // In the demo, the demo card reader stands in for the authenticator apps.
    let reader_href = if state.demo.is_some() {
        format!("/demo/reader/{}", challenge.reference)
    } else {
        app_link(&auth_link)
    };
    Waiting {
        method: method.code(),
        reader_href,
        matching_code: handoff::matching_code(&challenge.nonce),
        qr_src: format!("/f/{}/authenticate/code.svg", flow.id),
        claimed: challenge.claim_hash.is_some(),
        auth_link,
        status_url: format!("/f/{}/status", flow.id),
        check_href: format!("/f/{}/authenticate", flow.id),
    }
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

/// This challenge's 2D code: its authentication link, for a smartphone's
/// authenticator to scan. Only this session's page can have it.
pub async fn code_image(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
) -> Result<Response, PageError> {
    let LoadedFlow { flow, .. } = load_flow(&state, &session, &flow_id).await?;
    let challenge = live_challenge(&state, &flow)
        .await?
        .ok_or(PageError::NotFound)?;
    let link = format!("{}/auth/{}", state.origin.as_str(), challenge.reference);
    let svg = crate::code_image::svg(&link)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct StatusQuery {
    /// The state the page last saw: answer when it is no longer that.
    wait: Option<String>,
}

/// The flow's authentication state: `pending`, `claimed` (an authenticator has
/// fetched the challenge), `cancelled` (its authenticator reported the reading
/// cancelled; the flow and its choices wait for a new challenge), `expired`,
/// `done`, `failed`, or `moved`, with the screen to go to. With `?wait=STATE`, held until the state changes (long poll).
pub async fn status(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(flow_id): Path<String>,
    Query(query): Query<StatusQuery>,
) -> Result<Response, PageError> {
    let started = Instant::now();
    // Only a request that may wait takes a place among the waiters.
    let waiter = match query.wait {
        Some(_) => match state.wakeups.waiter(&flow_id, state.guards.limits.polls) {
            Some(waiter) => Some(waiter),
            None => return Ok(too_many_waiting()),
        },
        None => None,
    };
    loop {
        let listening = waiter.as_ref().map(handoff::Waiter::listen);
        let (flow, name) = consistent_state(&state, &session, &flow_id).await?;
        let unchanged = query.wait.as_deref() == Some(name);
        match listening {
            Some(listening) if unchanged && started.elapsed() < LONG_POLL => {
                listening.announced_or_recheck().await;
            }
            _ => {
                let next = canonical_path(&flow);
                return Ok(Json(json!({ "state": name, "next": next })).into_response());
            }
        }
    }
}

/// Over the caps on waiting status requests: `429`, and the page's script asks
/// again a few seconds later (as after any answer that is not `200`).
fn too_many_waiting() -> Response {
    tracing::warn!("refused: too many status requests waiting");
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, POLL_RETRY_AFTER)],
        Json(json!({
            "error": "too_many_waiting",
            "message": "ただいま混み合っています。数秒後に自動で確認します。",
        })),
    )
        .into_response()
}

/// Seconds a refused status request waits, as the page's script does.
const POLL_RETRY_AFTER: &str = "3";

/// The flow and its state name, as of one moment. The flow and its challenge
/// are two reads; a settlement commits both together, so a challenge that is no
/// longer live while the flow read before it still waits for it may have been
/// settled in between: the flow is read again, and only a flow that still waits
/// for that same challenge is `expired` (or `cancelled`).
async fn consistent_state(
    state: &AppState,
    session: &Session,
    flow_id: &str,
) -> Result<(FlowRecord, &'static str), PageError> {
    let mut flow = load_flow(state, session, flow_id).await?.flow;
    loop {
        let name = match (&flow.step, &flow.challenge_ref) {
            (step, Some(_)) if step.is_authenticating() => {
                let ended = match flow_challenge(state, &flow).await? {
                    Current::Live(c) if c.claim_hash.is_some() => "claimed",
                    Current::Live(_) => "pending",
                    Current::Cancelled => "cancelled",
                    Current::Ended => "expired",
                };
                if matches!(ended, "cancelled" | "expired") {
                    let again = load_flow(state, session, flow_id).await?.flow;
                    if again.step != flow.step || again.challenge_ref != flow.challenge_ref {
                        // It moved on between the reads: answer from the newer flow.
                        flow = again;
                        continue;
                    }
                }
                ended
            }
            (FlowStep::Done, _) => "done",
            (FlowStep::Failed(_), _) => "failed",
            _ => "moved",
        };
        return Ok((flow, name));
    }
}
