use crate::error::{SettleError, StoreError};
use crate::records::{
    AnchorAdded, ChallengeRecord, CrlImport, CrlRecord, FlowRecord, InstitutionChanges, NewCrl,
    NewInstitution, NewTrustAnchor, PersonKey, RegistrationWrite, RevocationWrite, SessionRecord,
    TrustAnchorRecord, UpdateOutcome, UpdateWrite, UpsertCounts, ViewWrite,
};
use async_trait::async_trait;
use time::OffsetDateTime;
use zaitaku_domain::{
    AuthMethod, Consent, ConsentChange, ConsentId, FailureReason, Institution, InstitutionCode,
    InstitutionId, InsuredPerson, PersonId, Qualification, UrlToken,
};

/// All persistence of Zaitaku. Implementations must make every method that writes
/// more than one row atomic, and the `settle_*` methods single-use under races.
#[async_trait]
pub trait Store: Send + Sync + 'static {
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

    /// Forget sessions, and settled or abandoned flows and challenges, expired
    /// before `now`. Consents and their history are never purged here.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}
