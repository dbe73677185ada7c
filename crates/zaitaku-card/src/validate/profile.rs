//! The card certificate's profile: what it may be used for, under which policy, and
//! whether we understand every extension it marks critical.

use super::CertificateError;
use crate::oids::{self, ext};
use const_oid::ObjectIdentifier;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, CertificatePolicies, ExtendedKeyUsage, KeyUsage};

/// Extensions whose meaning we check or which carry no constraint on our use.
const UNDERSTOOD_EXTENSIONS: &[ObjectIdentifier] = &[
    ext::KEY_USAGE,
    ext::EXTENDED_KEY_USAGE,
    ext::CERTIFICATE_POLICIES,
    ext::BASIC_CONSTRAINTS,
    ext::SUBJECT_KEY_IDENTIFIER,
    ext::AUTHORITY_KEY_IDENTIFIER,
    ext::SUBJECT_ALT_NAME,
    ext::ISSUER_ALT_NAME,
    ext::CRL_DISTRIBUTION_POINTS,
    ext::AUTHORITY_INFO_ACCESS,
];

fn malformed(e: der::Error) -> CertificateError {
    CertificateError::MalformedExtension(e.to_string())
}

/// The extension list must not repeat an OID (RFC 5280 4.2), and the signature
/// algorithm inside must match the outer one (RFC 5280 4.1.1.2).
pub fn check_structure(cert: &Certificate) -> Result<(), CertificateError> {
    let tbs = cert.tbs_certificate();
    if tbs.signature() != cert.signature_algorithm() {
        return Err(CertificateError::MalformedExtension(
            "inner and outer signature algorithms differ".into(),
        ));
    }
    let extensions = tbs.extensions().map(Vec::as_slice).unwrap_or_default();
    for (i, e) in extensions.iter().enumerate() {
        if extensions[..i]
            .iter()
            .any(|prior| prior.extn_id == e.extn_id)
        {
            return Err(CertificateError::MalformedExtension(format!(
                "extension {} appears twice",
                e.extn_id
            )));
        }
    }
    Ok(())
}

/// digitalSignature is required; a signing (nonRepudiation) or CA certificate is refused.
pub fn check_key_usage(cert: &Certificate) -> Result<(), CertificateError> {
    let tbs = cert.tbs_certificate();
    let (_, usage) = tbs
        .get_extension::<KeyUsage>()
        .map_err(malformed)?
        .ok_or(CertificateError::MissingKeyUsage)?;
    if usage.non_repudiation() {
        return Err(CertificateError::SigningCertificate);
    }
    if usage.key_cert_sign() || usage.crl_sign() {
        return Err(CertificateError::CaCertificate);
    }
    if !usage.digital_signature() {
        return Err(CertificateError::KeyUsageWithoutDigitalSignature);
    }
    if let Some((_, bc)) = tbs.get_extension::<BasicConstraints>().map_err(malformed)?
        && bc.ca
    {
        return Err(CertificateError::CaCertificate);
    }
    Ok(())
}

/// Extended key usage, when present, must allow TLS client authentication.
pub fn check_extended_key_usage(cert: &Certificate) -> Result<(), CertificateError> {
    match cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(malformed)?
    {
        None => Ok(()),
        Some((_, eku))
            if eku
                .0
                .iter()
                .any(|oid| *oid == oids::EKU_CLIENT_AUTH || *oid == oids::EKU_ANY) =>
        {
            Ok(())
        }
        Some(_) => Err(CertificateError::MissingClientAuth),
    }
}

/// At least one of the certificate's policies must be on the allowed list.
pub fn check_policies(
    cert: &Certificate,
    allowed: &[ObjectIdentifier],
) -> Result<ObjectIdentifier, CertificateError> {
    let found: Vec<ObjectIdentifier> = cert
        .tbs_certificate()
        .get_extension::<CertificatePolicies>()
        .map_err(malformed)?
        .map(|(_, p)| p.0.into_iter().map(|i| i.policy_identifier).collect())
        .unwrap_or_default();
    found
        .iter()
        .find(|oid| allowed.contains(oid))
        .copied()
        .ok_or_else(|| CertificateError::PolicyNotAllowed {
            found: found.iter().map(ToString::to_string).collect(),
        })
}

/// Every critical extension must be one whose meaning we enforce or can ignore safely.
pub fn check_critical_extensions(cert: &Certificate) -> Result<(), CertificateError> {
    let extensions = cert.tbs_certificate().extensions();
    match extensions
        .into_iter()
        .flatten()
        .find(|e| e.critical && !UNDERSTOOD_EXTENSIONS.contains(&e.extn_id))
    {
        Some(unknown) => Err(CertificateError::UnknownCriticalExtension(
            unknown.extn_id.to_string(),
        )),
        None => Ok(()),
    }
}
