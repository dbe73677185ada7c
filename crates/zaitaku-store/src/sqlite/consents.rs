//! Consents and their history. A consent is only ever written together with the
//! history row that explains it, in one transaction.

use super::codec::{code, date, instant, some_code, to_date, to_instant};
use super::flows;
use crate::error::{SettleError, StoreError};
use crate::records::{ChallengeState, RegistrationWrite};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use zaitaku_domain::{
    CardAuthentication, Channel, Consent, ConsentChange, ConsentChoices, ConsentId, ConsentStatus,
    FlowStep, InstitutionId, PersonId,
};

/// Actor recorded for changes the card holder made themselves.
const PATIENT: &str = "patient";

pub async fn settle_registration(
    pool: &SqlitePool,
    w: &RegistrationWrite,
) -> Result<ConsentId, SettleError> {
    let mut tx = pool.begin().await?;
    let flow_id =
        flows::use_challenge(&mut tx, &w.challenge_ref, ChallengeState::Succeeded, w.at).await?;
    if flow_id != w.flow_id {
        return Err(SettleError::FlowMoved);
    }
    let old = sqlx::query("SELECT * FROM consents WHERE institution_id = ? AND person_id = ?")
        .bind(w.institution_id.0)
        .bind(w.person_id.0)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| from_row(&row))
        .transpose()?;
    let new_status = ConsentStatus::Active;
    let at = instant(w.at);
    let consent_id = match &old {
        // Registering again replaces the earlier answers; history keeps them.
        Some(old) => {
            sqlx::query(
                "UPDATE consents SET choices = ?, status = ?, expires_on = ?, updated_at = ?, \
                 version = version + 1 WHERE id = ?",
            )
            .bind(w.choices.encode())
            .bind(new_status.code())
            .bind(date(w.expires_on))
            .bind(at)
            .bind(old.id.0)
            .execute(&mut *tx)
            .await?;
            old.id
        }
        None => {
            let done = sqlx::query(
                "INSERT INTO consents (institution_id, person_id, choices, status, expires_on, \
                 registered_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
            )
            .bind(w.institution_id.0)
            .bind(w.person_id.0)
            .bind(w.choices.encode())
            .bind(new_status.code())
            .bind(date(w.expires_on))
            .bind(at)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            ConsentId(done.last_insert_rowid())
        }
    };
    sqlx::query(
        "INSERT INTO consent_history (consent_id, at, actor, channel, auth_issuer, auth_serial, \
         auth_revocation, old_choices, old_status, new_choices, new_status, flow_id) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(consent_id.0)
    .bind(at)
    .bind(PATIENT)
    .bind(Channel::PatientWeb.code())
    .bind(&w.authentication.certificate_issuer)
    .bind(&w.authentication.certificate_serial)
    .bind(&w.authentication.revocation)
    .bind(old.as_ref().map(|c| c.choices.encode()))
    .bind(old.as_ref().map(|c| c.status.code()))
    .bind(w.choices.encode())
    .bind(new_status.code())
    .bind(&w.flow_id)
    .execute(&mut *tx)
    .await?;
    flows::settle_flow(
        &mut tx,
        &w.flow_id,
        &w.challenge_ref,
        &FlowStep::Done,
        Some(w.person_id),
        Some(consent_id),
    )
    .await?;
    tx.commit().await?;
    Ok(consent_id)
}

pub async fn by_parties(
    pool: &SqlitePool,
    institution: InstitutionId,
    person: PersonId,
) -> Result<Option<Consent>, StoreError> {
    let row = sqlx::query("SELECT * FROM consents WHERE institution_id = ? AND person_id = ?")
        .bind(institution.0)
        .bind(person.0)
        .fetch_optional(pool)
        .await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn by_id(pool: &SqlitePool, id: ConsentId) -> Result<Option<Consent>, StoreError> {
    let row = sqlx::query("SELECT * FROM consents WHERE id = ?")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn history(pool: &SqlitePool, id: ConsentId) -> Result<Vec<ConsentChange>, StoreError> {
    let rows = sqlx::query("SELECT * FROM consent_history WHERE consent_id = ? ORDER BY id")
        .bind(id.0)
        .fetch_all(pool)
        .await?;
    rows.iter().map(change_from_row).collect()
}

fn status(text: &str) -> Result<ConsentStatus, StoreError> {
    some_code(text, "consent status", ConsentStatus::parse)
}

fn choices(text: &str) -> Result<ConsentChoices, StoreError> {
    code(text, "consent choices", ConsentChoices::decode)
}

fn from_row(row: &SqliteRow) -> Result<Consent, StoreError> {
    let expires: String = row.try_get("expires_on")?;
    Ok(Consent {
        id: ConsentId(row.try_get("id")?),
        institution_id: InstitutionId(row.try_get("institution_id")?),
        person_id: PersonId(row.try_get("person_id")?),
        choices: choices(&row.try_get::<String, _>("choices")?)?,
        status: status(&row.try_get::<String, _>("status")?)?,
        expires_on: to_date(&expires, "consent expiry")?,
        registered_at: to_instant(row.try_get("registered_at")?, "consent")?,
        updated_at: to_instant(row.try_get("updated_at")?, "consent")?,
        version: row.try_get("version")?,
    })
}

fn change_from_row(row: &SqliteRow) -> Result<ConsentChange, StoreError> {
    let issuer: Option<String> = row.try_get("auth_issuer")?;
    let authentication = match issuer {
        Some(certificate_issuer) => Some(CardAuthentication {
            certificate_issuer,
            certificate_serial: row.try_get("auth_serial")?,
            revocation: row.try_get("auth_revocation")?,
        }),
        None => None,
    };
    let old_choices: Option<String> = row.try_get("old_choices")?;
    let old_status: Option<String> = row.try_get("old_status")?;
    let old = match (old_choices, old_status) {
        (Some(c), Some(s)) => Some((choices(&c)?, status(&s)?)),
        _ => None,
    };
    let channel: String = row.try_get("channel")?;
    Ok(ConsentChange {
        consent_id: ConsentId(row.try_get("consent_id")?),
        at: to_instant(row.try_get("at")?, "consent history")?,
        actor: row.try_get("actor")?,
        channel: some_code(&channel, "channel", Channel::parse)?,
        authentication,
        old,
        new: (
            choices(&row.try_get::<String, _>("new_choices")?)?,
            status(&row.try_get::<String, _>("new_status")?)?,
        ),
    })
}
