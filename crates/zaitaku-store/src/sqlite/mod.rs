//! The embedded SQLite store: one file, WAL, one writer connection and a few
//! readers. `synchronous = FULL`: a registered consent must survive a power cut,
//! and in WAL mode FULL costs one fsync per commit, not per page.

mod codec;
mod consents;
mod flows;
mod institutions;
mod persons;
mod sessions;

use crate::error::{SettleError, StoreError};
use crate::records::{
    ChallengeRecord, FlowRecord, NewInstitution, RegistrationWrite, SessionRecord,
};
use crate::store::Store;
use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;
use zaitaku_domain::{
    Consent, ConsentChange, ConsentId, FailureReason, Institution, InstitutionId, InsuredPerson,
    PersonId, Qualification, UrlToken,
};

/// Readers run in parallel with the writer under WAL.
const READERS: u32 = 4;

#[derive(Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    /// One connection: SQLite allows one writer, and queueing here is cheaper
    /// than SQLITE_BUSY retries.
    write: SqlitePool,
}

impl SqliteStore {
    /// Open (creating if missing) the database file and apply migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore { read, write })
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_institution(&self, new: &NewInstitution) -> Result<Institution, StoreError> {
        institutions::insert(&self.write, new).await
    }

    async fn institution(&self, id: InstitutionId) -> Result<Option<Institution>, StoreError> {
        institutions::by_id(&self.read, id).await
    }

    async fn institution_by_url_token(
        &self,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError> {
        institutions::by_url_token(&self.read, token).await
    }

    async fn institutions(&self) -> Result<Vec<Institution>, StoreError> {
        institutions::all(&self.read).await
    }

    async fn insert_person(&self, qualification: &Qualification) -> Result<PersonId, StoreError> {
        persons::insert(&self.write, qualification).await
    }

    async fn person(&self, id: PersonId) -> Result<Option<InsuredPerson>, StoreError> {
        persons::by_id(&self.read, id).await
    }

    async fn link_certificate(
        &self,
        issuer: &str,
        serial: &str,
        person: PersonId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        persons::link_certificate(&self.write, issuer, serial, person, at).await
    }

    async fn person_by_certificate(
        &self,
        issuer: &str,
        serial: &str,
    ) -> Result<Option<InsuredPerson>, StoreError> {
        persons::by_certificate(&self.read, issuer, serial).await
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        sessions::insert(&self.write, session).await
    }

    async fn session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        sessions::live(&self.read, id_hash, now).await
    }

    async fn insert_flow(&self, flow: &FlowRecord) -> Result<(), StoreError> {
        flows::insert(&self.write, flow).await
    }

    async fn flow(&self, id: &str) -> Result<Option<FlowRecord>, StoreError> {
        flows::by_id(&self.read, id).await
    }

    async fn update_flow(
        &self,
        flow: &FlowRecord,
        new_challenge: Option<&ChallengeRecord>,
    ) -> Result<bool, StoreError> {
        flows::update(&self.write, flow, new_challenge).await
    }

    async fn challenge(&self, reference: &str) -> Result<Option<ChallengeRecord>, StoreError> {
        flows::challenge(&self.read, reference).await
    }

    async fn settle_registration(
        &self,
        write: &RegistrationWrite,
    ) -> Result<ConsentId, SettleError> {
        consents::settle_registration(&self.write, write).await
    }

    async fn settle_failure(
        &self,
        challenge_ref: &str,
        reason: FailureReason,
        at: OffsetDateTime,
    ) -> Result<(), SettleError> {
        flows::settle_failure(&self.write, challenge_ref, reason, at).await
    }

    async fn consent(
        &self,
        institution: InstitutionId,
        person: PersonId,
    ) -> Result<Option<Consent>, StoreError> {
        consents::by_parties(&self.read, institution, person).await
    }

    async fn consent_by_id(&self, id: ConsentId) -> Result<Option<Consent>, StoreError> {
        consents::by_id(&self.read, id).await
    }

    async fn consent_history(&self, id: ConsentId) -> Result<Vec<ConsentChange>, StoreError> {
        consents::history(&self.read, id).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        flows::purge_expired(&self.write, now).await
    }
}
