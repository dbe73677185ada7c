//! Consents and their history. A consent is only ever written together with the
//! history row that explains it, in one transaction.

use super::SqliteStore;
use super::codec::{self, Columns, code, date, instant, some_code, to_date, to_instant};
use super::console;
use super::flows::{self, FlowEnd};
use crate::console_records::{CheckSource, StaffRevocation, StaffRevocationOutcome};
use crate::error::{SettleError, StoreError};
use crate::records::{RegistrationWrite, RevocationWrite, UpdateOutcome, UpdateWrite, ViewWrite};
use crate::store::ConsentStore;
use async_trait::async_trait;
use rusqlite::{Connection, Row, TransactionBehavior, params};
use zaitaku_domain::{
    CardAuthentication, Channel, Consent, ConsentChange, ConsentChoices, ConsentId, ConsentStatus,
    FailureReason, FlowStep, InstitutionId, PersonId, RevocationReason, Viewed,
};

/// Actor recorded for changes the card holder made themselves.
const PATIENT: &str = "patient";
/// Actor prefix for changes made by the staff from the console: `staff:LOGIN`.
pub const STAFF_PREFIX: &str = "staff:";

/// The columns `from_row` reads, in its order.
macro_rules! consent_columns {
    () => {
        "id, institution_id, person_id, choices, status, expires_on, registered_at, \
         updated_at, version"
    };
}
pub(super) use consent_columns;

pub fn settle_registration(
    conn: &mut Connection,
    w: &RegistrationWrite,
) -> Result<ConsentId, SettleError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = by_parties(&tx, w.institution_id, w.person_id)?;
    let new_status = ConsentStatus::Active;
    let new_choices = w.choices.encode();
    let at = instant(w.at);
    let consent_id = match &old {
        // Registering again replaces the earlier answers; history keeps them.
        Some(old) => {
            tx.prepare_cached(
                "UPDATE consents SET choices = ?, status = ?, expires_on = ?, updated_at = ?, \
                 version = version + 1 WHERE id = ?",
            )?
            .execute(params![
                new_choices,
                new_status.code(),
                date(w.expires_on),
                at,
                old.id.0,
            ])?;
            old.id
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO consents (institution_id, person_id, choices, status, expires_on, \
                 registered_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
            )?
            .execute(params![
                w.institution_id.0,
                w.person_id.0,
                new_choices,
                new_status.code(),
                date(w.expires_on),
                at,
                at,
            ])?;
            ConsentId(tx.last_insert_rowid())
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
    change.record(&tx)?;
    // What the card's qualification check found, for a later re-query to compare.
    console::record_check(
        &tx,
        w.institution_id,
        w.person_id,
        at,
        CheckSource::Registration,
    )?;
    let end = FlowEnd {
        step: &FlowStep::Done,
        person: Some(w.person_id),
        consent: Some(consent_id),
    };
    flows::settle(&tx, &w.challenge_ref, Some(&w.flow_id), end, w.at)?;
    tx.commit()?;
    Ok(consent_id)
}

pub fn settle_revocation(
    conn: &mut Connection,
    w: &RevocationWrite,
) -> Result<Option<ConsentId>, SettleError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read under the write lock (IMMEDIATE): nothing can change it before we write.
    let standing = by_parties(&tx, w.institution_id, w.person_id)?
        .filter(|c| c.status == ConsentStatus::Active);
    let Some(old) = standing else {
        let end = FlowEnd {
            step: &FlowStep::Failed(FailureReason::NothingRegistered),
            person: Some(w.person_id),
            consent: None,
        };
        flows::settle(&tx, &w.challenge_ref, Some(&w.flow_id), end, w.at)?;
        tx.commit()?;
        return Ok(None);
    };
    // Every item revoked; the prescription form, if any, withdrawn.
    let items: Vec<_> = old.choices.items().map(|(item, _)| item).collect();
    let new_choices = ConsentChoices::none_of(&items).encode();
    let new_status = ConsentStatus::Revoked(w.reason);
    let at = instant(w.at);
    tx.prepare_cached(
        "UPDATE consents SET choices = ?, status = ?, updated_at = ?, version = version + 1 \
         WHERE id = ?",
    )?
    .execute(params![new_choices, new_status.code(), at, old.id.0])?;
    let change = PatientChange {
        consent_id: old.id,
        at,
        authentication: &w.authentication,
        old: Some(&old),
        new_choices: &new_choices,
        new_status,
        flow_id: &w.flow_id,
    };
    change.record(&tx)?;
    let end = FlowEnd {
        step: &FlowStep::Done,
        person: Some(w.person_id),
        consent: Some(old.id),
    };
    flows::settle(&tx, &w.challenge_ref, Some(&w.flow_id), end, w.at)?;
    tx.commit()?;
    Ok(Some(old.id))
}

/// Flow B's view: use the challenge and move the flow to the edit step with the
/// standing consent pre-selected, or end it with `NothingRegistered`. Nothing
/// about the consent is written.
pub fn settle_view(conn: &mut Connection, w: &ViewWrite) -> Result<Option<Consent>, SettleError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let standing = by_parties(&tx, w.institution_id, w.person_id)?
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
    flows::settle(&tx, &w.challenge_ref, Some(&w.flow_id), end, w.at)?;
    tx.commit()?;
    Ok(standing)
}

/// Flow B's save: use the challenge; if the consent still stands at the viewed
/// version, write the edited answers and their history and finish the flow;
/// otherwise end the flow with `UpdateConflict` and write nothing else.
pub fn settle_update(conn: &mut Connection, w: &UpdateWrite) -> Result<UpdateOutcome, SettleError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read under the write lock: no other writer can slip in before the update.
    let current = by_id(&tx, w.consent_id)?
        .filter(|c| c.version == w.viewed_version && c.status == ConsentStatus::Active);
    let Some(old) = current else {
        let end = FlowEnd {
            step: &FlowStep::Failed(FailureReason::UpdateConflict),
            person: None,
            consent: None,
        };
        flows::settle(&tx, &w.challenge_ref, Some(&w.flow_id), end, w.at)?;
        tx.commit()?;
        return Ok(UpdateOutcome::Conflict);
    };
    let new_choices = w.choices.encode();
    let new_status = ConsentStatus::Active;
    let at = instant(w.at);
    tx.prepare_cached(
        "UPDATE consents SET choices = ?, expires_on = ?, updated_at = ?, version = version + 1 \
         WHERE id = ? AND version = ?",
    )?
    .execute(params![
        new_choices,
        date(w.expires_on),
        at,
        old.id.0,
        old.version
    ])?;
    let change = PatientChange {
        consent_id: old.id,
        at,
        authentication: &w.authentication,
        old: Some(&old),
        new_choices: &new_choices,
        new_status,
        flow_id: &w.flow_id,
    };
    change.record(&tx)?;
    let end = FlowEnd {
        step: &FlowStep::Done,
        person: None,
        consent: Some(old.id),
    };
    flows::settle(&tx, &w.challenge_ref, Some(&w.flow_id), end, w.at)?;
    tx.commit()?;
    Ok(UpdateOutcome::Updated)
}

/// The staff revoke the consent from the console: every item revoked with
/// reason 1 (医療機関等による取消し), if it is still active at the version the
/// confirmation screen showed. One durable transaction with its history row.
pub fn revoke_by_staff(
    conn: &mut Connection,
    w: &StaffRevocation,
) -> Result<StaffRevocationOutcome, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(old) =
        by_parties(&tx, w.institution, w.person)?.filter(|c| c.status == ConsentStatus::Active)
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
    tx.prepare_cached(
        "UPDATE consents SET choices = ?, status = ?, updated_at = ?, version = version + 1 \
         WHERE id = ?",
    )?
    .execute(params![new_choices, new_status.code(), at, old.id.0])?;
    tx.prepare_cached(
        "INSERT INTO consent_history (consent_id, at, actor, channel, old_choices, old_status, \
         new_choices, new_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        old.id.0,
        at,
        format!("{STAFF_PREFIX}{}", w.actor.login),
        Channel::InstitutionTerminal.code(),
        old.choices.encode(),
        old.status.code(),
        new_choices,
        new_status.code(),
    ])?;
    tx.commit()?;
    Ok(StaffRevocationOutcome::Revoked)
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
    fn record(&self, tx: &Connection) -> Result<(), StoreError> {
        tx.prepare_cached(
            "INSERT INTO consent_history (consent_id, at, actor, channel, auth_issuer, \
             auth_serial, auth_revocation, old_choices, old_status, new_choices, new_status, \
             flow_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![
            self.consent_id.0,
            self.at,
            PATIENT,
            Channel::PatientWeb.code(),
            self.authentication.certificate_issuer,
            self.authentication.certificate_serial,
            self.authentication.revocation,
            self.old.map(|c| c.choices.encode()),
            self.old.map(|c| c.status.code()),
            self.new_choices,
            self.new_status.code(),
            self.flow_id,
        ])?;
        Ok(())
    }
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
    let mut statement = conn.prepare_cached(
        "SELECT consent_id, at, actor, channel, auth_issuer, auth_serial, auth_revocation, \
         old_choices, old_status, new_choices, new_status \
         FROM consent_history WHERE consent_id = ? ORDER BY id",
    )?;
    codec::all(&mut statement, [id.0], change_from_row)
}

fn status(text: &str) -> Result<ConsentStatus, StoreError> {
    some_code(text, "consent status", ConsentStatus::parse)
}

fn choices(text: &str) -> Result<ConsentChoices, StoreError> {
    code(text, "consent choices", ConsentChoices::decode)
}

fn from_row(row: &Row<'_>) -> Result<Consent, StoreError> {
    read(&mut Columns::new(row))
}

/// A consent from the columns of `consent_columns!`, read from `c` onwards.
pub(super) fn read(c: &mut Columns<'_, '_>) -> Result<Consent, StoreError> {
    // A struct expression evaluates its fields in the order written: this reads
    // the columns in the order of `columns!`.
    Ok(Consent {
        id: ConsentId(c.read()?),
        institution_id: InstitutionId(c.read()?),
        person_id: PersonId(c.read()?),
        choices: choices(&c.read::<String>()?)?,
        status: status(&c.read::<String>()?)?,
        expires_on: to_date(&c.read::<String>()?, "consent expiry")?,
        registered_at: to_instant(c.read()?, "consent")?,
        updated_at: to_instant(c.read()?, "consent")?,
        version: c.read()?,
    })
}

fn change_from_row(row: &Row<'_>) -> Result<ConsentChange, StoreError> {
    let mut c = Columns::new(row);
    // Fields in the order `history` selects the columns.
    Ok(ConsentChange {
        consent_id: ConsentId(c.read()?),
        at: to_instant(c.read()?, "consent history")?,
        actor: c.read()?,
        channel: some_code(&c.read::<String>()?, "channel", Channel::parse)?,
        authentication: authentication(&mut c)?,
        old: old(&mut c)?,
        new: (
            choices(&c.read::<String>()?)?,
            status(&c.read::<String>()?)?,
        ),
    })
}

/// Columns auth_issuer, auth_serial, auth_revocation.
fn authentication(c: &mut Columns<'_, '_>) -> Result<Option<CardAuthentication>, StoreError> {
    let issuer: Option<String> = c.read()?;
    let serial: Option<String> = c.read()?;
    let revocation: Option<String> = c.read()?;
    let Some(certificate_issuer) = issuer else {
        return Ok(None);
    };
    let corrupt = || StoreError::Corrupt {
        what: "consent history authentication",
    };
    Ok(Some(CardAuthentication {
        certificate_issuer,
        certificate_serial: serial.ok_or_else(corrupt)?,
        revocation: revocation.ok_or_else(corrupt)?,
    }))
}

/// Columns old_choices, old_status.
fn old(c: &mut Columns<'_, '_>) -> Result<Option<(ConsentChoices, ConsentStatus)>, StoreError> {
    match (c.read::<Option<String>>()?, c.read::<Option<String>>()?) {
        (Some(old_choices), Some(old_status)) => {
            Ok(Some((choices(&old_choices)?, status(&old_status)?)))
        }
        _ => Ok(None),
    }
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn settle_registration(
        &self,
        write: &RegistrationWrite,
    ) -> Result<ConsentId, SettleError> {
        let write = write.clone();
        self.write_durable(move |c| settle_registration(c, &write))
            .await
    }

    async fn settle_revocation(
        &self,
        write: &RevocationWrite,
    ) -> Result<Option<ConsentId>, SettleError> {
        let write = write.clone();
        self.write_durable(move |c| settle_revocation(c, &write))
            .await
    }

    async fn settle_view(&self, write: &ViewWrite) -> Result<Option<Consent>, SettleError> {
        let write = write.clone();
        // Only the challenge and the flow change: bookkeeping durability.
        self.write(move |c| settle_view(c, &write)).await
    }

    async fn settle_update(&self, write: &UpdateWrite) -> Result<UpdateOutcome, SettleError> {
        let write = write.clone();
        self.write_durable(move |c| settle_update(c, &write)).await
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
