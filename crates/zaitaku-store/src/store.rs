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
use crate::revocation::RevocationIndex;
use crate::staff::{
    Enrolment, EnrolmentWrite, Lockout, LoginCompletion, LoginRecord, NewStaff, StaffAccount,
    StaffSessionRecord,
};
use async_trait::async_trait;
use time::OffsetDateTime;
use zaitaku_domain::{
    AuthMethod, Consent, ConsentChange, ConsentId, FailureReason, Institution, InstitutionCode,
    InstitutionId, InsuredPerson, LoginName, MedicalRecord, PersonId, Qualification, RecordKind,
    StaffId, UrlToken,
};

/// All persistence of Zaitaku. Implementations must make every method that writes
/// more than one row atomic, and the `settle_*` methods single-use under races.
#[async_trait]
pub trait Store: RevocationIndex + Send + Sync + 'static {
    // Institutions.
    async fn insert_institution(&self, new: &NewInstitution) -> Result<Institution, StoreError>;
    async fn institution(&self, id: InstitutionId) -> Result<Option<Institution>, StoreError>;
    async fn institution_by_url_token(
        &self,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError>;
    /// Every institution, in the order they were added.
    async fn institutions(&self) -> Result<Vec<Institution>, StoreError>;
    async fn institution_by_code(
        &self,
        code: &InstitutionCode,
    ) -> Result<Option<Institution>, StoreError>;
    /// Apply `changes` to the institution with `code`, all in one write; its URL
    /// token is kept. The institution as it now stands, or `None` (and nothing
    /// written) if no institution has that code.
    async fn update_institution(
        &self,
        code: &InstitutionCode,
        changes: &InstitutionChanges,
    ) -> Result<Option<Institution>, StoreError>;
    /// Give the institution with `code` a new URL token: from the moment this
    /// returns, the old token finds nothing. `None` if no institution has that
    /// code; `Duplicate` (nothing written) if another institution has `token`.
    async fn set_url_token(
        &self,
        code: &InstitutionCode,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError>;

    // Insured persons and their cards.
    async fn insert_person(&self, qualification: &Qualification) -> Result<PersonId, StoreError>;
    async fn person(&self, id: PersonId) -> Result<Option<InsuredPerson>, StoreError>;
    async fn person_by_key(&self, key: &PersonKey) -> Result<Option<InsuredPerson>, StoreError>;
    /// Insert or update each record by its [`PersonKey`], in one durable
    /// transaction: a known person keeps its id (and so its certificate links and
    /// consents); a record equal to the stored one writes nothing. Keys within
    /// one batch should be distinct (a later record overwrites an earlier one).
    async fn upsert_persons(&self, batch: &[Qualification]) -> Result<UpsertCounts, StoreError>;
    async fn link_certificate(
        &self,
        issuer: &str,
        serial: &str,
        person: PersonId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Remove the certificate's link; false if it had none.
    async fn unlink_certificate(&self, issuer: &str, serial: &str) -> Result<bool, StoreError>;
    async fn person_by_certificate(
        &self,
        issuer: &str,
        serial: &str,
    ) -> Result<Option<InsuredPerson>, StoreError>;

    // Medical records.
    /// Store each record for the person its key names, in one durable
    /// transaction. A record already stored (every field equal) is left alone,
    /// so a re-import changes nothing. A record whose person is not known is
    /// not written and is named in the answer; the rest of the batch is.
    async fn import_records(&self, batch: &[NewRecord]) -> Result<RecordImportCounts, StoreError>;
    /// The person's records of the given kinds (the caller passes the kinds the
    /// patient consented to), newest first; records of one day in the order
    /// they were imported. No kinds, no records.
    async fn records_of(
        &self,
        person: PersonId,
        kinds: &[RecordKind],
    ) -> Result<Vec<MedicalRecord>, StoreError>;

    // Browser sessions.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// The session if it exists and has not expired at `now`.
    async fn session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Remember how this session's staff read cards.
    async fn set_session_auth_method(
        &self,
        id_hash: &str,
        method: AuthMethod,
    ) -> Result<(), StoreError>;

    // Staff accounts and console sessions.
    /// Add an account awaiting enrolment. `Duplicate` (nothing written) if an
    /// account has the login name already.
    async fn insert_staff(&self, new: &NewStaff) -> Result<StaffAccount, StoreError>;
    async fn staff(&self, id: StaffId) -> Result<Option<StaffAccount>, StoreError>;
    async fn staff_by_login(&self, login: &LoginName) -> Result<Option<StaffAccount>, StoreError>;
    /// The institution's accounts, by login name.
    async fn staff_of_institution(
        &self,
        institution: InstitutionId,
    ) -> Result<Vec<StaffAccount>, StoreError>;
    /// The account whose pending enrolment token hashes to `token_hash`, if the
    /// token has not expired at `now`.
    async fn staff_by_enrolment(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffAccount>, StoreError>;
    /// Finish enrolment, all or nothing: set the password hash, mark the TOTP step
    /// used, clear failures, lock and the token, log `Enrolment`, and replace the
    /// form's session by the new one if given. Only while the token is still the
    /// account's and unexpired at `write.at`: false (nothing written) otherwise.
    async fn complete_enrolment(&self, write: &EnrolmentWrite) -> Result<bool, StoreError>;
    /// Clear the password and second factor (the new secret is `totp_secret`),
    /// unlock, end every session of the account and give it a new enrolment
    /// token, in one transaction. `None` (nothing written) if no account has `login`.
    async fn reset_staff(
        &self,
        login: &LoginName,
        totp_secret: &str,
        enrolment: &Enrolment,
    ) -> Result<Option<StaffAccount>, StoreError>;
    /// Log an attempt that changes no account (an unknown login, a locked account).
    async fn record_login(&self, attempt: &LoginRecord) -> Result<(), StoreError>;
    /// A wrong password or code for `attempt.staff_id`: log and count it. The
    /// `lockout.max_failures`-th failure in a row locks the account until
    /// `attempt.at + lockout.duration`, starts the count again and ends the
    /// account's password-only sessions. One transaction; true if now locked.
    async fn record_login_failure(
        &self,
        attempt: &LoginRecord,
        lockout: &Lockout,
    ) -> Result<bool, StoreError>;
    /// The second factor was right: if `write.totp_step` is later than the
    /// account's last used step, mark it used, clear failures and lock, replace
    /// the password-only session by `write.session` and log `Success`, all in one
    /// transaction. False (nothing written) for a step already used (a replayed
    /// code) or a password-only session that is gone.
    async fn complete_login(&self, write: &LoginCompletion) -> Result<bool, StoreError>;
    async fn insert_staff_session(&self, session: &StaffSessionRecord) -> Result<(), StoreError>;
    /// Delete the session `old_hash` (if it is still there) and insert `new`: a
    /// new id at each step of a login.
    async fn replace_staff_session(
        &self,
        old_hash: &str,
        new: &StaffSessionRecord,
    ) -> Result<(), StoreError>;
    /// The console session if it exists and has not expired at `now`.
    async fn staff_session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffSessionRecord>, StoreError>;
    /// The session was used at `at`; it now expires at `expires_at`.
    async fn touch_staff_session(
        &self,
        id_hash: &str,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn delete_staff_session(&self, id_hash: &str) -> Result<(), StoreError>;
    /// The login log of the institution's accounts, newest first, at most `limit` lines.
    async fn staff_logins(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<LoginRecord>, StoreError>;

    // Flows and their challenges.
    async fn insert_flow(&self, flow: &FlowRecord) -> Result<(), StoreError>;
    async fn flow(&self, id: &str) -> Result<Option<FlowRecord>, StoreError>;
    /// The flow and its institution in one call: every flow page needs both.
    async fn flow_with_institution(
        &self,
        id: &str,
    ) -> Result<Option<(FlowRecord, Institution)>, StoreError>;
    /// Store `flow` if its stored version is still `flow.version`; the stored
    /// version becomes `flow.version + 1`. A pending challenge of the flow other
    /// than `flow.challenge_ref` is cancelled, and `new_challenge` inserted, in the
    /// same transaction. Returns false (and writes nothing) on a version conflict.
    async fn update_flow(
        &self,
        flow: &FlowRecord,
        new_challenge: Option<&ChallengeRecord>,
    ) -> Result<bool, StoreError>;
    async fn challenge(&self, reference: &str) -> Result<Option<ChallengeRecord>, StoreError>;
    /// The first authenticator to fetch a pending, unexpired challenge claims it:
    /// store `claim_hash` if none is stored yet. True if this call claimed it.
    async fn claim_challenge(
        &self,
        reference: &str,
        claim_hash: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Use the challenge, write the consent and its history, and finish the flow:
    /// all or nothing, and at most once per challenge.
    async fn settle_registration(
        &self,
        write: &RegistrationWrite,
    ) -> Result<ConsentId, SettleError>;
    /// Use the challenge, revoke every item of the person's standing consent at
    /// the institution (the prescription form withdrawn), write its history and
    /// finish the flow: all or nothing, at most once. With no standing consent,
    /// nothing is revoked, the flow ends with `NothingRegistered`, and `None` is returned.
    async fn settle_revocation(
        &self,
        write: &RevocationWrite,
    ) -> Result<Option<ConsentId>, SettleError>;
    /// Flow B's first card: use the challenge and move the flow to its edit step
    /// with the person's standing consent (active, not expired before
    /// `write.today`) pre-selected, recording the person and consent on the flow.
    /// With none, the flow ends with `NothingRegistered` and `None` is returned.
    /// Writes nothing about the consent; at most once.
    async fn settle_view(&self, write: &ViewWrite) -> Result<Option<Consent>, SettleError>;
    /// Flow B's second card: use the challenge and, if the consent is still
    /// active at the viewed version, write the new answers (a new expiry), its
    /// history, and finish the flow. Otherwise end the flow with `UpdateConflict`
    /// and write no consent or history: a concurrent change is never overwritten.
    async fn settle_update(&self, write: &UpdateWrite) -> Result<UpdateOutcome, SettleError>;
    /// Use the challenge and end its flow with `reason`: all or nothing, at most once.
    async fn settle_failure(
        &self,
        challenge_ref: &str,
        reason: FailureReason,
        at: OffsetDateTime,
    ) -> Result<(), SettleError>;

    // Trust anchors and CRLs.
    /// Add each anchor not stored yet (by fingerprint), all in one durable
    /// transaction; one answer per anchor, in order.
    async fn add_trust_anchors(
        &self,
        anchors: &[NewTrustAnchor],
        at: OffsetDateTime,
    ) -> Result<Vec<AnchorAdded>, StoreError>;
    /// Every anchor, in the order they were added.
    async fn trust_anchors(&self) -> Result<Vec<TrustAnchorRecord>, StoreError>;
    /// Store each CRL in place of the one kept for its issuer, signer and
    /// partition, in one durable transaction: only if each supersedes the kept
    /// one (see [`NewCrl::supersedes`]), else nothing is written. The signer must
    /// be a stored anchor (`Database` error otherwise).
    async fn import_crls(
        &self,
        crls: &[NewCrl],
        at: OffsetDateTime,
    ) -> Result<CrlImport, StoreError>;
    /// The CRL kept for each issuer, signer and partition, oldest import first.
    async fn crls(&self) -> Result<Vec<CrlRecord>, StoreError>;

    // Consents.
    async fn consent(
        &self,
        institution: InstitutionId,
        person: PersonId,
    ) -> Result<Option<Consent>, StoreError>;
    async fn consent_by_id(&self, id: ConsentId) -> Result<Option<Consent>, StoreError>;
    /// Oldest first.
    async fn consent_history(&self, id: ConsentId) -> Result<Vec<ConsentChange>, StoreError>;

    // Institution console.
    /// One institution's consents with their persons, filtered and paged.
    async fn patients(&self, query: &PatientQuery) -> Result<Vec<PatientSummary>, StoreError>;
    /// The institution's qualification checks of the person, newest first.
    async fn qualification_checks(
        &self,
        institution: InstitutionId,
        person: PersonId,
        limit: u32,
    ) -> Result<Vec<QualificationCheck>, StoreError>;
    /// Re-query (再照会): while the person's consent at the institution stands
    /// on `today`, record their current qualification as a new check and return
    /// it; `None`, and nothing written, when it does not stand.
    async fn requery_qualification(
        &self,
        institution: InstitutionId,
        person: PersonId,
        today: time::Date,
        at: OffsetDateTime,
    ) -> Result<Option<QualificationCheck>, StoreError>;
    /// Revoke every item of the consent for the patient, from the console: all
    /// or nothing, and only at the version the staff confirmed.
    async fn revoke_by_staff(
        &self,
        revocation: &StaffRevocation,
    ) -> Result<StaffRevocationOutcome, StoreError>;
    async fn record_access(&self, entry: &AccessEntry) -> Result<(), StoreError>;
    /// The institution's access log, newest first.
    async fn access_log(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<AccessLogLine>, StoreError>;

    /// Forget sessions (console sessions too), and settled or abandoned flows and challenges, expired
    /// before `now`. Consents and their history are never purged here.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// Close every connection (SQLite: the last one checkpoints the WAL into the
    /// database file); later calls fail. For commands that exit right after.
    async fn close(&self);
}
