//! From a posted token to a settled challenge, the same for every authenticator
//! (phone app, `zaitaku card auth`, demo card reader): verify the token with the
//! card core, map the certificate to the insured person, then, by the challenge's
//! purpose, check the qualification and register (flow A), show the consent or
//! save its update by the same person (flow B), or revoke (flow C); all or
//! nothing and at most once.

use crate::revocation_lookup;
use crate::state::AppState;
use std::time::SystemTime;
use time::{Duration, OffsetDateTime, UtcOffset};
use zaitaku_card::ChallengeNonce;
use zaitaku_card::validate::ValidationError;
use zaitaku_domain::{
    CardAuthentication, FailureReason, FlowStep, Purpose, QualificationStatus, RevocationReason,
};
use zaitaku_store::{
    ChallengeRecord, ChallengeState, RegistrationWrite, RevocationWrite, SettleError,
    UpdateOutcome, UpdateWrite, ViewWrite,
};

/// Japan Standard Time: qualification and consent dates are Japanese calendar days.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("+09:00 is a valid offset"),
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

/// A challenge that can still be answered, or why not.
pub async fn live_challenge(
    state: &AppState,
    reference: &str,
) -> Result<ChallengeRecord, SubmitError> {
    let challenge = state
        .store
        .challenge(reference)
        .await?
        .ok_or(SubmitError::UnknownChallenge)?;
    if challenge.state != ChallengeState::Pending {
        return Err(SubmitError::AlreadyUsed);
    }
    if challenge.is_expired(OffsetDateTime::now_utc()) {
        return Err(SubmitError::Expired);
    }
    Ok(challenge)
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
) -> Result<ChallengeRecord, SubmitError> {
    if !crate::random::is_id(reference) {
        return Err(SubmitError::UnknownChallenge);
    }
    let challenge = live_challenge(state, reference).await?;
    if let Answerer::Claimant(claim) = answerer {
        match (&challenge.claim_hash, claim) {
            (Some(stored), Some(secret)) if crate::handoff::claim_matches(stored, secret) => {}
            (Some(_), Some(_)) => return Err(SubmitError::AlreadyClaimed),
            _ => return Err(SubmitError::NotClaimed),
        }
    }
    Ok(challenge)
}

pub async fn submit_token(
    state: &AppState,
    reference: &str,
    answerer: Answerer<'_>,
    token_json: &[u8],
) -> Result<TokenOutcome, SubmitError> {
    let challenge = answerable_challenge(state, reference, answerer).await?;
    let nonce = ChallengeNonce::parse(&challenge.nonce)
        .map_err(|_| SubmitError::Internal("stored nonce is malformed".into()))?;
    let validator = state.validator.current();
    let checked = match validator.check_token(token_json, &state.origin, &nonce, SystemTime::now())
    {
        Ok(pending) => {
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
            return reject(state, &challenge, reason, code).await;
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
            FailureReason::NotRegistered,
            "not_registered",
        )
        .await;
    };
    let now = OffsetDateTime::now_utc();
    let today = now.to_offset(JST).date();
    let (flow, institution) = state
        .store
        .flow_with_institution(&challenge.flow_id)
        .await?
        .ok_or(SubmitError::AlreadyUsed)?;
    let authentication = CardAuthentication {
        certificate_issuer: cert.issuer.clone(),
        certificate_serial: cert.serial.clone(),
        revocation: revocation_code(&valid.revocation).to_owned(),
    };
    match (&flow.step, challenge.purpose) {
        (FlowStep::Authenticate(choices), Purpose::Register) => {
            match person.qualification.status_on(today) {
                QualificationStatus::Valid => {}
                QualificationStatus::Lost { .. } => {
                    let reason = FailureReason::QualificationLost;
                    return reject(state, &challenge, reason, "qualification_lost").await;
                }
                QualificationStatus::NotFound => {
                    let reason = FailureReason::QualificationNotFound;
                    return reject(state, &challenge, reason, "qualification_not_found").await;
                }
            }
            let write = RegistrationWrite {
                challenge_ref: challenge.reference.clone(),
                flow_id: flow.id.clone(),
                institution_id: institution.id,
                person_id: person.id,
                choices: choices.clone(),
                expires_on: today + Duration::days(i64::from(institution.consent_validity_days)),
                at: now,
                authentication,
            };
            state.store.settle_registration(&write).await?;
        }
        // Flow B confirms no qualification (the manual's B is inquiry and update
        // only): the person sees their consent, or that there is none.
        (FlowStep::ViewAuthenticate, Purpose::View) => {
            let write = ViewWrite {
                challenge_ref: challenge.reference.clone(),
                flow_id: flow.id.clone(),
                institution_id: institution.id,
                person_id: person.id,
                today,
                at: now,
            };
            state.store.settle_view(&write).await?;
        }
        (FlowStep::UpdateAuthenticate { viewed, draft }, Purpose::Update) => {
            // Saving takes the card that viewed: another card, even a valid
            // one, must not change someone else's consent.
            if flow.person_id != Some(person.id) {
                let reason = FailureReason::DifferentPerson;
                return reject(state, &challenge, reason, "different_person").await;
            }
            let consent_id = flow
                .consent_id
                .ok_or_else(|| SubmitError::Internal("an update without its consent".into()))?;
            let write = UpdateWrite {
                challenge_ref: challenge.reference.clone(),
                flow_id: flow.id.clone(),
                consent_id,
                viewed_version: viewed.version,
                choices: draft.clone(),
                expires_on: today + Duration::days(i64::from(institution.consent_validity_days)),
                at: now,
                authentication,
            };
            if state.store.settle_update(&write).await? == UpdateOutcome::Conflict {
                crate::handoff::announce_change();
                tracing::info!(
                    purpose = "update",
                    "consent update refused: changed since viewed"
                );
                return Ok(TokenOutcome::Rejected {
                    code: "update_conflict",
                });
            }
        }
        // Revoking needs no valid qualification: someone who lost theirs may
        // still withdraw what they agreed to.
        (FlowStep::RevokeAuthenticate, Purpose::Revoke) => {
            let write = RevocationWrite {
                challenge_ref: challenge.reference.clone(),
                flow_id: flow.id.clone(),
                institution_id: institution.id,
                person_id: person.id,
                reason: RevocationReason::ByPatient,
                at: now,
                authentication,
            };
            state.store.settle_revocation(&write).await?;
        }
        _ => return Err(SubmitError::AlreadyUsed),
    }
    tracing::info!(
        purpose = challenge.purpose.code(),
        "card authentication accepted"
    );
    crate::handoff::announce_change();
    Ok(TokenOutcome::Accepted)
}

fn revocation_code(status: &zaitaku_card::validate::crl::RevocationStatus) -> &'static str {
    use zaitaku_card::validate::crl::RevocationStatus as R;
    match status {
        R::Good { .. } => "good",
        R::Revoked { .. } => "revoked",
        R::NotChecked { .. } => "not_checked",
    }
}

async fn reject(
    state: &AppState,
    challenge: &ChallengeRecord,
    reason: FailureReason,
    code: &'static str,
) -> Result<TokenOutcome, SubmitError> {
    state
        .store
        .settle_failure(&challenge.reference, reason, OffsetDateTime::now_utc())
        .await?;
    tracing::info!(
        purpose = challenge.purpose.code(),
        code,
        "card authentication refused"
    );
    crate::handoff::announce_change();
    Ok(TokenOutcome::Rejected { code })
}

/// The authenticator reports the card's PIN is blocked: the flow ends on that screen.
pub async fn report_pin_blocked(
    state: &AppState,
    reference: &str,
    answerer: Answerer<'_>,
) -> Result<(), SubmitError> {
    let challenge = answerable_challenge(state, reference, answerer).await?;
    reject(state, &challenge, FailureReason::PinBlocked, "pin_blocked").await?;
    Ok(())
}
