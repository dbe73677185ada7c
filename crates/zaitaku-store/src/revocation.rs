//! The revocation index: the serials of every kept CRL, looked up per token
//! (never scanned), shared by every process on the database; and a counter
//! that moves whenever anchors or CRLs change, so that a reload with nothing
//! changed costs one query. CRLs enter it through `Store::import_crls`.

use crate::error::StoreError;
use async_trait::async_trait;
use time::OffsetDateTime;

/// One serial a CRL lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedSerial {
    /// Upper-case hex, as certificate summaries print serials.
    pub serial: String,
    pub revoked_at: OffsetDateTime,
}

/// Which kept CRLs could speak for one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationKey {
    /// Fingerprint of the anchor that issued the certificate.
    pub signer_fingerprint: String,
    /// The certificate's distribution points; the signer's complete CRL
    /// (no partition) always covers too.
    pub partitions: Vec<String>,
    pub serial: String,
}

/// A kept CRL that covers the certificate, and whether it lists its serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub issuer: String,
    pub partition: Option<String>,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A kept CRL as `admin crl status` and the reload's alarm list it (no DER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlState {
    pub issuer: String,
    pub signer_fingerprint: String,
    pub partition: Option<String>,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub entries: u64,
}

#[async_trait]
pub trait RevocationIndex: Send + Sync {
    /// The kept CRLs of the signer for no partition and for each of the key's
    /// partitions, each with the serial's revocation date if it lists it.
    async fn covering_crls(&self, key: &RevocationKey) -> Result<Vec<Coverage>, StoreError>;
    /// Moves (only up) whenever a trust anchor is added or a CRL imported.
    async fn trust_generation(&self) -> Result<i64, StoreError>;
    /// Every kept CRL, by issuer and partition.
    async fn crl_states(&self) -> Result<Vec<CrlState>, StoreError>;
}
