//! The PostgreSQL store: the same [`Store`] on a database that several server
//! processes share. Each method is one statement or one transaction; the rules of
//! the trait (all or nothing, single use under races) hold across processes, not
//! only across tasks: a row lock (`SELECT … FOR UPDATE`) or a conditional
//! `UPDATE … WHERE` decides a race, never process memory.
//!
//! Values are stored as the SQLite store stores them (unix seconds, ISO dates as
//! text, codes), so the two backends mean the same by every column.

mod consents;
mod console;
mod flows;
mod institutions;
mod medical_records;
mod migrate;
mod persons;
mod revocation;
mod sessions;
mod staff;
#[cfg(feature = "testing")]
mod test_schema;
mod trust;

#[cfg(feature = "testing")]
pub use test_schema::{TEST_DATABASE_URL_VAR, TestSchema};

use crate::console_records::{
    AccessEntry, AccessLogLine, PatientQuery, PatientSummary, QualificationCheck, StaffRevocation,
    StaffRevocationOutcome,
};
use crate::error::{SettleError, StoreError};
use crate::records::{
    AnchorAdded, ChallengeRecord, CrlImport, CrlRecord, FlowRecord, InstitutionChanges, NewCrl,
    NewInstitution, NewRecord, NewTrustAnchor, PersonKey, RecordImportCounts, RegistrationWrite,
    RevocationWrite, SessionRecord, TrustAnchorRecord, UpdateOutcome, UpdateWrite, UpsertCounts,
    ViewWrite,
};
use crate::staff::{
    Enrolment, EnrolmentWrite, Lockout, LoginCompletion, LoginRecord, NewStaff, StaffAccount,
    StaffSessionRecord,
};
use crate::store::Store;
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;
use zaitaku_domain::{
    AuthMethod, Consent, ConsentChange, ConsentId, FailureReason, Institution, InstitutionCode,
    InstitutionId, InsuredPerson, LoginName, MedicalRecord, PersonId, Qualification, RecordKind,
    StaffId, UrlToken,
};

/// Connections per process: PostgreSQL serves each on its own backend process,
/// so a few per node, times the nodes, must stay under `max_connections`.
const MAX_CONNECTIONS: u32 = 8;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user@host/db`) and bring the schema up to
    /// date; several processes may start at once (migrations take a lock).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(options(url)?).await
    }

    /// The same, with every table in `schema` (which must exist): tests give
    /// each case its own schema; a deployment may share one database this way.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        let options = options(url)?.options([("search_path", schema)]);
        Self::connect_with(options).await
    }

    async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        migrate::run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// Close every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn options(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url).map_err(|e| StoreError::Database(format!("database URL: {e}")))
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<sqlx::Error> for SettleError {
    fn from(e: sqlx::Error) -> Self {
        SettleError::Store(e.into())
    }
}

/// A unique or primary key already holds the value being written.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[async_trait]
impl Store for PostgresStore {
    async fn insert_institution(&self, new: &NewInstitution) -> Result<Institution, StoreError> {
        institutions::insert_institution(&self.pool, new).await
    }

    async fn institution(&self, id: InstitutionId) -> Result<Option<Institution>, StoreError> {
        institutions::institution(&self.pool, id).await
    }

    async fn institution_by_url_token(
        &self,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError> {
        institutions::institution_by_url_token(&self.pool, token).await
    }

    async fn institutions(&self) -> Result<Vec<Institution>, StoreError> {
        institutions::institutions(&self.pool).await
    }

    async fn institution_by_code(
        &self,
        code: &InstitutionCode,
    ) -> Result<Option<Institution>, StoreError> {
        institutions::institution_by_code(&self.pool, code).await
    }

    async fn update_institution(
        &self,
        code: &InstitutionCode,
        changes: &InstitutionChanges,
    ) -> Result<Option<Institution>, StoreError> {
        institutions::update_institution(&self.pool, code, changes).await
    }

    async fn set_url_token(
        &self,
        code: &InstitutionCode,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError> {
        institutions::set_url_token(&self.pool, code, token).await
    }

    async fn insert_person(&self, qualification: &Qualification) -> Result<PersonId, StoreError> {
        persons::insert_person(&self.pool, qualification).await
    }

    async fn person(&self, id: PersonId) -> Result<Option<InsuredPerson>, StoreError> {
        persons::person(&self.pool, id).await
    }

    async fn person_by_key(&self, key: &PersonKey) -> Result<Option<InsuredPerson>, StoreError> {
        persons::person_by_key(&self.pool, key).await
    }

    async fn upsert_persons(&self, batch: &[Qualification]) -> Result<UpsertCounts, StoreError> {
        persons::upsert_persons(&self.pool, batch).await
    }

    async fn link_certificate(
        &self,
        issuer: &str,
        serial: &str,
        person: PersonId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        persons::link_certificate(&self.pool, issuer, serial, person, at).await
    }

    async fn unlink_certificate(&self, issuer: &str, serial: &str) -> Result<bool, StoreError> {
        persons::unlink_certificate(&self.pool, issuer, serial).await
    }

    async fn person_by_certificate(
        &self,
        issuer: &str,
        serial: &str,
    ) -> Result<Option<InsuredPerson>, StoreError> {
        persons::person_by_certificate(&self.pool, issuer, serial).await
    }

    async fn import_records(&self, batch: &[NewRecord]) -> Result<RecordImportCounts, StoreError> {
        medical_records::import_records(&self.pool, batch).await
    }

    async fn records_of(
        &self,
        person: PersonId,
        kinds: &[RecordKind],
    ) -> Result<Vec<MedicalRecord>, StoreError> {
        medical_records::records_of(&self.pool, person, kinds).await
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        sessions::insert_session(&self.pool, session).await
    }

    async fn session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        sessions::session(&self.pool, id_hash, now).await
    }

    async fn set_session_auth_method(
        &self,
        id_hash: &str,
        method: AuthMethod,
    ) -> Result<(), StoreError> {
        sessions::set_session_auth_method(&self.pool, id_hash, method).await
    }

    async fn insert_staff(&self, new: &NewStaff) -> Result<StaffAccount, StoreError> {
        staff::insert_staff(&self.pool, new).await
    }

    async fn staff(&self, id: StaffId) -> Result<Option<StaffAccount>, StoreError> {
        staff::staff(&self.pool, id).await
    }

    async fn staff_by_login(&self, login: &LoginName) -> Result<Option<StaffAccount>, StoreError> {
        staff::staff_by_login(&self.pool, login).await
    }

    async fn staff_of_institution(
        &self,
        institution: InstitutionId,
    ) -> Result<Vec<StaffAccount>, StoreError> {
        staff::staff_of_institution(&self.pool, institution).await
    }

    async fn staff_by_enrolment(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffAccount>, StoreError> {
        staff::staff_by_enrolment(&self.pool, token_hash, now).await
    }

    async fn complete_enrolment(&self, write: &EnrolmentWrite) -> Result<bool, StoreError> {
        staff::complete_enrolment(&self.pool, write).await
    }

    async fn reset_staff(
        &self,
        login: &LoginName,
        totp_secret: &str,
        enrolment: &Enrolment,
    ) -> Result<Option<StaffAccount>, StoreError> {
        staff::reset_staff(&self.pool, login, totp_secret, enrolment).await
    }

    async fn record_login(&self, attempt: &LoginRecord) -> Result<(), StoreError> {
        staff::record_login(&self.pool, attempt).await
    }

    async fn record_login_failure(
        &self,
        attempt: &LoginRecord,
        lockout: &Lockout,
    ) -> Result<bool, StoreError> {
        staff::record_login_failure(&self.pool, attempt, lockout).await
    }

    async fn complete_login(&self, write: &LoginCompletion) -> Result<bool, StoreError> {
        staff::complete_login(&self.pool, write).await
    }

    async fn insert_staff_session(&self, session: &StaffSessionRecord) -> Result<(), StoreError> {
        staff::insert_staff_session(&self.pool, session).await
    }

    async fn replace_staff_session(
        &self,
        old_hash: &str,
        new: &StaffSessionRecord,
    ) -> Result<(), StoreError> {
        staff::replace_staff_session(&self.pool, old_hash, new).await
    }

    async fn staff_session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffSessionRecord>, StoreError> {
        staff::staff_session(&self.pool, id_hash, now).await
    }

    async fn touch_staff_session(
        &self,
        id_hash: &str,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        staff::touch_staff_session(&self.pool, id_hash, at, expires_at).await
    }

    async fn delete_staff_session(&self, id_hash: &str) -> Result<(), StoreError> {
        staff::delete_staff_session(&self.pool, id_hash).await
    }

    async fn staff_logins(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<LoginRecord>, StoreError> {
        staff::staff_logins(&self.pool, institution, limit).await
    }

    async fn insert_flow(&self, flow: &FlowRecord) -> Result<(), StoreError> {
        flows::insert_flow(&self.pool, flow).await
    }

    async fn flow(&self, id: &str) -> Result<Option<FlowRecord>, StoreError> {
        flows::flow(&self.pool, id).await
    }

    async fn flow_with_institution(
        &self,
        id: &str,
    ) -> Result<Option<(FlowRecord, Institution)>, StoreError> {
        flows::flow_with_institution(&self.pool, id).await
    }

    async fn update_flow(
        &self,
        flow: &FlowRecord,
        new_challenge: Option<&ChallengeRecord>,
    ) -> Result<bool, StoreError> {
        flows::update_flow(&self.pool, flow, new_challenge).await
    }

    async fn challenge(&self, reference: &str) -> Result<Option<ChallengeRecord>, StoreError> {
        flows::challenge(&self.pool, reference).await
    }

    async fn claim_challenge(
        &self,
        reference: &str,
        claim_hash: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        flows::claim_challenge(&self.pool, reference, claim_hash, at).await
    }

    async fn settle_registration(
        &self,
        write: &RegistrationWrite,
    ) -> Result<ConsentId, SettleError> {
        consents::settle_registration(&self.pool, write).await
    }

    async fn settle_revocation(
        &self,
        write: &RevocationWrite,
    ) -> Result<Option<ConsentId>, SettleError> {
        consents::settle_revocation(&self.pool, write).await
    }

    async fn settle_view(&self, write: &ViewWrite) -> Result<Option<Consent>, SettleError> {
        consents::settle_view(&self.pool, write).await
    }

    async fn settle_update(&self, write: &UpdateWrite) -> Result<UpdateOutcome, SettleError> {
        consents::settle_update(&self.pool, write).await
    }

    async fn settle_failure(
        &self,
        challenge_ref: &str,
        reason: FailureReason,
        at: OffsetDateTime,
    ) -> Result<(), SettleError> {
        flows::settle_failure(&self.pool, challenge_ref, reason, at).await
    }

    async fn add_trust_anchors(
        &self,
        anchors: &[NewTrustAnchor],
        at: OffsetDateTime,
    ) -> Result<Vec<AnchorAdded>, StoreError> {
        trust::add_trust_anchors(&self.pool, anchors, at).await
    }

    async fn trust_anchors(&self) -> Result<Vec<TrustAnchorRecord>, StoreError> {
        trust::trust_anchors(&self.pool).await
    }

    async fn import_crls(
        &self,
        crls: &[NewCrl],
        at: OffsetDateTime,
    ) -> Result<CrlImport, StoreError> {
        trust::import_crls(&self.pool, crls, at).await
    }

    async fn crls(&self) -> Result<Vec<CrlRecord>, StoreError> {
        trust::crls(&self.pool).await
    }

    async fn consent(
        &self,
        institution: InstitutionId,
        person: PersonId,
    ) -> Result<Option<Consent>, StoreError> {
        consents::consent(&self.pool, institution, person).await
    }

    async fn consent_by_id(&self, id: ConsentId) -> Result<Option<Consent>, StoreError> {
        consents::consent_by_id(&self.pool, id).await
    }

    async fn consent_history(&self, id: ConsentId) -> Result<Vec<ConsentChange>, StoreError> {
        consents::consent_history(&self.pool, id).await
    }

    async fn patients(&self, query: &PatientQuery) -> Result<Vec<PatientSummary>, StoreError> {
        console::patients(&self.pool, query).await
    }

    async fn qualification_checks(
        &self,
        institution: InstitutionId,
        person: PersonId,
        limit: u32,
    ) -> Result<Vec<QualificationCheck>, StoreError> {
        console::qualification_checks(&self.pool, institution, person, limit).await
    }

    async fn requery_qualification(
        &self,
        institution: InstitutionId,
        person: PersonId,
        today: time::Date,
        at: OffsetDateTime,
    ) -> Result<Option<QualificationCheck>, StoreError> {
        console::requery_qualification(&self.pool, institution, person, today, at).await
    }

    async fn revoke_by_staff(
        &self,
        revocation: &StaffRevocation,
    ) -> Result<StaffRevocationOutcome, StoreError> {
        consents::revoke_by_staff(&self.pool, revocation).await
    }

    async fn record_access(&self, entry: &AccessEntry) -> Result<(), StoreError> {
        console::record_access(&self.pool, entry).await
    }

    async fn access_log(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<AccessLogLine>, StoreError> {
        console::access_log(&self.pool, institution, limit).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        sessions::purge_expired(&self.pool, now).await
    }

    async fn close(&self) {
        PostgresStore::close(self).await
    }
}
