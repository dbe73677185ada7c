//! Flows and challenges on PostgreSQL. Lock order, everywhere: consent, then
//! flow, then challenge; every transaction that touches more than one of them
//! takes them in that order, so two processes never wait on each other in a cycle.

use super::PostgresStore;
use super::columns::Columns;
use crate::caps::{CapReached, Capped, Caps, ChallengeOpening, Counts, INSTITUTION_WINDOW_SECONDS};
use crate::codec::instant;
use crate::error::{SettleError, StoreError};
use crate::records::{ChallengeRecord, ChallengeState, FlowContext, FlowRecord, SessionRecord};
use crate::rows::{self, StepColumns, challenge_columns, challenge_state_columns};
use crate::settle::FlowEnd;
use crate::store::{DeviceStore, FlowStore};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};
use time::OffsetDateTime;
use zaitaku_domain::{ConsentId, FailureReason, Institution};

/// The columns `flow_from_row` reads.
/// How many columns `flow_columns!` names.
const FLOW_COLUMN_COUNT: usize = 18;

macro_rules! flow_columns {
    () => {
        "f.id, f.session_hash, f.institution_id, f.purpose, f.step, f.choices, f.failure, \
         f.viewed_choices, f.viewed_version, f.challenge_ref, f.person_id, f.consent_id, \
         f.created_at, f.expires_at, f.version, f.device_id, f.url_token, f.closed_at"
    };
}

/// An institution's columns in the order of the institutions module's reader,
/// after the flow's 18 (named `i_*` so that the flow's names stay unique).
macro_rules! institution_columns {
    () => {
        "i.id AS i_id, i.code AS i_code, i.name AS i_name, i.offered_items AS i_offered_items, \
         i.e_prescription AS i_e_prescription, \
         i.consent_validity_days AS i_consent_validity_days, i.url_token AS i_url_token, \
         i.deactivated_at AS i_deactivated_at, i.flows_from AS i_flows_from"
    };
}

#[cfg(feature = "testing")]
pub(super) async fn flow(pool: &sqlx::PgPool, id: &str) -> Result<Option<FlowRecord>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        flow_columns!(),
        " FROM flows f WHERE f.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(|row| flow_from_row(&row))
    .transpose()
}

#[async_trait]
impl FlowStore for PostgresStore {
    async fn insert_flow(&self, f: &FlowRecord) -> Result<(), StoreError> {
        insert_flow_row(&mut *self.pool.acquire().await?, f).await
    }

    /// One statement, so the flow and its institution are read at one instant.
    async fn flow_in_context(&self, id: &str) -> Result<Option<FlowContext>, StoreError> {
        let Some((flow, institution)) = self.flow_with_institution(id).await? else {
            return Ok(None);
        };
        let device = match flow.device_id {
            Some(device) => self.device(device, Some(flow.institution_id)).await?,
            None => None,
        };
        Ok(Some(FlowContext {
            flow,
            institution,
            device,
        }))
    }

    async fn flow_with_institution(
        &self,
        id: &str,
    ) -> Result<Option<(FlowRecord, Institution)>, StoreError> {
        let pool = &self.pool;
        let row = sqlx::query(concat!(
            "SELECT ",
            flow_columns!(),
            ", ",
            institution_columns!(),
            " FROM flows f LEFT JOIN institutions i ON i.id = f.institution_id WHERE f.id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let flow = flow_from_row(&row)?;
        if row.try_get::<Option<i64>, _>(FLOW_COLUMN_COUNT)?.is_none() {
            return Err(StoreError::Corrupt {
                what: "flow's institution",
            });
        }
        Ok(Some((
            flow,
            rows::institution(&mut Columns::at(&row, FLOW_COLUMN_COUNT))?,
        )))
    }

    async fn update_flow(
        &self,
        f: &FlowRecord,
        new_challenge: Option<&ChallengeRecord>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if !update_in(&mut tx, f, new_challenge).await? {
            return Ok(false); // dropping the transaction rolls it back
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Counted under advisory locks on the institution, then the session (always
    /// in that order), so processes starting flows at once count one after another.
    async fn start_flow(
        &self,
        f: &FlowRecord,
        new_session: Option<&SessionRecord>,
        caps: &Caps,
    ) -> Result<Result<(), CapReached>, StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_for_caps(&mut tx, "flows", f.institution_id.0, &f.session_hash).await?;
        let now = instant(f.created_at);
        let counts = counts(
            &mut tx,
            Capped::Flows,
            &f.session_hash,
            f.institution_id.0,
            now,
        )
        .await?;
        if let Err(reached) = caps.admit(counts) {
            return Ok(Err(reached));
        }
        if let Some(session) = new_session {
            super::sessions::insert_or_renew(&mut tx, session).await?;
        }
        insert_flow_row(&mut tx, f).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn open_challenge(
        &self,
        f: &FlowRecord,
        c: &ChallengeRecord,
        caps: &Caps,
    ) -> Result<ChallengeOpening, StoreError> {
        let mut tx = self.pool.begin().await?;
        lock_for_caps(&mut tx, "challenges", f.institution_id.0, &c.session_hash).await?;
        let now = instant(c.created_at);
        let counts = counts(
            &mut tx,
            Capped::Challenges,
            &c.session_hash,
            f.institution_id.0,
            now,
        )
        .await?;
        if let Err(reached) = caps.admit(counts) {
            return Ok(ChallengeOpening::Refused(reached));
        }
        if !update_in(&mut tx, f, Some(c)).await? {
            return Ok(ChallengeOpening::Stale);
        }
        tx.commit().await?;
        Ok(ChallengeOpening::Opened)
    }

    async fn challenge(&self, reference: &str) -> Result<Option<ChallengeRecord>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            challenge_columns!(),
            " FROM challenges WHERE reference = $1"
        ))
        .bind(reference)
        .fetch_optional(pool)
        .await?
        .map(|row| challenge_from_row(&row))
        .transpose()
    }

    /// One conditional statement: of two processes claiming at once, the second
    /// waits on the row lock, then finds `claim_hash` set and claims nothing.
    async fn claim_challenge(
        &self,
        reference: &str,
        claim_hash: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let pool = &self.pool;
        let claimed = sqlx::query(
            "UPDATE challenges SET claim_hash = $1, claimed_at = $2 WHERE reference = $3 \
             AND state = 'pending' AND claim_hash IS NULL AND expires_at > $2",
        )
        .bind(claim_hash)
        .bind(instant(at))
        .bind(reference)
        .execute(pool)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    async fn end_claimed_challenge(
        &self,
        reference: &str,
        claim_hash: Option<&str>,
        report: Option<FailureReason>,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (state, failure) = challenge_state_columns(ChallengeState::claimant_ended(report));
        let ended = sqlx::query(
            "UPDATE challenges SET state = $4, failure = $5, settled_at = $1 WHERE reference = $2 \
             AND state = 'pending' AND claim_hash IS NOT DISTINCT FROM $3 AND expires_at > $1",
        )
        .bind(instant(at))
        .bind(reference)
        .bind(claim_hash)
        .bind(state)
        .bind(failure)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(ended == 1)
    }

    async fn settle_failure(
        &self,
        challenge_ref: &str,
        reason: FailureReason,
        at: OffsetDateTime,
    ) -> Result<(), SettleError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        settle(&mut tx, &FlowEnd::failure(challenge_ref, reason), None, at).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_challenge(conn: &mut PgConnection, c: &ChallengeRecord) -> Result<(), StoreError> {
    let (state, failure) = challenge_state_columns(c.state);
    sqlx::query(
        "INSERT INTO challenges (reference, nonce, flow_id, session_hash, purpose, created_at, \
         expires_at, state, failure, claim_hash, institution_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         (SELECT institution_id FROM flows WHERE id = $3))",
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
    .bind(&c.claim_hash)
    .execute(conn)
    .await?;
    Ok(())
}

/// Use the pending, unexpired challenge `reference` and move the flow waiting for
/// it to `end`, inside the caller's transaction. The challenge fails with the
/// step's reason, or succeeds. `flow_id`, when the caller knows it, must be the
/// challenge's flow. Of two processes settling one challenge, the second waits
/// on the flow's lock, then finds the challenge no longer pending.
pub async fn settle(
    conn: &mut PgConnection,
    end: &FlowEnd,
    written: Option<ConsentId>,
    at: OffsetDateTime,
) -> Result<(), SettleError> {
    let reference = end.challenge_ref.as_str();
    // The flow first (see the lock order above); a challenge's flow never changes.
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT f.id FROM challenges c JOIN flows f ON f.id = c.flow_id \
         WHERE c.reference = $1 FOR UPDATE OF f",
    )
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?;
    if owner.is_none() {
        return Err(SettleError::ChallengeNotPending);
    }
    let (state_code, failure) = challenge_state_columns(end.challenge_state());
    let used_by: String = sqlx::query_scalar(
        "UPDATE challenges SET state = $1, failure = $2, settled_at = $3 \
         WHERE reference = $4 AND state = 'pending' AND expires_at > $3 RETURNING flow_id",
    )
    .bind(state_code)
    .bind(failure)
    .bind(instant(at))
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(SettleError::ChallengeNotPending)?;
    if end
        .flow_id
        .as_ref()
        .is_some_and(|expected| *expected != used_by)
    {
        return Err(SettleError::FlowMoved);
    }
    let columns = StepColumns::of(&end.step);
    let updated = sqlx::query(
        "UPDATE flows SET step = $1, choices = $2, failure = $3, viewed_choices = $4, \
         viewed_version = $5, person_id = coalesce($6, person_id), \
         consent_id = coalesce($7, consent_id), version = version + 1 \
         WHERE id = $8 AND challenge_ref = $9 AND step IN ('authenticate', \
         'view_authenticate', 'update_authenticate', 'revoke_authenticate')",
    )
    .bind(end.step.code())
    .bind(columns.choices)
    .bind(columns.failure)
    .bind(columns.viewed_choices)
    .bind(columns.viewed_version)
    .bind(end.person.map(|p| p.0))
    .bind(end.consent_id(written).map(|c| c.0))
    .bind(&used_by)
    .bind(reference)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 1 {
        Ok(())
    } else {
        Err(SettleError::FlowMoved)
    }
}

/// A flow from the columns of `flow_columns!`, in order.
fn flow_from_row(row: &PgRow) -> Result<FlowRecord, StoreError> {
    rows::flow(&mut Columns::new(row))
}

fn challenge_from_row(row: &PgRow) -> Result<ChallengeRecord, StoreError> {
    rows::challenge(&mut Columns::new(row))
}

async fn insert_flow_row(conn: &mut PgConnection, f: &FlowRecord) -> Result<(), StoreError> {
    let step = StepColumns::of(&f.step);
    sqlx::query(
        "INSERT INTO flows (id, session_hash, institution_id, purpose, step, choices, failure, \
         viewed_choices, viewed_version, challenge_ref, person_id, consent_id, created_at, \
         expires_at, version, device_id, url_token, closed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(&f.id)
    .bind(&f.session_hash)
    .bind(f.institution_id.0)
    .bind(f.purpose.code())
    .bind(f.step.code())
    .bind(step.choices)
    .bind(step.failure)
    .bind(step.viewed_choices)
    .bind(step.viewed_version)
    .bind(&f.challenge_ref)
    .bind(f.person_id.map(|p| p.0))
    .bind(f.consent_id.map(|c| c.0))
    .bind(instant(f.created_at))
    .bind(instant(f.expires_at))
    .bind(f.version)
    .bind(f.device_id.map(|d| d.0))
    .bind(f.url_token.as_str())
    .bind(f.closed_at.map(instant))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The update inside the caller's transaction; false on a version conflict
/// (the caller then drops the transaction).
async fn update_in(
    tx: &mut PgConnection,
    f: &FlowRecord,
    new_challenge: Option<&ChallengeRecord>,
) -> Result<bool, StoreError> {
    let step = StepColumns::of(&f.step);
    // The version decides a race: a second process waits on the row lock, then
    // finds the version moved and updates nothing.
    let updated = sqlx::query(
        "UPDATE flows SET step = $1, choices = $2, failure = $3, viewed_choices = $4, \
         viewed_version = $5, challenge_ref = $6, person_id = $7, consent_id = $8, \
         expires_at = $9, closed_at = $12, version = version + 1 WHERE id = $10 AND version = $11",
    )
    .bind(f.step.code())
    .bind(step.choices)
    .bind(step.failure)
    .bind(step.viewed_choices)
    .bind(step.viewed_version)
    .bind(&f.challenge_ref)
    .bind(f.person_id.map(|p| p.0))
    .bind(f.consent_id.map(|c| c.0))
    .bind(instant(f.expires_at))
    .bind(&f.id)
    .bind(f.version)
    .bind(f.closed_at.map(instant))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Ok(false);
    }
    // A challenge the flow no longer waits for must not complete it later.
    sqlx::query(
        "UPDATE challenges SET state = 'cancelled' WHERE flow_id = $1 AND state = 'pending' \
         AND reference IS DISTINCT FROM $2",
    )
    .bind(&f.id)
    .bind(&f.challenge_ref)
    .execute(&mut *tx)
    .await?;
    if let Some(c) = new_challenge {
        insert_challenge(&mut *tx, c).await?;
    }
    Ok(true)
}

/// Caps are counted one process at a time per institution and per session:
/// transaction-scoped advisory locks, the institution's first (every caller
/// takes them in this order). `kind` keeps flows and challenges apart.
async fn lock_for_caps(
    conn: &mut PgConnection,
    kind: &str,
    institution: i64,
    session_hash: &str,
) -> Result<(), StoreError> {
    for key in [
        format!("zaitaku-caps:{kind}:institution:{institution}"),
        format!("zaitaku-caps:{kind}:session:{session_hash}"),
    ] {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// What the caps on `capped` count, inside the caller's transaction (under its locks).
async fn counts(
    conn: &mut PgConnection,
    capped: Capped,
    session_hash: &str,
    institution: i64,
    now: i64,
) -> Result<Counts, StoreError> {
    Ok(Counts {
        live_in_session: sqlx::query_scalar(capped.live_in_session_sql())
            .bind(session_hash)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?,
        institution_last_minute: sqlx::query_scalar(capped.institution_since_sql())
            .bind(institution)
            .bind(now - INSTITUTION_WINDOW_SECONDS)
            .fetch_one(&mut *conn)
            .await?,
    })
}
