//! My Number card (JPKI) authentication core.
//!
//! Everything the rest of Zaitaku trusts about "who is this patient" comes from here:
//! the card side (APDU transport, virtual card, PC/SC reader) and the relying-party
//! side (Web eID token, certificate path and profile validation, revocation, RS256).
//! No web, no database.

pub mod nonce;
pub mod oids;
pub mod origin;
pub mod pem;
pub mod token;
pub mod validate;

pub use nonce::ChallengeNonce;
pub use origin::Origin;
pub use token::WebEidToken;
pub use validate::{RevocationPolicy, Validator, ValidatorConfig};
pub mod test_ca;
