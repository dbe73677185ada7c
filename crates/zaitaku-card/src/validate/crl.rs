//! Revocation from imported CRLs. JPKI gives CRLs only to certified operators, so the
//! result is always explicit: good, revoked, or not checked (and why).

use super::summary::rfc3339;
use super::trust::TrustAnchor;
use crate::oids::ext;
use crate::pem::{self, PemError};
use der::Decode;
use serde::Serialize;
use std::time::SystemTime;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlDistributionPoints};

/// A CRL as imported; its signature is checked against the card's issuer at use.
#[derive(Debug, Clone)]
pub struct Crl {
    list: CertificateList,
    der: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RevocationStatus {
    /// A current CRL from the issuer covers the certificate and does not list it.
    Good {
        crl_this_update: String,
    },
    Revoked {
        revoked_at: String,
    },
    /// No usable CRL: the reason says which was missing or stale.
    NotChecked {
        reason: String,
    },
}

/// Critical CRL extensions we process; any other makes the CRL unusable.
const UNDERSTOOD_CRL_EXTENSIONS: &[const_oid::ObjectIdentifier] = &[
    ext::CRL_NUMBER,
    ext::AUTHORITY_KEY_IDENTIFIER,
    ext::ISSUING_DISTRIBUTION_POINT,
];

impl Crl {
    pub fn load(bytes: &[u8]) -> Result<Crl, PemError> {
        let (list, der) = pem::load_crl(bytes)?;
        Ok(Crl { list, der })
    }

    pub fn issuer(&self) -> String {
        self.list.tbs_cert_list.issuer.to_string()
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn this_update(&self) -> SystemTime {
        self.list.tbs_cert_list.this_update.to_system_time()
    }

    pub fn next_update(&self) -> Option<SystemTime> {
        self.list
            .tbs_cert_list
            .next_update
            .map(|t| t.to_system_time())
    }

    /// How many certificates the CRL lists as revoked.
    pub fn revoked_count(&self) -> usize {
        self.list
            .tbs_cert_list
            .revoked_certificates
            .as_ref()
            .map_or(0, Vec::len)
    }

    /// The cRLNumber in upper-case hex without leading zeros, if the CRL has one.
    pub fn number(&self) -> Result<Option<String>, CrlScopeError> {
        let Some(e) = self.extension(ext::CRL_NUMBER) else {
            return Ok(None);
        };
        let number = CrlNumber::from_der(e.extn_value.as_bytes())
            .map_err(|e| CrlScopeError(format!("its cRLNumber is malformed: {e}")))?;
        let hex: String = number
            .0
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let trimmed = hex.trim_start_matches('0');
        Ok(Some(
            if trimmed.is_empty() { "0" } else { trimmed }.to_owned(),
        ))
    }

    /// The partition a partitioned CRL covers (its issuing distribution point, as
    /// text), `None` for a complete CRL. A CRL the validator would never use
    /// (malformed scope, partial, indirect, unknown critical extension) is an error.
    pub fn partition(&self) -> Result<Option<String>, CrlScopeError> {
        let refuse = |why: String| Err(CrlScopeError(why));
        for e in self.list.tbs_cert_list.crl_extensions.iter().flatten() {
            if e.critical && !UNDERSTOOD_CRL_EXTENSIONS.contains(&e.extn_id) {
                return refuse(format!("it has unknown critical extension {}", e.extn_id));
            }
        }
        let Some(e) = self.extension(ext::ISSUING_DISTRIBUTION_POINT) else {
            return Ok(None);
        };
        let Ok(idp) = IssuingDistributionPoint::from_der(e.extn_value.as_bytes()) else {
            return refuse("its issuing distribution point is malformed".into());
        };
        if idp.only_contains_ca_certs
            || idp.only_contains_attribute_certs
            || idp.indirect_crl
            || idp.only_some_reasons.is_some()
        {
            return refuse(
                "it is a partial or indirect CRL (its issuing distribution point limits it)".into(),
            );
        }
        match idp.distribution_point {
            None => Ok(None),
            Some(DistributionPointName::FullName(names)) => Ok(Some(
                names
                    .iter()
                    .map(general_name)
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
            Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                refuse("its distribution point is relative to the issuer's name".into())
            }
        }
    }

    /// The stored anchor that signed this CRL (name, key identifier and signature).
    pub fn signer<'a>(&self, anchors: &'a [TrustAnchor]) -> Option<&'a TrustAnchor> {
        anchors.iter().find(|a| self.issued_by(a))
    }

    fn extension(&self, id: const_oid::ObjectIdentifier) -> Option<&x509_cert::ext::Extension> {
        self.list
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == id)
    }

    /// Did `anchor` sign this CRL? Name, key identifier and signature must all match.
    fn issued_by(&self, anchor: &TrustAnchor) -> bool {
        let tbs = &self.list.tbs_cert_list;
        let key_id = tbs
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == ext::AUTHORITY_KEY_IDENTIFIER)
            .and_then(|e| AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
            .and_then(|aki| aki.key_identifier);
        anchor.may_have_issued(&tbs.issuer, key_id.as_ref()) && anchor.signed(&self.der)
    }

    /// Why this CRL cannot speak for `cert` at `at`, if it cannot.
    fn unusable_for(&self, cert: &Certificate, at: SystemTime) -> Option<String> {
        let tbs = &self.list.tbs_cert_list;
        if tbs.this_update.to_system_time() > at {
            return Some("the CRL was issued after the check time".into());
        }
        match tbs.next_update {
            Some(next) if next.to_system_time() < at => {
                return Some(format!(
                    "the CRL expired at {}",
                    rfc3339(next.to_system_time())
                ));
            }
            _ => {}
        }
        for e in tbs.crl_extensions.iter().flatten() {
            if e.critical && !UNDERSTOOD_CRL_EXTENSIONS.contains(&e.extn_id) {
                return Some(format!(
                    "the CRL has unknown critical extension {}",
                    e.extn_id
                ));
            }
            if e.extn_id == ext::ISSUING_DISTRIBUTION_POINT {
                let Ok(idp) = IssuingDistributionPoint::from_der(e.extn_value.as_bytes()) else {
                    return Some("the CRL's issuing distribution point is malformed".into());
                };
                if !idp_covers(&idp, cert) {
                    return Some("the CRL covers another distribution point".into());
                }
            }
        }
        None
    }

    fn lists(&self, cert: &Certificate) -> Option<SystemTime> {
        let serial = cert.tbs_certificate().serial_number();
        self.list
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .find(|r| r.serial_number == *serial)
            .map(|r| r.revocation_date.to_system_time())
    }
}

/// Why a CRL cannot be used at all, whatever the certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the CRL cannot be used: {0}")]
pub struct CrlScopeError(pub String);

/// A distribution point name as text: a directory name in RFC 4514 form, a URI
/// as it is, anything else as the hex of its DER.
fn general_name(name: &GeneralName) -> String {
    match name {
        GeneralName::DirectoryName(n) => n.to_string(),
        GeneralName::UniformResourceIdentifier(uri) => uri.to_string(),
        other => {
            let der = der::Encode::to_der(other).unwrap_or_default();
            let hex: String = der.iter().map(|b| format!("{b:02X}")).collect();
            format!("DER:{hex}")
        }
    }
}

/// A partitioned CRL (JPKI issues one per municipality) covers a certificate only if its
/// distribution point is one the certificate names. Partial or indirect CRLs are not used.
fn idp_covers(idp: &IssuingDistributionPoint, cert: &Certificate) -> bool {
    if idp.only_contains_ca_certs
        || idp.only_contains_attribute_certs
        || idp.indirect_crl
        || idp.only_some_reasons.is_some()
    {
        return false;
    }
    let Some(point) = &idp.distribution_point else {
        return true;
    };
    let DistributionPointName::FullName(crl_names) = point else {
        return false;
    };
    let cert_names: Vec<GeneralName> = cert
        .tbs_certificate()
        .get_extension::<CrlDistributionPoints>()
        .ok()
        .flatten()
        .map(|(_, dps)| {
            dps.0
                .into_iter()
                .filter_map(|dp| match dp.distribution_point {
                    Some(DistributionPointName::FullName(names)) => Some(names),
                    _ => None,
                })
                .flatten()
                .collect()
        })
        .unwrap_or_default();
    crl_names.iter().any(|n| cert_names.contains(n))
}

/// The status of `cert` (issued by `issuer`) according to the CRLs we hold.
pub fn revocation_status(
    crls: &[Crl],
    cert: &Certificate,
    issuer: &TrustAnchor,
    at: SystemTime,
) -> RevocationStatus {
    let mut why_not = None;
    let mut good = None;
    for crl in crls.iter().filter(|c| c.issued_by(issuer)) {
        if let Some(reason) = crl.unusable_for(cert, at) {
            why_not = Some(reason);
            continue;
        }
        match crl.lists(cert) {
            Some(when) if when <= at => {
                return RevocationStatus::Revoked {
                    revoked_at: rfc3339(when),
                };
            }
            _ => {
                good = Some(rfc3339(crl.list.tbs_cert_list.this_update.to_system_time()));
            }
        }
    }
    match (good, why_not) {
        (Some(crl_this_update), _) => RevocationStatus::Good { crl_this_update },
        (None, Some(reason)) => RevocationStatus::NotChecked { reason },
        (None, None) => RevocationStatus::NotChecked {
            reason: "no CRL from the certificate's issuer was imported".into(),
        },
    }
}
