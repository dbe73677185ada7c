//! The institution console's queries: the patient list, qualification checks
//! (再照会) and the access log. Consent writes by the staff are in `consents`.

use super::SqliteStore;
use super::audit;
use super::codec::{self, Columns};
use super::consents::{self, consent_columns};
use super::qualification_checks::record_check;
use crate::audit::{Chain, scope as audit_scope};
use crate::codec::like_pattern;
use crate::codec::{date, instant};
use crate::console_records::{
    AccessEntry, AccessLogLine, CheckSource, ConsentFilter, PatientQuery, PatientSummary,
    QualificationCheck,
};
use crate::error::StoreError;
use crate::rows::{self, access_log_columns, check_columns};
use crate::store::ConsoleStore;
use async_trait::async_trait;
use rusqlite::{Connection, Row, TransactionBehavior, params};
use time::{Date, OffsetDateTime};
use zaitaku_domain::{ConsentStatus, InstitutionId, PersonId};

pub fn patients(conn: &Connection, q: &PatientQuery) -> Result<Vec<PatientSummary>, StoreError> {
    // One statement for every combination of filters: a NULL filter is off.
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        consent_columns!(),
        ", name, name_kana, birth_date FROM consents \
         JOIN (SELECT id AS pid, name, name_kana, birth_date FROM insured_persons) \
           ON pid = person_id \
         WHERE institution_id = ?1 \
           AND (?2 IS NULL \
                OR replace(replace(name, ' ', ''), '\u{3000}', '') LIKE ?2 ESCAPE '\\' \
                OR replace(replace(name_kana, ' ', ''), '\u{3000}', '') LIKE ?2 ESCAPE '\\') \
           AND (?3 IS NULL OR registered_at >= ?3) \
           AND (?4 IS NULL OR registered_at < ?4) \
           AND (?5 IS NULL \
                OR (?5 = 'standing' AND status = 'active' AND expires_on >= ?6) \
                OR (?5 = 'expired' AND status = 'active' AND expires_on < ?6) \
                OR (?5 = 'revoked' AND status <> 'active')) \
         ORDER BY registered_at DESC, id DESC LIMIT ?7 OFFSET ?8"
    ))?;
    let pattern = q.name.as_deref().map(like_pattern);
    let state = q.state.map(|s| match s {
        ConsentFilter::Standing => "standing",
        ConsentFilter::Expired => "expired",
        ConsentFilter::Revoked => "revoked",
    });
    codec::all(
        &mut statement,
        params![
            q.institution.0,
            pattern,
            q.registered_from.map(instant),
            q.registered_before.map(instant),
            state,
            date(q.today),
            q.limit,
            q.offset,
        ],
        |row| rows::patient_summary(&mut Columns::new(row)),
    )
}

/// Newest first, at most `limit`.
pub fn checks(
    conn: &Connection,
    institution: InstitutionId,
    person: PersonId,
    limit: u32,
) -> Result<Vec<QualificationCheck>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        check_columns!(),
        " FROM qualification_checks WHERE institution_id = ? AND person_id = ? \
         ORDER BY id DESC LIMIT ?"
    ))?;
    codec::all(
        &mut statement,
        params![institution.0, person.0, limit],
        check_from_row,
    )
}

/// Re-query: while the consent stands, record the person's current record as a
/// new check and return it. `None` (nothing written) when it does not stand.
pub fn requery(
    conn: &mut Connection,
    institution: InstitutionId,
    person: PersonId,
    today: Date,
    at: OffsetDateTime,
) -> Result<Option<QualificationCheck>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let standing = consents::by_parties(&tx, institution, person)?
        .is_some_and(|c| c.status == ConsentStatus::Active && c.expires_on >= today);
    if !standing {
        return Ok(None);
    }
    let id = record_check(&tx, institution, person, instant(at), CheckSource::Requery)?;
    let mut statement = tx.prepare_cached(concat!(
        "SELECT ",
        check_columns!(),
        " FROM qualification_checks WHERE id = ?"
    ))?;
    let check = codec::optional(&mut statement, [id], check_from_row)?;
    drop(statement);
    tx.commit()?;
    Ok(check)
}

fn check_from_row(row: &Row<'_>) -> Result<QualificationCheck, StoreError> {
    rows::check(&mut Columns::new(row))
}

pub fn record_access(conn: &mut Connection, entry: &AccessEntry) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (staff_id, login, name) = rows::access_actor_columns(&entry.actor);
    let id: i64 = tx.prepare_cached(rows::ACCESS_INSERT)?.query_row(
        params![
            instant(entry.at),
            entry.institution.map(|i| i.0),
            staff_id,
            login,
            name,
            entry.person.map(|p| p.0),
            entry.action.code(),
            entry.device_name,
            entry.detail,
        ],
        |row| row.get(0),
    )?;
    audit::append(&tx, Chain::AccessLog, audit_scope(entry.institution), id)?;
    tx.commit()?;
    Ok(())
}

/// Newest first, at most `limit`.
pub fn access_log(
    conn: &Connection,
    institution: InstitutionId,
    limit: u32,
) -> Result<Vec<AccessLogLine>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        access_log_columns!(),
        " FROM access_log a LEFT JOIN insured_persons p ON p.id = a.person_id \
         WHERE a.institution_id = ? ORDER BY a.id DESC LIMIT ?"
    ))?;
    codec::all(&mut statement, params![institution.0, limit], |row| {
        rows::access_log_line(&mut Columns::new(row))
    })
}

#[async_trait]
impl ConsoleStore for SqliteStore {
    async fn patients(&self, query: &PatientQuery) -> Result<Vec<PatientSummary>, StoreError> {
        let query = query.clone();
        self.read(move |c| patients(c, &query)).await
    }

    async fn qualification_checks(
        &self,
        institution: InstitutionId,
        person: PersonId,
        limit: u32,
    ) -> Result<Vec<QualificationCheck>, StoreError> {
        self.read(move |c| checks(c, institution, person, limit))
            .await
    }

    async fn requery_qualification(
        &self,
        institution: InstitutionId,
        person: PersonId,
        today: time::Date,
        at: OffsetDateTime,
    ) -> Result<Option<QualificationCheck>, StoreError> {
        self.write_durable(move |c| requery(c, institution, person, today, at))
            .await
    }

    async fn record_access(&self, entry: &AccessEntry) -> Result<(), StoreError> {
        let entry = entry.clone();
        // Durable: the log must not lose a look at personal data.
        self.write_durable(move |c| record_access(c, &entry)).await
    }

    async fn access_log(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<AccessLogLine>, StoreError> {
        self.read(move |c| access_log(c, institution, limit)).await
    }
}
