//! Flows and challenges: the state of patient flows between requests.

use super::SqliteStore;
use super::codec::{self, Columns};
use crate::caps::{CapReached, Capped, Caps, ChallengeOpening, Counts, INSTITUTION_WINDOW_SECONDS};
use crate::codec::instant;
use crate::error::{SettleError, StoreError};
use crate::records::{ChallengeRecord, ChallengeState, FlowContext, FlowRecord, SessionRecord};
use crate::rows::{self, StepColumns, challenge_columns, challenge_state_columns};
use crate::settle::FlowEnd;
use crate::store::FlowStore;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use time::OffsetDateTime;
use zaitaku_domain::{ConsentId, FailureReason, Institution};

pub fn insert(conn: &Connection, f: &FlowRecord) -> Result<(), StoreError> {
    let step = StepColumns::of(&f.step);
    conn.prepare_cached(
        "INSERT INTO flows (id, session_hash, institution_id, purpose, step, choices, failure, \
         viewed_choices, viewed_version, challenge_ref, person_id, consent_id, created_at, \
         expires_at, version, device_id, url_token, closed_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        f.id,
        f.session_hash,
        f.institution_id.0,
        f.purpose.code(),
        f.step.code(),
        step.choices,
        step.failure,
        step.viewed_choices,
        step.viewed_version,
        f.challenge_ref,
        f.person_id.map(|p| p.0),
        f.consent_id.map(|c| c.0),
        instant(f.created_at),
        instant(f.expires_at),
        f.version,
        f.device_id.map(|d| d.0),
        f.url_token.as_str(),
        f.closed_at.map(instant),
    ])?;
    Ok(())
}

pub fn by_id(conn: &Connection, id: &str) -> Result<Option<FlowRecord>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, session_hash, institution_id, purpose, step, choices, failure, \
         viewed_choices, viewed_version, challenge_ref, person_id, consent_id, created_at, \
         expires_at, version, device_id, url_token, closed_at FROM flows WHERE id = ?",
    )?;
    codec::optional(&mut statement, [id], flow_from_row)
}

pub fn update(
    conn: &mut Connection,
    f: &FlowRecord,
    new_challenge: Option<&ChallengeRecord>,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !update_in(&tx, f, new_challenge)? {
        return Ok(false); // dropping the transaction rolls it back
    }
    tx.commit()?;
    Ok(true)
}

/// A new flow within the caps, with the session made at its first flow; one
/// transaction under SQLite's single writer, so the counts hold until the insert.
pub fn start(
    conn: &mut Connection,
    f: &FlowRecord,
    new_session: Option<&SessionRecord>,
    caps: &Caps,
) -> Result<Result<(), CapReached>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = instant(f.created_at);
    let counts = counts(&tx, Capped::Flows, &f.session_hash, f.institution_id.0, now)?;
    if let Err(reached) = caps.admit(counts) {
        return Ok(Err(reached));
    }
    if let Some(session) = new_session {
        super::sessions::insert_or_renew(&tx, session)?;
    }
    insert(&tx, f)?;
    tx.commit()?;
    Ok(Ok(()))
}

/// `update` with a new challenge, within the caps on challenges.
pub fn open_challenge(
    conn: &mut Connection,
    f: &FlowRecord,
    c: &ChallengeRecord,
    caps: &Caps,
) -> Result<ChallengeOpening, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = instant(c.created_at);
    let counts = counts(
        &tx,
        Capped::Challenges,
        &c.session_hash,
        f.institution_id.0,
        now,
    )?;
    if let Err(reached) = caps.admit(counts) {
        return Ok(ChallengeOpening::Refused(reached));
    }
    if !update_in(&tx, f, Some(c))? {
        return Ok(ChallengeOpening::Stale);
    }
    tx.commit()?;
    Ok(ChallengeOpening::Opened)
}

/// What the caps on `capped` count, inside the caller's transaction.
fn counts(
    conn: &Connection,
    capped: Capped,
    session_hash: &str,
    institution: i64,
    now: i64,
) -> Result<Counts, StoreError> {
    let count = |sql: &str, a: &dyn rusqlite::ToSql, b: i64| -> Result<i64, StoreError> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row(params![a, b], |r| r.get(0))?)
    };
    Ok(Counts {
        live_in_session: count(capped.live_in_session_sql(), &session_hash, now)?,
        institution_last_minute: count(
            capped.institution_since_sql(),
            &institution,
            now - INSTITUTION_WINDOW_SECONDS,
        )?,
    })
}

/// The update inside the caller's transaction; false on a version conflict
/// (the caller then drops the transaction).
fn update_in(
    tx: &Transaction<'_>,
    f: &FlowRecord,
    new_challenge: Option<&ChallengeRecord>,
) -> Result<bool, StoreError> {
    let step = StepColumns::of(&f.step);
    let updated = tx
        .prepare_cached(
            "UPDATE flows SET step = ?, choices = ?, failure = ?, viewed_choices = ?, \
             viewed_version = ?, challenge_ref = ?, person_id = ?, consent_id = ?, \
             expires_at = ?, closed_at = ?, version = version + 1 WHERE id = ? AND version = ?",
        )?
        .execute(params![
            f.step.code(),
            step.choices,
            step.failure,
            step.viewed_choices,
            step.viewed_version,
            f.challenge_ref,
            f.person_id.map(|p| p.0),
            f.consent_id.map(|c| c.0),
            instant(f.expires_at),
            f.closed_at.map(instant),
            f.id,
            f.version,
        ])?;
    if updated != 1 {
        return Ok(false);
    }
    // A challenge the flow no longer waits for must not complete it later.
    tx.prepare_cached(
        "UPDATE challenges SET state = 'cancelled' WHERE flow_id = ? AND state = 'pending' \
         AND reference IS NOT ?",
    )?
    .execute(params![f.id, f.challenge_ref])?;
    if let Some(c) = new_challenge {
        insert_challenge(tx, c)?;
    }
    Ok(true)
}

fn insert_challenge(tx: &Transaction<'_>, c: &ChallengeRecord) -> Result<(), StoreError> {
    let (state, failure) = challenge_state_columns(c.state);
    tx.prepare_cached(
        "INSERT INTO challenges (reference, nonce, flow_id, session_hash, purpose, created_at, \
         expires_at, state, failure, claim_hash, institution_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, \
         (SELECT institution_id FROM flows WHERE id = ?3))",
    )?
    .execute(params![
        c.reference,
        c.nonce,
        c.flow_id,
        c.session_hash,
        c.purpose.code(),
        instant(c.created_at),
        instant(c.expires_at),
        state,
        failure,
        c.claim_hash,
    ])?;
    Ok(())
}

pub fn challenge(
    conn: &Connection,
    reference: &str,
) -> Result<Option<ChallengeRecord>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        challenge_columns!(),
        " FROM challenges WHERE reference = ?"
    ))?;
    codec::optional(&mut statement, [reference], challenge_from_row)
}

pub fn claim(
    conn: &Connection,
    reference: &str,
    claim_hash: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let claimed = conn
        .prepare_cached(
            "UPDATE challenges SET claim_hash = ?, claimed_at = ? WHERE reference = ? \
             AND state = 'pending' AND claim_hash IS NULL AND expires_at > ?",
        )?
        .execute(params![claim_hash, instant(at), reference, instant(at)])?;
    Ok(claimed == 1)
}

pub fn end_claimed(
    conn: &Connection,
    reference: &str,
    claim_hash: Option<&str>,
    report: Option<FailureReason>,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let (state, failure) = challenge_state_columns(ChallengeState::claimant_ended(report));
    let ended = conn
        .prepare_cached(
            "UPDATE challenges SET state = ?, failure = ?, settled_at = ? WHERE reference = ? \
             AND state = 'pending' AND claim_hash IS ? AND expires_at > ?",
        )?
        .execute(params![
            state,
            failure,
            instant(at),
            reference,
            claim_hash,
            instant(at)
        ])?;
    Ok(ended == 1)
}

/// Use the pending, unexpired challenge `reference` and move the flow waiting for
/// it to `end`; the caller's transaction makes this and the rest of the
/// settlement one unit. The challenge fails with the step's reason, or succeeds.
/// `flow_id`, when the caller knows it, must be the challenge's flow.
pub fn settle(
    tx: &Transaction<'_>,
    end: &FlowEnd,
    written: Option<ConsentId>,
    at: OffsetDateTime,
) -> Result<(), SettleError> {
    let reference = end.challenge_ref.as_str();
    let (state_code, failure) = challenge_state_columns(end.challenge_state());
    let used_by: String = tx
        .prepare_cached(
            "UPDATE challenges SET state = ?, failure = ?, settled_at = ? \
             WHERE reference = ? AND state = 'pending' AND expires_at > ? RETURNING flow_id",
        )?
        .query_row(
            params![state_code, failure, instant(at), reference, instant(at)],
            |row| row.get(0),
        )
        .optional()?
        .ok_or(SettleError::ChallengeNotPending)?;
    if end
        .flow_id
        .as_ref()
        .is_some_and(|expected| *expected != used_by)
    {
        return Err(SettleError::FlowMoved);
    }
    let columns = StepColumns::of(&end.step);
    let updated = tx
        .prepare_cached(
            "UPDATE flows SET step = ?, choices = ?, failure = ?, viewed_choices = ?, \
             viewed_version = ?, person_id = coalesce(?, person_id), \
             consent_id = coalesce(?, consent_id), version = version + 1 \
             WHERE id = ? AND challenge_ref = ? AND step IN ('authenticate', \
             'view_authenticate', 'update_authenticate', 'revoke_authenticate')",
        )?
        .execute(params![
            end.step.code(),
            columns.choices,
            columns.failure,
            columns.viewed_choices,
            columns.viewed_version,
            end.person.map(|p| p.0),
            end.consent_id(written).map(|c| c.0),
            used_by,
            reference,
        ])?;
    if updated == 1 {
        Ok(())
    } else {
        Err(SettleError::FlowMoved)
    }
}

pub fn settle_failure(
    conn: &mut Connection,
    reference: &str,
    reason: FailureReason,
    at: OffsetDateTime,
) -> Result<(), SettleError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    settle(&tx, &FlowEnd::failure(reference, reason), None, at)?;
    tx.commit()?;
    Ok(())
}

fn flow_from_row(row: &Row<'_>) -> Result<FlowRecord, StoreError> {
    rows::flow(&mut Columns::new(row))
}

fn challenge_from_row(row: &Row<'_>) -> Result<ChallengeRecord, StoreError> {
    rows::challenge(&mut Columns::new(row))
}

#[async_trait]
impl FlowStore for SqliteStore {
    async fn insert_flow(&self, flow: &FlowRecord) -> Result<(), StoreError> {
        let flow = flow.clone();
        self.write(move |c| insert(c, &flow)).await
    }

    async fn flow_in_context(&self, id: &str) -> Result<Option<FlowContext>, StoreError> {
        let id = id.to_owned();
        // One handoff to the reader for all three.
        self.read(move |c| {
            let Some(flow) = by_id(c, &id)? else {
                return Ok(None);
            };
            let institution =
                super::institutions::by_id(c, flow.institution_id)?.ok_or(StoreError::Corrupt {
                    what: "flow's institution",
                })?;
            let device = match flow.device_id {
                Some(device) => super::devices::by_id(c, device, Some(flow.institution_id))?,
                None => None,
            };
            Ok(Some(FlowContext {
                flow,
                institution,
                device,
            }))
        })
        .await
    }

    async fn flow_with_institution(
        &self,
        id: &str,
    ) -> Result<Option<(FlowRecord, Institution)>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| {
            let Some(flow) = by_id(c, &id)? else {
                return Ok(None);
            };
            let institution =
                super::institutions::by_id(c, flow.institution_id)?.ok_or(StoreError::Corrupt {
                    what: "flow's institution",
                })?;
            Ok(Some((flow, institution)))
        })
        .await
    }

    async fn start_flow(
        &self,
        flow: &FlowRecord,
        new_session: Option<&SessionRecord>,
        caps: &Caps,
    ) -> Result<Result<(), CapReached>, StoreError> {
        let (flow, new_session, caps) = (flow.clone(), new_session.cloned(), *caps);
        self.write(move |c| start(c, &flow, new_session.as_ref(), &caps))
            .await
    }

    async fn open_challenge(
        &self,
        flow: &FlowRecord,
        challenge: &ChallengeRecord,
        caps: &Caps,
    ) -> Result<ChallengeOpening, StoreError> {
        let (flow, challenge, caps) = (flow.clone(), challenge.clone(), *caps);
        self.write(move |c| open_challenge(c, &flow, &challenge, &caps))
            .await
    }

    async fn update_flow(
        &self,
        flow: &FlowRecord,
        new_challenge: Option<&ChallengeRecord>,
    ) -> Result<bool, StoreError> {
        let (flow, new_challenge) = (flow.clone(), new_challenge.cloned());
        self.write(move |c| update(c, &flow, new_challenge.as_ref()))
            .await
    }

    async fn challenge(&self, reference: &str) -> Result<Option<ChallengeRecord>, StoreError> {
        let reference = reference.to_owned();
        self.read(move |c| challenge(c, &reference)).await
    }

    async fn claim_challenge(
        &self,
        reference: &str,
        claim_hash: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (reference, claim_hash) = (reference.to_owned(), claim_hash.to_owned());
        self.write(move |c| claim(c, &reference, &claim_hash, at))
            .await
    }

    async fn end_claimed_challenge(
        &self,
        reference: &str,
        claim_hash: Option<&str>,
        report: Option<FailureReason>,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (reference, claim_hash) = (reference.to_owned(), claim_hash.map(str::to_owned));
        self.write(move |c| end_claimed(c, &reference, claim_hash.as_deref(), report, at))
            .await
    }

    async fn settle_failure(
        &self,
        challenge_ref: &str,
        reason: FailureReason,
        at: OffsetDateTime,
    ) -> Result<(), SettleError> {
        let challenge_ref = challenge_ref.to_owned();
        self.write(move |c| settle_failure(c, &challenge_ref, reason, at))
            .await
    }
}
