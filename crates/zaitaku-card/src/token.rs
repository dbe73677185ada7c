//! The Web eID authentication token (format `web-eid:1.0`) and the value it signs.

use crate::nonce::ChallengeNonce;
use crate::origin::Origin;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::Decode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha384};
use x509_cert::Certificate;

pub const TOKEN_FORMAT: &str = "web-eid:1.0";

/// The token signature algorithms we accept: the two that My Number cards make.
///
/// Web eID also names ES256, ES512, PS256-512 and RS384/RS512. None of them is made by
/// a My Number card: today's card signs a SHA-256 DigestInfo with PKCS#1 v1.5 (RS256),
/// the next generation holds a P-384 key (ES384). A token naming another algorithm
/// could only come from some other card, so it is refused as unsupported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TokenAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, from an RSA key of 2048 bits or more.
    Rs256,
    /// ECDSA on P-384 with SHA-384, from a P-384 key; the signature is r ‖ s (96 bytes).
    Es384,
}

impl TokenAlgorithm {
    pub const ALL: [TokenAlgorithm; 2] = [TokenAlgorithm::Rs256, TokenAlgorithm::Es384];

    /// The name in the token's `algorithm` field (JOSE, RFC 7518).
    pub fn name(self) -> &'static str {
        match self {
            TokenAlgorithm::Rs256 => "RS256",
            TokenAlgorithm::Es384 => "ES384",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// What the card's key signs: `H(origin) ‖ H(nonce)`, H being the algorithm's hash
    /// (SHA-256 for RS256, SHA-384 for ES384), as Web eID defines it.
    ///
    /// Binding the origin stops relaying: the key signs whatever it is sent, so a bare
    /// nonce signed for a phishing site would be as good as one signed for us.
    pub fn signed_value(self, origin: &Origin, nonce: &ChallengeNonce) -> Vec<u8> {
        let (origin, nonce) = (origin.as_str().as_bytes(), nonce.as_str().as_bytes());
        match self {
            TokenAlgorithm::Rs256 => [Sha256::digest(origin), Sha256::digest(nonce)].concat(),
            TokenAlgorithm::Es384 => [Sha384::digest(origin), Sha384::digest(nonce)].concat(),
        }
    }

    /// The hash the signature algorithm itself applies to [`Self::signed_value`].
    pub fn signed_value_hash(self, origin: &Origin, nonce: &ChallengeNonce) -> Vec<u8> {
        let value = self.signed_value(origin, nonce);
        match self {
            TokenAlgorithm::Rs256 => Sha256::digest(value).to_vec(),
            TokenAlgorithm::Es384 => Sha384::digest(value).to_vec(),
        }
    }
}

impl std::fmt::Display for TokenAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Largest token accepted: a 2048-bit card certificate is ~1.6 KB DER, ~2.2 KB as base64.
pub const MAX_TOKEN_BYTES: usize = 12 * 1024;
/// Largest certificate accepted inside a token (DER bytes).
pub const MAX_CERTIFICATE_BYTES: usize = 6 * 1024;
/// An RSA-8192 signature; anything longer cannot be a signature we verify.
const MAX_SIGNATURE_BYTES: usize = 1024;
const MAX_APP_VERSION_CHARS: usize = 256;

/// The token as it travels (JSON). Unknown fields are refused: the format is fixed, and
/// the card signs only origin and nonce, so any other field would be unauthenticated
/// text; a later format (web-eid:1.1 adds intermediate certificates) fails loudly
/// instead of being half understood.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebEidToken {
    pub unverified_certificate: String,
    pub algorithm: String,
    pub signature: String,
    pub format: String,
    pub app_version: String,
}

/// What parsing a token gives: the certificate decoded, the signature as bytes.
/// Nothing here is trusted yet.
#[derive(Debug, Clone)]
pub struct ParsedToken {
    pub algorithm: TokenAlgorithm,
    pub certificate: Certificate,
    pub certificate_der: Vec<u8>,
    pub signature: Vec<u8>,
    pub app_version: String,
}

/// Why a token could not even be read. Each malformed field has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is empty")]
    Empty,
    #[error("the token is {len} bytes, more than the {MAX_TOKEN_BYTES} allowed")]
    TooLarge { len: usize },
    #[error("the token is not valid JSON of the Web eID shape: {0}")]
    Json(String),
    #[error("unsupported token format {0:?} (expected \"{TOKEN_FORMAT}\")")]
    UnsupportedFormat(String),
    #[error("unsupported signature algorithm {0:?} (expected \"RS256\" or \"ES384\")")]
    UnsupportedAlgorithm(String),
    #[error("the {0} field is not valid base64")]
    InvalidBase64(&'static str),
    #[error("the certificate is {len} bytes, more than the {MAX_CERTIFICATE_BYTES} allowed")]
    CertificateTooLarge { len: usize },
    #[error("the certificate is not a valid DER X.509 certificate: {0}")]
    InvalidCertificateDer(String),
    #[error("the signature is empty or longer than any signature we accept")]
    InvalidSignatureLength,
    #[error("the appVersion field is empty, too long or not printable")]
    InvalidAppVersion,
}

impl WebEidToken {
    /// Parse JSON bytes strictly: size first, so a huge body costs nothing.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TokenError> {
        if bytes.is_empty() {
            return Err(TokenError::Empty);
        }
        if bytes.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge { len: bytes.len() });
        }
        serde_json::from_slice(bytes).map_err(|e| TokenError::Json(e.to_string()))
    }

    pub fn to_json(&self) -> String {
        // Serialising a struct of strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Check the envelope and decode the fields; no cryptography yet.
    pub fn parse(&self) -> Result<ParsedToken, TokenError> {
        if self.format != TOKEN_FORMAT {
            return Err(TokenError::UnsupportedFormat(truncate(&self.format)));
        }
        let algorithm = TokenAlgorithm::from_name(&self.algorithm)
            .ok_or_else(|| TokenError::UnsupportedAlgorithm(truncate(&self.algorithm)))?;
        let app_version = &self.app_version;
        if app_version.is_empty()
            || app_version.chars().count() > MAX_APP_VERSION_CHARS
            || app_version.chars().any(char::is_control)
        {
            return Err(TokenError::InvalidAppVersion);
        }
        let certificate_der = STANDARD
            .decode(&self.unverified_certificate)
            .map_err(|_| TokenError::InvalidBase64("unverifiedCertificate"))?;
        if certificate_der.len() > MAX_CERTIFICATE_BYTES {
            return Err(TokenError::CertificateTooLarge {
                len: certificate_der.len(),
            });
        }
        let certificate = Certificate::from_der(&certificate_der)
            .map_err(|e| TokenError::InvalidCertificateDer(e.to_string()))?;
        let signature = STANDARD
            .decode(&self.signature)
            .map_err(|_| TokenError::InvalidBase64("signature"))?;
        if signature.is_empty() || signature.len() > MAX_SIGNATURE_BYTES {
            return Err(TokenError::InvalidSignatureLength);
        }
        Ok(ParsedToken {
            algorithm,
            certificate,
            certificate_der,
            signature,
            app_version: app_version.clone(),
        })
    }

    /// Assemble a token from what a card returned.
    pub fn new(
        algorithm: TokenAlgorithm,
        certificate_der: &[u8],
        signature: &[u8],
        app_version: &str,
    ) -> Self {
        WebEidToken {
            unverified_certificate: STANDARD.encode(certificate_der),
            algorithm: algorithm.name().to_owned(),
            signature: STANDARD.encode(signature),
            format: TOKEN_FORMAT.to_owned(),
            app_version: app_version.to_owned(),
        }
    }
}

/// The value an RS256 card signs: `SHA256(origin) ‖ SHA256(nonce)`.
pub fn signed_value(origin: &Origin, nonce: &ChallengeNonce) -> [u8; 64] {
    let mut value = [0u8; 64];
    value.copy_from_slice(&TokenAlgorithm::Rs256.signed_value(origin, nonce));
    value
}

/// The SHA-256 hash RS256 applies to the signed value; a card is sent its DigestInfo.
pub fn signed_value_hash(origin: &Origin, nonce: &ChallengeNonce) -> [u8; 32] {
    Sha256::digest(signed_value(origin, nonce)).into()
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}
