//! The relying party's check of a card authentication, in this order:
//! parse → token signature (its algorithm must be the one the certificate's key makes)
//! → structure → path to a trust anchor (the issuer's signature) → key usage →
//! extended key usage → policy → validity → critical extensions → revocation.
//!
//! The signature and the path come before anything about the certificate's status
//! (expired, not yet valid, revoked, …), so nobody learns a certificate's status from
//! a token they could not sign. A certificate alone (`validate_certificate`) starts
//! at the structure.
//!
//! Revocation is a look-up the caller may answer from elsewhere (`revocation.rs`):
//! `check_token` does everything else, `conclude` takes the CRLs that cover the
//! certificate.
//!
//! A pass names the certificate (issuer, serial, CN); a failure is a typed reason.

pub mod crl;
pub mod profile;
pub mod revocation;
pub mod signature;
pub mod summary;
pub mod trust;

use crate::nonce::ChallengeNonce;
use crate::origin::Origin;
use crate::token::{TokenError, WebEidToken};
use const_oid::ObjectIdentifier;
use crl::{Crl, RevocationStatus};
use der::Decode;
use revocation::{CoveringCrl, CrlSet, RevocationLookup, RevocationQuery};
use serde::Serialize;
use signature::SignatureError;
use std::time::{Duration, SystemTime};
use summary::{CertificateSummary, rfc3339};
use trust::{AnchorSummary, TrustAnchor};
use x509_cert::Certificate;
use x509_cert::ext::pkix::AuthorityKeyIdentifier;

/// Whether a certificate may pass when no CRL could speak for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationPolicy {
    /// "not checked" is a failure.
    Required,
    /// "not checked" passes, and the result says so.
    AllowNotChecked,
}

#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    pub trust_anchors: Vec<TrustAnchor>,
    /// Certificate policies accepted for login (JPKI's authentication policy by default).
    pub allowed_policies: Vec<ObjectIdentifier>,
    /// CRLs held in memory (files given as flags); their signatures are
    /// checked once, when the validator is made.
    pub crls: Vec<Crl>,
    pub revocation: RevocationPolicy,
    /// How long a CRL without nextUpdate counts as fresh.
    pub crl_max_age: Duration,
}

impl ValidatorConfig {
    /// Trust these anchors, accept JPKI's user-authentication policy, no CRLs yet.
    pub fn new(trust_anchors: Vec<TrustAnchor>) -> Self {
        ValidatorConfig {
            trust_anchors,
            allowed_policies: vec![crate::oids::JPKI_AUTH_POLICY],
            crls: Vec::new(),
            revocation: RevocationPolicy::AllowNotChecked,
            crl_max_age: revocation::DEFAULT_CRL_MAX_AGE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the certificate is malformed: {0}")]
    Malformed(String),
    #[error("a certificate extension is malformed: {0}")]
    MalformedExtension(String),
    #[error("the certificate has no keyUsage extension")]
    MissingKeyUsage,
    #[error("the certificate's keyUsage does not allow digitalSignature")]
    KeyUsageWithoutDigitalSignature,
    #[error("this is a signing certificate (nonRepudiation), not an authentication certificate")]
    SigningCertificate,
    #[error("this is a CA certificate, not a card's authentication certificate")]
    CaCertificate,
    #[error("the certificate's extendedKeyUsage does not allow client authentication")]
    MissingClientAuth,
    #[error("none of the certificate's policies {found:?} is allowed here")]
    PolicyNotAllowed { found: Vec<String> },
    #[error("no configured trust anchor issued this certificate (issuer {issuer})")]
    Untrusted { issuer: String },
    #[error("the certificate expired at {not_after}")]
    Expired { not_after: String },
    #[error("the certificate is not valid before {not_before}")]
    NotYetValid { not_before: String },
    #[error(
        "the issuing root {issuer} is not valid at the check time (valid {not_before} to {not_after})"
    )]
    IssuerNotValid {
        issuer: String,
        not_before: String,
        not_after: String,
    },
    #[error("the certificate has a critical extension we do not understand: {0}")]
    UnknownCriticalExtension(String),
    #[error("the certificate was revoked at {revoked_at}")]
    Revoked { revoked_at: String },
    #[error("revocation could not be checked and is required: {reason}")]
    RevocationNotChecked { reason: String },
}

/// Every way a token or certificate can fail, one layer each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error("token signature: {0}")]
    Signature(#[from] SignatureError),
}

impl ValidationError {
    /// A stable machine-readable code for each reason (for JSON output and screens).
    pub fn code(&self) -> &'static str {
        use CertificateError as C;
        use TokenError as T;
        match self {
            ValidationError::Token(t) => match t {
                T::Empty => "token_empty",
                T::TooLarge { .. } => "token_too_large",
                T::Json(_) => "token_malformed_json",
                T::UnsupportedFormat(_) => "token_unsupported_format",
                T::UnsupportedAlgorithm(_) => "token_unsupported_algorithm",
                T::InvalidBase64(_) => "token_invalid_base64",
                T::CertificateTooLarge { .. } => "certificate_too_large",
                T::InvalidCertificateDer(_) => "certificate_invalid_der",
                T::InvalidSignatureLength => "signature_invalid_length",
                T::InvalidAppVersion => "token_invalid_app_version",
            },
            ValidationError::Certificate(c) => match c {
                C::Malformed(_) => "certificate_invalid_der",
                C::MalformedExtension(_) => "certificate_malformed_extension",
                C::MissingKeyUsage => "certificate_missing_key_usage",
                C::KeyUsageWithoutDigitalSignature => "certificate_wrong_key_usage",
                C::SigningCertificate => "certificate_is_signing_certificate",
                C::CaCertificate => "certificate_is_ca",
                C::MissingClientAuth => "certificate_missing_client_auth",
                C::PolicyNotAllowed { .. } => "certificate_policy_not_allowed",
                C::Untrusted { .. } => "certificate_untrusted",
                C::Expired { .. } => "certificate_expired",
                C::NotYetValid { .. } => "certificate_not_yet_valid",
                C::IssuerNotValid { .. } => "issuer_not_valid",
                C::UnknownCriticalExtension(_) => "certificate_unknown_critical_extension",
                C::Revoked { .. } => "certificate_revoked",
                C::RevocationNotChecked { .. } => "revocation_unknown",
            },
            ValidationError::Signature(s) => match s {
                SignatureError::WrongLength { .. } => "signature_invalid_length",
                SignatureError::Invalid => "signature_invalid",
                SignatureError::UnsupportedKey(_) => "certificate_unsupported_key",
                SignatureError::AlgorithmMismatch { .. } => "token_algorithm_mismatch",
                SignatureError::UnsupportedAlgorithm(_) | SignatureError::Malformed(_) => {
                    "signature_invalid"
                }
            },
        }
    }
}

/// A failed check: the reason, and the certificate when it could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct Rejection {
    pub error: ValidationError,
    /// Boxed: a rejection travels in `Result`s and should stay small.
    pub certificate: Option<Box<CertificateSummary>>,
}

/// A passed check: which certificate, under which root and policy, and revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidCertificate {
    pub certificate: CertificateSummary,
    pub trust_anchor: AnchorSummary,
    pub policy: String,
    pub revocation: RevocationStatus,
    pub checked_at: String,
}

/// A certificate that passed every check but revocation, with the query
/// whose answer decides it (see [`Validator::conclude`]).
#[derive(Debug, Clone)]
pub struct PendingRevocation {
    certificate: CertificateSummary,
    trust_anchor: AnchorSummary,
    policy: String,
    at: SystemTime,
    query: RevocationQuery,
}

impl PendingRevocation {
    pub fn query(&self) -> &RevocationQuery {
        &self.query
    }

    pub fn certificate(&self) -> &CertificateSummary {
        &self.certificate
    }
}

pub struct Validator {
    config: ValidatorConfig,
    /// The configured CRLs, checked and indexed once.
    held: CrlSet,
}

impl Validator {
    pub fn new(config: ValidatorConfig) -> Self {
        let held = CrlSet::new(&config.crls, &config.trust_anchors);
        Validator { config, held }
    }

    pub fn config(&self) -> &ValidatorConfig {
        &self.config
    }

    /// Check a Web eID token made for `origin` and `nonce`, at time `at`, with
    /// the configured CRLs only.
    pub fn validate_token(
        &self,
        token_json: &[u8],
        origin: &Origin,
        nonce: &ChallengeNonce,
        at: SystemTime,
    ) -> Result<ValidCertificate, Rejection> {
        let pending = self.check_token(token_json, origin, nonce, at)?;
        self.conclude(pending, &[])
    }

    /// Every check of the token but revocation: its answer comes from
    /// [`PendingRevocation::query`] and goes to [`Validator::conclude`].
    pub fn check_token(
        &self,
        token_json: &[u8],
        origin: &Origin,
        nonce: &ChallengeNonce,
        at: SystemTime,
    ) -> Result<PendingRevocation, Rejection> {
        let reject = |error: ValidationError, certificate| Rejection { error, certificate };
        let parsed = WebEidToken::from_json(token_json)
            .and_then(|t| t.parse())
            .map_err(|e| reject(e.into(), None))?;
        signature::verify_token_signature(
            parsed.algorithm,
            parsed
                .certificate
                .tbs_certificate()
                .subject_public_key_info(),
            &parsed.algorithm.signed_value(origin, nonce),
            &parsed.signature,
        )
        .map_err(|e| {
            let named = CertificateSummary::of(&parsed.certificate);
            reject(e.into(), Some(Box::new(named)))
        })?;
        self.check_certificate(&parsed.certificate, &parsed.certificate_der, at)
    }

    /// Check one DER certificate the same way (path, policy, usages, validity,
    /// revocation from the configured CRLs).
    pub fn validate_certificate(
        &self,
        der_bytes: &[u8],
        at: SystemTime,
    ) -> Result<ValidCertificate, Rejection> {
        let certificate = Certificate::from_der(der_bytes).map_err(|e| Rejection {
            error: CertificateError::Malformed(e.to_string()).into(),
            certificate: None,
        })?;
        let pending = self.check_certificate(&certificate, der_bytes, at)?;
        self.conclude(pending, &[])
    }

    /// Decide revocation from `looked_up` (the CRLs a store found for the
    /// query) together with the configured CRLs, under the configured policy.
    pub fn conclude(
        &self,
        pending: PendingRevocation,
        looked_up: &[CoveringCrl],
    ) -> Result<ValidCertificate, Rejection> {
        let mut covering = self.held.covering(&pending.query);
        covering.extend_from_slice(looked_up);
        let revocation = revocation::judge(&covering, pending.at, self.config.crl_max_age);
        let refuse = |error: CertificateError| Rejection {
            error: error.into(),
            certificate: Some(Box::new(pending.certificate.clone())),
        };
        match (&revocation, self.config.revocation) {
            (RevocationStatus::Revoked { revoked_at }, _) => {
                return Err(refuse(CertificateError::Revoked {
                    revoked_at: revoked_at.clone(),
                }));
            }
            (RevocationStatus::NotChecked { reason }, RevocationPolicy::Required) => {
                return Err(refuse(CertificateError::RevocationNotChecked {
                    reason: reason.clone(),
                }));
            }
            _ => {}
        }
        Ok(ValidCertificate {
            certificate: pending.certificate,
            trust_anchor: pending.trust_anchor,
            policy: pending.policy,
            revocation,
            checked_at: rfc3339(pending.at),
        })
    }

    fn check_certificate(
        &self,
        cert: &Certificate,
        der_bytes: &[u8],
        at: SystemTime,
    ) -> Result<PendingRevocation, Rejection> {
        let named = CertificateSummary::of(cert);
        let reject = |error: CertificateError| Rejection {
            error: error.into(),
            certificate: Some(Box::new(named.clone())),
        };
        profile::check_structure(cert).map_err(reject)?;
        let anchor = self.find_anchor(cert, der_bytes).map_err(reject)?;
        profile::check_key_usage(cert).map_err(reject)?;
        profile::check_extended_key_usage(cert).map_err(reject)?;
        let policy =
            profile::check_policies(cert, &self.config.allowed_policies).map_err(reject)?;
        check_validity(cert, anchor, at).map_err(reject)?;
        profile::check_critical_extensions(cert).map_err(reject)?;
        Ok(PendingRevocation {
            query: revocation::query_for(cert, anchor),
            certificate: named.clone(),
            trust_anchor: anchor.summary(),
            policy: policy.to_string(),
            at,
        })
    }

    fn find_anchor(
        &self,
        cert: &Certificate,
        der_bytes: &[u8],
    ) -> Result<&TrustAnchor, CertificateError> {
        let tbs = cert.tbs_certificate();
        let key_id = tbs
            .get_extension::<AuthorityKeyIdentifier>()
            .map_err(|e| CertificateError::MalformedExtension(e.to_string()))?
            .and_then(|(_, aki)| aki.key_identifier);
        trust::find_issuer(
            &self.config.trust_anchors,
            tbs.issuer(),
            key_id.as_ref(),
            der_bytes,
        )
        .ok_or_else(|| CertificateError::Untrusted {
            issuer: tbs.issuer().to_string(),
        })
    }
}

/// The card certificate and its root must both be valid at `at`.
fn check_validity(
    cert: &Certificate,
    anchor: &TrustAnchor,
    at: SystemTime,
) -> Result<(), CertificateError> {
    let validity = cert.tbs_certificate().validity();
    let not_before = validity.not_before.to_system_time();
    let not_after = validity.not_after.to_system_time();
    if at < not_before {
        return Err(CertificateError::NotYetValid {
            not_before: rfc3339(not_before),
        });
    }
    if at > not_after {
        return Err(CertificateError::Expired {
            not_after: rfc3339(not_after),
        });
    }
    let root = anchor.certificate.tbs_certificate();
    let root_from = root.validity().not_before.to_system_time();
    let root_until = root.validity().not_after.to_system_time();
    if at < root_from || at > root_until {
        return Err(CertificateError::IssuerNotValid {
            issuer: root.subject().to_string(),
            not_before: rfc3339(root_from),
            not_after: rfc3339(root_until),
        });
    }
    Ok(())
}
