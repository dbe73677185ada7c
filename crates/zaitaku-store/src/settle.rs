//! What a settlement writes, decided once for both backends.
//!
//! A card answer becomes a [`SettleRequest`] ([`request`]: the flow's step and
//! the challenge's purpose say which). A backend's settle reads the consent it
//! concerns under its own lock (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's
//! `FOR UPDATE`), asks [`plan`] what to write, applies the [`Plan`] in the same
//! transaction and commits. The staff's revocation from the console goes the
//! same way through [`staff_revocation`]. No backend decides a status, a history
//! row or a flow step by itself.

use crate::console_records::{StaffRevocation, StaffRevocationOutcome};
use crate::error::{SettleError, StoreError};
use crate::records::{
    ChallengeState, FlowRecord, RegistrationWrite, RevocationWrite, UpdateOutcome, UpdateWrite,
    ViewWrite,
};
use time::{Date, Duration, OffsetDateTime};
use zaitaku_domain::{
    CardAuthentication, Channel, Consent, ConsentChoices, ConsentId, ConsentStatus, FailureReason,
    FlowStep, Institution, InstitutionId, InsuredPerson, PersonId, Purpose, QualificationStatus,
    RevocationReason, Viewed,
};

/// Actor recorded for changes the card holder made themselves.
const PATIENT: &str = "patient";
/// Actor prefix for changes made by the staff from the console: `staff:LOGIN`.
const STAFF_PREFIX: &str = "staff:";

/// A verified card answering a flow's challenge.
#[derive(Debug, Clone)]
pub struct CardAnswer {
    pub challenge_ref: String,
    pub purpose: Purpose,
    /// The insured person the card's certificate is linked to.
    pub person: InsuredPerson,
    pub authentication: CardAuthentication,
    pub at: OffsetDateTime,
    /// The Japanese calendar day of `at`.
    pub today: Date,
}

/// What a card answer asks of the store.
#[derive(Debug, Clone)]
pub enum SettleRequest {
    Registration(RegistrationWrite),
    View(ViewWrite),
    Update(UpdateWrite),
    Revocation(RevocationWrite),
    /// The card cannot take the flow on (a lost qualification, another
    /// person's card): use the challenge and end the flow with `reason`.
    Failure {
        challenge_ref: String,
        reason: FailureReason,
        at: OffsetDateTime,
    },
}

/// How a settlement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Flow A: the consent registered (or registered again).
    Registered(ConsentId),
    /// Flow B's first card: the standing consent shown for editing, or `None`
    /// (the flow ended with `NothingRegistered`).
    Viewed(Option<Consent>),
    /// Flow B's second card: saved, or refused because the consent moved on.
    Updated(UpdateOutcome),
    /// Flow C: the consent revoked, or `None` (nothing was standing).
    Revoked(Option<ConsentId>),
    /// The flow ended with this reason before anything was asked of a consent.
    Failed(FailureReason),
}

/// The settlement a card answer asks for: the flow's step and the challenge's
/// purpose must match (else [`SettleError::FlowMoved`]). A registration needs
/// a valid qualification today; an update, the card that viewed the consent.
pub fn request(
    flow: &FlowRecord,
    institution: &Institution,
    answer: CardAnswer,
) -> Result<SettleRequest, SettleError> {
    let CardAnswer {
        challenge_ref,
        purpose,
        person,
        authentication,
        at,
        today,
    } = answer;
    let fail = |reason| SettleRequest::Failure {
        challenge_ref: challenge_ref.clone(),
        reason,
        at,
    };
    let expires_on = today + Duration::days(i64::from(institution.consent_validity_days));
    let request = match (&flow.step, purpose) {
        (FlowStep::Authenticate(choices), Purpose::Register) => {
            match person.qualification.status_on(today) {
                QualificationStatus::Valid => {}
                QualificationStatus::Lost { .. } => {
                    return Ok(fail(FailureReason::QualificationLost));
                }
                QualificationStatus::NotFound => {
                    return Ok(fail(FailureReason::QualificationNotFound));
                }
            }
            SettleRequest::Registration(RegistrationWrite {
                challenge_ref,
                flow_id: flow.id.clone(),
                institution_id: institution.id,
                person_id: person.id,
                choices: choices.clone(),
                expires_on,
                at,
                authentication,
            })
        }
        // Flow B confirms no qualification (the manual's B is inquiry and update
        // only): the person sees their consent, or that there is none.
        (FlowStep::ViewAuthenticate, Purpose::View) => SettleRequest::View(ViewWrite {
            challenge_ref,
            flow_id: flow.id.clone(),
            institution_id: institution.id,
            person_id: person.id,
            today,
            at,
        }),
        (FlowStep::UpdateAuthenticate { viewed, draft }, Purpose::Update) => {
            // Saving takes the card that viewed: another card, even a valid
            // one, must not change someone else's consent.
            if flow.person_id != Some(person.id) {
                return Ok(fail(FailureReason::DifferentPerson));
            }
            let consent_id = flow.consent_id.ok_or(StoreError::Corrupt {
                what: "flow's consent",
            })?;
            SettleRequest::Update(UpdateWrite {
                challenge_ref,
                flow_id: flow.id.clone(),
                consent_id,
                viewed_version: viewed.version,
                choices: draft.clone(),
                expires_on,
                at,
                authentication,
            })
        }
        // Revoking needs no valid qualification: someone who lost theirs may
        // still withdraw what they agreed to.
        (FlowStep::RevokeAuthenticate, Purpose::Revoke) => {
            SettleRequest::Revocation(RevocationWrite {
                challenge_ref,
                flow_id: flow.id.clone(),
                institution_id: institution.id,
                person_id: person.id,
                reason: RevocationReason::ByPatient,
                at,
                authentication,
            })
        }
        _ => return Err(SettleError::FlowMoved),
    };
    Ok(request)
}

/// Which consent a backend reads (under its lock) before asking for the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentRead {
    /// The consent between an institution and a person.
    Parties(InstitutionId, PersonId),
    ById(ConsentId),
    Nothing,
}

impl SettleRequest {
    /// The challenge this settlement uses.
    pub fn challenge_ref(&self) -> &str {
        match self {
            SettleRequest::Registration(w) => &w.challenge_ref,
            SettleRequest::View(w) => &w.challenge_ref,
            SettleRequest::Update(w) => &w.challenge_ref,
            SettleRequest::Revocation(w) => &w.challenge_ref,
            SettleRequest::Failure { challenge_ref, .. } => challenge_ref,
        }
    }

    /// The consent the plan depends on.
    pub fn reads(&self) -> ConsentRead {
        match self {
            SettleRequest::Registration(w) => ConsentRead::Parties(w.institution_id, w.person_id),
            SettleRequest::View(w) => ConsentRead::Parties(w.institution_id, w.person_id),
            SettleRequest::Revocation(w) => ConsentRead::Parties(w.institution_id, w.person_id),
            SettleRequest::Update(w) => ConsentRead::ById(w.consent_id),
            SettleRequest::Failure { .. } => ConsentRead::Nothing,
        }
    }

    /// Whether the settlement may change the consent: the backend must hold the
    /// consent still from its read to its commit. A view only reads it (its
    /// version lets the save detect a change made in between).
    pub fn writes_consent(&self) -> bool {
        matches!(
            self,
            SettleRequest::Registration(_)
                | SettleRequest::Update(_)
                | SettleRequest::Revocation(_)
        )
    }
}

/// What one settlement writes, all in one transaction.
#[derive(Debug, Clone)]
pub struct Plan {
    /// When: the consent's `updated_at`, the history row's, the challenge's settlement.
    pub at: OffsetDateTime,
    /// The consent's new state, if it changes.
    pub consent: Option<ConsentWrite>,
    /// The history row that explains the consent write (there is one with every write).
    pub history: Option<HistoryRow>,
    /// Record the card's qualification check (for a later re-query to compare).
    pub record_check: Option<(InstitutionId, PersonId)>,
    /// The challenge used and where its flow goes; `None` for the console.
    pub flow: Option<FlowEnd>,
    outcome: Outcome,
}

/// A consent's new state.
#[derive(Debug, Clone)]
pub enum ConsentWrite {
    /// A first registration: version 1, registered and updated at `at`.
    Insert {
        institution: InstitutionId,
        person: PersonId,
        choices: ConsentChoices,
        status: ConsentStatus,
        expires_on: Date,
    },
    /// Change the consent `id`, read at `version`: the version goes up by one.
    /// `expires_on: None` keeps the expiry.
    Update {
        id: ConsentId,
        version: i64,
        choices: ConsentChoices,
        status: ConsentStatus,
        expires_on: Option<Date>,
    },
}

impl ConsentWrite {
    /// The consent changed, if it is already known (an insert's id comes from the database).
    pub fn id(&self) -> Option<ConsentId> {
        match self {
            ConsentWrite::Insert { .. } => None,
            ConsentWrite::Update { id, .. } => Some(*id),
        }
    }
}

/// One consent history row; its consent is the one the plan writes.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub actor: String,
    pub channel: Channel,
    pub authentication: Option<CardAuthentication>,
    pub old: Option<(ConsentChoices, ConsentStatus)>,
    pub new: (ConsentChoices, ConsentStatus),
    pub flow_id: Option<String>,
}

/// Write a [`HistoryRow`] (`$1` the consent's id, then `$2` at, `$3` actor,
/// `$4` channel, `$5`–`$7` the card's issuer, serial and revocation check,
/// `$8`–`$9` the old choices and status, `$10`–`$11` the new, `$12` the flow),
/// under the consent's institution, naming the enrolled device that started
/// the flow (issue 16: patient-side flows log their device); returns `id, institution_id` for its
/// chain (`crate::audit`). The one statement both backends run.
pub const HISTORY_INSERT: &str = "INSERT INTO consent_history (consent_id, institution_id, at, \
     actor, channel, auth_issuer, auth_serial, auth_revocation, old_choices, old_status, \
     new_choices, new_status, flow_id, device_name) \
     SELECT $1, c.institution_id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
     (SELECT d.name FROM flows f JOIN institution_devices d ON d.id = f.device_id \
      WHERE f.id = $12) \
     FROM consents c WHERE c.id = $1 RETURNING id, institution_id";

/// Use the pending, unexpired challenge and move the flow waiting for it to
/// `step`; `person` and `consent` (`None` keeps what the flow has) are recorded
/// on the flow.
#[derive(Debug, Clone)]
pub struct FlowEnd {
    pub challenge_ref: String,
    /// The challenge's flow, when the caller knows it: another is `FlowMoved`.
    pub flow_id: Option<String>,
    pub step: FlowStep,
    pub person: Option<PersonId>,
    /// The consent to record; [`FlowConsent::Written`] is the plan's write.
    pub consent: FlowConsent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowConsent {
    Keep,
    Written,
    Known(ConsentId),
}

impl FlowEnd {
    /// A failure of the flow waiting for `challenge_ref`, whatever its step.
    pub fn failure(challenge_ref: &str, reason: FailureReason) -> FlowEnd {
        FlowEnd {
            challenge_ref: challenge_ref.to_owned(),
            flow_id: None,
            step: FlowStep::Failed(reason),
            person: None,
            consent: FlowConsent::Keep,
        }
    }

    /// The challenge fails with the step's reason, or succeeds.
    pub fn challenge_state(&self) -> ChallengeState {
        match self.step {
            FlowStep::Failed(reason) => ChallengeState::Failed(reason),
            _ => ChallengeState::Succeeded,
        }
    }

    /// The consent to record on the flow, given the id the plan's write got.
    pub fn consent_id(&self, written: Option<ConsentId>) -> Option<ConsentId> {
        match self.consent {
            FlowConsent::Keep => None,
            FlowConsent::Written => written,
            FlowConsent::Known(id) => Some(id),
        }
    }
}

#[derive(Debug, Clone)]
enum Outcome {
    Registered,
    Viewed(Option<Consent>),
    Updated(UpdateOutcome),
    Revoked,
    NothingRevoked,
    Failed(FailureReason),
}

impl Plan {
    /// How the settlement ended, given the id of the consent the backend wrote.
    pub fn settled(self, written: Option<ConsentId>) -> Result<Settled, StoreError> {
        let written = || {
            written.ok_or(StoreError::Database(
                "a settlement wrote no consent".to_owned(),
            ))
        };
        Ok(match self.outcome {
            Outcome::Registered => Settled::Registered(written()?),
            Outcome::Viewed(consent) => Settled::Viewed(consent),
            Outcome::Updated(outcome) => Settled::Updated(outcome),
            Outcome::Revoked => Settled::Revoked(Some(written()?)),
            Outcome::NothingRevoked => Settled::Revoked(None),
            Outcome::Failed(reason) => Settled::Failed(reason),
        })
    }

    fn flow_only(at: OffsetDateTime, end: FlowEnd, outcome: Outcome) -> Plan {
        Plan {
            at,
            consent: None,
            history: None,
            record_check: None,
            flow: Some(end),
            outcome,
        }
    }
}

/// What `request` writes, given `read`: the consent its [`SettleRequest::reads`]
/// names, as the backend read it under its lock.
pub fn plan(request: &SettleRequest, read: Option<Consent>) -> Plan {
    match request {
        SettleRequest::Registration(w) => registration(w, read),
        SettleRequest::View(w) => view(w, read),
        SettleRequest::Update(w) => update(w, read),
        SettleRequest::Revocation(w) => revocation(w, read),
        SettleRequest::Failure {
            challenge_ref,
            reason,
            at,
        } => Plan::flow_only(
            *at,
            FlowEnd::failure(challenge_ref, *reason),
            Outcome::Failed(*reason),
        ),
    }
}

/// Registering again replaces the earlier answers; history keeps them.
fn registration(w: &RegistrationWrite, old: Option<Consent>) -> Plan {
    let status = ConsentStatus::Active;
    let consent = match &old {
        Some(old) => ConsentWrite::Update {
            id: old.id,
            version: old.version,
            choices: w.choices.clone(),
            status,
            expires_on: Some(w.expires_on),
        },
        None => ConsentWrite::Insert {
            institution: w.institution_id,
            person: w.person_id,
            choices: w.choices.clone(),
            status,
            expires_on: w.expires_on,
        },
    };
    Plan {
        at: w.at,
        history: Some(patient_change(
            &w.authentication,
            old.as_ref(),
            (w.choices.clone(), status),
            &w.flow_id,
        )),
        consent: Some(consent),
        record_check: Some((w.institution_id, w.person_id)),
        flow: Some(FlowEnd {
            challenge_ref: w.challenge_ref.clone(),
            flow_id: Some(w.flow_id.clone()),
            step: FlowStep::Done,
            person: Some(w.person_id),
            consent: FlowConsent::Written,
        }),
        outcome: Outcome::Registered,
    }
}

/// Every item of the standing consent revoked, the prescription form (if any)
/// withdrawn; with none standing, the flow ends with `NothingRegistered`.
fn revocation(w: &RevocationWrite, read: Option<Consent>) -> Plan {
    let flow = |step, consent| FlowEnd {
        challenge_ref: w.challenge_ref.clone(),
        flow_id: Some(w.flow_id.clone()),
        step,
        person: Some(w.person_id),
        consent,
    };
    let Some(old) = read.filter(|c| c.status == ConsentStatus::Active) else {
        let end = flow(
            FlowStep::Failed(FailureReason::NothingRegistered),
            FlowConsent::Keep,
        );
        return Plan::flow_only(w.at, end, Outcome::NothingRevoked);
    };
    let (consent, new) = revoke_all(&old, ConsentStatus::Revoked(w.reason));
    Plan {
        at: w.at,
        history: Some(patient_change(
            &w.authentication,
            Some(&old),
            new,
            &w.flow_id,
        )),
        consent: Some(consent),
        record_check: None,
        flow: Some(flow(FlowStep::Done, FlowConsent::Known(old.id))),
        outcome: Outcome::Revoked,
    }
}

/// The standing consent (active, not expired before `today`) pre-selected for
/// editing, or the flow ends with `NothingRegistered`. Nothing about the consent
/// is written.
fn view(w: &ViewWrite, read: Option<Consent>) -> Plan {
    let standing = read.filter(|c| c.status == ConsentStatus::Active && c.expires_on >= w.today);
    let step = match &standing {
        Some(consent) => FlowStep::UpdateSelect {
            viewed: Viewed {
                choices: consent.choices.clone(),
                version: consent.version,
            },
            draft: consent.choices.clone(),
        },
        None => FlowStep::Failed(FailureReason::NothingRegistered),
    };
    let end = FlowEnd {
        challenge_ref: w.challenge_ref.clone(),
        flow_id: Some(w.flow_id.clone()),
        step,
        person: Some(w.person_id),
        consent: match &standing {
            Some(c) => FlowConsent::Known(c.id),
            None => FlowConsent::Keep,
        },
    };
    Plan::flow_only(w.at, end, Outcome::Viewed(standing))
}

/// The edited answers and a new expiry, if the consent still stands at the
/// viewed version; otherwise the flow ends with `UpdateConflict` and nothing
/// else is written: a concurrent change is never overwritten.
fn update(w: &UpdateWrite, read: Option<Consent>) -> Plan {
    let flow = |step, consent| FlowEnd {
        challenge_ref: w.challenge_ref.clone(),
        flow_id: Some(w.flow_id.clone()),
        step,
        person: None,
        consent,
    };
    let current =
        read.filter(|c| c.version == w.viewed_version && c.status == ConsentStatus::Active);
    let Some(old) = current else {
        let end = flow(
            FlowStep::Failed(FailureReason::UpdateConflict),
            FlowConsent::Keep,
        );
        return Plan::flow_only(w.at, end, Outcome::Updated(UpdateOutcome::Conflict));
    };
    // The status stays active.
    let new = (w.choices.clone(), old.status);
    Plan {
        at: w.at,
        consent: Some(ConsentWrite::Update {
            id: old.id,
            version: old.version,
            choices: w.choices.clone(),
            status: old.status,
            expires_on: Some(w.expires_on),
        }),
        history: Some(patient_change(
            &w.authentication,
            Some(&old),
            new,
            &w.flow_id,
        )),
        record_check: None,
        flow: Some(flow(FlowStep::Done, FlowConsent::Known(old.id))),
        outcome: Outcome::Updated(UpdateOutcome::Updated),
    }
}

/// The staff revoke the consent from the console: every item revoked with
/// reason 1 (医療機関等による取消し), if it is still active at the version the
/// confirmation screen showed. The plan, or why nothing is written.
pub fn staff_revocation(
    w: &StaffRevocation,
    read: Option<Consent>,
) -> Result<Plan, StaffRevocationOutcome> {
    let Some(old) = read.filter(|c| c.status == ConsentStatus::Active) else {
        return Err(StaffRevocationOutcome::NotStanding);
    };
    if old.version != w.expected_version {
        return Err(StaffRevocationOutcome::Conflict);
    }
    let (consent, new) = revoke_all(
        &old,
        ConsentStatus::Revoked(RevocationReason::ByInstitution),
    );
    Ok(Plan {
        at: w.at,
        consent: Some(consent),
        history: Some(HistoryRow {
            actor: format!("{STAFF_PREFIX}{}", w.actor.login),
            channel: Channel::InstitutionTerminal,
            authentication: None,
            old: Some((old.choices.clone(), old.status)),
            new,
            flow_id: None,
        }),
        record_check: None,
        flow: None,
        outcome: Outcome::Revoked,
    })
}

/// Every item of `old` revoked with `status`; the expiry kept.
fn revoke_all(
    old: &Consent,
    status: ConsentStatus,
) -> (ConsentWrite, (ConsentChoices, ConsentStatus)) {
    let items: Vec<_> = old.choices.items().map(|(item, _)| item).collect();
    let choices = ConsentChoices::none_of(&items);
    let write = ConsentWrite::Update {
        id: old.id,
        version: old.version,
        choices: choices.clone(),
        status,
        expires_on: None,
    };
    (write, (choices, status))
}

/// The history row of a change the card holder made on the patient web.
fn patient_change(
    authentication: &CardAuthentication,
    old: Option<&Consent>,
    new: (ConsentChoices, ConsentStatus),
    flow_id: &str,
) -> HistoryRow {
    HistoryRow {
        actor: PATIENT.to_owned(),
        channel: Channel::PatientWeb,
        authentication: Some(authentication.clone()),
        old: old.map(|c| (c.choices.clone(), c.status)),
        new,
        flow_id: Some(flow_id.to_owned()),
    }
}
