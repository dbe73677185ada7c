//! Revocation from imported CRLs. JPKI gives CRLs only to certified operators, so the
//! result is always explicit: good, revoked, or not checked (and why).

use super::summary::serial_hex;
use super::trust::TrustAnchor;
use crate::oids::ext;
use crate::pem::{self, PemError};
use der::Decode;
use serde::Serialize;
use std::time::SystemTime;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::AuthorityKeyIdentifier;
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

/// A CRL as read from a file or the database. Its signature is checked once,
/// when it is imported or loaded ([`Crl::signer`]), never per token.
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

/// Critical entry extensions we may ignore: a reason code and an invalidity
/// date do not change that the serial is revoked. (certificateIssuer, always
/// critical, belongs to indirect CRLs and so is refused.)
const UNDERSTOOD_ENTRY_EXTENSIONS: &[const_oid::ObjectIdentifier] = &[
    const_oid::db::rfc5280::ID_CE_CRL_REASONS,
    const_oid::db::rfc5280::ID_CE_INVALIDITY_DATE,
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

    /// Every serial the CRL lists, with its revocation date. A CRL with an
    /// entry extension marked critical that we do not understand is refused
    /// whole: its entries could mean something else than "revoked".
    pub fn entries(&self) -> Result<Vec<RevokedEntry>, CrlScopeError> {
        let listed = self
            .list
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten();
        listed
            .map(|r| {
                for e in r.crl_entry_extensions.iter().flatten() {
                    if e.critical && !UNDERSTOOD_ENTRY_EXTENSIONS.contains(&e.extn_id) {
                        return Err(CrlScopeError(format!(
                            "an entry has unknown critical extension {}",
                            e.extn_id
                        )));
                    }
                }
                Ok(RevokedEntry {
                    serial: serial_hex(r.serial_number.as_bytes()),
                    revoked_at: r.revocation_date.to_system_time(),
                })
            })
            .collect()
    }
}

/// One serial a CRL lists. The date is kept for results only: an entry counts
/// as revoked whatever its date, even one in the future.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Upper-case hex, as [`serial_hex`] prints certificate serials.
    pub serial: String,
    pub revoked_at: SystemTime,
}

/// Why a CRL cannot be used at all, whatever the certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the CRL cannot be used: {0}")]
pub struct CrlScopeError(pub String);

/// A distribution point name as text: a directory name in RFC 4514 form, a URI
/// as it is, anything else as the hex of its DER. CRL partitions and the
/// distribution points certificates name are compared in this form.
pub(crate) fn general_name(name: &GeneralName) -> String {
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
