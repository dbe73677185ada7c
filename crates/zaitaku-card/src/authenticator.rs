//! The authenticator's side of Web eID: have a card sign a server's challenge.
//!
//! # What a card is sent, per key (the one place that decides)
//!
//! The card's key is read from its certificate, and decides the token's algorithm
//! ([`crate::validate::signature::card_key_algorithm`]):
//!
//! - **Today's card, RSA-2048 → RS256.** The host hashes `SHA256(origin) ‖ SHA256(nonce)`
//!   with SHA-256 and sends the 51-byte SHA-256 DigestInfo; the card pads it (PKCS#1
//!   v1.5) and signs. Its answer is the token's signature as it is.
//! - **The next-generation card, P-384 → ES384.** Its applet layout is not published.
//!   ASSUMED here, and only here (the virtual card answers by these constants): the
//!   same application, EFs (certificate, PIN, key), PIN and commands as today's card;
//!   COMPUTE DIGITAL SIGNATURE (`80 2A 00 80`) is given the 48-byte SHA-384 hash of
//!   `SHA384(origin) ‖ SHA384(nonce)` ([`P384_SIGN_INPUT_LEN`]) and answers the raw
//!   signature r ‖ s ([`P384_SIGNATURE_LEN`] bytes), which is the ES384 token signature
//!   as it is. When the real layout is known, change it here.

use crate::digest_info::sha256_digest_info;
use crate::jpki::{CardError, JpkiCard};
use crate::nonce::ChallengeNonce;
use crate::origin::Origin;
use crate::pin::Pin;
use crate::token::{TokenAlgorithm, WebEidToken, signed_value_hash};
use crate::transport::CardTransport;
use der::Decode;
use x509_cert::Certificate;

/// What a P-384 card is given to sign: the SHA-384 hash of the signed value (assumed).
pub const P384_SIGN_INPUT_LEN: usize = 48;
/// What a P-384 card answers: r ‖ s, 48 bytes each (assumed).
pub const P384_SIGNATURE_LEN: usize = 96;

/// Read the certificate, verify the PIN, and have the card sign the challenge for
/// `origin` with the algorithm its key makes (RS256 or ES384).
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
    // Before the PIN: a card whose key we cannot use is not worth a PIN try.
    let algorithm = card_algorithm(certificate)?;
    card.verify_pin(pin)?;
    let answer = card.sign_digest_info(&card_sign_input(algorithm, origin, nonce))?;
    if algorithm == TokenAlgorithm::Es384 && answer.len() != P384_SIGNATURE_LEN {
        return Err(CardError::SignatureLength {
            expected: P384_SIGNATURE_LEN,
            len: answer.len(),
        });
    }
    Ok(WebEidToken::new(
        algorithm,
        certificate,
        &answer,
        app_version,
    ))
}

/// The token algorithm of the card whose certificate this is.
pub fn card_algorithm(certificate: &[u8]) -> Result<TokenAlgorithm, CardError> {
    let certificate = Certificate::from_der(certificate)
        .map_err(|_| CardError::MalformedCertificate("it is not a DER X.509 certificate"))?;
    crate::validate::signature::card_key_algorithm(
        certificate.tbs_certificate().subject_public_key_info(),
    )
    .map_err(|e| CardError::UnsupportedKey(e.to_string()))
}

/// The bytes COMPUTE DIGITAL SIGNATURE is given for `algorithm`.
pub fn card_sign_input(
    algorithm: TokenAlgorithm,
    origin: &Origin,
    nonce: &ChallengeNonce,
) -> Vec<u8> {
    match algorithm {
        TokenAlgorithm::Rs256 => sha256_digest_info(&signed_value_hash(origin, nonce)).to_vec(),
        TokenAlgorithm::Es384 => algorithm.signed_value_hash(origin, nonce),
    }
}
