//! From a posted token to a settled challenge, the same for every authenticator
//! (phone app, `zaitaku card auth`, demo card reader): verify the token with the
//! card core, map the certificate to the insured person, then ask the store to
//! settle: by the flow's step and the challenge's purpose it checks the
//! qualification and registers (flow A), shows the consent or saves its update
//! by the same person (flow B), or revokes (flow C); all or nothing and at most
//! once (`zaitaku_store::settle`).

use crate::error::PageError;
use crate::revocation_lookup;
use crate::state::AppState;
use std::time::SystemTime;
use time::OffsetDateTime;
use zaitaku_card::ChallengeNonce;
use zaitaku_card::validate::ValidationError;
use zaitaku_domain::{CardAuthentication, FailureReason, InstitutionKind};
use zaitaku_store::{
    CardAnswer, ChallengeRecord, ChallengeState, FlowRecord, SettleError, Settled, UpdateOutcome,
};

#[derive(Debug)]
pub enum TokenOutcome {
    /// The card was valid and the flow went on.
    Accepted,
    /// The token was checked and the step cannot go on; the challenge is used up.
    Rejected { code: &'static str },
}

#[derive(Debug)]
pub enum SubmitError {
    UnknownChallenge,
    Expired,
    AlreadyUsed,
    /// Another authenticator fetched (claimed) the challenge first.
    AlreadyClaimed,
    /// Answered without the claim its fetch handed out.
    NotClaimed,
    /// Not a Web eID token at all; the challenge stays usable.
    BadToken(&'static str),
    /// Its flow was started from an institution URL rotated away since.
    UrlChanged,
    Internal(String),
}

impl From<zaitaku_store::StoreError> for SubmitError {
    fn from(e: zaitaku_store::StoreError) -> Self {
        SubmitError::Internal(e.to_string())
    }
}

impl From<SettleError> for SubmitError {
    fn from(e: SettleError) -> Self {
        match e {
            SettleError::ChallengeNotPending | SettleError::FlowMoved => SubmitError::AlreadyUsed,
            SettleError::Store(e) => SubmitError::Internal(e.to_string()),
        }
    }
}

/// A challenge that can still be answered, and the name of the device that
/// started its flow (`None` where anyone may start flows).
#[derive(Debug)]
pub struct LiveChallenge {
    pub challenge: ChallengeRecord,
    /// Its flow and institution as read with it: what a card answer settles
    /// (the store refuses the settlement if the flow has moved on since).
    pub flow: FlowRecord,
    pub institution: zaitaku_domain::Institution,
    pub device: Option<String>,
}

/// A challenge that can still be answered, or why not. A challenge whose flow
/// was started from an institution URL rotated away since, or by a device
/// revoked since, answers nothing: the rules the flow's own pages apply
/// (`devices::gate::flow_requester`), so a fetch, a
/// token and a report are refused alike.
pub async fn live_challenge(
    state: &AppState,
    reference: &str,
) -> Result<LiveChallenge, SubmitError> {
    let challenge = state
        .store
        .challenge(reference)
        .await?
        .ok_or(SubmitError::UnknownChallenge)?;
    let context = state
        .store
        .flow_in_context(&challenge.flow_id)
        .await?
        .ok_or(SubmitError::UnknownChallenge)?;
    let device = crate::devices::gate::flow_requester(&context).map_err(|e| match e {
        PageError::UrlChanged => SubmitError::UrlChanged,
        _ => SubmitError::UnknownChallenge,
    })?;
    if challenge.state != ChallengeState::Pending {
        return Err(SubmitError::AlreadyUsed);
    }
    if challenge.is_expired(OffsetDateTime::now_utc()) {
        return Err(SubmitError::Expired);
    }
    Ok(LiveChallenge {
        challenge,
        flow: context.flow,
        institution: context.institution,
        device,
    })
}

/// Who answers a challenge.
#[derive(Debug, Clone, Copy)]
pub enum Answerer<'a> {
    /// An authenticator, with the claim its fetch handed out (if it sent one).
    Claimant(Option<&'a str>),
    /// The demo card reader, which its page has already cleared for this session.
    DemoReader,
}

/// A live challenge this answerer may answer: an authenticator only with the
/// claim of the fetch that claimed it.
pub async fn answerable_challenge(
    state: &AppState,
    reference: &str,
    answerer: Answerer<'_>,
) -> Result<LiveChallenge, SubmitError> {
    if !crate::random::is_id(reference) {
        return Err(SubmitError::UnknownChallenge);
    }
    let live = live_challenge(state, reference).await?;
    if let Answerer::Claimant(claim) = answerer {
        match (&live.challenge.claim_hash, claim) {
            (Some(stored), Some(secret)) if crate::handoff::claim_matches(stored, secret) => {}
            (Some(_), Some(_)) => return Err(SubmitError::AlreadyClaimed),
            _ => return Err(SubmitError::NotClaimed),
        }
    }
    Ok(live)
}

pub async fn submit_token(
    state: &AppState,
    reference: &str,
    answerer: Answerer<'_>,
    token_json: &[u8],
) -> Result<TokenOutcome, SubmitError> {
    let outcome = check_and_settle(state, reference, answerer, token_json).await;
    // Counted once the token was looked at; a challenge that could not be
    // answered at all is not a token check.
    let result = match &outcome {
        Ok(TokenOutcome::Accepted) => Some("accepted"),
        Ok(TokenOutcome::Rejected { code }) | Err(SubmitError::BadToken(code)) => Some(*code),
        Err(SubmitError::Internal(_)) => Some("error"),
        Err(_) => None,
    };
    if let Some(result) = result {
        state.metrics.token_checked(result);
    }
    outcome
}

async fn check_and_settle(
    state: &AppState,
    reference: &str,
    answerer: Answerer<'_>,
    token_json: &[u8],
) -> Result<TokenOutcome, SubmitError> {
    let LiveChallenge {
        challenge,
        flow,
        institution,
        ..
    } = answerable_challenge(state, reference, answerer).await?;
    let kind = institution.kind;
    let nonce = ChallengeNonce::parse(&challenge.nonce)
        .map_err(|_| SubmitError::Internal("stored nonce is malformed".into()))?;
    let validator = state.validator.current();
    let checked = match validator.check_token(token_json, &state.origin, &nonce, SystemTime::now())
    {
        Ok(pending) => {
            let signer = &pending.query().signer_fingerprint;
            if state.validator.is_stored_anchor(signer)
                && !state.store.trust_anchor_stored(signer).await?
            {
                // Removed by `admin trust remove` since this process last reloaded.
                return reject(
                    state,
                    &challenge,
                    kind,
                    FailureReason::CertificateUntrusted,
                    "certificate_untrusted",
                )
                .await;
            }
            let stored = revocation_lookup::covering(state.store.as_ref(), pending.query()).await?;
            validator.conclude(pending, &stored)
        }
        Err(rejection) => Err(rejection),
    };
    let valid = match checked {
        Ok(valid) => valid,
        Err(rejection) => {
            let code = rejection.error.code();
            let reason = match &rejection.error {
                ValidationError::Token(_) => return Err(SubmitError::BadToken(code)),
                _ if code == "certificate_expired" => FailureReason::CertificateExpired,
                _ if code == "certificate_revoked" => FailureReason::CertificateRevoked,
                _ if code == "revocation_unknown" => FailureReason::RevocationUnknown,
                _ => FailureReason::CertificateUntrusted,
            };
            return reject(state, &challenge, kind, reason, code).await;
        }
    };
    let cert = &valid.certificate;
    let Some(person) = state
        .store
        .person_by_certificate(&cert.issuer, &cert.serial)
        .await?
    else {
        return reject(
            state,
            &challenge,
            kind,
            FailureReason::NotRegistered,
            "not_registered",
        )
        .await;
    };
    let now = OffsetDateTime::now_utc();
    let answer = CardAnswer {
        challenge_ref: challenge.reference.clone(),
        purpose: challenge.purpose,
        person,
        authentication: CardAuthentication {
            certificate_issuer: cert.issuer.clone(),
            certificate_serial: cert.serial.clone(),
            revocation: revocation_code(&valid.revocation).to_owned(),
        },
        at: now,
        today: zaitaku_domain::day_in_japan(now),
    };
    // The store decides what the answer writes (`zaitaku_store::settle`).
    let settled = state.store.settle_card(&flow, &institution, answer).await?;
    state
        .metrics
        .flow_finished(settled_outcome(&settled), institution.kind);
    match settled {
        Settled::Failed(reason) => {
            refused(state, &challenge, reason.code());
            return Ok(TokenOutcome::Rejected {
                code: reason.code(),
            });
        }
        Settled::Updated(UpdateOutcome::Conflict) => {
            state.wakeups.announce(&challenge.flow_id);
            tracing::info!(
                purpose = "update",
                "consent update refused: changed since viewed"
            );
            return Ok(TokenOutcome::Rejected {
                code: "update_conflict",
            });
        }
        Settled::Registered(_)
        | Settled::Viewed(_)
        | Settled::Updated(UpdateOutcome::Updated)
        | Settled::Revoked(_) => {}
    }
    tracing::info!(
        purpose = challenge.purpose.code(),
        "card authentication accepted"
    );
    state.wakeups.announce(&challenge.flow_id);
    Ok(TokenOutcome::Accepted)
}

/// What a settled card step did, as the metrics name it.
fn settled_outcome(settled: &Settled) -> &'static str {
    match settled {
        Settled::Failed(reason) => reason.code(),
        Settled::Updated(UpdateOutcome::Conflict) => "update_conflict",
        Settled::Registered(_) => "registered",
        Settled::Viewed(_) => "viewed",
        Settled::Updated(UpdateOutcome::Updated) => "updated",
        Settled::Revoked(_) => "revoked",
    }
}

fn revocation_code(status: &zaitaku_card::validate::crl::RevocationStatus) -> &'static str {
    use zaitaku_card::validate::crl::RevocationStatus as R;
    match status {
        R::Good { .. } => "good",
        R::Revoked { .. } => "revoked",
        R::NotChecked { .. } => "not_checked",
    }
}

/// Whether a refused token ends only its challenge, as a claimant's report
/// does, rather than the flow. A certificate that chains to no trusted root (or
/// a signature that does not verify) says nothing about the patient's card:
/// anyone who read the 2D code can make one without any card, so it must not
/// end the staff's flow. A genuine card's refusal (expired, revoked, not
/// registered, no qualification) still ends the flow on the manual's screen.
fn ends_challenge_only(reason: FailureReason) -> bool {
    matches!(reason, FailureReason::CertificateUntrusted)
}

async fn reject(
    state: &AppState,
    challenge: &ChallengeRecord,
    kind: InstitutionKind,
    reason: FailureReason,
    code: &'static str,
) -> Result<TokenOutcome, SubmitError> {
    if ends_challenge_only(reason) {
        end_by_claimant(state, challenge, Some(reason)).await?;
        refused(state, challenge, code);
        return Ok(TokenOutcome::Rejected { code });
    }
    state
        .store
        .settle_failure(&challenge.reference, reason, OffsetDateTime::now_utc())
        .await?;
    state.metrics.flow_finished(code, kind);
    refused(state, challenge, code);
    Ok(TokenOutcome::Rejected { code })
}

/// Log a refused card and wake the pages waiting on it.
fn refused(state: &AppState, challenge: &ChallengeRecord, code: &'static str) {
    tracing::info!(
        purpose = challenge.purpose.code(),
        code,
        "card authentication refused"
    );
    state.wakeups.announce(&challenge.flow_id);
}

/// The authenticator reports it could not answer: the user cancelled (`None`:
/// the 「キャンセル」 button, or the card was not read) or the card's PIN is
/// blocked. A report proves nothing about the card (whoever read the 2D code
/// first holds the claim), so it ends the claimed challenge, and nothing else:
/// the flow stays at its authentication step with its choices, and the page
/// says what was reported, when the code was read, and offers a new challenge.
pub async fn report(
    state: &AppState,
    reference: &str,
    answerer: Answerer<'_>,
    report: Option<FailureReason>,
) -> Result<(), SubmitError> {
    let challenge = answerable_challenge(state, reference, answerer)
        .await?
        .challenge;
    end_by_claimant(state, &challenge, report).await?;
    tracing::info!(
        purpose = challenge.purpose.code(),
        report = report.map_or("cancelled", FailureReason::code),
        "card reading ended on the authenticator; the flow waits for a new challenge"
    );
    Ok(())
}

/// End `challenge` (as read, with its claim) for its claimant's `report`, and
/// wake the pages waiting on its flow.
async fn end_by_claimant(
    state: &AppState,
    challenge: &ChallengeRecord,
    report: Option<FailureReason>,
) -> Result<(), SubmitError> {
    let now = OffsetDateTime::now_utc();
    let ended = state
        .store
        .end_claimed_challenge(
            &challenge.reference,
            challenge.claim_hash.as_deref(),
            report,
            now,
        )
        .await?;
    if !ended {
        // Settled, expired, ended or claimed between the read and the write.
        return Err(match live_challenge(state, &challenge.reference).await {
            Err(e) => e,
            Ok(_) => SubmitError::AlreadyUsed,
        });
    }
    state.wakeups.announce(&challenge.flow_id);
    Ok(())
}
