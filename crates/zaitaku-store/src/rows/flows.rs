//! Flows' and challenges' rows, the same on both backends.

use super::Cursor;
use crate::codec::{code, some_code, to_instant, to_opt_instant};
use crate::error::StoreError;
use crate::records::{ChallengeRecord, ChallengeState, FlowRecord};
use zaitaku_domain::{
    ConsentChoices, ConsentId, DeviceId, FailureReason, FlowStep, InstitutionId, PersonId, Purpose,
    UrlToken, Viewed,
};

/// The columns [`challenge`] reads, in its order.
macro_rules! challenge_columns {
    () => {
        "reference, nonce, flow_id, session_hash, purpose, created_at, expires_at, state, \
         failure, claim_hash, claimed_at, settled_at"
    };
}
pub(crate) use challenge_columns;

/// A flow from the columns id, session_hash, institution_id, purpose, step,
/// choices, failure, viewed_choices, viewed_version, challenge_ref, person_id,
/// consent_id, created_at, expires_at, version, device_id, url_token, closed_at
/// (each backend names them its way).
pub fn flow(c: &mut impl Cursor) -> Result<FlowRecord, StoreError> {
    // A struct expression evaluates its fields in the order written: this reads
    // the columns in the order above.
    Ok(FlowRecord {
        id: c.text()?,
        session_hash: c.text()?,
        institution_id: InstitutionId(c.int()?),
        purpose: some_code(&c.text()?, "flow purpose", Purpose::parse)?,
        step: step(c)?,
        challenge_ref: c.opt_text()?,
        person_id: c.opt_int()?.map(PersonId),
        consent_id: c.opt_int()?.map(ConsentId),
        created_at: to_instant(c.int()?, "flow")?,
        expires_at: to_instant(c.int()?, "flow")?,
        version: c.int()?,
        device_id: c.opt_int()?.map(DeviceId),
        url_token: code(&c.text()?, "flow url token", UrlToken::parse)?,
        closed_at: to_opt_instant(c.opt_int()?, "flow")?,
    })
}

/// Columns step, choices, failure, viewed_choices, viewed_version.
fn step(c: &mut impl Cursor) -> Result<FlowStep, StoreError> {
    let step = c.text()?;
    let choices = c.opt_text()?;
    let failure = c.opt_text()?;
    let viewed_choices = c.opt_text()?;
    let viewed_version = c.opt_int()?;
    let decode = |c: Option<&str>| match c {
        Some(text) => code(text, "flow choices", ConsentChoices::decode),
        None => Err(StoreError::Corrupt {
            what: "flow choices",
        }),
    };
    let choices = choices.as_deref();
    let viewed = || -> Result<Viewed, StoreError> {
        Ok(Viewed {
            choices: decode(viewed_choices.as_deref())?,
            version: viewed_version.ok_or(StoreError::Corrupt {
                what: "flow viewed version",
            })?,
        })
    };
    Ok(match step.as_str() {
        "select" => FlowStep::Select,
        "confirm" => FlowStep::Confirm(decode(choices)?),
        "authenticate" => FlowStep::Authenticate(decode(choices)?),
        "view_authenticate" => FlowStep::ViewAuthenticate,
        "update_select" => FlowStep::UpdateSelect {
            viewed: viewed()?,
            draft: decode(choices)?,
        },
        "update_confirm" => FlowStep::UpdateConfirm {
            viewed: viewed()?,
            draft: decode(choices)?,
        },
        "update_authenticate" => FlowStep::UpdateAuthenticate {
            viewed: viewed()?,
            draft: decode(choices)?,
        },
        "revoke_confirm" => FlowStep::RevokeConfirm,
        "revoke_authenticate" => FlowStep::RevokeAuthenticate,
        "done" => FlowStep::Done,
        "failed" => FlowStep::Failed(failure_reason(failure, "flow failure")?),
        _ => return Err(StoreError::Corrupt { what: "flow step" }),
    })
}

/// A challenge from the columns of `challenge_columns!`.
pub fn challenge(c: &mut impl Cursor) -> Result<ChallengeRecord, StoreError> {
    Ok(ChallengeRecord {
        reference: c.text()?,
        nonce: c.text()?,
        flow_id: c.text()?,
        session_hash: c.text()?,
        purpose: some_code(&c.text()?, "challenge purpose", Purpose::parse)?,
        created_at: to_instant(c.int()?, "challenge")?,
        expires_at: to_instant(c.int()?, "challenge")?,
        state: challenge_state(c)?,
        claim_hash: c.opt_text()?,
        claimed_at: to_opt_instant(c.opt_int()?, "challenge")?,
        settled_at: to_opt_instant(c.opt_int()?, "challenge")?,
    })
}

/// Columns state, failure.
fn challenge_state(c: &mut impl Cursor) -> Result<ChallengeState, StoreError> {
    let state = c.text()?;
    let failure = c.opt_text()?;
    Ok(match state.as_str() {
        "pending" => ChallengeState::Pending,
        "succeeded" => ChallengeState::Succeeded,
        "cancelled" => ChallengeState::Cancelled,
        "reported" => ChallengeState::Reported(failure_reason(failure, "challenge report")?),
        "failed" => ChallengeState::Failed(failure_reason(failure, "challenge failure")?),
        _ => {
            return Err(StoreError::Corrupt {
                what: "challenge state",
            });
        }
    })
}

/// The failure column of a failed flow or challenge: present, and a reason.
fn failure_reason(
    failure: Option<String>,
    what: &'static str,
) -> Result<FailureReason, StoreError> {
    some_code(
        failure.as_deref().unwrap_or_default(),
        what,
        FailureReason::parse,
    )
}

/// A step as the columns choices, failure, viewed_choices, viewed_version.
#[derive(Default)]
pub struct StepColumns {
    pub choices: Option<String>,
    pub failure: Option<&'static str>,
    pub viewed_choices: Option<String>,
    pub viewed_version: Option<i64>,
}

impl StepColumns {
    pub fn of(step: &FlowStep) -> Self {
        let mut columns = StepColumns {
            choices: step.choices().map(ConsentChoices::encode),
            ..StepColumns::default()
        };
        if let Some(viewed) = step.viewed() {
            columns.viewed_choices = Some(viewed.choices.encode());
            columns.viewed_version = Some(viewed.version);
        }
        if let FlowStep::Failed(reason) = step {
            columns.failure = Some(reason.code());
        }
        columns
    }
}

/// A challenge state as the columns state, failure.
pub fn challenge_state_columns(state: ChallengeState) -> (&'static str, Option<&'static str>) {
    match state {
        ChallengeState::Pending => ("pending", None),
        ChallengeState::Succeeded => ("succeeded", None),
        ChallengeState::Failed(reason) => ("failed", Some(reason.code())),
        ChallengeState::Cancelled => ("cancelled", None),
        ChallengeState::Reported(reason) => ("reported", Some(reason.code())),
    }
}
