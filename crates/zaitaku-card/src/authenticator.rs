//! The authenticator's side of Web eID: have a card sign a server's challenge.

use crate::digest_info::sha256_digest_info;
use crate::jpki::{CardError, JpkiCard};
use crate::nonce::ChallengeNonce;
use crate::origin::Origin;
use crate::pin::Pin;
use crate::token::{WebEidToken, signed_value_hash};
use crate::transport::CardTransport;

/// Read the certificate, verify the PIN, and sign `SHA256(origin) ‖ SHA256(nonce)`
/// as RS256, exactly as a JPKI card is asked to: the host hashes, the card pads
/// and signs the SHA-256 DigestInfo.
pub fn sign_challenge<T: CardTransport>(
    card: &mut JpkiCard<T>,
    pin: &Pin,
    origin: &Origin,
    nonce: &ChallengeNonce,
    app_version: &str,
) -> Result<WebEidToken, CardError> {
    let certificate = card.read_auth_certificate()?;
    sign_challenge_with_certificate(card, &certificate, pin, origin, nonce, app_version)
}

/// [`sign_challenge`] for an authenticator that has already read `certificate`
/// from this card (to check the card before asking for the PIN): verify the PIN
/// (never sent to a blocked card) and sign.
pub fn sign_challenge_with_certificate<T: CardTransport>(
    card: &mut JpkiCard<T>,
    certificate: &[u8],
    pin: &Pin,
    origin: &Origin,
    nonce: &ChallengeNonce,
    app_version: &str,
) -> Result<WebEidToken, CardError> {
    card.verify_pin(pin)?;
    let digest_info = sha256_digest_info(&signed_value_hash(origin, nonce));
    let signature = card.sign_digest_info(&digest_info)?;
    Ok(WebEidToken::new(certificate, &signature, app_version))
}
