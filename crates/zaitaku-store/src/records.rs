//! What the store keeps besides the domain's own types: sessions, flows and
//! challenges, and the shape of a registration write.

use time::{Date, OffsetDateTime};
use zaitaku_domain::{
    AuthMethod, CardAuthentication, ConsentChoices, ConsentId, ConsentItem, DeviceId,
    EPrescriptionUsage, FailureReason, FlowStep, FlowsFrom, InstitutionCode, InstitutionId,
    InsurerNumber, MedicalRecord, PersonId, Purpose, Qualification, RevocationReason, UrlToken,
};

#[derive(Debug, Clone)]
pub struct NewInstitution {
    pub code: InstitutionCode,
    pub name: String,
    pub offered_items: Vec<ConsentItem>,
    pub e_prescription: EPrescriptionUsage,
    pub consent_validity_days: u32,
    pub url_token: UrlToken,
    pub flows_from: FlowsFrom,
}

/// Changes to an institution's settings; `None` leaves a setting as it is. The
/// code never changes, and the URL token changes only through `set_url_token`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstitutionChanges {
    pub name: Option<String>,
    pub offered_items: Option<Vec<ConsentItem>>,
    pub e_prescription: Option<EPrescriptionUsage>,
    pub consent_validity_days: Option<u32>,
    pub flows_from: Option<FlowsFrom>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie value, hex; the cookie itself is never stored.
    pub id_hash: String,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// How this browser's staff last chose to read cards; `None` until they choose.
    pub auth_method: Option<AuthMethod>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    pub id: String,
    pub session_hash: String,
    pub institution_id: InstitutionId,
    pub purpose: Purpose,
    pub step: FlowStep,
    /// The challenge of the current authentication step, if one was made.
    pub challenge_ref: Option<String>,
    pub person_id: Option<PersonId>,
    pub consent_id: Option<ConsentId>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Bumped on every update; updates name the version they saw.
    pub version: i64,
    /// The enrolled device that started it; `None` where anyone may start flows.
    pub device_id: Option<DeviceId>,
    /// The institution URL token the flow was started from: once the institution's
    /// URL is rotated away from it, the flow goes no further (`started_from`).
    pub url_token: UrlToken,
    /// When the staff closed the finished flow's result (「閉じる」).
    pub closed_at: Option<OffsetDateTime>,
}

/// A flow with what every request of it needs: its institution and the
/// enrolled device that started it (`FlowStore::flow_in_context`).
#[derive(Debug, Clone)]
pub struct FlowContext {
    pub flow: FlowRecord,
    pub institution: zaitaku_domain::Institution,
    /// `None` where anyone may start flows; revoked ones too, for the caller to refuse.
    pub device: Option<crate::devices::DeviceRecord>,
}

/// What a URL rotation ends with the old URL, in the same transaction: the
/// institution's pending challenges (`$1` the time, `$2` the institution), so
/// that no card answer in flight settles a flow begun from the old URL after the
/// rotation. The flows themselves stop at their next request
/// (`FlowRecord::started_from`). One table, so no lock order to keep.
pub const CANCEL_CHALLENGES_ON_ROTATION_SQL: &str = "UPDATE challenges SET state = 'cancelled', \
     settled_at = $1 WHERE state = 'pending' AND institution_id = $2";

impl FlowRecord {
    /// Whether the flow was started from the institution's current URL. A flow
    /// begun from a URL rotated away since is over: the one rule every flow page
    /// and the authenticator API ask.
    pub fn started_from(&self, institution: &zaitaku_domain::Institution) -> bool {
        self.institution_id == institution.id && self.url_token == institution.url_token
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeState {
    Pending,
    Succeeded,
    Failed(FailureReason),
    /// Its flow went back to the selection, or its claimant reported the reading
    /// cancelled; the challenge can no longer be used.
    Cancelled,
    /// Its claimant reported it could not answer (a blocked PIN), or answered
    /// with a card that could not be trusted at all: the challenge ended, and
    /// only it; its flow waits at its authentication step for a new one.
    Reported(FailureReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRecord {
    pub reference: String,
    /// Base64 of 32 random bytes, as the card signs it.
    pub nonce: String,
    pub flow_id: String,
    pub session_hash: String,
    pub purpose: Purpose,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub state: ChallengeState,
    /// SHA-256 (hex) of the claim secret of the authenticator that fetched the
    /// challenge; `None` while no authenticator has.
    pub claim_hash: Option<String>,
    /// When an authenticator claimed it.
    pub claimed_at: Option<OffsetDateTime>,
    /// When it was answered, reported or cancelled.
    pub settled_at: Option<OffsetDateTime>,
}

impl ChallengeState {
    /// How a challenge its claimant ended stands: cancelled, or reported with
    /// `report`.
    pub fn claimant_ended(report: Option<FailureReason>) -> Self {
        report.map_or(ChallengeState::Cancelled, ChallengeState::Reported)
    }
}

impl ChallengeRecord {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// Everything a completed registration writes, in one transaction.
#[derive(Debug, Clone)]
pub struct RegistrationWrite {
    pub challenge_ref: String,
    pub flow_id: String,
    pub institution_id: InstitutionId,
    pub person_id: PersonId,
    pub choices: ConsentChoices,
    pub expires_on: Date,
    pub at: OffsetDateTime,
    pub authentication: CardAuthentication,
}

/// Flow B's first card authentication: show the person's standing consent.
#[derive(Debug, Clone)]
pub struct ViewWrite {
    pub challenge_ref: String,
    pub flow_id: String,
    pub institution_id: InstitutionId,
    pub person_id: PersonId,
    /// Consents that expired before this day no longer stand.
    pub today: Date,
    pub at: OffsetDateTime,
}

/// Flow B's second card authentication: save the edited answers if the consent
/// is still the one viewed.
#[derive(Debug, Clone)]
pub struct UpdateWrite {
    pub challenge_ref: String,
    pub flow_id: String,
    pub consent_id: ConsentId,
    /// The consent's version when it was viewed.
    pub viewed_version: i64,
    pub choices: ConsentChoices,
    pub expires_on: Date,
    pub at: OffsetDateTime,
    pub authentication: CardAuthentication,
}

/// How an update settled: written, or refused because the consent moved on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated,
    Conflict,
}

/// Everything a completed revocation (flow C) writes, in one transaction.
#[derive(Debug, Clone)]
pub struct RevocationWrite {
    pub challenge_ref: String,
    pub flow_id: String,
    pub institution_id: InstitutionId,
    pub person_id: PersonId,
    pub reason: RevocationReason,
    pub at: OffsetDateTime,
    pub authentication: CardAuthentication,
}

/// What identifies an insured person across imports: insurer number, symbol,
/// number and branch. A missing symbol or branch is a value of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonKey {
    pub insurer_number: InsurerNumber,
    pub symbol: Option<String>,
    pub number: String,
    pub branch: Option<String>,
}

impl PersonKey {
    pub fn of(q: &Qualification) -> Self {
        PersonKey {
            insurer_number: q.insurer_number.clone(),
            symbol: q.symbol.clone(),
            number: q.number.clone(),
            branch: q.branch.clone(),
        }
    }
}

/// What a batch upsert of qualification records did, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// New persons.
    pub inserted: u64,
    /// Known persons whose record changed; they keep their id.
    pub updated: u64,
    /// Known persons whose record was already the same.
    pub unchanged: u64,
}

impl std::ops::AddAssign for UpsertCounts {
    fn add_assign(&mut self, other: Self) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// One medical record to import, for the person its key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    pub person: PersonKey,
    pub record: MedicalRecord,
}

/// What a batch import of medical records did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordImportCounts {
    /// Records not stored before.
    pub inserted: u64,
    /// Records already stored (a re-import).
    pub unchanged: u64,
    /// Positions in the batch of the records whose person is not known: none
    /// of them was written, and the rest of the batch was.
    pub unknown_persons: Vec<usize>,
}

/// A root CA to trust, as `admin trust add` checked it; the DER is what counts,
/// the rest is for listing and look-ups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTrustAnchor {
    pub der: Vec<u8>,
    /// RFC 4514.
    pub subject: String,
    /// Subject key identifier, upper-case hex.
    pub key_identifier: Option<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// SHA-256 of the DER, `AB:CD:…`: the same anchor is never stored twice.
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchorRecord {
    pub anchor: NewTrustAnchor,
    pub added_at: OffsetDateTime,
}

/// What adding one anchor did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorAdded {
    Added(TrustAnchorRecord),
    /// An anchor with the same fingerprint was stored before; nothing changed.
    AlreadyPresent(TrustAnchorRecord),
}

/// An anchor `admin trust remove` took out, with the CRLs it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorRemoved {
    pub record: TrustAnchorRecord,
    /// The CRLs kept for it, removed with it (their revoked serials too).
    pub crls: u64,
}

/// A CRL whose signature `admin crl import` checked against a stored anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCrl {
    pub der: Vec<u8>,
    /// RFC 4514.
    pub issuer: String,
    /// Fingerprint of the stored anchor that signed it.
    pub signer_fingerprint: String,
    /// The issuing distribution point of a partitioned CRL.
    pub partition: Option<String>,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    /// cRLNumber, upper-case hex without leading zeros.
    pub crl_number: Option<String>,
    pub entries: u64,
    /// The serials it lists, written to the revocation index on import. Not
    /// read back with the CRL (the index answers look-ups): empty in a
    /// [`CrlRecord`].
    pub revoked: Vec<crate::revocation::RevokedSerial>,
}

impl NewCrl {
    /// Is this CRL newer than `stored` (same issuer, signer and partition)? By
    /// cRLNumber when both have one, by thisUpdate otherwise; never when it was
    /// issued before the stored one.
    pub fn supersedes(&self, stored: &NewCrl) -> bool {
        if self.this_update < stored.this_update {
            return false;
        }
        match (&self.crl_number, &stored.crl_number) {
            (Some(new), Some(old)) => hex_number_greater(new, old),
            _ => self.this_update > stored.this_update,
        }
    }
}

/// Compare two hex numbers of any length (no leading zeros, upper case).
fn hex_number_greater(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    (a.len(), a.to_ascii_uppercase()) > (b.len(), b.to_ascii_uppercase())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlRecord {
    pub crl: NewCrl,
    pub imported_at: OffsetDateTime,
}

/// What importing a batch of CRLs did: all of them, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlImport {
    /// Each CRL, in order, with the one it replaced, if any.
    Imported(Vec<Option<CrlRecord>>),
    /// The CRL at `index` is not newer than `stored`; nothing was written.
    NotNewer { index: usize, stored: CrlRecord },
}
