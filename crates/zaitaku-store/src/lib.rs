//! Zaitaku's storage. [`Store`] is every role trait at once ([`InstitutionStore`],
//! [`ConsentStore`], …: see `store.rs`); the web layer and the commands hold an
//! `Arc<dyn Store>`. Two backends implement every role, each area in its own
//! file: [`SqliteStore`] (one embedded file) and [`PostgresStore`] (several
//! server processes on one database). What a settlement writes is decided once,
//! for both, in [`settle`]; values are encoded once in `codec.rs`. Every state a
//! flow needs lives here, so a restart loses nothing.

pub mod audit;
pub mod caps;
mod codec;
mod console_records;
pub mod devices;
mod error;
pub mod invitations;
pub mod lifecycle;
mod login_throttle;
pub mod postgres;
mod records;
mod revocation;
mod rows;
pub mod settle;
pub mod sqlite;
mod staff;
mod store;

pub use caps::{CapReached, Caps, ChallengeOpening};
pub use console_records::{
    AccessAction, AccessActor, AccessEntry, AccessLogLine, CheckSource, ConsentFilter,
    PatientQuery, PatientSummary, QualificationCheck, StaffActor, StaffRevocation,
    StaffRevocationOutcome,
};
pub use devices::{Activation, DeviceActor, DeviceRecord, Enrolled, NewActivationCode, NewDevice};
pub use error::{SettleError, StoreError};
pub use invitations::{InvitationUse, NewInvitation};
pub use login_throttle::{AttemptClaim, AttemptCount, AttemptKey, ThrottlePolicy};
pub use postgres::PostgresStore;
pub use records::{
    AnchorAdded, AnchorRemoved, ChallengeRecord, ChallengeState, CrlImport, CrlRecord, FlowContext,
    FlowRecord, InstitutionChanges, NewCrl, NewInstitution, NewRecord, NewTrustAnchor, PersonKey,
    RecordImportCounts, RegistrationWrite, RevocationWrite, SessionRecord, TrustAnchorRecord,
    UpdateOutcome, UpdateWrite, UpsertCounts, ViewWrite,
};
pub use revocation::{Coverage, CrlState, RevocationIndex, RevocationKey, RevokedSerial};
pub use settle::{CardAnswer, SettleRequest, Settled};
pub use sqlite::SqliteStore;
pub use staff::{
    Enrolment, EnrolmentWrite, Lockout, LoginCompletion, LoginRecord, NewStaff, ShownSecret,
    StaffAccount, StaffAction, StaffChange, StaffChangeOutcome, StaffSessionRecord,
    StaffSessionStage,
};
#[cfg(feature = "testing")]
pub use store::TestingStore;
/// The logical schema version both backends reach: the same number on SQLite
/// and PostgreSQL for the same tables (see `migrations/README.md`).
pub const SCHEMA_VERSION: i64 = 19;

pub use audit::{AuditVerification, Chain, ChainSnapshot, Finding, SavedHead};
pub use lifecycle::{CertificateLink, PersonDeletion, RetentionPolicy, TableCount};
pub use store::{
    AuditStore, ConsentStore, ConsoleSessionStore, ConsoleStore, DataLifecycle, DeviceStore,
    FlowStore, Housekeeping, InstitutionStore, InvitationStore, LoginThrottleStore,
    MedicalRecordStore, PersonStore, PoolUse, SessionStore, StaffStore, Store, TrustStore,
};

/// The store and its role traits: `use zaitaku_store::prelude::*` to call store
/// methods on a concrete store (`SqliteStore`, `PostgresStore`); through
/// `dyn Store` or `S: Store` they need no import.
pub mod prelude {
    pub use crate::revocation::RevocationIndex;
    pub use crate::store::LoginThrottleStore;
    #[cfg(feature = "testing")]
    pub use crate::store::TestingStore;
    pub use crate::store::{
        AuditStore, ConsentStore, ConsoleSessionStore, ConsoleStore, DataLifecycle, DeviceStore,
        FlowStore, Housekeeping, InstitutionStore, InvitationStore, MedicalRecordStore,
        PersonStore, SessionStore, StaffStore, Store, TrustStore,
    };
}
