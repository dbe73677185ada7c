//! RSA PKCS#1 v1.5 signature checks with `ring`: the token's RS256 signature and the
//! signatures of certificates and CRLs. One place, so every path uses the same code.

use crate::oids;
use der::asn1::{AnyRef, BitStringRef, UintRef};
use der::{Decode, Encode, Sequence};
use ring::signature::{self, UnparsedPublicKey};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoOwned};

/// Smallest RSA modulus accepted (the JPKI profile is RSA-2048).
const MIN_MODULUS_BITS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the public key is not an RSA key of at least 2048 bits")]
    UnsupportedKey,
    #[error("unsupported signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("the signature is {actual} bytes, but the key needs exactly {expected}")]
    WrongLength { expected: usize, actual: usize },
    #[error("the signature does not verify")]
    Invalid,
    #[error("malformed signed object: {0}")]
    Malformed(String),
}

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

/// The RSA key bytes (PKCS#1) and the modulus length in bytes.
fn rsa_key(spki: &SubjectPublicKeyInfoOwned) -> Result<(&[u8], usize), SignatureError> {
    if spki.algorithm.oid != oids::RSA_ENCRYPTION {
        return Err(SignatureError::UnsupportedKey);
    }
    let key_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or(SignatureError::UnsupportedKey)?;
    let key = RsaPublicKey::from_der(key_bytes).map_err(|_| SignatureError::UnsupportedKey)?;
    let modulus_len = key.modulus.as_bytes().len();
    if modulus_len * 8 < MIN_MODULUS_BITS {
        return Err(SignatureError::UnsupportedKey);
    }
    Ok((key_bytes, modulus_len))
}

/// Check the key is one we can verify with (RSA ≥ 2048).
pub fn check_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<(), SignatureError> {
    rsa_key(spki).map(|_| ())
}

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over `message`, as a JPKI card signs it.
pub fn verify_rs256(
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature_bytes: &[u8],
) -> Result<(), SignatureError> {
    verify_with(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        spki,
        message,
        signature_bytes,
    )
}

fn verify_with(
    algorithm: &'static signature::RsaParameters,
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature_bytes: &[u8],
) -> Result<(), SignatureError> {
    let (key_bytes, modulus_len) = rsa_key(spki)?;
    if signature_bytes.len() != modulus_len {
        return Err(SignatureError::WrongLength {
            expected: modulus_len,
            actual: signature_bytes.len(),
        });
    }
    UnparsedPublicKey::new(algorithm, key_bytes)
        .verify(message, signature_bytes)
        .map_err(|_| SignatureError::Invalid)
}

/// Verify the signature on a DER certificate or CRL with the issuer's key.
pub fn verify_signed_der(
    der_bytes: &[u8],
    issuer: &SubjectPublicKeyInfoOwned,
) -> Result<(), SignatureError> {
    let object =
        SignedObject::from_der(der_bytes).map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let algorithm = match object.algorithm.oid {
        oids::SHA256_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA256,
        oids::SHA384_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA384,
        oids::SHA512_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA512,
        other => return Err(SignatureError::UnsupportedAlgorithm(other.to_string())),
    };
    // RSA AlgorithmIdentifiers carry NULL parameters or none; anything else is not ours.
    if let Some(params) = object.algorithm.parameters
        && !params.is_null()
    {
        return Err(SignatureError::UnsupportedAlgorithm(
            "RSA with unexpected parameters".into(),
        ));
    }
    let tbs = object
        .tbs
        .to_der()
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let signature_bytes = object
        .signature
        .as_bytes()
        .ok_or_else(|| SignatureError::Malformed("signature has unused bits".into()))?;
    verify_with(algorithm, issuer, &tbs, signature_bytes)
}
