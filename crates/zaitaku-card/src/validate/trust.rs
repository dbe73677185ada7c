//! Trust anchors (root CAs) and finding the one that issued a certificate.
//!
//! JPKI publishes several generations of its root under one name, so an issuer is
//! found by name, then key identifier, then an actual signature check.

use super::signature::{self, verify_signed_der};
use crate::pem::{self, PemError};
use der::asn1::OctetString;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::time::SystemTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};

#[derive(Debug, Clone)]
pub struct TrustAnchor {
    pub certificate: Certificate,
    pub der: Vec<u8>,
    key_identifier: Option<OctetString>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustAnchorError {
    #[error(transparent)]
    Pem(#[from] PemError),
    #[error("trust anchor {0} is not a CA certificate (basicConstraints CA:TRUE is required)")]
    NotCa(String),
    #[error("trust anchor {0} may not sign certificates (keyUsage lacks keyCertSign)")]
    NoCertSign(String),
    #[error("trust anchor {0} has a key we cannot verify with: {1}")]
    UnsupportedKey(String, signature::SignatureError),
    #[error("trust anchor {0} has a malformed extension: {1}")]
    Malformed(String, String),
}

/// Short description of the anchor used, for results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorSummary {
    pub subject: String,
    pub serial: String,
    pub key_identifier: Option<String>,
    pub not_after: String,
}

impl TrustAnchor {
    /// Every CA certificate in a PEM or DER file.
    pub fn load_all(bytes: &[u8]) -> Result<Vec<TrustAnchor>, TrustAnchorError> {
        pem::load_certificates(bytes)?
            .into_iter()
            .map(|(c, der)| TrustAnchor::new(c, der))
            .collect()
    }

    pub fn new(certificate: Certificate, der: Vec<u8>) -> Result<Self, TrustAnchorError> {
        let tbs = certificate.tbs_certificate();
        let name = tbs.subject().to_string();
        let malformed = |e: der::Error| TrustAnchorError::Malformed(name.clone(), e.to_string());
        let is_ca = tbs
            .get_extension::<BasicConstraints>()
            .map_err(malformed)?
            .is_some_and(|(_, bc)| bc.ca);
        if !is_ca {
            return Err(TrustAnchorError::NotCa(name));
        }
        if let Some((_, ku)) = tbs.get_extension::<KeyUsage>().map_err(malformed)?
            && !ku.key_cert_sign()
        {
            return Err(TrustAnchorError::NoCertSign(name));
        }
        signature::check_public_key(tbs.subject_public_key_info())
            .map_err(|e| TrustAnchorError::UnsupportedKey(name.clone(), e))?;
        let key_identifier = tbs
            .get_extension::<SubjectKeyIdentifier>()
            .map_err(malformed)?
            .map(|(_, ski)| ski.0);
        Ok(TrustAnchor {
            certificate,
            der,
            key_identifier,
        })
    }

    pub fn summary(&self) -> AnchorSummary {
        let tbs = self.certificate.tbs_certificate();
        AnchorSummary {
            subject: tbs.subject().to_string(),
            serial: super::summary::serial_hex(tbs.serial_number().as_bytes()),
            key_identifier: self.key_identifier_hex(),
            not_after: super::summary::rfc3339(tbs.validity().not_after.to_system_time()),
        }
    }

    /// Subject DN in RFC 4514 form.
    pub fn subject(&self) -> String {
        self.certificate.tbs_certificate().subject().to_string()
    }

    pub fn not_before(&self) -> SystemTime {
        self.certificate
            .tbs_certificate()
            .validity()
            .not_before
            .to_system_time()
    }

    pub fn not_after(&self) -> SystemTime {
        self.certificate
            .tbs_certificate()
            .validity()
            .not_after
            .to_system_time()
    }

    /// Is `at` inside the anchor's validity? The validator refuses cards under a
    /// root that is not.
    pub fn is_valid_at(&self, at: SystemTime) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }

    /// The subject key identifier in upper-case hex, if the anchor has one.
    pub fn key_identifier_hex(&self) -> Option<String> {
        self.key_identifier
            .as_ref()
            .map(|k| k.as_bytes().iter().map(|b| format!("{b:02X}")).collect())
    }

    /// SHA-256 of the DER, as `openssl x509 -fingerprint -sha256` prints it (AB:CD:…).
    pub fn fingerprint_sha256(&self) -> String {
        Sha256::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// Could this anchor have issued an object naming `issuer` with this AKI key id?
    /// Only a candidate: the signature decides.
    pub(super) fn may_have_issued(
        &self,
        issuer: &x509_cert::name::Name,
        authority_key_id: Option<&OctetString>,
    ) -> bool {
        if self.certificate.tbs_certificate().subject() != issuer {
            return false;
        }
        match (authority_key_id, &self.key_identifier) {
            (Some(aki), Some(ski)) => aki == ski,
            _ => true,
        }
    }

    /// Does this anchor's key verify the signature on `signed_der`?
    pub fn signed(&self, signed_der: &[u8]) -> bool {
        verify_signed_der(
            signed_der,
            self.certificate.tbs_certificate().subject_public_key_info(),
        )
        .is_ok()
    }
}

/// The anchor whose name, key identifier and key match the signature on `der`.
pub fn find_issuer<'a>(
    anchors: &'a [TrustAnchor],
    issuer: &x509_cert::name::Name,
    authority_key_id: Option<&OctetString>,
    signed_der: &[u8],
) -> Option<&'a TrustAnchor> {
    anchors
        .iter()
        .filter(|a| a.may_have_issued(issuer, authority_key_id))
        .find(|a| a.signed(signed_der))
}
