//! The embedded SQLite store: one file, WAL, one writer connection and a few
//! readers.
//!
//! Durability is chosen per write. What must survive a power cut (consents and
//! their history, institutions, insured persons, certificate links, medical
//! records, trust anchors and CRLs) commits with `synchronous = FULL`: one fsync
//! of the WAL per commit. Flow bookkeeping (sessions, flow steps, challenges,
//! failed settlements) commits with `NORMAL`: still atomic and consistent, and
//! synced by the next durable commit or checkpoint; a power cut can at worst send
//! a patient back one step of an unfinished flow. The WAL is append-only, so a
//! durable commit also makes every earlier commit durable, in order.
//!
//! SQLite's calls block. Every [`Store`] method runs as one closure holding one
//! connection from its first statement to its last. Durable writes (a commit
//! waits for an fsync) run on tokio's blocking pool: one thread handoff per call.
//! Reads and bookkeeping writes, tens of microseconds, run on the calling worker
//! thread when their connection is free, since the handoff would cost more than
//! the work; when it is busy, they too go to the blocking pool. Statements are
//! prepared once per connection and cached.

pub(crate) mod codec;
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
mod trust;

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
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;
use time::OffsetDateTime;
use zaitaku_domain::{
    AuthMethod, Consent, ConsentChange, ConsentId, FailureReason, Institution, InstitutionCode,
    InstitutionId, InsuredPerson, LoginName, MedicalRecord, PersonId, Qualification, RecordKind,
    StaffId, UrlToken,
};

/// Readers run in parallel with the writer under WAL.
const READERS: usize = 4;
/// More than the distinct statements any one connection makes, so none is
/// ever prepared twice.
const STATEMENT_CACHE: usize = 64;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
}

/// The connections; `None` once the store is closed.
struct Pool {
    /// One connection: SQLite allows one writer, and queueing here is cheaper
    /// than SQLITE_BUSY retries.
    writer: Mutex<Option<Connection>>,
    readers: Vec<Mutex<Option<Connection>>>,
    next_reader: AtomicUsize,
}

impl SqliteStore {
    /// Open (creating if missing) the database file and apply migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_owned();
        let pool = run(move || Pool::open(&path)).await?;
        Ok(SqliteStore {
            pool: Arc::new(pool),
        })
    }

    /// Close every connection; later calls fail. The last connection to close
    /// checkpoints the WAL into the database file.
    pub async fn close(&self) {
        let pool = Arc::clone(&self.pool);
        let _ = run(move || {
            for reader in &pool.readers {
                lock(reader).take();
            }
            lock(&pool.writer).take();
            Ok::<_, StoreError>(())
        })
        .await;
    }

    /// Run `f` on a reader connection: here if one is free, else on the
    /// blocking pool. Holds the worker thread for the read; a cold page cache
    /// (disk reads) or a busy database (up to the busy timeout) would hold it longer.
    async fn read<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if let Some(reader) = self.pool.free_reader() {
            return catch_panic(|| f(reader.as_ref().ok_or_else(closed)?));
        }
        let pool = Arc::clone(&self.pool);
        run(move || {
            let reader = pool.reader();
            f(reader.as_ref().ok_or_else(closed)?)
        })
        .await
    }

    /// Run `f` on the writer connection. These commits do not wait for the disk
    /// (`synchronous = NORMAL`), so, like reads, they run here when the writer is
    /// free; when it is busy (a durable commit waiting for its fsync), on the
    /// blocking pool. Several writes belong in one transaction (`BEGIN IMMEDIATE`).
    async fn write<T, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        if let Some(mut writer) = self.pool.free_writer() {
            return catch_panic(|| with_writer(&mut writer, f));
        }
        let pool = Arc::clone(&self.pool);
        run(move || with_writer(&mut lock(&pool.writer), f)).await
    }

    /// Run `f` on the writer with `synchronous = FULL`, on the blocking pool:
    /// the commit is on disk when it returns.
    async fn write_durable<T, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        run(move || {
            with_writer(&mut lock(&pool.writer), |conn| {
                conn.pragma_update(None, "synchronous", "FULL")
                    .map_err(StoreError::from)?;
                let result = f(conn);
                conn.pragma_update(None, "synchronous", "NORMAL")
                    .map_err(StoreError::from)?;
                result
            })
        })
        .await
    }
}

fn with_writer<T, E: From<StoreError>>(
    writer: &mut Option<Connection>,
    f: impl FnOnce(&mut Connection) -> Result<T, E>,
) -> Result<T, E> {
    let conn = writer.as_mut().ok_or_else(closed)?;
    if !conn.is_autocommit() {
        // Only if a rollback failed: never let the next call's writes
        // join a transaction left open.
        conn.execute_batch("ROLLBACK").map_err(StoreError::from)?;
    }
    f(conn)
}

impl Pool {
    fn open(path: &Path) -> Result<Pool, StoreError> {
        let mut writer = Connection::open(path)?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!(
                "journal mode {mode} instead of WAL"
            )));
        }
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        writer.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate::run(&mut writer)?;

        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                reader.busy_timeout(BUSY_TIMEOUT)?;
                reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                Ok(Mutex::new(Some(reader)))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Pool {
            writer: Mutex::new(Some(writer)),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// The writer, if no one holds it.
    fn free_writer(&self) -> Option<MutexGuard<'_, Option<Connection>>> {
        match self.writer.try_lock() {
            Ok(writer) => Some(writer),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// A free reader, trying them in turn, if there is one.
    fn free_reader(&self) -> Option<MutexGuard<'_, Option<Connection>>> {
        let first = self.next_reader.fetch_add(1, Ordering::Relaxed);
        (0..self.readers.len()).find_map(|i| {
            match self.readers[(first + i) % self.readers.len()].try_lock() {
                Ok(reader) => Some(reader),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        })
    }

    /// A free reader if there is one, else wait for the next in turn.
    fn reader(&self) -> MutexGuard<'_, Option<Connection>> {
        self.free_reader().unwrap_or_else(|| {
            let next = self.next_reader.fetch_add(1, Ordering::Relaxed);
            lock(&self.readers[next % self.readers.len()])
        })
    }
}

/// A panic inside a store call poisons its connection's mutex. The connection
/// itself is sound (an open transaction rolls back while unwinding), so go on
/// using it rather than failing every later call.
fn lock(connection: &Mutex<Option<Connection>>) -> MutexGuard<'_, Option<Connection>> {
    connection.lock().unwrap_or_else(PoisonError::into_inner)
}

fn closed() -> StoreError {
    StoreError::Database("the store is closed".to_owned())
}

/// Run `f` on the blocking pool; its panic becomes an error, not the caller's panic.
async fn run<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(panicked().into()),
        Err(_) => Err(StoreError::Database("a store call was cancelled".to_owned()).into()),
    }
}

/// Run `f` here; its panic becomes an error, not the caller's panic.
fn catch_panic<T, E: From<StoreError>>(f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(panicked().into()))
}

fn panicked() -> StoreError {
    StoreError::Database("a store call panicked".to_owned())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<rusqlite::Error> for SettleError {
    fn from(e: rusqlite::Error) -> Self {
        SettleError::Store(e.into())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_institution(&self, new: &NewInstitution) -> Result<Institution, StoreError> {
        let new = new.clone();
        self.write_durable(move |c| institutions::insert(c, &new))
            .await
    }

    async fn institution(&self, id: InstitutionId) -> Result<Option<Institution>, StoreError> {
        self.read(move |c| institutions::by_id(c, id)).await
    }

    async fn institution_by_url_token(
        &self,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError> {
        let token = token.clone();
        self.read(move |c| institutions::by_url_token(c, &token))
            .await
    }

    async fn institutions(&self) -> Result<Vec<Institution>, StoreError> {
        self.read(institutions::all).await
    }

    async fn institution_by_code(
        &self,
        code: &InstitutionCode,
    ) -> Result<Option<Institution>, StoreError> {
        let code = *code;
        self.read(move |c| institutions::by_code(c, &code)).await
    }

    async fn update_institution(
        &self,
        code: &InstitutionCode,
        changes: &InstitutionChanges,
    ) -> Result<Option<Institution>, StoreError> {
        let (code, changes) = (*code, changes.clone());
        self.write_durable(move |c| institutions::update(c, &code, &changes))
            .await
    }

    async fn set_url_token(
        &self,
        code: &InstitutionCode,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError> {
        let (code, token) = (*code, token.clone());
        self.write_durable(move |c| institutions::set_url_token(c, &code, &token))
            .await
    }

    async fn insert_person(&self, qualification: &Qualification) -> Result<PersonId, StoreError> {
        let qualification = qualification.clone();
        self.write_durable(move |c| persons::insert(c, &qualification))
            .await
    }

    async fn person(&self, id: PersonId) -> Result<Option<InsuredPerson>, StoreError> {
        self.read(move |c| persons::by_id(c, id)).await
    }

    async fn person_by_key(&self, key: &PersonKey) -> Result<Option<InsuredPerson>, StoreError> {
        let key = key.clone();
        self.read(move |c| persons::by_key(c, &key)).await
    }

    async fn upsert_persons(&self, batch: &[Qualification]) -> Result<UpsertCounts, StoreError> {
        let batch = batch.to_vec();
        self.write_durable(move |c| persons::upsert(c, &batch))
            .await
    }

    async fn link_certificate(
        &self,
        issuer: &str,
        serial: &str,
        person: PersonId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (issuer, serial) = (issuer.to_owned(), serial.to_owned());
        self.write_durable(move |c| persons::link_certificate(c, &issuer, &serial, person, at))
            .await
    }

    async fn unlink_certificate(&self, issuer: &str, serial: &str) -> Result<bool, StoreError> {
        let (issuer, serial) = (issuer.to_owned(), serial.to_owned());
        self.write_durable(move |c| persons::unlink_certificate(c, &issuer, &serial))
            .await
    }

    async fn person_by_certificate(
        &self,
        issuer: &str,
        serial: &str,
    ) -> Result<Option<InsuredPerson>, StoreError> {
        let (issuer, serial) = (issuer.to_owned(), serial.to_owned());
        self.read(move |c| persons::by_certificate(c, &issuer, &serial))
            .await
    }

    async fn import_records(&self, batch: &[NewRecord]) -> Result<RecordImportCounts, StoreError> {
        let batch = batch.to_vec();
        self.write_durable(move |c| medical_records::import(c, &batch))
            .await
    }

    async fn records_of(
        &self,
        person: PersonId,
        kinds: &[RecordKind],
    ) -> Result<Vec<MedicalRecord>, StoreError> {
        let kinds = kinds.to_vec();
        self.read(move |c| medical_records::of_person(c, person, &kinds))
            .await
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let session = session.clone();
        self.write(move |c| sessions::insert(c, &session)).await
    }

    async fn set_session_auth_method(
        &self,
        id_hash: &str,
        method: AuthMethod,
    ) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.write(move |c| sessions::set_auth_method(c, &id_hash, method))
            .await
    }

    async fn session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.read(move |c| sessions::live(c, &id_hash, now)).await
    }

    async fn insert_staff(&self, new: &NewStaff) -> Result<StaffAccount, StoreError> {
        let new = new.clone();
        self.write_durable(move |c| staff::insert(c, &new)).await
    }

    async fn staff(&self, id: StaffId) -> Result<Option<StaffAccount>, StoreError> {
        self.read(move |c| staff::by_id(c, id)).await
    }

    async fn staff_by_login(&self, login: &LoginName) -> Result<Option<StaffAccount>, StoreError> {
        let login = login.clone();
        self.read(move |c| staff::by_login(c, &login)).await
    }

    async fn staff_of_institution(
        &self,
        institution: InstitutionId,
    ) -> Result<Vec<StaffAccount>, StoreError> {
        self.read(move |c| staff::of_institution(c, institution))
            .await
    }

    async fn staff_by_enrolment(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| staff::by_enrolment(c, &token_hash, now))
            .await
    }

    async fn complete_enrolment(&self, write: &EnrolmentWrite) -> Result<bool, StoreError> {
        let write = write.clone();
        self.write_durable(move |c| staff::complete_enrolment(c, &write))
            .await
    }

    async fn reset_staff(
        &self,
        login: &LoginName,
        totp_secret: &str,
        enrolment: &Enrolment,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let (login, secret, enrolment) = (login.clone(), totp_secret.to_owned(), enrolment.clone());
        self.write_durable(move |c| staff::reset(c, &login, &secret, &enrolment))
            .await
    }

    // The login log is an audit trail: its writes are durable.
    async fn record_login(&self, attempt: &LoginRecord) -> Result<(), StoreError> {
        let attempt = attempt.clone();
        self.write_durable(move |c| staff::record(c, &attempt))
            .await
    }

    async fn record_login_failure(
        &self,
        attempt: &LoginRecord,
        lockout: &Lockout,
    ) -> Result<bool, StoreError> {
        let (attempt, lockout) = (attempt.clone(), *lockout);
        self.write_durable(move |c| staff::record_failure(c, &attempt, &lockout))
            .await
    }

    async fn complete_login(&self, write: &LoginCompletion) -> Result<bool, StoreError> {
        let write = write.clone();
        self.write_durable(move |c| staff::complete_login(c, &write))
            .await
    }

    async fn insert_staff_session(&self, session: &StaffSessionRecord) -> Result<(), StoreError> {
        let session = session.clone();
        self.write(move |c| staff::insert_session(c, &session))
            .await
    }

    async fn replace_staff_session(
        &self,
        old_hash: &str,
        new: &StaffSessionRecord,
    ) -> Result<(), StoreError> {
        let (old_hash, new) = (old_hash.to_owned(), new.clone());
        self.write(move |c| staff::replace_session(c, &old_hash, &new))
            .await
    }

    async fn staff_session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffSessionRecord>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.read(move |c| staff::session(c, &id_hash, now)).await
    }

    async fn touch_staff_session(
        &self,
        id_hash: &str,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.write(move |c| staff::touch_session(c, &id_hash, at, expires_at))
            .await
    }

    async fn delete_staff_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.write(move |c| staff::delete_session(c, &id_hash))
            .await
    }

    async fn staff_logins(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<LoginRecord>, StoreError> {
        self.read(move |c| staff::logins(c, institution, limit))
            .await
    }

    async fn insert_flow(&self, flow: &FlowRecord) -> Result<(), StoreError> {
        let flow = flow.clone();
        self.write(move |c| flows::insert(c, &flow)).await
    }

    async fn flow(&self, id: &str) -> Result<Option<FlowRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| flows::by_id(c, &id)).await
    }

    async fn flow_with_institution(
        &self,
        id: &str,
    ) -> Result<Option<(FlowRecord, Institution)>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| {
            let Some(flow) = flows::by_id(c, &id)? else {
                return Ok(None);
            };
            let institution =
                institutions::by_id(c, flow.institution_id)?.ok_or(StoreError::Corrupt {
                    what: "flow's institution",
                })?;
            Ok(Some((flow, institution)))
        })
        .await
    }

    async fn update_flow(
        &self,
        flow: &FlowRecord,
        new_challenge: Option<&ChallengeRecord>,
    ) -> Result<bool, StoreError> {
        let (flow, new_challenge) = (flow.clone(), new_challenge.cloned());
        self.write(move |c| flows::update(c, &flow, new_challenge.as_ref()))
            .await
    }

    async fn challenge(&self, reference: &str) -> Result<Option<ChallengeRecord>, StoreError> {
        let reference = reference.to_owned();
        self.read(move |c| flows::challenge(c, &reference)).await
    }

    async fn claim_challenge(
        &self,
        reference: &str,
        claim_hash: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (reference, claim_hash) = (reference.to_owned(), claim_hash.to_owned());
        self.write(move |c| flows::claim(c, &reference, &claim_hash, at))
            .await
    }

    async fn settle_registration(
        &self,
        write: &RegistrationWrite,
    ) -> Result<ConsentId, SettleError> {
        let write = write.clone();
        self.write_durable(move |c| consents::settle_registration(c, &write))
            .await
    }

    async fn settle_revocation(
        &self,
        write: &RevocationWrite,
    ) -> Result<Option<ConsentId>, SettleError> {
        let write = write.clone();
        self.write_durable(move |c| consents::settle_revocation(c, &write))
            .await
    }

    async fn settle_view(&self, write: &ViewWrite) -> Result<Option<Consent>, SettleError> {
        let write = write.clone();
        // Only the challenge and the flow change: bookkeeping durability.
        self.write(move |c| consents::settle_view(c, &write)).await
    }

    async fn settle_update(&self, write: &UpdateWrite) -> Result<UpdateOutcome, SettleError> {
        let write = write.clone();
        self.write_durable(move |c| consents::settle_update(c, &write))
            .await
    }

    async fn settle_failure(
        &self,
        challenge_ref: &str,
        reason: FailureReason,
        at: OffsetDateTime,
    ) -> Result<(), SettleError> {
        let challenge_ref = challenge_ref.to_owned();
        self.write(move |c| flows::settle_failure(c, &challenge_ref, reason, at))
            .await
    }

    async fn add_trust_anchors(
        &self,
        anchors: &[NewTrustAnchor],
        at: OffsetDateTime,
    ) -> Result<Vec<AnchorAdded>, StoreError> {
        let anchors = anchors.to_vec();
        self.write_durable(move |c| trust::add_anchors(c, &anchors, at))
            .await
    }

    async fn trust_anchors(&self) -> Result<Vec<TrustAnchorRecord>, StoreError> {
        self.read(trust::anchors).await
    }

    async fn import_crls(
        &self,
        crls: &[NewCrl],
        at: OffsetDateTime,
    ) -> Result<CrlImport, StoreError> {
        let crls = crls.to_vec();
        self.write_durable(move |c| trust::import_crls(c, &crls, at))
            .await
    }

    async fn crls(&self) -> Result<Vec<CrlRecord>, StoreError> {
        self.read(trust::crls).await
    }

    async fn consent(
        &self,
        institution: InstitutionId,
        person: PersonId,
    ) -> Result<Option<Consent>, StoreError> {
        self.read(move |c| consents::by_parties(c, institution, person))
            .await
    }

    async fn consent_by_id(&self, id: ConsentId) -> Result<Option<Consent>, StoreError> {
        self.read(move |c| consents::by_id(c, id)).await
    }

    async fn consent_history(&self, id: ConsentId) -> Result<Vec<ConsentChange>, StoreError> {
        self.read(move |c| consents::history(c, id)).await
    }

    async fn patients(&self, query: &PatientQuery) -> Result<Vec<PatientSummary>, StoreError> {
        let query = query.clone();
        self.read(move |c| console::patients(c, &query)).await
    }

    async fn qualification_checks(
        &self,
        institution: InstitutionId,
        person: PersonId,
        limit: u32,
    ) -> Result<Vec<QualificationCheck>, StoreError> {
        self.read(move |c| console::checks(c, institution, person, limit))
            .await
    }

    async fn requery_qualification(
        &self,
        institution: InstitutionId,
        person: PersonId,
        today: time::Date,
        at: OffsetDateTime,
    ) -> Result<Option<QualificationCheck>, StoreError> {
        self.write_durable(move |c| console::requery(c, institution, person, today, at))
            .await
    }

    async fn revoke_by_staff(
        &self,
        revocation: &StaffRevocation,
    ) -> Result<StaffRevocationOutcome, StoreError> {
        let revocation = revocation.clone();
        self.write_durable(move |c| consents::revoke_by_staff(c, &revocation))
            .await
    }

    async fn record_access(&self, entry: &AccessEntry) -> Result<(), StoreError> {
        let entry = entry.clone();
        // Durable: the log must not lose a look at personal data.
        self.write_durable(move |c| console::record_access(c, &entry))
            .await
    }

    async fn access_log(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<AccessLogLine>, StoreError> {
        self.read(move |c| console::access_log(c, institution, limit))
            .await
    }

    async fn close(&self) {
        SqliteStore::close(self).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.write(move |c| Ok(flows::purge_expired(c, now)? + staff::purge(c, now)?))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zaitaku_domain::{ConsentItem, EPrescriptionUsage, InstitutionCode};

    fn clinic(token: char) -> NewInstitution {
        NewInstitution {
            code: InstitutionCode::parse("1310123458").unwrap(),
            name: "クリニック".into(),
            offered_items: vec![ConsentItem::Medication],
            e_prescription: EPrescriptionUsage::NotUsed,
            consent_validity_days: 30,
            url_token: UrlToken::parse(&token.to_string().repeat(43)).unwrap(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn duplicates_and_corrupt_values_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
        let institution = store.insert_institution(&clinic('a')).await.unwrap();
        assert!(matches!(
            store.insert_institution(&clinic('b')).await,
            Err(StoreError::Duplicate { .. })
        ));
        assert_eq!(
            store.institutions().await.unwrap(),
            vec![institution.clone()]
        );
        store
            .write(|c| {
                c.execute("UPDATE institutions SET offered_items = 'XXX'", [])
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
        assert!(matches!(
            store.institution(institution.id).await,
            Err(StoreError::Corrupt {
                what: "offered items"
            })
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_call_is_an_error_and_the_connection_lives_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
        let migrations = || {
            store.read(|c| {
                c.query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
                    .map_err(StoreError::from)
            })
        };
        let applied: i64 = migrations().await.unwrap();
        assert!(applied > 0);
        let panicked = store
            .write(|c| -> Result<(), StoreError> {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                tx.execute("DELETE FROM schema_migrations", [])?;
                panic!("a bug");
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::Database(_))));
        // The transaction rolled back, and the poisoned writer still works.
        store.insert_institution(&clinic('a')).await.unwrap();
        assert_eq!(migrations().await.unwrap(), applied);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_read_is_an_error_too() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
        for _ in 0..READERS + 1 {
            let panicked = store
                .read(|_| -> Result<(), StoreError> { panic!("a bug") })
                .await;
            assert!(matches!(panicked, Err(StoreError::Database(_))));
        }
        assert!(store.institutions().await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_store_refuses_calls_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_institution(&clinic('a')).await.unwrap();
        store.close().await;
        assert!(matches!(
            store.institutions().await,
            Err(StoreError::Database(_))
        ));
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.institutions().await.unwrap().len(), 1);
    }
}
