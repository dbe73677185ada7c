use crate::audit::{AuditVerification, ChainSnapshot};
use crate::caps::{CapReached, Caps, ChallengeOpening};
use crate::console_records::{
    AccessEntry, AccessLogLine, PatientQuery, PatientSummary, QualificationCheck, StaffRevocation,
    StaffRevocationOutcome,
};
use crate::devices::{
    Activation, DeviceActor, DeviceRecord, Enrolled, NewActivationCode, NewDevice,
};
use crate::error::{SettleError, StoreError};
use crate::invitations::{InvitationUse, NewInvitation};
use crate::lifecycle::{CertificateLink, PersonDeletion, PurgeCutoffs, TableCount};
use crate::login_throttle::{AttemptClaim, AttemptCount, AttemptKey, ThrottlePolicy};
use crate::records::FlowContext;
use crate::records::{
    AnchorAdded, AnchorRemoved, ChallengeRecord, CrlImport, CrlRecord, FlowRecord,
    InstitutionChanges, NewCrl, NewInstitution, NewRecord, NewTrustAnchor, PersonKey,
    RecordImportCounts, SessionRecord, TrustAnchorRecord, UpsertCounts,
};
#[cfg(feature = "testing")]
use crate::records::{RegistrationWrite, RevocationWrite, UpdateOutcome, UpdateWrite, ViewWrite};
use crate::revocation::RevocationIndex;
use crate::settle::{self, CardAnswer, SettleRequest, Settled};
use crate::staff::{
    Enrolment, EnrolmentWrite, Lockout, LoginCompletion, LoginRecord, NewStaff, ShownSecret,
    StaffAccount, StaffChange, StaffChangeOutcome, StaffSessionRecord,
};
use async_trait::async_trait;
use time::OffsetDateTime;
use zaitaku_domain::{
    AuthMethod, Consent, ConsentChange, ConsentId, DeviceId, FailureReason, Institution,
    InstitutionCode, InstitutionId, InsuredPerson, LoginName, MedicalRecord, PersonId,
    Qualification, RecordKind, StaffId, UrlToken,
};

/// All persistence of Zaitaku: every role below, so one `Arc<dyn Store>` serves
/// the web layer and the commands. Implementations must make every method that
/// writes more than one row atomic, and the `settle_*` methods single-use under
/// races. Each backend implements each role in that area's own file
/// (`sqlite/institutions.rs`, `postgres/institutions.rs`, …).
pub trait Store:
    InstitutionStore
    + DeviceStore
    + InvitationStore
    + PersonStore
    + MedicalRecordStore
    + SessionStore
    + StaffStore
    + LoginThrottleStore
    + ConsoleSessionStore
    + FlowStore
    + ConsentStore
    + TrustStore
    + RevocationIndex
    + ConsoleStore
    + Housekeeping
    + DataLifecycle
    + AuditStore
    + TestSupport
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: InstitutionStore
        + DeviceStore
        + InvitationStore
        + PersonStore
        + MedicalRecordStore
        + SessionStore
        + StaffStore
        + LoginThrottleStore
        + ConsoleSessionStore
        + FlowStore
        + ConsentStore
        + TrustStore
        + RevocationIndex
        + ConsoleStore
        + Housekeeping
        + DataLifecycle
        + AuditStore
        + TestSupport
        + Send
        + Sync
        + 'static
{
}

/// With the `testing` feature, the operations only tests use ([`TestingStore`]);
/// without it, nothing.
#[cfg(feature = "testing")]
pub use TestingStore as TestSupport;
#[cfg(not(feature = "testing"))]
pub trait TestSupport {}
#[cfg(not(feature = "testing"))]
impl<T: ?Sized> TestSupport for T {}

/// Institutions: the clinics and pharmacies that use the service.
#[async_trait]
pub trait InstitutionStore: Send + Sync + 'static {
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
    /// returns, the old token finds nothing, and, in the same transaction, the
    /// pending challenges of its flows (all begun from an older URL) are
    /// cancelled, so no card answer settles one after it. `None` if no institution has that
    /// code; `Duplicate` (nothing written) if another institution has `token`.
    async fn set_url_token(
        &self,
        code: &InstitutionCode,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError>;
    /// Stop accepting patients at `at`, in one transaction: the institution is
    /// marked (kept if it was already), its running flows expire at `at` and
    /// their pending challenges are cancelled, so no card answer settles one.
    /// Its consents, records and logs stay. `None` if no institution has `code`.
    async fn deactivate_institution(
        &self,
        code: &InstitutionCode,
        at: OffsetDateTime,
    ) -> Result<Option<Institution>, StoreError>;
    /// Accept patients again (flows ended by the deactivation stay ended).
    /// `None` if no institution has `code`.
    async fn reactivate_institution(
        &self,
        code: &InstitutionCode,
    ) -> Result<Option<Institution>, StoreError>;
}

/// Institutions' enrolled devices and the activation codes that enrol them
/// (`crate::devices`). No method caches: the gate reads the store on every
/// request, so a revocation holds at once on every process.
#[async_trait]
pub trait DeviceStore: Send + Sync + 'static {
    /// Enrol a browser as the institution's device. `Existing` (nothing
    /// written) if the browser already is a live device there.
    async fn enrol_device(&self, new: &NewDevice) -> Result<Enrolled, StoreError>;
    /// The browser's live (not revoked) device at the institution: one indexed read.
    async fn live_device(
        &self,
        credential_hash: &str,
        institution: InstitutionId,
    ) -> Result<Option<DeviceRecord>, StoreError>;
    /// Set the device's last-seen time to `at`, unless it was set less than a
    /// minute before (`devices::LAST_SEEN_EVERY`).
    async fn touch_device(&self, id: DeviceId, at: OffsetDateTime) -> Result<(), StoreError>;
    /// The devices of an institution (`None`: of every institution), revoked
    /// ones too, by institution, newest first.
    async fn devices(
        &self,
        institution: Option<InstitutionId>,
    ) -> Result<Vec<DeviceRecord>, StoreError>;
    /// One device, if it belongs to `institution` (`None`: to any).
    async fn device(
        &self,
        id: DeviceId,
        institution: Option<InstitutionId>,
    ) -> Result<Option<DeviceRecord>, StoreError>;
    /// Revoke a live device, from `at` on. The device as revoked, or `None`
    /// (nothing written) if there is no live device `id` within `institution`
    /// (`None`: within any).
    async fn revoke_device(
        &self,
        id: DeviceId,
        institution: Option<InstitutionId>,
        by: &DeviceActor,
        at: OffsetDateTime,
    ) -> Result<Option<DeviceRecord>, StoreError>;
    /// Store a one-time activation code. `Duplicate` (nothing written) if a
    /// code with the same hash exists.
    async fn issue_activation_code(&self, code: &NewActivationCode) -> Result<(), StoreError>;
    /// Use the code with `code_hash` to enrol the browser with
    /// `credential_hash`, in one transaction, under `devices::judge_code`: a
    /// code enrols once, before it expires.
    async fn activate_device(
        &self,
        code_hash: &str,
        credential_hash: &str,
        at: OffsetDateTime,
    ) -> Result<Activation, StoreError>;
}

/// Invitations an enrolled device shows to a patient's phone (`crate::invitations`).
#[async_trait]
pub trait InvitationStore: Send + Sync + 'static {
    /// Store an invitation: `false` (nothing written) when its device already
    /// has `invitations::OPEN_INVITATIONS_PER_DEVICE` unexpired ones.
    /// `Duplicate` (nothing written) if one with the same hash exists.
    async fn issue_invitation(&self, invitation: &NewInvitation) -> Result<bool, StoreError>;
    /// Open the invitation with `token_hash` for the browser session
    /// `session_hash`, in one transaction under `invitations::judge_invitation`:
    /// the first opening in time admits, any later one is `Used`.
    /// `new_session` is the session's row when the store does not hold it yet
    /// (it is written with the opening, as a first flow writes it).
    async fn open_invitation(
        &self,
        token_hash: &str,
        session_hash: &str,
        new_session: Option<&SessionRecord>,
        at: OffsetDateTime,
    ) -> Result<InvitationUse, StoreError>;
    /// The live device as which `session_hash` was admitted to `institution`
    /// by an invitation it opened within `invitations::ADMISSION_LIFETIME`
    /// before `now`: one indexed read.
    async fn admitted_device(
        &self,
        session_hash: &str,
        institution: InstitutionId,
        now: OffsetDateTime,
    ) -> Result<Option<DeviceRecord>, StoreError>;
}

/// Insured persons and the card certificates linked to them.
#[async_trait]
pub trait PersonStore: Send + Sync + 'static {
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
}

/// Medical records imported for insured persons, read by what the patient consented to.
#[async_trait]
pub trait MedicalRecordStore: Send + Sync + 'static {
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
}

/// Patients' browser sessions.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
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
}

/// Staff accounts: enrolment, login and the login log.
#[async_trait]
pub trait StaffStore: Send + Sync + 'static {
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
    /// The enrolment page of `token_hash` shows `shown.secret` to the session
    /// `shown.session_hash`: it replaces whatever an earlier visit was shown, which
    /// can then never be enrolled. Only while the link is pending and unexpired at
    /// `at`: `None` (nothing written) otherwise; else the account as now stored.
    async fn show_enrolment_secret(
        &self,
        token_hash: &str,
        shown: &ShownSecret,
        at: OffsetDateTime,
    ) -> Result<Option<StaffAccount>, StoreError>;
    /// Whether `token_hash` is the link an account was enrolled with (until the
    /// account is reset), so the page can say the link was used.
    async fn enrolment_link_used(&self, token_hash: &str) -> Result<bool, StoreError>;
    /// Finish enrolment, all or nothing: set the password hash (and the secret
    /// `write.shown`, if given), mark the TOTP step used, clear failures and lock,
    /// mark the link used (its hash is kept, its expiry and shown secret cleared),
    /// log `Enrolment`, and replace the form's session by the new one if given.
    /// Only while the link is still the account's, unused and unexpired at
    /// `write.at`, and `write.shown` (if given) is the secret it showed last, to
    /// that session: false (nothing written) otherwise.
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
    /// Disable, enable, remove or give a new role to one account, as
    /// [`crate::staff::plan_change`] decides against the institution's accounts
    /// read in the same transaction (PostgreSQL: their rows locked, so two
    /// administrators cannot demote each other at once). Disabling and removing
    /// end every session of the account; removing also clears its password,
    /// second factor, enrolment link, attempt counters and remembered devices,
    /// and keeps the row (its login name stays taken). Nothing is written
    /// unless the answer is `Changed`.
    async fn change_staff(&self, change: &StaffChange) -> Result<StaffChangeOutcome, StoreError>;
    /// The login log of the institution's accounts, newest first, at most `limit` lines.
    async fn staff_logins(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<LoginRecord>, StoreError>;
}

/// Password attempts counted before the password is checked, per account and
/// per remembered device (`login_throttle.rs`), and the remembered devices.
#[async_trait]
pub trait LoginThrottleStore: Send + Sync + 'static {
    /// Count an attempt on `key`'s counter at `at`, atomically with the checks
    /// (one transaction): `Locked` while the account's `locked_until` is later
    /// than `at`, `Throttled` while the counter's next allowed time is later;
    /// nothing is counted then. Otherwise the attempt is counted and the
    /// counter's next allowed time becomes `at + policy.delay_after(count)`.
    /// Parallel claims are each counted once: no more pass than the policy allows.
    async fn claim_login_attempt(
        &self,
        key: &AttemptKey,
        at: OffsetDateTime,
        policy: &ThrottlePolicy,
    ) -> Result<AttemptClaim, StoreError>;
    /// A login completed from `key`: its counter starts again.
    async fn clear_login_attempts(&self, key: &AttemptKey) -> Result<(), StoreError>;
    /// The counter of `key`, if it has counted anything.
    async fn login_attempts(&self, key: &AttemptKey) -> Result<Option<AttemptCount>, StoreError>;
    /// Remember a browser where `staff_id` logged in (the SHA-256 of its cookie), until `expires_at`.
    async fn remember_staff_device(
        &self,
        token_hash: &str,
        staff_id: StaffId,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The account a remembered, unexpired device belongs to.
    async fn staff_device(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffId>, StoreError>;
    /// Unlock `login`: clear its wrong-code count and lock and every attempt
    /// counter of the account (its own and its devices'), in one transaction.
    /// `None` (nothing written) if no account has `login`.
    async fn unlock_staff(&self, login: &LoginName) -> Result<Option<StaffAccount>, StoreError>;
}

/// The staff's console sessions.
#[async_trait]
pub trait ConsoleSessionStore: Send + Sync + 'static {
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
}

/// Flows and their challenges, up to a failed settlement.
#[async_trait]
pub trait FlowStore: Send + Sync + 'static {
    async fn insert_flow(&self, flow: &FlowRecord) -> Result<(), StoreError>;
    /// The flow, its institution and the enrolled device that started it (if
    /// one did, revoked or not) in one call: every flow request needs all
    /// three, to refuse a revoked device's flow and to name the device.
    async fn flow_in_context(&self, id: &str) -> Result<Option<FlowContext>, StoreError>;
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
    /// Insert `flow`, and `new_session` with it (a session stored with its first
    /// flow: an expired row of the same id is replaced, a live one kept), unless
    /// `caps` on the flows of `flow.session_hash` and of its institution are
    /// reached at `flow.created_at`: then nothing is written.
    async fn start_flow(
        &self,
        flow: &FlowRecord,
        new_session: Option<&SessionRecord>,
        caps: &Caps,
    ) -> Result<Result<(), CapReached>, StoreError>;
    /// `update_flow(flow, Some(challenge))` unless `caps` on the challenges of
    /// `challenge.session_hash` and of the flow's institution are reached at
    /// `challenge.created_at`: then nothing is written.
    async fn open_challenge(
        &self,
        flow: &FlowRecord,
        challenge: &ChallengeRecord,
        caps: &Caps,
    ) -> Result<ChallengeOpening, StoreError>;
    async fn challenge(&self, reference: &str) -> Result<Option<ChallengeRecord>, StoreError>;
    /// The first authenticator to fetch a pending, unexpired challenge claims it:
    /// store `claim_hash` if none is stored yet. True if this call claimed it.
    async fn claim_challenge(
        &self,
        reference: &str,
        claim_hash: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// The claimer ended the challenge from its authenticator: it cancelled
    /// (`report` is `None`: the state becomes cancelled) or reported why it
    /// could not answer (`Reported(report)`). End the pending, unexpired
    /// challenge `reference` if its stored claim is still `claim_hash` (`None`:
    /// unclaimed, as the demo reader in the flow's own session answers), and
    /// nothing else: its flow stays at its authentication step with its
    /// choices, so the page can start a new challenge. True if this call ended
    /// it; false (writing nothing) when the challenge is not pending, has
    /// expired, or its claim is another.
    async fn end_claimed_challenge(
        &self,
        reference: &str,
        claim_hash: Option<&str>,
        report: Option<FailureReason>,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Use the challenge and end its flow with `reason`: all or nothing, at most once.
    async fn settle_failure(
        &self,
        challenge_ref: &str,
        reason: FailureReason,
        at: OffsetDateTime,
    ) -> Result<(), SettleError>;
}

/// Consents and their history: every write of a consent (a flow's settlement, the staff's revocation) with the history row that explains it.
#[async_trait]
pub trait ConsentStore: Send + Sync + 'static {
    /// Settle a challenge as `request` asks, as [`crate::settle`] plans it:
    /// use the challenge, write the consent and its history if the plan says
    /// so, and move the flow on; all or nothing, and at most once per
    /// challenge. A consent changed since it was viewed is never overwritten:
    /// the update ends with `UpdateConflict`.
    async fn settle(&self, request: &SettleRequest) -> Result<Settled, SettleError>;
    /// A verified card answering a flow's challenge: the settlement its flow's
    /// step and the challenge's purpose ask for ([`crate::settle::request`]).
    async fn settle_card(
        &self,
        flow: &FlowRecord,
        institution: &Institution,
        answer: CardAnswer,
    ) -> Result<Settled, SettleError> {
        let request = settle::request(flow, institution, answer)?;
        self.settle(&request).await
    }
    /// Revoke every item of the consent for the patient, from the console: all
    /// or nothing, and only at the version the staff confirmed.
    async fn revoke_by_staff(
        &self,
        revocation: &StaffRevocation,
    ) -> Result<StaffRevocationOutcome, StoreError>;
    async fn consent(
        &self,
        institution: InstitutionId,
        person: PersonId,
    ) -> Result<Option<Consent>, StoreError>;
    async fn consent_by_id(&self, id: ConsentId) -> Result<Option<Consent>, StoreError>;
    /// Oldest first.
    async fn consent_history(&self, id: ConsentId) -> Result<Vec<ConsentChange>, StoreError>;
}

/// Trust anchors and CRLs.
#[async_trait]
pub trait TrustStore: Send + Sync + 'static {
    /// Add each anchor not stored yet (by fingerprint), all in one durable
    /// transaction; one answer per anchor, in order.
    async fn add_trust_anchors(
        &self,
        anchors: &[NewTrustAnchor],
        at: OffsetDateTime,
    ) -> Result<Vec<AnchorAdded>, StoreError>;
    /// Every anchor, in the order they were added.
    async fn trust_anchors(&self) -> Result<Vec<TrustAnchorRecord>, StoreError>;
    /// Whether an anchor with this fingerprint is stored now (one indexed
    /// look-up: asked per token for anchors that came from the database).
    async fn trust_anchor_stored(&self, fingerprint: &str) -> Result<bool, StoreError>;
    /// Remove the anchor with this fingerprint and the CRLs it signed, in one
    /// durable transaction; the trust generation moves. Certificate links
    /// are not touched. `None` if no anchor has the fingerprint.
    async fn remove_trust_anchor(
        &self,
        fingerprint: &str,
    ) -> Result<Option<AnchorRemoved>, StoreError>;
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
}

/// The institution console's lists and its access log.
#[async_trait]
pub trait ConsoleStore: Send + Sync + 'static {
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
    async fn record_access(&self, entry: &AccessEntry) -> Result<(), StoreError>;
    /// The institution's access log, newest first.
    async fn access_log(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<AccessLogLine>, StoreError>;
}

/// The connection pool at one moment (`Housekeeping::pool_use`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolUse {
    /// Connections the pool holds open (SQLite: the writer and the readers).
    pub open: u32,
    /// Of those, the ones a request holds right now.
    pub in_use: u32,
    /// The most the pool will open.
    pub max: u32,
}

/// Purging what has expired, and closing.
#[async_trait]
pub trait Housekeeping: Send + Sync + 'static {
    /// Forget sessions (console sessions too), and settled or abandoned flows and challenges, expired
    /// before `now`. Consents and their history are never purged here.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
    /// Readiness (`/readyz`): reach the database afresh, not through a pooled
    /// connection (SQLite: a new connection to the file, which fails once the
    /// file is moved away or unreadable; PostgreSQL: a new session), and read
    /// its logical schema version.
    async fn probe_schema_version(&self) -> Result<i64, StoreError>;
    /// How many of the pool's connections are open and in use now, for the
    /// metrics; no query.
    fn pool_use(&self) -> PoolUse;
    /// Close every connection (SQLite: the last one checkpoints the WAL into the
    /// database file); later calls fail. For commands that exit right after.
    async fn close(&self);
}

/// The personal data's lifecycle (`lifecycle.rs`): purging what the retention
/// periods let go, and one insured person's data for a disclosure or deletion
/// request.
#[async_trait]
pub trait DataLifecycle: Send + Sync + 'static {
    /// What has expired ([`crate::lifecycle::EXPIRED`], in one transaction),
    /// then what the retention periods let go ([`crate::lifecycle::RETAINED`],
    /// each table in transactions of at most [`crate::lifecycle::PURGE_BATCH`]
    /// rows), in that order. Dry: nothing is deleted and each table is counted
    /// as it stands. One count per table, in the order of the rules.
    async fn purge(
        &self,
        cutoffs: &PurgeCutoffs,
        dry_run: bool,
    ) -> Result<Vec<TableCount>, StoreError>;
    /// The certificates linked to the person, oldest link first.
    async fn certificate_links(&self, person: PersonId)
    -> Result<Vec<CertificateLink>, StoreError>;
    /// The person's consents at every institution, oldest first.
    async fn consents_of_person(&self, person: PersonId) -> Result<Vec<Consent>, StoreError>;
    /// Every institution's qualification checks of the person, oldest first.
    async fn qualification_checks_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<(InstitutionId, QualificationCheck)>, StoreError>;
    /// Every institution's access-log entries about the person, oldest first.
    async fn access_log_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<AccessLogLine>, StoreError>;
    /// Delete what the law lets go of the person, in one transaction: refused
    /// (nothing written) while a consent of theirs stands on `today`; else
    /// their flows in progress, certificate links and medical records go,
    /// consents with their history, qualification checks and access-log
    /// entries stay for the retention purge, and the person's row goes when
    /// nothing kept refers to it. `None` if there is no such person.
    async fn delete_person(
        &self,
        person: PersonId,
        today: time::Date,
    ) -> Result<Option<PersonDeletion>, StoreError>;
}

/// The tamper-evident chains (`crate::audit`): their appends happen inside
/// the writes of the consent history, the access log and the login log; this
/// reads them for verification and keeps the verifications' results.
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Every chain (of one institution and its scope only, or all, the login
    /// log's chain without an institution included), with its head row, read in
    /// one consistent snapshot while writers go on.
    async fn audit_snapshot(
        &self,
        institution: Option<InstitutionId>,
    ) -> Result<Vec<ChainSnapshot>, StoreError>;
    /// Keep the result of one verification run.
    async fn record_audit_verification(&self, v: &AuditVerification) -> Result<(), StoreError>;
    /// The newest verification that covered the institution's chains.
    async fn last_audit_verification(
        &self,
        institution: InstitutionId,
    ) -> Result<Option<AuditVerification>, StoreError>;
}

#[cfg(feature = "testing")]
/// Operations only tests use: setting up a person directly, reading a flow back.
#[async_trait]
pub trait TestingStore: ConsentStore {
    async fn insert_person(&self, qualification: &Qualification) -> Result<PersonId, StoreError>;
    async fn flow(&self, id: &str) -> Result<Option<FlowRecord>, StoreError>;
    /// Every table's name and number of rows, by name: what a test compares to
    /// show a request wrote nothing.
    async fn row_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// The database's logical schema version (`crate::SCHEMA_VERSION` once migrated).
    async fn schema_version(&self) -> Result<i64, StoreError>;
    /// Statements of this process that the database had to compile again
    /// after their first use, with how often: SQLite recompiles a cached
    /// statement on every new binding when its plan depended on a bound value
    /// (a join beside a partial index does it), which costs a request a
    /// full parse. Empty on PostgreSQL, whose prepared statements are parsed
    /// once per connection whatever is bound.
    async fn statements_compiled_again(&self) -> Result<Vec<(String, i32)>, StoreError>;
    /// [`ConsentStore::settle`] of a registration.
    async fn settle_registration(
        &self,
        write: &RegistrationWrite,
    ) -> Result<ConsentId, SettleError> {
        match self
            .settle(&SettleRequest::Registration(write.clone()))
            .await?
        {
            Settled::Registered(id) => Ok(id),
            other => Err(unexpected(other)),
        }
    }
    /// [`ConsentStore::settle`] of a revocation.
    async fn settle_revocation(
        &self,
        write: &RevocationWrite,
    ) -> Result<Option<ConsentId>, SettleError> {
        match self
            .settle(&SettleRequest::Revocation(write.clone()))
            .await?
        {
            Settled::Revoked(id) => Ok(id),
            other => Err(unexpected(other)),
        }
    }
    /// [`ConsentStore::settle`] of flow B's view.
    async fn settle_view(&self, write: &ViewWrite) -> Result<Option<Consent>, SettleError> {
        match self.settle(&SettleRequest::View(write.clone())).await? {
            Settled::Viewed(consent) => Ok(consent),
            other => Err(unexpected(other)),
        }
    }
    /// [`ConsentStore::settle`] of flow B's update.
    async fn settle_update(&self, write: &UpdateWrite) -> Result<UpdateOutcome, SettleError> {
        match self.settle(&SettleRequest::Update(write.clone())).await? {
            Settled::Updated(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }
}

#[cfg(feature = "testing")]
fn unexpected(settled: Settled) -> SettleError {
    StoreError::Database(format!("a settlement ended as {settled:?}")).into()
}
