//! Reading certificates and CRLs as PEM or DER, whichever a file holds.

use der::Decode;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    #[error("no certificate found (expected PEM \"CERTIFICATE\" blocks or one DER certificate)")]
    NoCertificate,
    #[error("not a valid certificate: {0}")]
    BadCertificate(String),
    #[error("not a valid CRL (expected PEM \"X509 CRL\" or DER): {0}")]
    BadCrl(String),
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().starts_with(b"-----BEGIN")
}

/// All certificates in a file, each with its DER bytes (signatures are checked over them).
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<(Certificate, Vec<u8>)>, PemError> {
    let ders = if looks_like_pem(bytes) {
        pem_blocks(bytes, "CERTIFICATE")?
    } else {
        vec![bytes.to_vec()]
    };
    let certs = ders
        .into_iter()
        .map(|der| {
            Certificate::from_der(&der)
                .map(|c| (c, der))
                .map_err(|e| PemError::BadCertificate(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(PemError::NoCertificate);
    }
    Ok(certs)
}

/// One CRL, PEM or DER, with its DER bytes.
pub fn load_crl(bytes: &[u8]) -> Result<(CertificateList, Vec<u8>), PemError> {
    let der = if looks_like_pem(bytes) {
        let mut blocks = pem_blocks(bytes, "X509 CRL")?;
        if blocks.len() != 1 {
            return Err(PemError::BadCrl(
                "expected exactly one X509 CRL block".into(),
            ));
        }
        blocks.remove(0)
    } else {
        bytes.to_vec()
    };
    let crl = CertificateList::from_der(&der).map_err(|e| PemError::BadCrl(e.to_string()))?;
    Ok((crl, der))
}

/// The DER contents of every PEM block with this label, in order.
fn pem_blocks(bytes: &[u8], label: &str) -> Result<Vec<Vec<u8>>, PemError> {
    let bad = |why: String| {
        if label == "CERTIFICATE" {
            PemError::BadCertificate(why)
        } else {
            PemError::BadCrl(why)
        }
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("PEM file is not text".into()))?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start..];
        let stop = after
            .find(&end)
            .ok_or_else(|| bad(format!("missing {end}")))?;
        let block = &after[..stop + end.len()];
        let (found, der) =
            der::pem::decode_vec(block.as_bytes()).map_err(|e| bad(e.to_string()))?;
        if found != label {
            return Err(bad(format!("unexpected PEM label {found}")));
        }
        out.push(der);
        rest = &after[stop + end.len()..];
    }
    Ok(out)
}
