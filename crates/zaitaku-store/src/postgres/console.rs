//! The institution console's queries on PostgreSQL: the patient list,
//! qualification checks (再照会) and the access log. Consent writes by the staff
//! are in `consents`.

use super::PostgresStore;
use super::audit;
use super::columns::Columns;
use super::consents::{self, Lock, consent_columns};
use super::qualification_checks::{check_from_row, record_check};
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
use time::{Date, OffsetDateTime};
use zaitaku_domain::{ConsentStatus, InstitutionId, PersonId};

#[async_trait]
impl ConsoleStore for PostgresStore {
    async fn patients(&self, q: &PatientQuery) -> Result<Vec<PatientSummary>, StoreError> {
        let pool = &self.pool;
        // One statement for every combination of filters: a NULL filter is off.
        // ILIKE: SQLite's LIKE ignores the case of ASCII letters too.
        let rows = sqlx::query(concat!(
            "SELECT ",
            consent_columns!(),
            ", name, name_kana, birth_date FROM consents \
             JOIN (SELECT id AS pid, name, name_kana, birth_date FROM insured_persons) p \
               ON pid = person_id \
             WHERE institution_id = $1 \
               AND ($2::text IS NULL \
                    OR replace(replace(name, ' ', ''), '\u{3000}', '') ILIKE $2 ESCAPE '\\' \
                    OR replace(replace(name_kana, ' ', ''), '\u{3000}', '') ILIKE $2 ESCAPE '\\') \
               AND ($3::bigint IS NULL OR registered_at >= $3) \
               AND ($4::bigint IS NULL OR registered_at < $4) \
               AND ($5::text IS NULL \
                    OR ($5 = 'standing' AND status = 'active' AND expires_on >= $6) \
                    OR ($5 = 'expired' AND status = 'active' AND expires_on < $6) \
                    OR ($5 = 'revoked' AND status <> 'active')) \
             ORDER BY registered_at DESC, id DESC LIMIT $7 OFFSET $8"
        ))
        .bind(q.institution.0)
        .bind(q.name.as_deref().map(like_pattern))
        .bind(q.registered_from.map(instant))
        .bind(q.registered_before.map(instant))
        .bind(q.state.map(|s| match s {
            ConsentFilter::Standing => "standing",
            ConsentFilter::Expired => "expired",
            ConsentFilter::Revoked => "revoked",
        }))
        .bind(date(q.today))
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
        .fetch_all(pool)
        .await?;
        rows.iter()
            .map(|row| rows::patient_summary(&mut Columns::new(row)))
            .collect()
    }

    /// Newest first, at most `limit`.
    async fn qualification_checks(
        &self,
        institution: InstitutionId,
        person: PersonId,
        limit: u32,
    ) -> Result<Vec<QualificationCheck>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            check_columns!(),
            " FROM qualification_checks WHERE institution_id = $1 AND person_id = $2 \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(institution.0)
        .bind(person.0)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
        .iter()
        .map(check_from_row)
        .collect()
    }

    /// Re-query: while the consent stands, record the person's current record as a
    /// new check and return it. `None` (nothing written) when it does not stand.
    async fn requery_qualification(
        &self,
        institution: InstitutionId,
        person: PersonId,
        today: Date,
        at: OffsetDateTime,
    ) -> Result<Option<QualificationCheck>, StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        // Shared lock: a revocation racing this waits until the check is recorded,
        // so no check is ever recorded after the consent ended.
        let standing = consents::by_parties(&mut tx, institution, person, Lock::Share)
            .await?
            .is_some_and(|c| c.status == ConsentStatus::Active && c.expires_on >= today);
        if !standing {
            return Ok(None);
        }
        let check = record_check(
            &mut tx,
            institution,
            person,
            instant(at),
            CheckSource::Requery,
        )
        .await?;
        tx.commit().await?;
        Ok(check)
    }

    async fn record_access(&self, entry: &AccessEntry) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let scope = audit_scope(entry.institution);
        let head = audit::lock(&mut tx, Chain::AccessLog, scope).await?;
        let (staff_id, login, name) = rows::access_actor_columns(&entry.actor);
        let id: i64 = sqlx::query_scalar(rows::ACCESS_INSERT)
            .bind(instant(entry.at))
            .bind(entry.institution.map(|i| i.0))
            .bind(staff_id)
            .bind(login)
            .bind(name)
            .bind(entry.person.map(|p| p.0))
            .bind(entry.action.code())
            .bind(&entry.device_name)
            .bind(&entry.detail)
            .fetch_one(&mut *tx)
            .await?;
        audit::seal(&mut tx, Chain::AccessLog, scope, &head, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Newest first, at most `limit`.
    async fn access_log(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<AccessLogLine>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            access_log_columns!(),
            " FROM access_log a LEFT JOIN insured_persons p ON p.id = a.person_id \
             WHERE a.institution_id = $1 ORDER BY a.id DESC LIMIT $2"
        ))
        .bind(institution.0)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| rows::access_log_line(&mut Columns::new(row)))
        .collect()
    }
}
