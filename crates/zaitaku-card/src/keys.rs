//! Private keys of test CAs and virtual cards: RSA-2048 (today's cards and roots) or
//! ECDSA on P-256, P-384 or P-521. Cards hold RSA-2048 or P-384 only (see
//! [`crate::authenticator`]); the other curves are for test roots.

use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::builder::Builder;

const RSA_BITS: usize = 2048;

/// Which key to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa2048,
    P256,
    P384,
    P521,
}

impl KeyKind {
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::Rsa2048 => "RSA-2048",
            KeyKind::P256 => "ECDSA P-256",
            KeyKind::P384 => "ECDSA P-384",
            KeyKind::P521 => "ECDSA P-521",
        }
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed: {0}")]
    Generation(String),
    #[error("the key cannot be encoded: {0}")]
    Encoding(String),
    #[error("not an RSA, P-256, P-384 or P-521 private key in PKCS#8")]
    Unrecognised,
}

/// A private key of one of the [`KeyKind`]s.
#[derive(Clone)]
pub enum KeyPair {
    Rsa(rsa::PrivateKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

impl From<rsa::PrivateKey> for KeyPair {
    fn from(key: rsa::PrivateKey) -> Self {
        KeyPair::Rsa(key)
    }
}

impl From<p384::ecdsa::SigningKey> for KeyPair {
    fn from(key: p384::ecdsa::SigningKey) -> Self {
        KeyPair::P384(key)
    }
}

impl KeyPair {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate(kind: KeyKind) -> Result<KeyPair, KeyError> {
        use p256::elliptic_curve::Generate;
        Ok(match kind {
            KeyKind::Rsa2048 => KeyPair::Rsa(
                rsa::PrivateKey::new(&mut getrandom::SysRng, RSA_BITS)
                    .map_err(|e| KeyError::Generation(e.to_string()))?,
            ),
            KeyKind::P256 => KeyPair::P256(p256::ecdsa::SigningKey::generate()),
            KeyKind::P384 => KeyPair::P384(p384::ecdsa::SigningKey::generate()),
            KeyKind::P521 => KeyPair::P521(p521::ecdsa::SigningKey::generate()),
        })
    }

    /// The kind; an RSA key of another size is still `Rsa2048` only if it has 2048 bits.
    pub fn kind(&self) -> Option<KeyKind> {
        use rsa::traits::PublicKeyParts;
        match self {
            KeyPair::Rsa(key) if key.size() * 8 == RSA_BITS => Some(KeyKind::Rsa2048),
            KeyPair::Rsa(_) => None,
            KeyPair::P256(_) => Some(KeyKind::P256),
            KeyPair::P384(_) => Some(KeyKind::P384),
            KeyPair::P521(_) => Some(KeyKind::P521),
        }
    }

    pub fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, KeyError> {
        let encoding = |e: spki::Error| KeyError::Encoding(e.to_string());
        match self {
            KeyPair::Rsa(key) => SubjectPublicKeyInfoOwned::from_key(key.as_public_key()),
            KeyPair::P256(key) => SubjectPublicKeyInfoOwned::from_key(key.verifying_key()),
            KeyPair::P384(key) => SubjectPublicKeyInfoOwned::from_key(key.verifying_key()),
            KeyPair::P521(key) => SubjectPublicKeyInfoOwned::from_key(key.verifying_key()),
        }
        .map_err(encoding)
    }

    /// PKCS#8 DER: it names the algorithm (and curve), so a key file says what it holds.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        match self {
            KeyPair::Rsa(key) => key.to_pkcs8_der(),
            KeyPair::P256(key) => key.to_pkcs8_der(),
            KeyPair::P384(key) => key.to_pkcs8_der(),
            KeyPair::P521(key) => key.to_pkcs8_der(),
        }
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|e| KeyError::Encoding(e.to_string()))
    }

    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let der = self.to_pkcs8_der()?;
        der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &der)
            .map_err(|e| KeyError::Encoding(e.to_string()))
    }

    /// Reads any of the kinds from PKCS#8 DER; each decoder checks its algorithm and curve.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<KeyPair, KeyError> {
        if let Ok(key) = rsa::PrivateKey::from_pkcs8_der(der) {
            return Ok(KeyPair::Rsa(key));
        }
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(KeyPair::P256(key));
        }
        if let Ok(key) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(KeyPair::P384(key));
        }
        if let Ok(key) = p521::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(KeyPair::P521(key));
        }
        Err(KeyError::Unrecognised)
    }

    pub fn from_pkcs8_pem(pem: &str) -> Result<KeyPair, KeyError> {
        let (label, der) =
            der::pem::decode_vec(pem.as_bytes()).map_err(|_| KeyError::Unrecognised)?;
        if label != "PRIVATE KEY" {
            return Err(KeyError::Unrecognised);
        }
        KeyPair::from_pkcs8_der(&der)
    }

    /// Sign a certificate or CRL builder: RSA with SHA-256, ECDSA with its curve's hash.
    pub fn sign<B: Builder>(&self, builder: B) -> x509_cert::builder::Result<B::Output> {
        match self {
            KeyPair::Rsa(key) => {
                let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(key.clone());
                builder.build::<_, rsa::pkcs1v15::Signature>(&signer)
            }
            KeyPair::P256(key) => builder.build::<_, p256::ecdsa::DerSignature>(key),
            KeyPair::P384(key) => builder.build::<_, p384::ecdsa::DerSignature>(key),
            KeyPair::P521(key) => builder.build::<_, p521::ecdsa::DerSignature>(key),
        }
    }
}

impl KeyPair {
    /// Sign already encoded to-be-signed bytes (a TBS edited after building) with
    /// the same algorithm as [`KeyPair::sign`]; the signature as a DER bit string.
    pub fn sign_tbs(&self, tbs: &[u8]) -> Result<der::asn1::BitString, KeyError> {
        use spki::SignatureBitStringEncoding;
        let signing = |e: rsa::signature::Error| KeyError::Encoding(e.to_string());
        let encoding = |e: der::Error| KeyError::Encoding(e.to_string());
        match self {
            KeyPair::Rsa(key) => {
                let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(key.clone());
                let signature: rsa::pkcs1v15::Signature =
                    rsa::signature::Signer::try_sign(&signer, tbs).map_err(signing)?;
                signature.to_bitstring().map_err(encoding)
            }
            KeyPair::P256(key) => {
                let signature: p256::ecdsa::DerSignature =
                    rsa::signature::Signer::try_sign(key, tbs).map_err(signing)?;
                signature.to_bitstring().map_err(encoding)
            }
            KeyPair::P384(key) => {
                let signature: p384::ecdsa::DerSignature =
                    rsa::signature::Signer::try_sign(key, tbs).map_err(signing)?;
                signature.to_bitstring().map_err(encoding)
            }
            KeyPair::P521(key) => {
                let signature: p521::ecdsa::DerSignature =
                    rsa::signature::Signer::try_sign(key, tbs).map_err(signing)?;
                signature.to_bitstring().map_err(encoding)
            }
        }
    }
}

impl EncodePublicKey for KeyPair {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        let info = self
            .public_key_info()
            .map_err(|_| spki::Error::KeyMalformed)?;
        der::Document::encode_msg(&info).map_err(spki::Error::from)
    }
}
