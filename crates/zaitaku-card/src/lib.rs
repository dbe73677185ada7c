//! My Number card (JPKI) authentication core.
//!
//! Everything the rest of Zaitaku trusts about "who is this patient" comes from here:
//! the card side (APDU transport, virtual card, PC/SC reader) and the relying-party
//! side (Web eID token, certificate path and profile validation, revocation, RS256).
//! No web, no database.

// The card side.
pub mod apdu;
pub mod authenticator;
pub mod digest_info;
pub mod jpki;
pub mod keys;
#[cfg(feature = "pcsc")]
pub mod pcsc_card;
pub mod pin;
pub mod reader;
#[cfg(feature = "testing")]
pub mod shared_data;
#[cfg(feature = "testing")]
pub mod simulated;
pub mod transport;
pub mod virtual_card;
pub mod vpcd;

// The relying party's side.
pub mod nonce;
pub mod oids;
pub mod origin;
pub mod pem;
pub mod protocol;
pub mod token;
pub mod validate;

// Test certificates for virtual cards.
pub mod test_ca;

pub use apdu::StatusWord;
pub use digest_info::{SHA256_DIGEST_INFO_PREFIX, sha256_digest_info};
pub use jpki::{CardError, JpkiCard, PinStatus};
pub use nonce::ChallengeNonce;
pub use origin::Origin;
#[cfg(feature = "pcsc")]
pub use pcsc_card::PcscTransport;
pub use pin::{Pin, PinFormatError};
pub use reader::{CardPresence, ReaderInfo};
pub use token::{TokenAlgorithm, WebEidToken};
pub use transport::{CardTransport, TransportError};
pub use validate::{RevocationPolicy, Validator, ValidatorConfig};
pub use virtual_card::{VirtualCard, VirtualCardError};
pub use zaitaku_domain::{is_loopback_host, is_loopback_ip};
