//! Flows and challenges: the state of patient flows between requests.

use super::codec::{code, instant, some_code, to_instant};
use crate::error::{SettleError, StoreError};
use crate::records::{ChallengeRecord, ChallengeState, FlowRecord};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use time::OffsetDateTime;
use zaitaku_domain::{
    ConsentChoices, ConsentId, FailureReason, FlowStep, InstitutionId, PersonId, Purpose,
};

pub async fn insert(pool: &SqlitePool, f: &FlowRecord) -> Result<(), StoreError> {
    let (choices, failure) = step_columns(&f.step);
    sqlx::query(
        "INSERT INTO flows (id, session_hash, institution_id, purpose, step, choices, failure, \
         challenge_ref, person_id, consent_id, created_at, expires_at, version) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&f.id)
    .bind(&f.session_hash)
    .bind(f.institution_id.0)
    .bind(f.purpose.code())
    .bind(f.step.code())
    .bind(choices)
    .bind(failure)
    .bind(&f.challenge_ref)
    .bind(f.person_id.map(|p| p.0))
    .bind(f.consent_id.map(|c| c.0))
    .bind(instant(f.created_at))
    .bind(instant(f.expires_at))
    .bind(f.version)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn by_id(pool: &SqlitePool, id: &str) -> Result<Option<FlowRecord>, StoreError> {
    let row = sqlx::query("SELECT * FROM flows WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| flow_from_row(&r)).transpose()
}

pub async fn update(
    pool: &SqlitePool,
    f: &FlowRecord,
    new_challenge: Option<&ChallengeRecord>,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let (choices, failure) = step_columns(&f.step);
    let updated = sqlx::query(
        "UPDATE flows SET step = ?, choices = ?, failure = ?, challenge_ref = ?, person_id = ?, \
         consent_id = ?, expires_at = ?, version = version + 1 WHERE id = ? AND version = ?",
    )
    .bind(f.step.code())
    .bind(choices)
    .bind(failure)
    .bind(&f.challenge_ref)
    .bind(f.person_id.map(|p| p.0))
    .bind(f.consent_id.map(|c| c.0))
    .bind(instant(f.expires_at))
    .bind(&f.id)
    .bind(f.version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Ok(false); // dropping the transaction rolls it back
    }
    // A challenge the flow no longer waits for must not complete it later.
    sqlx::query(
        "UPDATE challenges SET state = 'cancelled' WHERE flow_id = ? AND state = 'pending' \
         AND reference IS NOT ?",
    )
    .bind(&f.id)
    .bind(&f.challenge_ref)
    .execute(&mut *tx)
    .await?;
    if let Some(c) = new_challenge {
        insert_challenge(&mut tx, c).await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn insert_challenge(
    tx: &mut Transaction<'_, Sqlite>,
    c: &ChallengeRecord,
) -> Result<(), StoreError> {
    let (state, failure) = challenge_state_columns(c.state);
    sqlx::query(
        "INSERT INTO challenges (reference, nonce, flow_id, session_hash, purpose, created_at, \
         expires_at, state, failure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&c.reference)
    .bind(&c.nonce)
    .bind(&c.flow_id)
    .bind(&c.session_hash)
    .bind(c.purpose.code())
    .bind(instant(c.created_at))
    .bind(instant(c.expires_at))
    .bind(state)
    .bind(failure)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn challenge(
    pool: &SqlitePool,
    reference: &str,
) -> Result<Option<ChallengeRecord>, StoreError> {
    let row = sqlx::query("SELECT * FROM challenges WHERE reference = ?")
        .bind(reference)
        .fetch_optional(pool)
        .await?;
    row.map(|r| challenge_from_row(&r)).transpose()
}

/// Mark a pending, unexpired challenge settled; the caller's transaction makes
/// this and the rest of the settlement one unit. Returns the flow's id.
pub async fn use_challenge(
    tx: &mut Transaction<'_, Sqlite>,
    reference: &str,
    state: ChallengeState,
    at: OffsetDateTime,
) -> Result<String, SettleError> {
    let (state_code, failure) = challenge_state_columns(state);
    let row = sqlx::query(
        "UPDATE challenges SET state = ?, failure = ?, settled_at = ? \
         WHERE reference = ? AND state = 'pending' AND expires_at > ? RETURNING flow_id",
    )
    .bind(state_code)
    .bind(failure)
    .bind(instant(at))
    .bind(reference)
    .bind(instant(at))
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        Some(row) => Ok(row.try_get("flow_id")?),
        None => Err(SettleError::ChallengeNotPending),
    }
}

/// Move the flow waiting for `reference` to its settled step.
pub async fn settle_flow(
    tx: &mut Transaction<'_, Sqlite>,
    flow_id: &str,
    reference: &str,
    step: &FlowStep,
    person: Option<PersonId>,
    consent: Option<ConsentId>,
) -> Result<(), SettleError> {
    let (choices, failure) = step_columns(step);
    let updated = sqlx::query(
        "UPDATE flows SET step = ?, choices = ?, failure = ?, person_id = ?, consent_id = ?, \
         version = version + 1 WHERE id = ? AND challenge_ref = ? AND step = 'authenticate'",
    )
    .bind(step.code())
    .bind(choices)
    .bind(failure)
    .bind(person.map(|p| p.0))
    .bind(consent.map(|c| c.0))
    .bind(flow_id)
    .bind(reference)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if updated == 1 {
        Ok(())
    } else {
        Err(SettleError::FlowMoved)
    }
}

pub async fn settle_failure(
    pool: &SqlitePool,
    reference: &str,
    reason: FailureReason,
    at: OffsetDateTime,
) -> Result<(), SettleError> {
    let mut tx = pool.begin().await?;
    let flow_id = use_challenge(&mut tx, reference, ChallengeState::Failed(reason), at).await?;
    settle_flow(
        &mut tx,
        &flow_id,
        reference,
        &FlowStep::Failed(reason),
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn purge_expired(pool: &SqlitePool, now: OffsetDateTime) -> Result<u64, StoreError> {
    let now = instant(now);
    let mut tx = pool.begin().await?;
    let mut purged = 0;
    for sql in [
        "DELETE FROM challenges WHERE flow_id IN (SELECT id FROM flows WHERE expires_at <= ?1) \
         OR expires_at <= ?1 - 86400",
        "DELETE FROM flows WHERE expires_at <= ?1",
        "DELETE FROM sessions WHERE expires_at <= ?1",
    ] {
        purged += sqlx::query(sql)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(purged)
}

fn step_columns(step: &FlowStep) -> (Option<String>, Option<&'static str>) {
    match step {
        FlowStep::Select | FlowStep::Done => (None, None),
        FlowStep::Confirm(c) | FlowStep::Authenticate(c) => (Some(c.encode()), None),
        FlowStep::Failed(reason) => (None, Some(reason.code())),
    }
}

fn challenge_state_columns(state: ChallengeState) -> (&'static str, Option<&'static str>) {
    match state {
        ChallengeState::Pending => ("pending", None),
        ChallengeState::Succeeded => ("succeeded", None),
        ChallengeState::Failed(reason) => ("failed", Some(reason.code())),
        ChallengeState::Cancelled => ("cancelled", None),
    }
}

fn flow_from_row(row: &SqliteRow) -> Result<FlowRecord, StoreError> {
    let step_code: String = row.try_get("step")?;
    let choices: Option<String> = row.try_get("choices")?;
    let failure: Option<String> = row.try_get("failure")?;
    let decode = |c: Option<String>| match c {
        Some(text) => code(&text, "flow choices", ConsentChoices::decode),
        None => Err(StoreError::Corrupt {
            what: "flow choices",
        }),
    };
    let step = match step_code.as_str() {
        "select" => FlowStep::Select,
        "confirm" => FlowStep::Confirm(decode(choices)?),
        "authenticate" => FlowStep::Authenticate(decode(choices)?),
        "done" => FlowStep::Done,
        "failed" => FlowStep::Failed(some_code(
            failure.as_deref().unwrap_or_default(),
            "flow failure",
            FailureReason::parse,
        )?),
        _ => return Err(StoreError::Corrupt { what: "flow step" }),
    };
    let purpose: String = row.try_get("purpose")?;
    Ok(FlowRecord {
        id: row.try_get("id")?,
        session_hash: row.try_get("session_hash")?,
        institution_id: InstitutionId(row.try_get("institution_id")?),
        purpose: some_code(&purpose, "flow purpose", Purpose::parse)?,
        step,
        challenge_ref: row.try_get("challenge_ref")?,
        person_id: row.try_get::<Option<i64>, _>("person_id")?.map(PersonId),
        consent_id: row.try_get::<Option<i64>, _>("consent_id")?.map(ConsentId),
        created_at: to_instant(row.try_get("created_at")?, "flow")?,
        expires_at: to_instant(row.try_get("expires_at")?, "flow")?,
        version: row.try_get("version")?,
    })
}

fn challenge_from_row(row: &SqliteRow) -> Result<ChallengeRecord, StoreError> {
    let state: String = row.try_get("state")?;
    let failure: Option<String> = row.try_get("failure")?;
    let state = match state.as_str() {
        "pending" => ChallengeState::Pending,
        "succeeded" => ChallengeState::Succeeded,
        "cancelled" => ChallengeState::Cancelled,
        "failed" => ChallengeState::Failed(some_code(
            failure.as_deref().unwrap_or_default(),
            "challenge failure",
            FailureReason::parse,
        )?),
        _ => {
            return Err(StoreError::Corrupt {
                what: "challenge state",
            });
        }
    };
    let purpose: String = row.try_get("purpose")?;
    Ok(ChallengeRecord {
        reference: row.try_get("reference")?,
        nonce: row.try_get("nonce")?,
        flow_id: row.try_get("flow_id")?,
        session_hash: row.try_get("session_hash")?,
        purpose: some_code(&purpose, "challenge purpose", Purpose::parse)?,
        created_at: to_instant(row.try_get("created_at")?, "challenge")?,
        expires_at: to_instant(row.try_get("expires_at")?, "challenge")?,
        state,
    })
}
