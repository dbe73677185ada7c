//! How a certificate is named in results, logs and the link table: issuer, serial, CN.

use crate::oids;
use der::asn1::{PrintableStringRef, Utf8StringRef};
use serde::Serialize;
use std::time::SystemTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::CertificatePolicies;
use x509_cert::name::Name;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateSummary {
    /// Issuer DN in RFC 4514 form.
    pub issuer: String,
    /// Serial number in upper-case hex, as `openssl x509 -serial` prints it.
    pub serial: String,
    /// The subject's common name: on a JPKI card an opaque 23-character identifier.
    pub subject_cn: Option<String>,
    pub not_before: String,
    pub not_after: String,
    pub policies: Vec<String>,
}

impl CertificateSummary {
    pub fn of(cert: &Certificate) -> Self {
        let tbs = cert.tbs_certificate();
        let policies = tbs
            .get_extension::<CertificatePolicies>()
            .ok()
            .flatten()
            .map(|(_, p)| {
                p.0.iter()
                    .map(|i| i.policy_identifier.to_string())
                    .collect()
            })
            .unwrap_or_default();
        CertificateSummary {
            issuer: tbs.issuer().to_string(),
            serial: serial_hex(tbs.serial_number().as_bytes()),
            subject_cn: common_name(tbs.subject()),
            not_before: rfc3339(tbs.validity().not_before.to_system_time()),
            not_after: rfc3339(tbs.validity().not_after.to_system_time()),
            policies,
        }
    }
}

/// DER INTEGER content bytes as hex, without the sign-padding zero byte.
pub fn serial_hex(bytes: &[u8]) -> String {
    let trimmed = match bytes {
        [0, next, ..] if *next >= 0x80 => &bytes[1..],
        _ => bytes,
    };
    trimmed.iter().map(|b| format!("{b:02X}")).collect()
}

pub fn common_name(name: &Name) -> Option<String> {
    name.as_ref()
        .iter()
        .flat_map(|rdn| rdn.as_ref().iter())
        .find_map(|atv| {
            if atv.oid != oids::COMMON_NAME {
                return None;
            }
            atv.value
                .decode_as::<Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_owned())
                .or_else(|_| {
                    atv.value
                        .decode_as::<PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_owned())
                })
                .ok()
        })
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(time: SystemTime) -> String {
    der::DateTime::from_system_time(time)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "out of range".into())
}
