//! The authenticator's side of the wire protocol (docs/auth-protocol.md).

use crate::handoff;
use crate::i18n::Text;
use crate::limits::{ClientAddress, retry_after_seconds};
use crate::random;
use crate::state::AppState;
use crate::verification::{self, Answerer, SubmitError, TokenOutcome};
use crate::views::AuthLinkPage;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zaitaku_card::protocol::{
    ChallengeAnswer, ErrorAnswer, ErrorReport, Institution, PROTOCOL, ReportAnswer, TokenAnswer,
    claim_from_authorization,
};
use zaitaku_domain::FailureReason;

fn error_response(e: SubmitError) -> Response {
    let (status, code, message) = match e {
        SubmitError::UnknownChallenge => (
            StatusCode::NOT_FOUND,
            "unknown_challenge",
            "no such authentication request",
        ),
        SubmitError::Expired => (
            StatusCode::GONE,
            "expired",
            "the authentication request has expired; start it again on the page",
        ),
        SubmitError::AlreadyUsed => (
            StatusCode::CONFLICT,
            "already_used",
            "the authentication request was already answered",
        ),
        SubmitError::AlreadyClaimed => (
            StatusCode::CONFLICT,
            "already_claimed",
            "this code was already read by another device; start the authentication again on the page",
        ),
        SubmitError::UrlChanged => (
            StatusCode::GONE,
            "url_changed",
            "the institution's URL has changed; this authentication request is no longer valid",
        ),
        SubmitError::NotClaimed => (
            StatusCode::FORBIDDEN,
            "not_claimed",
            "fetch the authentication request first (GET) and send its claim back in the \
             Authorization header",
        ),
        SubmitError::BadToken(code) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(ErrorAnswer {
                    detail: Some(code.to_owned()),
                    ..ErrorAnswer::new("bad_token", "the body is not a Web eID token")
                }),
            )
                .into_response();
        }
        SubmitError::Internal(cause) => {
            let op_id = random::id128();
            tracing::error!(op_id = %op_id, cause = %cause, "authentication request failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(ErrorAnswer::new(
                    "internal",
                    format!("the server could not complete the request (operation {op_id})"),
                )),
            )
                .into_response();
        }
    };
    (status, Json(ErrorAnswer::new(code, message))).into_response()
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// The claim an authenticator got from its GET, sent back with every later call
/// in the `Authorization` header (`zaitaku_card::protocol::CLAIM_SCHEME`).
fn claim(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(claim_from_authorization)
        .map(str::to_owned)
}

/// A claim in the URL (where proxies and access logs keep it) is refused
/// before anything is looked at: it neither claims nor answers a challenge. The
/// protocol before the header put it there, so the answer says where it goes.
pub async fn refuse_claim_in_url(request: Request, next: Next) -> Response {
    let in_url = request.uri().query().is_some_and(|query| {
        Query::<Vec<(String, String)>>::try_from_uri(request.uri()).map_or(
            // Undecodable: refused if it could be a claim at all.
            query.to_ascii_lowercase().contains("claim"),
            |Query(pairs)| pairs.iter().any(|(key, _)| key == "claim"),
        )
    });
    if in_url {
        return (
            StatusCode::BAD_REQUEST,
            Json(ErrorAnswer::new(
                "claim_in_url",
                "send the claim in the Authorization header (Authorization: Bearer <claim>), \
                 never in the URL",
            )),
        )
            .into_response();
    }
    next.run(request).await
}

/// What the authenticator shows before the PIN: origin, institution, purpose and
/// the matching code. The first authenticator to ask claims the challenge.
pub async fn describe(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !wants_json(&headers) {
        // Opened in a browser: say what the link is for.
        let demo_reader = state
            .demo
            .is_some()
            .then(|| format!("/demo/reader/{reference}"))
            .filter(|_| random::is_id(&reference));
        return AuthLinkPage {
            t: Text,
            demo: state.demo.is_some(),
            demo_reader,
        }
        .into_response();
    }
    match describe_json(&state, &reference, claim(&headers)).await {
        Ok(body) => Json(body).into_response(),
        Err(e) => error_response(e),
    }
}

async fn describe_json(
    state: &AppState,
    reference: &str,
    claim: Option<String>,
) -> Result<ChallengeAnswer, SubmitError> {
    if !random::is_id(reference) {
        return Err(SubmitError::UnknownChallenge);
    }
    let verification::LiveChallenge {
        challenge,
        institution,
        device,
        ..
    } = verification::live_challenge(state, reference).await?;
    let claim = match (&challenge.claim_hash, claim) {
        (None, _) => {
            let secret = random::secret256();
            let now = OffsetDateTime::now_utc();
            let hash = handoff::claim_hash(&secret);
            if !state.store.claim_challenge(reference, &hash, now).await? {
                return Err(SubmitError::AlreadyClaimed);
            }
            state.wakeups.announce(&challenge.flow_id);
            secret
        }
        // The claimer asking again (a retry after a network error) is answered.
        (Some(stored), Some(secret)) if handoff::claim_matches(stored, &secret) => secret,
        (Some(_), _) => return Err(SubmitError::AlreadyClaimed),
    };
    let expires_at = challenge
        .expires_at
        .format(&Rfc3339)
        .map_err(|e| SubmitError::Internal(e.to_string()))?;
    Ok(ChallengeAnswer {
        protocol: PROTOCOL.to_owned(),
        origin: state.origin.as_str().to_owned(),
        institution: Institution {
            name: institution.name,
            code: institution.code.as_str().to_owned(),
            device,
        },
        purpose: challenge.purpose.code().to_owned(),
        purpose_label: challenge.purpose.label().to_owned(),
        matching_code: handoff::matching_code(&challenge.nonce),
        nonce: challenge.nonce,
        claim,
        expires_at,
    })
}

pub async fn submit(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Each token costs a signature check and a certificate path: counted per
    // client before any of it.
    if let Err(wait) = state.guards.token_check(client) {
        return rate_limited(wait);
    }
    let claim = claim(&headers);
    let answerer = Answerer::Claimant(claim.as_deref());
    match verification::submit_token(&state, &reference, answerer, &body).await {
        Ok(TokenOutcome::Accepted) => Json(TokenAnswer::accepted(
            "the card was accepted; the page moves on by itself",
        ))
        .into_response(),
        Ok(TokenOutcome::Rejected { code, .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(TokenAnswer::rejected(code, rejection_message(code))),
        )
            .into_response(),
        Err(e) => error_response(e),
    }
}

/// `429` with `Retry-After`, in the protocol's error shape.
fn rate_limited(wait: std::time::Duration) -> Response {
    let seconds = retry_after_seconds(wait);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, seconds.to_string())],
        Json(ErrorAnswer::new(
            "rate_limited",
            format!("too many tokens from this client; try again in {seconds} s"),
        )),
    )
        .into_response()
}

fn rejection_message(code: &str) -> &'static str {
    match code {
        "not_registered" => "this card is not registered for health-insurance use",
        "qualification_lost" => "the health-insurance qualification is no longer valid",
        "qualification_not_found" => "no health-insurance qualification was found",
        "certificate_expired" => "the card's authentication certificate has expired",
        "certificate_revoked" => "the card's authentication certificate is revoked",
        "revocation_unknown" => "whether the card's certificate is revoked could not be confirmed",
        _ => "the card's authentication could not be verified",
    }
}

pub async fn report_error(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let claim = claim(&headers);
    let answerer = Answerer::Claimant(claim.as_deref());
    let Ok(report) = serde_json::from_slice::<ErrorReport>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(ErrorAnswer::new(
                "bad_report",
                "expected {\"code\": \"pin_blocked\" | \"cancelled\"}",
            )),
        )
            .into_response();
    };
    // Either ends the challenge only; the page offers a new one with the choices kept.
    let reported = match report.code.as_str() {
        "pin_blocked" => Some(FailureReason::PinBlocked),
        "cancelled" => None,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Json(ErrorAnswer::new("bad_report", "unknown error code")),
            )
                .into_response();
        }
    };
    match verification::report(&state, &reference, answerer, reported).await {
        Ok(()) => Json(ReportAnswer::recorded()).into_response(),
        Err(e) => error_response(e),
    }
}
