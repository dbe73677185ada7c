//! Consents and their history. A consent is only ever written together with the
//! history row that explains it, in one transaction.

use super::SqliteStore;
use super::audit;
use super::codec::{self, Columns};
use super::flows;
use super::qualification_checks;
use crate::audit::Chain;
use crate::codec::{date, instant};
use crate::console_records::{CheckSource, StaffRevocation, StaffRevocationOutcome};
use crate::error::{SettleError, StoreError};
use crate::rows;
use crate::settle::HISTORY_INSERT;
use crate::settle::{self, ConsentRead, ConsentWrite, HistoryRow, Plan, SettleRequest, Settled};
use crate::store::ConsentStore;
use async_trait::async_trait;
use rusqlite::{Connection, Row, TransactionBehavior, params};
use zaitaku_domain::{Consent, ConsentChange, ConsentId, InstitutionId, PersonId};

pub(super) use crate::rows::consent_columns;

/// Read what `request` depends on under the write lock (`BEGIN IMMEDIATE`:
/// nothing can change it before we write), apply the plan, commit.
fn settle(conn: &mut Connection, request: &SettleRequest) -> Result<Settled, SettleError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let read = match request.reads() {
        ConsentRead::Parties(institution, person) => by_parties(&tx, institution, person)?,
        ConsentRead::ById(id) => by_id(&tx, id)?,
        ConsentRead::Nothing => None,
    };
    let plan = settle::plan(request, read);
    let written = write_consent(&tx, &plan)?;
    if let Some(end) = &plan.flow {
        flows::settle(&tx, end, written, plan.at)?;
    }
    tx.commit()?;
    Ok(plan.settled(written)?)
}

/// The staff revoke the consent from the console, if the plan allows: one
/// durable transaction with its history row.
fn revoke_by_staff(
    conn: &mut Connection,
    w: &StaffRevocation,
) -> Result<StaffRevocationOutcome, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let read = by_parties(&tx, w.institution, w.person)?;
    let plan = match settle::staff_revocation(w, read) {
        Ok(plan) => plan,
        Err(outcome) => return Ok(outcome),
    };
    write_consent(&tx, &plan)?;
    tx.commit()?;
    Ok(StaffRevocationOutcome::Revoked)
}

/// The plan's consent write, its history row and qualification check; the id
/// of the consent written.
fn write_consent(tx: &Connection, plan: &Plan) -> Result<Option<ConsentId>, StoreError> {
    let at = instant(plan.at);
    let written = match &plan.consent {
        None => return Ok(None),
        Some(ConsentWrite::Insert {
            institution,
            person,
            choices,
            status,
            expires_on,
        }) => {
            tx.prepare_cached(
                "INSERT INTO consents (institution_id, person_id, choices, status, expires_on, \
                 registered_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
            )?
            .execute(params![
                institution.0,
                person.0,
                choices.encode(),
                status.code(),
                date(*expires_on),
                at,
                at,
            ])?;
            ConsentId(tx.last_insert_rowid())
        }
        Some(ConsentWrite::Update {
            id,
            version,
            choices,
            status,
            expires_on,
        }) => {
            let updated = tx
                .prepare_cached(
                    "UPDATE consents SET choices = ?, status = ?, \
                     expires_on = coalesce(?, expires_on), updated_at = ?, \
                     version = version + 1 WHERE id = ? AND version = ?",
                )?
                .execute(params![
                    choices.encode(),
                    status.code(),
                    expires_on.map(date),
                    at,
                    id.0,
                    version,
                ])?;
            if updated != 1 {
                return Err(StoreError::Database(
                    "a consent changed under the write lock".to_owned(),
                ));
            }
            *id
        }
    };
    if let Some(history) = &plan.history {
        record_history(tx, written, at, history)?;
    }
    if let Some((institution, person)) = plan.record_check {
        // What the card's qualification check found, for a later re-query to compare.
        qualification_checks::record_check(tx, institution, person, at, CheckSource::Registration)?;
    }
    Ok(Some(written))
}

fn record_history(
    tx: &Connection,
    consent: ConsentId,
    at: i64,
    h: &HistoryRow,
) -> Result<(), StoreError> {
    let auth = h.authentication.as_ref();
    let (id, institution): (i64, i64) = tx.prepare_cached(HISTORY_INSERT)?.query_row(
        params![
            consent.0,
            at,
            h.actor,
            h.channel.code(),
            auth.map(|a| &a.certificate_issuer),
            auth.map(|a| &a.certificate_serial),
            auth.map(|a| &a.revocation),
            h.old.as_ref().map(|(choices, _)| choices.encode()),
            h.old.as_ref().map(|(_, status)| status.code()),
            h.new.0.encode(),
            h.new.1.code(),
            h.flow_id,
        ],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    audit::append(tx, Chain::ConsentHistory, institution, id)
}

pub fn by_parties(
    conn: &Connection,
    institution: InstitutionId,
    person: PersonId,
) -> Result<Option<Consent>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        consent_columns!(),
        " FROM consents WHERE institution_id = ? AND person_id = ?"
    ))?;
    codec::optional(&mut statement, [institution.0, person.0], from_row)
}

pub fn by_id(conn: &Connection, id: ConsentId) -> Result<Option<Consent>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        consent_columns!(),
        " FROM consents WHERE id = ?"
    ))?;
    codec::optional(&mut statement, [id.0], from_row)
}

pub fn history(conn: &Connection, id: ConsentId) -> Result<Vec<ConsentChange>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        rows::consent_change_columns!(),
        " FROM consent_history WHERE consent_id = ? ORDER BY id"
    ))?;
    codec::all(&mut statement, [id.0], |row| {
        rows::consent_change(&mut Columns::new(row))
    })
}

fn from_row(row: &Row<'_>) -> Result<Consent, StoreError> {
    rows::consent(&mut Columns::new(row))
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn settle(&self, request: &SettleRequest) -> Result<Settled, SettleError> {
        let request = request.clone();
        match request {
            // A consent and its history change: on disk before the answer.
            SettleRequest::Registration(_)
            | SettleRequest::Update(_)
            | SettleRequest::Revocation(_) => {
                self.write_durable(move |c| settle(c, &request)).await
            }
            // Only the challenge and the flow change: bookkeeping durability.
            SettleRequest::View(_) | SettleRequest::Failure { .. } => {
                self.write(move |c| settle(c, &request)).await
            }
        }
    }

    async fn revoke_by_staff(
        &self,
        revocation: &StaffRevocation,
    ) -> Result<StaffRevocationOutcome, StoreError> {
        let revocation = revocation.clone();
        self.write_durable(move |c| revoke_by_staff(c, &revocation))
            .await
    }

    async fn consent(
        &self,
        institution: InstitutionId,
        person: PersonId,
    ) -> Result<Option<Consent>, StoreError> {
        self.read(move |c| by_parties(c, institution, person)).await
    }

    async fn consent_by_id(&self, id: ConsentId) -> Result<Option<Consent>, StoreError> {
        self.read(move |c| by_id(c, id)).await
    }

    async fn consent_history(&self, id: ConsentId) -> Result<Vec<ConsentChange>, StoreError> {
        self.read(move |c| history(c, id)).await
    }
}
