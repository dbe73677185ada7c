//! Zaitaku's storage. One [`Store`] trait that the web layer talks to, and an
//! embedded SQLite implementation; PostgreSQL follows behind the same trait.
//! Every state a flow needs lives here, so a restart loses nothing.

mod console_records;
mod error;
pub mod postgres;
mod records;
mod revocation;
pub mod sqlite;
mod staff;
mod store;

pub use console_records::{
    AccessAction, AccessEntry, AccessLogLine, CheckSource, ConsentFilter, PatientQuery,
    PatientSummary, QualificationCheck, StaffActor, StaffRevocation, StaffRevocationOutcome,
};
pub use error::{SettleError, StoreError};
pub use postgres::PostgresStore;
pub use records::{
    AnchorAdded, ChallengeRecord, ChallengeState, CrlImport, CrlRecord, FlowRecord,
    InstitutionChanges, NewCrl, NewInstitution, NewRecord, NewTrustAnchor, PersonKey,
    RecordImportCounts, RegistrationWrite, RevocationWrite, SessionRecord, TrustAnchorRecord,
    UpdateOutcome, UpdateWrite, UpsertCounts, ViewWrite,
};
pub use revocation::{Coverage, CrlState, RevocationIndex, RevocationKey, RevokedSerial};
pub use sqlite::SqliteStore;
pub use staff::{
    Enrolment, EnrolmentWrite, Lockout, LoginCompletion, LoginRecord, NewStaff, StaffAccount,
    StaffSessionRecord, StaffSessionStage,
};
pub use store::Store;
