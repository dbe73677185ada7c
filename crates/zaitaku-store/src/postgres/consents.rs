//! Consents and their history on PostgreSQL. A consent is only ever written
//! together with the history row that explains it, in one transaction, and only
//! after locking its row (`FOR UPDATE`): a second process changing the same
//! consent waits, then reads what the first wrote, so no change is lost.

use super::PostgresStore;
use super::audit;
use super::columns::Columns;
use super::flows;
use super::qualification_checks;
use crate::audit::Chain;
use crate::codec::{date, instant};
use crate::console_records::{CheckSource, StaffRevocation, StaffRevocationOutcome};
use crate::error::{SettleError, StoreError};
use crate::rows;
use crate::settle::HISTORY_INSERT;
use crate::settle::{self, ConsentRead, ConsentWrite, Plan, SettleRequest, Settled};
use crate::store::ConsentStore;
use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgRow};
use zaitaku_domain::{Consent, ConsentChange, ConsentId, InstitutionId, PersonId};

pub(super) use crate::rows::consent_columns;

/// How a consent is read inside a transaction.
#[derive(Clone, Copy)]
pub(super) enum Lock {
    /// A plain read: the answer may be overtaken, which the caller tolerates.
    None,
    /// No other transaction may change the row until this one ends.
    Share,
    /// This transaction will change the row.
    Update,
}

#[async_trait]
impl ConsentStore for PostgresStore {
    async fn settle(&self, request: &SettleRequest) -> Result<Settled, SettleError> {
        let mut tx = self.pool.begin().await?;
        // Locked when the consent may change: a racing settlement waits here,
        // then reads what this one wrote. A view only reads (its version lets
        // the save detect a change made in between).
        let lock = if request.writes_consent() {
            Lock::Update
        } else {
            Lock::None
        };
        let mut plan = settle::plan(request, read(&mut tx, request.reads(), lock).await?);
        let mut written = write_consent(&mut tx, &plan).await?;
        if written == Written::Raced {
            // Of two first registrations at once, the second inserted nothing:
            // the first has committed, so read its consent and replace its
            // answers like any registration made again.
            plan = settle::plan(request, read(&mut tx, request.reads(), lock).await?);
            written = write_consent(&mut tx, &plan).await?;
        }
        let written = match written {
            Written::Nothing => None,
            Written::Consent(id) => Some(id),
            // Consents are never deleted: a conflicting row, once committed, stays.
            Written::Raced => {
                return Err(StoreError::Database(
                    "the consent being registered conflicts with one that cannot be read"
                        .to_owned(),
                )
                .into());
            }
        };
        if let Some(end) = &plan.flow {
            flows::settle(&mut tx, end, written, plan.at).await?;
        }
        tx.commit().await?;
        Ok(plan.settled(written)?)
    }

    /// The staff revoke the consent from the console, if the plan allows: one
    /// transaction with its history row.
    async fn revoke_by_staff(
        &self,
        w: &StaffRevocation,
    ) -> Result<StaffRevocationOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let read = by_parties(&mut tx, w.institution, w.person, Lock::Update).await?;
        let plan = match settle::staff_revocation(w, read) {
            Ok(plan) => plan,
            Err(outcome) => return Ok(outcome),
        };
        write_consent(&mut tx, &plan).await?;
        tx.commit().await?;
        Ok(StaffRevocationOutcome::Revoked)
    }

    async fn consent(
        &self,
        institution: InstitutionId,
        person: PersonId,
    ) -> Result<Option<Consent>, StoreError> {
        let pool = &self.pool;
        let mut conn = pool.acquire().await?;
        by_parties(&mut conn, institution, person, Lock::None).await
    }

    async fn consent_by_id(&self, id: ConsentId) -> Result<Option<Consent>, StoreError> {
        let pool = &self.pool;
        let mut conn = pool.acquire().await?;
        by_id(&mut conn, id, Lock::None).await
    }

    async fn consent_history(&self, id: ConsentId) -> Result<Vec<ConsentChange>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            rows::consent_change_columns!(),
            " FROM consent_history WHERE consent_id = $1 ORDER BY id"
        ))
        .bind(id.0)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| rows::consent_change(&mut Columns::new(row)))
        .collect()
    }
}

/// The consent a settlement depends on, read with `lock`.
async fn read(
    conn: &mut PgConnection,
    what: ConsentRead,
    lock: Lock,
) -> Result<Option<Consent>, StoreError> {
    match what {
        ConsentRead::Parties(institution, person) => {
            by_parties(conn, institution, person, lock).await
        }
        ConsentRead::ById(id) => by_id(conn, id, lock).await,
        ConsentRead::Nothing => Ok(None),
    }
}

/// What [`write_consent`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Nothing,
    Consent(ConsentId),
    /// A first registration found the consent inserted meanwhile: nothing written.
    Raced,
}

/// The plan's consent write, its history row and qualification check.
async fn write_consent(conn: &mut PgConnection, plan: &Plan) -> Result<Written, StoreError> {
    let at = instant(plan.at);
    let written = match &plan.consent {
        None => return Ok(Written::Nothing),
        Some(ConsentWrite::Insert {
            institution,
            person,
            choices,
            status,
            expires_on,
        }) => {
            let inserted = sqlx::query_scalar(
                "INSERT INTO consents (institution_id, person_id, choices, status, expires_on, \
                 registered_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $6, 1) \
                 ON CONFLICT (institution_id, person_id) DO NOTHING RETURNING id",
            )
            .bind(institution.0)
            .bind(person.0)
            .bind(choices.encode())
            .bind(status.code())
            .bind(date(*expires_on))
            .bind(at)
            .fetch_optional(&mut *conn)
            .await?;
            match inserted {
                Some(id) => ConsentId(id),
                None => return Ok(Written::Raced),
            }
        }
        Some(ConsentWrite::Update {
            id,
            version,
            choices,
            status,
            expires_on,
        }) => {
            let updated = sqlx::query(
                "UPDATE consents SET choices = $1, status = $2, \
                 expires_on = coalesce($3, expires_on), updated_at = $4, \
                 version = version + 1 WHERE id = $5 AND version = $6",
            )
            .bind(choices.encode())
            .bind(status.code())
            .bind(expires_on.map(date))
            .bind(at)
            .bind(id.0)
            .bind(version)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if updated != 1 {
                return Err(StoreError::Database(
                    "a consent changed under its row lock".to_owned(),
                ));
            }
            *id
        }
    };
    if let Some(h) = &plan.history {
        let auth = h.authentication.as_ref();
        let scope: i64 = sqlx::query_scalar("SELECT institution_id FROM consents WHERE id = $1")
            .bind(written.0)
            .fetch_one(&mut *conn)
            .await?;
        let head = audit::lock(conn, Chain::ConsentHistory, scope).await?;
        let (id, _): (i64, i64) = sqlx::query_as(HISTORY_INSERT)
            .bind(written.0)
            .bind(at)
            .bind(&h.actor)
            .bind(h.channel.code())
            .bind(auth.map(|a| &a.certificate_issuer))
            .bind(auth.map(|a| &a.certificate_serial))
            .bind(auth.map(|a| &a.revocation))
            .bind(h.old.as_ref().map(|(choices, _)| choices.encode()))
            .bind(h.old.as_ref().map(|(_, status)| status.code()))
            .bind(h.new.0.encode())
            .bind(h.new.1.code())
            .bind(&h.flow_id)
            .fetch_one(&mut *conn)
            .await?;
        audit::seal(conn, Chain::ConsentHistory, scope, &head, id).await?;
    }
    if let Some((institution, person)) = plan.record_check {
        // What the card's qualification check found, for a later re-query to compare.
        qualification_checks::record_check(
            conn,
            institution,
            person,
            at,
            CheckSource::Registration,
        )
        .await?;
    }
    Ok(Written::Consent(written))
}

/// The consent between `institution` and `person`, read with `lock`.
pub(super) async fn by_parties(
    conn: &mut PgConnection,
    institution: InstitutionId,
    person: PersonId,
    lock: Lock,
) -> Result<Option<Consent>, StoreError> {
    let sql = match lock {
        Lock::None => concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE institution_id = $1 AND person_id = $2"
        ),
        Lock::Share => concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE institution_id = $1 AND person_id = $2 FOR SHARE"
        ),
        Lock::Update => concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE institution_id = $1 AND person_id = $2 FOR UPDATE"
        ),
    };
    sqlx::query(sql)
        .bind(institution.0)
        .bind(person.0)
        .fetch_optional(conn)
        .await?
        .map(|row| from_row(&row))
        .transpose()
}

async fn by_id(
    conn: &mut PgConnection,
    id: ConsentId,
    lock: Lock,
) -> Result<Option<Consent>, StoreError> {
    let sql = match lock {
        Lock::None => concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE id = $1"
        ),
        Lock::Share => concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE id = $1 FOR SHARE"
        ),
        Lock::Update => concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE id = $1 FOR UPDATE"
        ),
    };
    sqlx::query(sql)
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .map(|row| from_row(&row))
        .transpose()
}

/// A consent from the columns of `consent_columns!`, the first of the row.
pub(super) fn from_row(row: &PgRow) -> Result<Consent, StoreError> {
    rows::consent(&mut Columns::new(row))
}
