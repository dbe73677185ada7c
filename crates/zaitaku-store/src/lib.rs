//! Zaitaku's storage. One [`Store`] trait that the web layer talks to, and an
//! embedded SQLite implementation; PostgreSQL follows behind the same trait.
//! Every state a flow needs lives here, so a restart loses nothing.

mod error;
mod records;
pub mod sqlite;
mod store;

pub use error::{SettleError, StoreError};
pub use records::{
    AnchorAdded, ChallengeRecord, ChallengeState, CrlImport, CrlRecord, FlowRecord,
    InstitutionChanges, NewCrl, NewInstitution, NewTrustAnchor, PersonKey, RegistrationWrite,
    RevocationWrite, SessionRecord, TrustAnchorRecord, UpdateOutcome, UpdateWrite, UpsertCounts,
    ViewWrite,
};
pub use sqlite::SqliteStore;
pub use store::Store;
