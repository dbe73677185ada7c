//! Consents and their history on PostgreSQL. A consent is only ever written
//! together with the history row that explains it, in one transaction, and only
//! after locking its row (`FOR UPDATE`): a second process changing the same
//! consent waits, then reads what the first wrote, so no change is lost.

use super::PostgresStore;
use super::console;
use super::flows::{self, FlowEnd};
use crate::console_records::{CheckSource, StaffRevocation, StaffRevocationOutcome};
use crate::error::{SettleError, StoreError};
use crate::records::{RegistrationWrite, RevocationWrite, UpdateOutcome, UpdateWrite, ViewWrite};
use crate::sqlite::codec::{code, date, instant, some_code, to_date, to_instant};
use crate::store::ConsentStore;
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};
use zaitaku_domain::{
    CardAuthentication, Channel, Consent, ConsentChange, ConsentChoices, ConsentId, ConsentStatus,
    FailureReason, FlowStep, InstitutionId, PersonId, RevocationReason, Viewed,
};

/// Actor recorded for changes the card holder made themselves.
const PATIENT: &str = "patient";
/// Actor prefix for changes made by the staff from the console: `staff:LOGIN`.
const STAFF_PREFIX: &str = "staff:";

/// The columns `from_row` reads.
macro_rules! consent_columns {
    () => {
        "id, institution_id, person_id, choices, status, expires_on, registered_at, \
         updated_at, version"
    };
}
pub(super) use consent_columns;

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
    async fn settle_registration(&self, w: &RegistrationWrite) -> Result<ConsentId, SettleError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        let new_status = ConsentStatus::Active;
        let new_choices = w.choices.encode();
        let at = instant(w.at);
        let mut old = by_parties(&mut tx, w.institution_id, w.person_id, Lock::Update).await?;
        let mut inserted = None;
        if old.is_none() {
            // A first registration. Of two processes inserting at once, the second
            // waits for the first to commit, inserts nothing, and then replaces the
            // first's answers like any registration made again.
            inserted = sqlx::query_scalar(
                "INSERT INTO consents (institution_id, person_id, choices, status, expires_on, \
                 registered_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $6, 1) \
                 ON CONFLICT (institution_id, person_id) DO NOTHING RETURNING id",
            )
            .bind(w.institution_id.0)
            .bind(w.person_id.0)
            .bind(&new_choices)
            .bind(new_status.code())
            .bind(date(w.expires_on))
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?
            .map(ConsentId);
            if inserted.is_none() {
                old = by_parties(&mut tx, w.institution_id, w.person_id, Lock::Update).await?;
            }
        }
        let consent_id = match (&old, inserted) {
            (_, Some(id)) => id,
            // Registering again replaces the earlier answers; history keeps them.
            (Some(old), None) => {
                sqlx::query(
                    "UPDATE consents SET choices = $1, status = $2, expires_on = $3, \
                     updated_at = $4, version = version + 1 WHERE id = $5",
                )
                .bind(&new_choices)
                .bind(new_status.code())
                .bind(date(w.expires_on))
                .bind(at)
                .bind(old.id.0)
                .execute(&mut *tx)
                .await?;
                old.id
            }
            // Consents are never deleted: a conflicting row, once committed, stays.
            (None, None) => {
                return Err(StoreError::Database(
                    "the consent being registered conflicts with one that cannot be read"
                        .to_owned(),
                )
                .into());
            }
        };
        let change = PatientChange {
            consent_id,
            at,
            authentication: &w.authentication,
            old: old.as_ref(),
            new_choices: &new_choices,
            new_status,
            flow_id: &w.flow_id,
        };
        change.record(&mut tx).await?;
        // What the card's qualification check found, for a later re-query to compare.
        console::record_check(
            &mut tx,
            w.institution_id,
            w.person_id,
            at,
            CheckSource::Registration,
        )
        .await?;
        let end = FlowEnd {
            step: &FlowStep::Done,
            person: Some(w.person_id),
            consent: Some(consent_id),
        };
        flows::settle(&mut tx, &w.challenge_ref, Some(&w.flow_id), end, w.at).await?;
        tx.commit().await?;
        Ok(consent_id)
    }

    async fn settle_revocation(
        &self,
        w: &RevocationWrite,
    ) -> Result<Option<ConsentId>, SettleError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        // Locked: nothing can change it between this read and our write.
        let standing = by_parties(&mut tx, w.institution_id, w.person_id, Lock::Update)
            .await?
            .filter(|c| c.status == ConsentStatus::Active);
        let Some(old) = standing else {
            let end = FlowEnd {
                step: &FlowStep::Failed(FailureReason::NothingRegistered),
                person: Some(w.person_id),
                consent: None,
            };
            flows::settle(&mut tx, &w.challenge_ref, Some(&w.flow_id), end, w.at).await?;
            tx.commit().await?;
            return Ok(None);
        };
        // Every item revoked; the prescription form, if any, withdrawn.
        let items: Vec<_> = old.choices.items().map(|(item, _)| item).collect();
        let new_choices = ConsentChoices::none_of(&items).encode();
        let new_status = ConsentStatus::Revoked(w.reason);
        let at = instant(w.at);
        sqlx::query(
            "UPDATE consents SET choices = $1, status = $2, updated_at = $3, \
             version = version + 1 WHERE id = $4",
        )
        .bind(&new_choices)
        .bind(new_status.code())
        .bind(at)
        .bind(old.id.0)
        .execute(&mut *tx)
        .await?;
        let change = PatientChange {
            consent_id: old.id,
            at,
            authentication: &w.authentication,
            old: Some(&old),
            new_choices: &new_choices,
            new_status,
            flow_id: &w.flow_id,
        };
        change.record(&mut tx).await?;
        let end = FlowEnd {
            step: &FlowStep::Done,
            person: Some(w.person_id),
            consent: Some(old.id),
        };
        flows::settle(&mut tx, &w.challenge_ref, Some(&w.flow_id), end, w.at).await?;
        tx.commit().await?;
        Ok(Some(old.id))
    }

    /// Flow B's view: use the challenge and move the flow to the edit step with the
    /// standing consent pre-selected, or end it with `NothingRegistered`. Nothing
    /// about the consent is written; the version read lets the save detect a
    /// change made in between.
    async fn settle_view(&self, w: &ViewWrite) -> Result<Option<Consent>, SettleError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        let standing = by_parties(&mut tx, w.institution_id, w.person_id, Lock::None)
            .await?
            .filter(|c| c.status == ConsentStatus::Active && c.expires_on >= w.today);
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
            step: &step,
            person: Some(w.person_id),
            consent: standing.as_ref().map(|c| c.id),
        };
        flows::settle(&mut tx, &w.challenge_ref, Some(&w.flow_id), end, w.at).await?;
        tx.commit().await?;
        Ok(standing)
    }

    /// Flow B's save: use the challenge; if the consent still stands at the viewed
    /// version, write the edited answers and their history and finish the flow;
    /// otherwise end the flow with `UpdateConflict` and write nothing else.
    async fn settle_update(&self, w: &UpdateWrite) -> Result<UpdateOutcome, SettleError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        // Locked: a racing save waits here, then sees this one's version and conflicts.
        let current = by_id(&mut tx, w.consent_id, Lock::Update)
            .await?
            .filter(|c| c.version == w.viewed_version && c.status == ConsentStatus::Active);
        let Some(old) = current else {
            let end = FlowEnd {
                step: &FlowStep::Failed(FailureReason::UpdateConflict),
                person: None,
                consent: None,
            };
            flows::settle(&mut tx, &w.challenge_ref, Some(&w.flow_id), end, w.at).await?;
            tx.commit().await?;
            return Ok(UpdateOutcome::Conflict);
        };
        let new_choices = w.choices.encode();
        let new_status = ConsentStatus::Active;
        let at = instant(w.at);
        sqlx::query(
            "UPDATE consents SET choices = $1, expires_on = $2, updated_at = $3, \
             version = version + 1 WHERE id = $4 AND version = $5",
        )
        .bind(&new_choices)
        .bind(date(w.expires_on))
        .bind(at)
        .bind(old.id.0)
        .bind(old.version)
        .execute(&mut *tx)
        .await?;
        let change = PatientChange {
            consent_id: old.id,
            at,
            authentication: &w.authentication,
            old: Some(&old),
            new_choices: &new_choices,
            new_status,
            flow_id: &w.flow_id,
        };
        change.record(&mut tx).await?;
        let end = FlowEnd {
            step: &FlowStep::Done,
            person: None,
            consent: Some(old.id),
        };
        flows::settle(&mut tx, &w.challenge_ref, Some(&w.flow_id), end, w.at).await?;
        tx.commit().await?;
        Ok(UpdateOutcome::Updated)
    }

    /// The staff revoke the consent from the console: every item revoked with
    /// reason 1 (医療機関等による取消し), if it is still active at the version the
    /// confirmation screen showed. One transaction with its history row.
    async fn revoke_by_staff(
        &self,
        w: &StaffRevocation,
    ) -> Result<StaffRevocationOutcome, StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        let Some(old) = by_parties(&mut tx, w.institution, w.person, Lock::Update)
            .await?
            .filter(|c| c.status == ConsentStatus::Active)
        else {
            return Ok(StaffRevocationOutcome::NotStanding);
        };
        if old.version != w.expected_version {
            return Ok(StaffRevocationOutcome::Conflict);
        }
        let items: Vec<_> = old.choices.items().map(|(item, _)| item).collect();
        let new_choices = ConsentChoices::none_of(&items).encode();
        let new_status = ConsentStatus::Revoked(RevocationReason::ByInstitution);
        let at = instant(w.at);
        sqlx::query(
            "UPDATE consents SET choices = $1, status = $2, updated_at = $3, \
             version = version + 1 WHERE id = $4",
        )
        .bind(&new_choices)
        .bind(new_status.code())
        .bind(at)
        .bind(old.id.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO consent_history (consent_id, at, actor, channel, old_choices, old_status, \
             new_choices, new_status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(old.id.0)
        .bind(at)
        .bind(format!("{STAFF_PREFIX}{}", w.actor.login))
        .bind(Channel::InstitutionTerminal.code())
        .bind(old.choices.encode())
        .bind(old.status.code())
        .bind(&new_choices)
        .bind(new_status.code())
        .execute(&mut *tx)
        .await?;
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
        sqlx::query(
            "SELECT consent_id, at, actor, channel, auth_issuer, auth_serial, auth_revocation, \
             old_choices, old_status, new_choices, new_status \
             FROM consent_history WHERE consent_id = $1 ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(pool)
        .await?
        .iter()
        .map(change_from_row)
        .collect()
    }
}

/// One history row for a change the card holder made on the patient web.
struct PatientChange<'a> {
    consent_id: ConsentId,
    /// Unix seconds.
    at: i64,
    authentication: &'a CardAuthentication,
    old: Option<&'a Consent>,
    new_choices: &'a str,
    new_status: ConsentStatus,
    flow_id: &'a str,
}

impl PatientChange<'_> {
    async fn record(&self, conn: &mut PgConnection) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consent_history (consent_id, at, actor, channel, auth_issuer, \
             auth_serial, auth_revocation, old_choices, old_status, new_choices, new_status, \
             flow_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(self.consent_id.0)
        .bind(self.at)
        .bind(PATIENT)
        .bind(Channel::PatientWeb.code())
        .bind(&self.authentication.certificate_issuer)
        .bind(&self.authentication.certificate_serial)
        .bind(&self.authentication.revocation)
        .bind(self.old.map(|c| c.choices.encode()))
        .bind(self.old.map(|c| c.status.code()))
        .bind(self.new_choices)
        .bind(self.new_status.code())
        .bind(self.flow_id)
        .execute(conn)
        .await?;
        Ok(())
    }
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

fn status(text: &str) -> Result<ConsentStatus, StoreError> {
    some_code(text, "consent status", ConsentStatus::parse)
}

fn choices(text: &str) -> Result<ConsentChoices, StoreError> {
    code(text, "consent choices", ConsentChoices::decode)
}

/// A consent from the columns of `consent_columns!`, by name.
pub(super) fn from_row(row: &PgRow) -> Result<Consent, StoreError> {
    Ok(Consent {
        id: ConsentId(row.try_get("id")?),
        institution_id: InstitutionId(row.try_get("institution_id")?),
        person_id: PersonId(row.try_get("person_id")?),
        choices: choices(row.try_get("choices")?)?,
        status: status(row.try_get("status")?)?,
        expires_on: to_date(row.try_get("expires_on")?, "consent expiry")?,
        registered_at: to_instant(row.try_get("registered_at")?, "consent")?,
        updated_at: to_instant(row.try_get("updated_at")?, "consent")?,
        version: row.try_get("version")?,
    })
}

fn change_from_row(row: &PgRow) -> Result<ConsentChange, StoreError> {
    Ok(ConsentChange {
        consent_id: ConsentId(row.try_get("consent_id")?),
        at: to_instant(row.try_get("at")?, "consent history")?,
        actor: row.try_get("actor")?,
        channel: some_code(row.try_get("channel")?, "channel", Channel::parse)?,
        authentication: authentication(row)?,
        old: old(row)?,
        new: (
            choices(row.try_get("new_choices")?)?,
            status(row.try_get("new_status")?)?,
        ),
    })
}

/// Columns auth_issuer, auth_serial, auth_revocation.
fn authentication(row: &PgRow) -> Result<Option<CardAuthentication>, StoreError> {
    let Some(certificate_issuer) = row.try_get::<Option<String>, _>("auth_issuer")? else {
        return Ok(None);
    };
    let corrupt = || StoreError::Corrupt {
        what: "consent history authentication",
    };
    Ok(Some(CardAuthentication {
        certificate_issuer,
        certificate_serial: row
            .try_get::<Option<String>, _>("auth_serial")?
            .ok_or_else(corrupt)?,
        revocation: row
            .try_get::<Option<String>, _>("auth_revocation")?
            .ok_or_else(corrupt)?,
    }))
}

/// Columns old_choices, old_status.
fn old(row: &PgRow) -> Result<Option<(ConsentChoices, ConsentStatus)>, StoreError> {
    let old_choices: Option<&str> = row.try_get("old_choices")?;
    let old_status: Option<&str> = row.try_get("old_status")?;
    match (old_choices, old_status) {
        (Some(old_choices), Some(old_status)) => {
            Ok(Some((choices(old_choices)?, status(old_status)?)))
        }
        _ => Ok(None),
    }
}
