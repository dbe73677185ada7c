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
use crate::views::{
    AuthenticatePage, FreshReading, Menu, MethodLink, RetryForm, Stage, Waiting, Wording,
    failure_text, time_ja,
};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use zaitaku_domain::{AuthMethod, FailureReason, FlowStep, Purpose};
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
    let LoadedFlow {
        flow,
        institution,
        device_name,
        ..
    } = load_flow(&state, &session, &flow_id).await?;
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
        Current::Live(challenge) => {
            let mut waiting = waiting(&state, &flow, &challenge, method);
            waiting.renew = Some(fresh_reading(&session, &flow));
            (None, Some(waiting))
        }
        ended => (Some(retry_form(&session, &flow, &ended, method)), None),
    };
    Ok(AuthenticatePage {
        t: Text,
        demo: state.demo.is_some(),
        requester: zaitaku_card::protocol::requester(&institution.name, device_name.as_deref()),
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
    /// Its claimant ended it: cancelled (`report` is `None`), reported why it
    /// could not answer (a blocked PIN), or sent a card no root vouches for.
    /// The flow waits, with its choices, for a new challenge.
    EndedByClaimant {
        report: Option<FailureReason>,
        claimed_at: Option<OffsetDateTime>,
    },
    /// Expired (or gone): the time-out screen.
    Ended,
}

impl Current {
    /// The status's name for it.
    fn state_name(&self) -> &'static str {
        match self {
            Current::Live(c) if c.claim_hash.is_some() => "claimed",
            Current::Live(_) => "pending",
            Current::EndedByClaimant { report: None, .. } => "cancelled",
            Current::EndedByClaimant { .. } => "reported",
            Current::Ended => "expired",
        }
    }
}

async fn flow_challenge(state: &AppState, flow: &FlowRecord) -> Result<Current, PageError> {
    let Some(reference) = &flow.challenge_ref else {
        return Ok(Current::Ended);
    };
    let now = OffsetDateTime::now_utc();
    Ok(match state.store.challenge(reference).await? {
        Some(c) if c.state == ChallengeState::Pending && !c.is_expired(now) => Current::Live(c),
        // Only its claimant ends the challenge a flow still waits for (going
        // back to the selection moves the flow off this step).
        Some(c) => match c.state {
            ChallengeState::Cancelled => Current::EndedByClaimant {
                report: None,
                claimed_at: c.claimed_at,
            },
            ChallengeState::Reported(reason) => Current::EndedByClaimant {
                report: Some(reason),
                claimed_at: c.claimed_at,
            },
            _ => Current::Ended,
        },
        None => Current::Ended,
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

/// A fresh reading goes back through the step's own confirmation, which makes a
/// fresh challenge (flows A and B also check the choices are still the ones shown).
fn fresh_reading(session: &Session, flow: &FlowRecord) -> FreshReading {
    let (page, fingerprint) = match &flow.step {
        FlowStep::Authenticate(choices) => ("confirm", choices.encode()),
        FlowStep::UpdateAuthenticate { draft, .. } => ("update/confirm", draft.encode()),
        FlowStep::ViewAuthenticate => ("inquiry", String::new()),
        _ => ("revoke", String::new()),
    };
    FreshReading {
        action: format!("/f/{}/{page}", flow.id),
        csrf: session.csrf_token.clone(),
        fingerprint,
    }
}

/// Why the last challenge ended: timed out, cancelled on the authenticator, or
/// what the device that read it reported, and when it read it; then a fresh reading.
fn retry_form(
    session: &Session,
    flow: &FlowRecord,
    ended: &Current,
    method: AuthMethod,
) -> RetryForm {
    let claimed = |at: &Option<OffsetDateTime>| {
        at.map(|at| Text.with("auth-claimed-at", "time", time_ja(at)))
    };
    let (title, paragraphs) = match ended {
        Current::EndedByClaimant {
            report: None,
            claimed_at,
        } => {
            let mut body: Vec<String> = claimed(claimed_at).into_iter().collect();
            body.push(Text.get("auth-cancelled-body"));
            (Text.get("auth-cancelled-title"), body)
        }
        Current::EndedByClaimant {
            report: Some(reason),
            claimed_at,
        } => {
            let (reported, explained, _) = failure_text(*reason);
            let title = if *reason == FailureReason::CertificateUntrusted {
                Text.with("auth-refused-title", "reported", reported)
            } else {
                Text.with("auth-reported-title", "reported", reported)
            };
            let mut body: Vec<String> = claimed(claimed_at).into_iter().collect();
            body.push(explained);
            body.push(Text.get(match method {
                // The code may have been photographed by someone else's phone.
                AuthMethod::QrCode => "auth-reported-other-device",
                AuthMethod::SameDevice | AuthMethod::CardReader => "auth-reported-this-device",
            }));
            (title, body)
        }
        Current::Live(_) | Current::Ended => (
            Text.get("auth-timed-out-title"),
            vec![Text.get("auth-timed-out-body")],
        ),
    };
    RetryForm {
        form: fresh_reading(session, flow),
        title,
        paragraphs,
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
        claimed: claimed_text(challenge),
        auth_link,
        status_url: format!("/f/{}/status", flow.id),
        check_href: format!("/f/{}/authenticate", flow.id),
        renew: None,
    }
}

/// 「15:04に認証アプリで読み取られました。…」 once an authenticator has claimed
/// the challenge: the staff see when, so a claim their patient did not make shows.
fn claimed_text(challenge: &ChallengeRecord) -> Option<String> {
    challenge.claim_hash.as_ref()?;
    Some(match challenge.claimed_at {
        Some(at) => Text.with("auth-claimed-at-waiting", "time", time_ja(at)),
        None => Text.get("auth-claimed"),
    })
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
/// fetched the challenge; `claimedText` says when), `cancelled` (its
/// authenticator reported the reading cancelled; the flow and its choices wait
/// for a new challenge), `reported` (its authenticator reported it could not
/// answer, e.g. a blocked PIN: the same, and the page says what was reported),
/// `expired`, `done`, `failed`, or `moved`, with the screen to go to. With `?wait=STATE`, held until the state changes (long poll).
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
        let (flow, current) = consistent_state(&state, &session, &flow_id).await?;
        let name = current.name();
        let unchanged = query.wait.as_deref() == Some(name);
        match listening {
            Some(listening) if unchanged && started.elapsed() < LONG_POLL => {
                listening.announced_or_recheck().await;
            }
            _ => {
                let next = canonical_path(&flow);
                let mut answer = json!({ "state": name, "next": next });
                if let Seen::Challenge(Current::Live(challenge)) = &current
                    && let Some(text) = claimed_text(challenge)
                {
                    answer["claimedText"] = text.into();
                }
                return Ok(Json(answer).into_response());
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

/// What the status saw: the flow's challenge, or where the flow went.
enum Seen {
    Challenge(Current),
    Done,
    Failed,
    Moved,
}

impl Seen {
    fn name(&self) -> &'static str {
        match self {
            Seen::Challenge(current) => current.state_name(),
            Seen::Done => "done",
            Seen::Failed => "failed",
            Seen::Moved => "moved",
        }
    }
}

/// The flow and its state, as of one moment. The flow and its challenge are two
/// reads; a settlement commits both together, so a challenge that is no longer
/// live while the flow read before it still waits for it may have been settled
/// in between: the flow is read again, and only a flow that still waits for
/// that same challenge is `expired` (or `cancelled`, `reported`).
async fn consistent_state(
    state: &AppState,
    session: &Session,
    flow_id: &str,
) -> Result<(FlowRecord, Seen), PageError> {
    let mut flow = load_flow(state, session, flow_id).await?.flow;
    loop {
        let seen = match (&flow.step, &flow.challenge_ref) {
            (step, Some(_)) if step.is_authenticating() => {
                let current = flow_challenge(state, &flow).await?;
                if !matches!(current, Current::Live(_)) {
                    let again = load_flow(state, session, flow_id).await?.flow;
                    if again.step != flow.step || again.challenge_ref != flow.challenge_ref {
                        // It moved on between the reads: answer from the newer flow.
                        flow = again;
                        continue;
                    }
                }
                Seen::Challenge(current)
            }
            (FlowStep::Done, _) => Seen::Done,
            (FlowStep::Failed(_), _) => Seen::Failed,
            _ => Seen::Moved,
        };
        return Ok((flow, seen));
    }
}
