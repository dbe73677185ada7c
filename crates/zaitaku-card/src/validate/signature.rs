//! Signature checks: the token's signature (RS256 or ES384) and the signatures of
//! certificates and CRLs (RSA PKCS#1 v1.5 or ECDSA). One place, so every path uses the
//! same code, and one place that says which keys we accept.
//!
//! - Card keys: RSA of 2048 bits or more (RS256) or P-384 (ES384), nothing else.
//! - CA keys: RSA of 2048 bits or more, or P-256, P-384, P-521.
//! - CA signatures: sha256/384/512WithRSAEncryption, and ECDSA with the curve's own
//!   hash only (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512). SHA-1 is never accepted.
//!
//! `ring` verifies RSA, P-256 and P-384; it has no P-521, which RustCrypto's `p521`
//! verifies (the Estonian test CA of Web eID, for one, is P-521).

use crate::oids;
use crate::token::TokenAlgorithm;
use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, BitStringRef, UintRef};
use der::{Decode, Encode, Sequence};
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoOwned};

/// Smallest RSA modulus accepted (the JPKI profile is RSA-2048).
const MIN_MODULUS_BITS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the public key is not one we accept (RSA of 2048 bits or more, or ECDSA {0})")]
    UnsupportedKey(&'static str),
    #[error("unsupported signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("the token says {algorithm}, but the certificate's key is {key}")]
    AlgorithmMismatch {
        algorithm: TokenAlgorithm,
        key: PublicKeyKind,
    },
    #[error("the signature is {actual} bytes, but the key needs exactly {expected}")]
    WrongLength { expected: usize, actual: usize },
    #[error("the signature does not verify")]
    Invalid,
    #[error("malformed signed object: {0}")]
    Malformed(String),
}

/// What kind of key a certificate holds, as far as we can verify with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKeyKind {
    Rsa { bits: usize },
    P256,
    P384,
    P521,
}

impl std::fmt::Display for PublicKeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublicKeyKind::Rsa { bits } => write!(f, "RSA-{bits}"),
            PublicKeyKind::P256 => f.write_str("ECDSA P-256"),
            PublicKeyKind::P384 => f.write_str("ECDSA P-384"),
            PublicKeyKind::P521 => f.write_str("ECDSA P-521"),
        }
    }
}

const CARD_CURVES: &str = "P-384 for a card";
const CA_CURVES: &str = "P-256, P-384 or P-521 for a CA";

#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    #[allow(dead_code)]
    public_exponent: UintRef<'a>,
}

/// Any signed X.509 object (certificate, CRL): the to-be-signed part kept as raw bytes.
#[derive(Sequence)]
struct SignedObject<'a> {
    tbs: AnyRef<'a>,
    algorithm: AlgorithmIdentifierRef<'a>,
    signature: BitStringRef<'a>,
}

/// The key's kind, with the bytes a verifier takes (PKCS#1 for RSA, the uncompressed
/// SEC1 point for EC). Keys we cannot verify with are `UnsupportedKey(context)`.
fn classify<'k>(
    spki: &'k SubjectPublicKeyInfoOwned,
    context: &'static str,
) -> Result<(PublicKeyKind, &'k [u8]), SignatureError> {
    let unsupported = || SignatureError::UnsupportedKey(context);
    let key_bytes = spki.subject_public_key.as_bytes().ok_or_else(unsupported)?;
    match spki.algorithm.oid {
        oids::RSA_ENCRYPTION => {
            let key = RsaPublicKey::from_der(key_bytes).map_err(|_| unsupported())?;
            let bits = key.modulus.as_bytes().len() * 8;
            if bits < MIN_MODULUS_BITS {
                return Err(unsupported());
            }
            Ok((PublicKeyKind::Rsa { bits }, key_bytes))
        }
        oids::EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or_else(unsupported)?;
            let (kind, field_bytes) = match curve {
                oids::SECP256R1 => (PublicKeyKind::P256, 32),
                oids::SECP384R1 => (PublicKeyKind::P384, 48),
                oids::SECP521R1 => (PublicKeyKind::P521, 66),
                _ => return Err(unsupported()),
            };
            // Uncompressed points only, as RFC 5480 asks of certificates.
            if key_bytes.len() != 1 + 2 * field_bytes || key_bytes[0] != 0x04 {
                return Err(unsupported());
            }
            Ok((kind, key_bytes))
        }
        _ => Err(unsupported()),
    }
}

/// A card key's token algorithm: RS256 for RSA ≥ 2048, ES384 for P-384, and the
/// verifier's key bytes. The only place that pairs card keys with token algorithms.
fn card_key(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<(TokenAlgorithm, PublicKeyKind, &[u8]), SignatureError> {
    let (kind, key_bytes) = classify(spki, CARD_CURVES)?;
    let algorithm = match kind {
        PublicKeyKind::Rsa { .. } => TokenAlgorithm::Rs256,
        PublicKeyKind::P384 => TokenAlgorithm::Es384,
        PublicKeyKind::P256 | PublicKeyKind::P521 => {
            return Err(SignatureError::UnsupportedKey(CARD_CURVES));
        }
    };
    Ok((algorithm, kind, key_bytes))
}

/// The token algorithm a card with this key makes (RS256 or ES384).
pub fn card_key_algorithm(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<TokenAlgorithm, SignatureError> {
    card_key(spki).map(|(algorithm, _, _)| algorithm)
}

/// Check a CA key is one we can verify with (RSA ≥ 2048, P-256, P-384, P-521).
pub fn check_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKeyKind, SignatureError> {
    classify(spki, CA_CURVES).map(|(kind, _)| kind)
}

/// The token's signature over `message` (the algorithm's signed value), by the card key
/// in `spki`. The token's algorithm must be the one the key makes.
pub fn verify_token_signature(
    algorithm: TokenAlgorithm,
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature_bytes: &[u8],
) -> Result<(), SignatureError> {
    let (expected, key, key_bytes) = card_key(spki)?;
    if expected != algorithm {
        return Err(SignatureError::AlgorithmMismatch { algorithm, key });
    }
    match algorithm {
        TokenAlgorithm::Rs256 => verify_rsa(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            key,
            key_bytes,
            message,
            signature_bytes,
        ),
        TokenAlgorithm::Es384 => {
            // r ‖ s, 48 bytes each, as the card answers (IEEE P1363), not DER.
            if signature_bytes.len() != 96 {
                return Err(SignatureError::WrongLength {
                    expected: 96,
                    actual: signature_bytes.len(),
                });
            }
            verify_ring(
                &signature::ECDSA_P384_SHA384_FIXED,
                key_bytes,
                message,
                signature_bytes,
            )
        }
    }
}

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over `message`, as a JPKI card signs it.
pub fn verify_rs256(
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature_bytes: &[u8],
) -> Result<(), SignatureError> {
    verify_token_signature(TokenAlgorithm::Rs256, spki, message, signature_bytes)
}

fn verify_rsa(
    algorithm: &'static signature::RsaParameters,
    key: PublicKeyKind,
    key_bytes: &[u8],
    message: &[u8],
    signature_bytes: &[u8],
) -> Result<(), SignatureError> {
    let PublicKeyKind::Rsa { bits } = key else {
        return Err(SignatureError::UnsupportedAlgorithm(format!(
            "an RSA signature by an {key} key"
        )));
    };
    if signature_bytes.len() != bits / 8 {
        return Err(SignatureError::WrongLength {
            expected: bits / 8,
            actual: signature_bytes.len(),
        });
    }
    verify_ring(algorithm, key_bytes, message, signature_bytes)
}

fn verify_ring(
    algorithm: &'static dyn VerificationAlgorithm,
    key_bytes: &[u8],
    message: &[u8],
    signature_bytes: &[u8],
) -> Result<(), SignatureError> {
    UnparsedPublicKey::new(algorithm, key_bytes)
        .verify(message, signature_bytes)
        .map_err(|_| SignatureError::Invalid)
}

/// ECDSA P-521 with SHA-512 over `message`; `der_signature` is an Ecdsa-Sig-Value.
fn verify_p521(point: &[u8], message: &[u8], der_signature: &[u8]) -> Result<(), SignatureError> {
    use p521::ecdsa::signature::Verifier;
    let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(point)
        .map_err(|_| SignatureError::UnsupportedKey(CA_CURVES))?;
    let signature =
        p521::ecdsa::Signature::from_der(der_signature).map_err(|_| SignatureError::Invalid)?;
    key.verify(message, &signature)
        .map_err(|_| SignatureError::Invalid)
}

/// How a CA signature algorithm is checked: RSA with a hash, or ECDSA whose curve the
/// hash fixes (natural pairs only).
enum CaAlgorithm {
    Rsa(&'static signature::RsaParameters),
    Ecdsa(PublicKeyKind),
}

fn ca_algorithm(oid: ObjectIdentifier) -> Result<CaAlgorithm, SignatureError> {
    Ok(match oid {
        oids::SHA256_WITH_RSA => CaAlgorithm::Rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        oids::SHA384_WITH_RSA => CaAlgorithm::Rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        oids::SHA512_WITH_RSA => CaAlgorithm::Rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        oids::ECDSA_WITH_SHA256 => CaAlgorithm::Ecdsa(PublicKeyKind::P256),
        oids::ECDSA_WITH_SHA384 => CaAlgorithm::Ecdsa(PublicKeyKind::P384),
        oids::ECDSA_WITH_SHA512 => CaAlgorithm::Ecdsa(PublicKeyKind::P521),
        // SHA-1 (sha1WithRSAEncryption, ecdsa-with-SHA1) and everything else.
        other => return Err(SignatureError::UnsupportedAlgorithm(other.to_string())),
    })
}

/// Verify the signature on a DER certificate or CRL with the issuer's key.
pub fn verify_signed_der(
    der_bytes: &[u8],
    issuer: &SubjectPublicKeyInfoOwned,
) -> Result<(), SignatureError> {
    let object =
        SignedObject::from_der(der_bytes).map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let algorithm = ca_algorithm(object.algorithm.oid)?;
    let tbs = object
        .tbs
        .to_der()
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let signature_bytes = object
        .signature
        .as_bytes()
        .ok_or_else(|| SignatureError::Malformed("signature has unused bits".into()))?;
    let (key, key_bytes) = classify(issuer, CA_CURVES)?;
    match algorithm {
        CaAlgorithm::Rsa(parameters) => {
            // RSA AlgorithmIdentifiers carry NULL parameters or none; anything else is not ours.
            if let Some(params) = object.algorithm.parameters
                && !params.is_null()
            {
                return Err(SignatureError::UnsupportedAlgorithm(
                    "RSA with unexpected parameters".into(),
                ));
            }
            verify_rsa(parameters, key, key_bytes, &tbs, signature_bytes)
        }
        CaAlgorithm::Ecdsa(curve) => {
            // RFC 5758 3.2: the parameters field is absent.
            if object.algorithm.parameters.is_some() {
                return Err(SignatureError::UnsupportedAlgorithm(
                    "ECDSA with parameters".into(),
                ));
            }
            if key != curve {
                return Err(SignatureError::UnsupportedAlgorithm(format!(
                    "{} by an {key} key (the hash must be the curve's own)",
                    object.algorithm.oid
                )));
            }
            match curve {
                PublicKeyKind::P256 => verify_ring(
                    &signature::ECDSA_P256_SHA256_ASN1,
                    key_bytes,
                    &tbs,
                    signature_bytes,
                ),
                PublicKeyKind::P384 => verify_ring(
                    &signature::ECDSA_P384_SHA384_ASN1,
                    key_bytes,
                    &tbs,
                    signature_bytes,
                ),
                _ => verify_p521(key_bytes, &tbs, signature_bytes),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use sha2::{Digest, Sha256, Sha384};
    use spki::AlgorithmIdentifierOwned;

    const TBS: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x05];

    /// A signed object over [`TBS`] naming `algorithm`, with `signature` (DER).
    fn signed(algorithm: ObjectIdentifier, null_params: bool, signature: &[u8]) -> Vec<u8> {
        let algorithm = AlgorithmIdentifierOwned {
            oid: algorithm,
            parameters: null_params.then_some(der::asn1::Null.into()),
        };
        let algorithm_der = algorithm.to_der().unwrap();
        SignedObject {
            tbs: AnyRef::from_der(&TBS).unwrap(),
            algorithm: AlgorithmIdentifierRef::from_der(&algorithm_der).unwrap(),
            signature: BitStringRef::from_bytes(signature).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    fn p256_key() -> (p256::ecdsa::SigningKey, SubjectPublicKeyInfoOwned) {
        use p256::elliptic_curve::Generate;
        let key = p256::ecdsa::SigningKey::generate();
        let spki = SubjectPublicKeyInfoOwned::from_key(key.verifying_key()).unwrap();
        (key, spki)
    }

    fn p256_der_signature(key: &p256::ecdsa::SigningKey, prehash: &[u8]) -> Vec<u8> {
        let signature: p256::ecdsa::Signature = key.sign_prehash(prehash).unwrap();
        signature.to_der().as_bytes().to_vec()
    }

    #[test]
    fn ecdsa_needs_the_curves_own_hash() {
        let (key, spki) = p256_key();
        let by_sha256 = p256_der_signature(&key, &Sha256::digest(TBS));
        verify_signed_der(&signed(oids::ECDSA_WITH_SHA256, false, &by_sha256), &spki).unwrap();
        // A genuine P-256 signature over SHA-384 is not a natural pair.
        let by_sha384 = p256_der_signature(&key, &Sha384::digest(TBS));
        assert!(matches!(
            verify_signed_der(&signed(oids::ECDSA_WITH_SHA384, false, &by_sha384), &spki),
            Err(SignatureError::UnsupportedAlgorithm(_))
        ));
        // RFC 5758: ECDSA's parameters are absent, not NULL.
        assert!(matches!(
            verify_signed_der(&signed(oids::ECDSA_WITH_SHA256, true, &by_sha256), &spki),
            Err(SignatureError::UnsupportedAlgorithm(_))
        ));
        // An RSA algorithm with an EC key, and ecdsa-with-SHA1, are refused.
        assert!(matches!(
            verify_signed_der(&signed(oids::SHA256_WITH_RSA, true, &by_sha256), &spki),
            Err(SignatureError::UnsupportedAlgorithm(_))
        ));
        let ecdsa_with_sha1 = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
        assert!(matches!(
            verify_signed_der(&signed(ecdsa_with_sha1, false, &by_sha256), &spki),
            Err(SignatureError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn card_keys_are_rsa_or_p384_and_ca_keys_any_of_our_curves() {
        let (_, p256) = p256_key();
        assert_eq!(check_public_key(&p256), Ok(PublicKeyKind::P256));
        assert_eq!(
            card_key_algorithm(&p256),
            Err(SignatureError::UnsupportedKey(CARD_CURVES))
        );
        use p384::elliptic_curve::Generate;
        let p384 = p384::ecdsa::SigningKey::generate();
        let p384 = SubjectPublicKeyInfoOwned::from_key(p384.verifying_key()).unwrap();
        assert_eq!(card_key_algorithm(&p384), Ok(TokenAlgorithm::Es384));
    }
}
