//! A local test root that issues virtual-card certificates in the JPKI profile
//! (critical keyUsage digitalSignature, EKU clientAuth, critical policy, opaque subject
//! CN) for RSA-2048 or P-384 card keys. The root's own key is RSA-2048 (signing with
//! SHA-256) or ECDSA (P-256, P-384, P-521, each signing with its own hash), and either
//! kind issues either kind of card. Its root is trusted only where it is configured as
//! an anchor, and its policy is a documentation OID no real card carries.

pub use crate::keys::{KeyKind, KeyPair};
use crate::oids;
use der::asn1::{OctetString, Uint};
use der::pem::LineEnding;
use der::{Decode, Encode, EncodePem};
use rsa::PrivateKey;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{CertificateBuilder, CrlBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::crl::{CertificateList, RevokedCert};
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::crl::dp::{DistributionPoint, IssuingDistributionPoint};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

pub const CA_KEY_FILE: &str = "ca-key.pem";
pub const CA_CERT_FILE: &str = "ca-cert.pem";
pub const CRL_FILE: &str = "crl.pem";
pub const REVOKED_FILE: &str = "revoked.txt";

/// The test root's name. JPKI's roots share one name across generations; so may ours.
pub const DEFAULT_CA_NAME: &str =
    "CN=Zaitaku Test Root,OU=Virtual card user authentication (not JPKI),O=Zaitaku,C=JP";

const DAY: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum TestCaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} already holds a test CA; refusing to overwrite it")]
    AlreadyExists(PathBuf),
    #[error("{path} is not a valid test CA file: {why}")]
    BadFile { path: PathBuf, why: String },
    #[error("could not build the certificate: {0}")]
    Build(String),
    #[error("key generation failed: {0}")]
    KeyGeneration(String),
}

impl From<crate::keys::KeyError> for TestCaError {
    fn from(e: crate::keys::KeyError) -> Self {
        TestCaError::KeyGeneration(e.to_string())
    }
}

fn build_err(e: impl std::fmt::Display) -> TestCaError {
    TestCaError::Build(e.to_string())
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TestCaError + '_ {
    move |source| TestCaError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A fresh RSA-2048 key from the operating system's CSPRNG.
pub fn generate_rsa_key() -> Result<PrivateKey, TestCaError> {
    match KeyPair::generate(KeyKind::Rsa2048)? {
        KeyPair::Rsa(key) => Ok(key),
        _ => unreachable!("an RSA key was asked for"),
    }
}

/// What a card certificate says. `LeafSpec::jpki_auth` is the JPKI profile; tests
/// change single fields to make each kind of bad certificate.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    pub subject_cn: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub key_usage: Vec<KeyUsages>,
    pub extended_key_usage: Option<Vec<const_oid::ObjectIdentifier>>,
    pub policies: Vec<const_oid::ObjectIdentifier>,
    pub policies_critical: bool,
    pub extra_extensions: Vec<Extension>,
}

impl LeafSpec {
    /// The JPKI user-authentication profile under the test policy, valid from now on
    /// for `valid_days`.
    pub fn jpki_auth(valid_days: u32) -> Result<Self, TestCaError> {
        let now = SystemTime::now();
        Ok(LeafSpec {
            subject_cn: random_card_id()?,
            // A minute of slack for clocks that differ a little.
            not_before: now - Duration::from_secs(60),
            not_after: now + DAY * valid_days,
            key_usage: vec![KeyUsages::DigitalSignature],
            extended_key_usage: Some(vec![oids::EKU_CLIENT_AUTH]),
            policies: vec![oids::ZAITAKU_TEST_CARD_POLICY],
            policies_critical: true,
            extra_extensions: Vec::new(),
        })
    }
}

/// A 23-character opaque identifier like a JPKI certificate's CN (no personal data).
pub fn random_card_id() -> Result<String, TestCaError> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut bytes = [0u8; 23];
    getrandom::fill(&mut bytes).map_err(|e| TestCaError::KeyGeneration(e.to_string()))?;
    // 252 is a multiple of 36, so rejecting above it keeps the choice uniform.
    let mut out = String::with_capacity(23);
    let mut pool = bytes.to_vec();
    while out.len() < 23 {
        match pool.pop() {
            Some(b) if b < 252 => out.push(ALPHABET[(b % 36) as usize] as char),
            Some(_) => {}
            None => {
                let mut more = [0u8; 16];
                getrandom::fill(&mut more)
                    .map_err(|e| TestCaError::KeyGeneration(e.to_string()))?;
                pool.extend_from_slice(&more);
            }
        }
    }
    Ok(out)
}

fn random_serial() -> Result<SerialNumber, TestCaError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| TestCaError::KeyGeneration(e.to_string()))?;
    // Positive and without a leading zero byte, as RFC 5280 asks.
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::new(&bytes).map_err(build_err)
}

/// Issuer, subject and the extensions to add, computed key identifiers included.
struct Profile {
    issuer: Name,
    subject: Name,
    extensions: Vec<Extension>,
    authority_key_id: bool,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut out = self.extensions.clone();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        out.push((&ski).to_extension(tbs.subject(), &out)?);
        if self.authority_key_id {
            let issuer_ski = SubjectKeyIdentifier::try_from(issuer_spk)?;
            let aki = AuthorityKeyIdentifier {
                key_identifier: Some(issuer_ski.0),
                ..Default::default()
            };
            out.push((&aki).to_extension(tbs.subject(), &out)?);
        }
        Ok(out)
    }
}

fn ext<T: der::Encode + const_oid::AssociatedOid>(
    critical: bool,
    value: &T,
) -> Result<Extension, TestCaError> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(build_err)?).map_err(build_err)?,
    })
}

fn time(t: SystemTime) -> Result<Time, TestCaError> {
    Time::try_from(t).map_err(build_err)
}

pub struct TestCa {
    key: KeyPair,
    certificate: Certificate,
    dir: Option<PathBuf>,
}

impl TestCa {
    /// A new RSA-2048 root in memory, named `name` (RFC 4514), valid for ten years from now.
    pub fn generate(name: &str) -> Result<TestCa, TestCaError> {
        TestCa::generate_with_key(name, KeyKind::Rsa2048)
    }

    /// A new root in memory with a key of `kind`, valid for ten years from now.
    pub fn generate_with_key(name: &str, kind: KeyKind) -> Result<TestCa, TestCaError> {
        let key = KeyPair::generate(kind)?;
        let name = Name::from_str(name).map_err(build_err)?;
        let certificate = ca_certificate(name.clone(), name, &key, &key, false)?;
        Ok(TestCa {
            key,
            certificate,
            dir: None,
        })
    }

    /// A CA certificate for a new key of `kind`, issued by this CA: an intermediate,
    /// for an anchor that is not self-signed.
    pub fn generate_subordinate(&self, name: &str, kind: KeyKind) -> Result<TestCa, TestCaError> {
        let key = KeyPair::generate(kind)?;
        let subject = Name::from_str(name).map_err(build_err)?;
        let issuer = self.certificate.tbs_certificate().subject().clone();
        let certificate = ca_certificate(issuer, subject, &key, &self.key, true)?;
        Ok(TestCa {
            key,
            certificate,
            dir: None,
        })
    }

    /// Create an RSA-2048 root in `dir`; see [`TestCa::init_with_key`].
    pub fn init(dir: &Path) -> Result<TestCa, TestCaError> {
        TestCa::init_with_key(dir, KeyKind::Rsa2048)
    }

    /// Create a root with a key of `kind` in `dir` (created if missing): key (mode 0600),
    /// certificate, empty CRL.
    pub fn init_with_key(dir: &Path, kind: KeyKind) -> Result<TestCa, TestCaError> {
        let key_path = dir.join(CA_KEY_FILE);
        if key_path.exists() || dir.join(CA_CERT_FILE).exists() {
            return Err(TestCaError::AlreadyExists(dir.to_owned()));
        }
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut ca = TestCa::generate_with_key(DEFAULT_CA_NAME, kind)?;
        let key_pem = ca.key.to_pkcs8_pem()?;
        write_private(&key_path, key_pem.as_bytes())?;
        let cert_path = dir.join(CA_CERT_FILE);
        std::fs::write(&cert_path, ca.certificate_pem()?).map_err(io_err(&cert_path))?;
        ca.dir = Some(dir.to_owned());
        ca.write_crl()?;
        Ok(ca)
    }

    pub fn load(dir: &Path) -> Result<TestCa, TestCaError> {
        let key_path = dir.join(CA_KEY_FILE);
        let key_pem = std::fs::read_to_string(&key_path).map_err(io_err(&key_path))?;
        let key = KeyPair::from_pkcs8_pem(&key_pem).map_err(|e| TestCaError::BadFile {
            path: key_path.clone(),
            why: e.to_string(),
        })?;
        let cert_path = dir.join(CA_CERT_FILE);
        let pem = std::fs::read(&cert_path).map_err(io_err(&cert_path))?;
        let bad = |why: String| TestCaError::BadFile {
            path: cert_path.clone(),
            why,
        };
        let mut certs = crate::pem::load_certificates(&pem).map_err(|e| bad(e.to_string()))?;
        let (certificate, _) = certs.remove(0);
        let cert_key = certificate.tbs_certificate().subject_public_key_info();
        let own_key = key.public_key_info()?;
        if *cert_key != own_key {
            return Err(bad("the certificate does not belong to the CA key".into()));
        }
        Ok(TestCa {
            key,
            certificate,
            dir: Some(dir.to_owned()),
        })
    }

    /// The CA's private key (tests sign odd objects with it).
    pub fn key(&self) -> &KeyPair {
        &self.key
    }

    /// The kind of the CA's own key.
    pub fn key_kind(&self) -> Option<KeyKind> {
        self.key.kind()
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    pub fn certificate_der(&self) -> Result<Vec<u8>, TestCaError> {
        self.certificate.to_der().map_err(build_err)
    }

    pub fn certificate_pem(&self) -> Result<String, TestCaError> {
        self.certificate.to_pem(LineEnding::LF).map_err(build_err)
    }

    /// Issue a card certificate for `public_key` (an RSA public key or a [`KeyPair`]);
    /// returns its DER.
    pub fn issue(
        &self,
        public_key: &impl EncodePublicKey,
        spec: &LeafSpec,
    ) -> Result<Vec<u8>, TestCaError> {
        let subject = Name::from_str(&format!("CN={},C=JP", spec.subject_cn)).map_err(build_err)?;
        let mut extensions = Vec::new();
        if let Some((first, rest)) = spec.key_usage.split_first() {
            let mut usage = KeyUsage((*first).into());
            for u in rest {
                usage.0 |= *u;
            }
            extensions.push(ext(true, &usage)?);
        }
        if let Some(eku) = &spec.extended_key_usage {
            extensions.push(ext(false, &ExtendedKeyUsage(eku.clone()))?);
        }
        if !spec.policies.is_empty() {
            let policies = CertificatePolicies(
                spec.policies
                    .iter()
                    .map(|oid| PolicyInformation {
                        policy_identifier: *oid,
                        policy_qualifiers: None,
                    })
                    .collect(),
            );
            extensions.push(ext(spec.policies_critical, &policies)?);
        }
        extensions.extend(spec.extra_extensions.iter().cloned());
        let profile = Profile {
            issuer: self.certificate.tbs_certificate().subject().clone(),
            subject,
            extensions,
            authority_key_id: true,
        };
        let validity = Validity::new(time(spec.not_before)?, time(spec.not_after)?);
        let spki = SubjectPublicKeyInfoOwned::from_key(public_key).map_err(build_err)?;
        let builder = CertificateBuilder::new(profile, random_serial()?, validity, spki)
            .map_err(build_err)?;
        let cert = self.key.sign(builder).map_err(build_err)?;
        cert.to_der().map_err(build_err)
    }

    /// A CRL listing `revoked` (serial DER-integer bytes, revocation time).
    pub fn issue_crl(
        &self,
        revoked: &[(Vec<u8>, SystemTime)],
        this_update: SystemTime,
        next_update: SystemTime,
    ) -> Result<Vec<u8>, TestCaError> {
        let entries = revoked
            .iter()
            .map(|(serial, when)| {
                Ok(RevokedCert::<x509_cert::certificate::Rfc5280> {
                    serial_number: SerialNumber::new(serial).map_err(build_err)?,
                    revocation_date: time(*when)?,
                    crl_entry_extensions: None,
                })
            })
            .collect::<Result<Vec<_>, TestCaError>>()?;
        let number = this_update
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(build_err)?
            .as_secs();
        let crl_number = CrlNumber(Uint::new(&number.to_be_bytes()).map_err(build_err)?);
        let mut builder =
            CrlBuilder::new_with_this_update(&self.certificate, crl_number, time(this_update)?)
                .map_err(build_err)?
                .with_next_update(Some(time(next_update)?));
        if !entries.is_empty() {
            builder = builder.with_certificates(entries.into_iter());
        }
        let crl = self.key.sign(builder).map_err(build_err)?;
        crl.to_der().map_err(build_err)
    }

    /// A CRL like one of JPKI's per-municipality ones: scoped to `partition`
    /// (a directory name in RFC 4514 form, as the critical issuing
    /// distribution point) when given, and without nextUpdate when
    /// `next_update` is `None`.
    pub fn issue_partitioned_crl(
        &self,
        revoked: &[(Vec<u8>, SystemTime)],
        this_update: SystemTime,
        next_update: Option<SystemTime>,
        partition: Option<&str>,
    ) -> Result<Vec<u8>, TestCaError> {
        let der = self.issue_crl(revoked, this_update, this_update + DAY)?;
        let mut list = CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&der)
            .map_err(build_err)?;
        list.tbs_cert_list.next_update = next_update.map(time).transpose()?;
        if let Some(name) = partition {
            let name = Name::from_str(name).map_err(build_err)?;
            let idp = IssuingDistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![
                    GeneralName::DirectoryName(name),
                ])),
                only_contains_user_certs: true,
                only_contains_ca_certs: false,
                only_some_reasons: None,
                indirect_crl: false,
                only_contains_attribute_certs: false,
            };
            list.tbs_cert_list
                .crl_extensions
                .get_or_insert_with(Vec::new)
                .push(Extension {
                    extn_id: oids::ext::ISSUING_DISTRIBUTION_POINT,
                    critical: true,
                    extn_value: OctetString::new(idp.to_der().map_err(build_err)?)
                        .map_err(build_err)?,
                });
        }
        let tbs = list.tbs_cert_list.to_der().map_err(build_err)?;
        list.signature = self.key.sign_tbs(&tbs).map_err(build_err)?;
        list.to_der().map_err(build_err)
    }

    /// A certificate extension naming `partition` as the certificate's CRL
    /// distribution point, for `LeafSpec::extra_extensions`.
    pub fn distribution_point(partition: &str) -> Result<Extension, TestCaError> {
        let name = Name::from_str(partition).map_err(build_err)?;
        let points = CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![
                GeneralName::DirectoryName(name),
            ])),
            reasons: None,
            crl_issuer: None,
        }]);
        Ok(Extension {
            extn_id: oids::ext::CRL_DISTRIBUTION_POINTS,
            critical: false,
            extn_value: OctetString::new(points.to_der().map_err(build_err)?).map_err(build_err)?,
        })
    }

    /// Record `serial` (hex) as revoked now in the CA directory and rewrite its CRL.
    pub fn revoke(&self, serial_hex: &str) -> Result<PathBuf, TestCaError> {
        let dir = self.dir()?;
        let serial = parse_serial_hex(serial_hex).ok_or_else(|| {
            TestCaError::Build(format!("{serial_hex:?} is not a hexadecimal serial number"))
        })?;
        let mut list = self.revoked_list()?;
        if !list.iter().any(|(s, _)| *s == serial) {
            list.push((serial, SystemTime::now()));
        }
        let text: String = list
            .iter()
            .map(|(s, t)| {
                let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
                format!(
                    "{} {}\n",
                    crate::validate::summary::serial_hex(s),
                    secs.as_secs()
                )
            })
            .collect();
        let path = dir.join(REVOKED_FILE);
        std::fs::write(&path, text).map_err(io_err(&path))?;
        self.write_crl()
    }

    /// Rewrite `crl.pem` from `revoked.txt`, valid for 30 days.
    pub fn write_crl(&self) -> Result<PathBuf, TestCaError> {
        let dir = self.dir()?;
        let now = SystemTime::now();
        let der = self.issue_crl(
            &self.revoked_list()?,
            now - Duration::from_secs(60),
            now + DAY * 30,
        )?;
        let pem = der::pem::encode_string("X509 CRL", LineEnding::LF, &der).map_err(build_err)?;
        let path = dir.join(CRL_FILE);
        std::fs::write(&path, pem).map_err(io_err(&path))?;
        Ok(path)
    }

    fn dir(&self) -> Result<&Path, TestCaError> {
        self.dir
            .as_deref()
            .ok_or_else(|| TestCaError::Build("this CA has no directory".into()))
    }

    fn revoked_list(&self) -> Result<Vec<(Vec<u8>, SystemTime)>, TestCaError> {
        let path = self.dir()?.join(REVOKED_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&path)(e)),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let bad = || TestCaError::BadFile {
                    path: path.clone(),
                    why: format!("bad line {line:?}"),
                };
                let (serial, secs) = line.split_once(' ').ok_or_else(bad)?;
                let serial = parse_serial_hex(serial).ok_or_else(bad)?;
                let secs: u64 = secs.trim().parse().map_err(|_| bad())?;
                Ok((serial, SystemTime::UNIX_EPOCH + Duration::from_secs(secs)))
            })
            .collect()
    }
}

/// A CA certificate for `key`, signed by `signer` (the same key for a root), valid for
/// ten years from now.
fn ca_certificate(
    issuer: Name,
    subject: Name,
    key: &KeyPair,
    signer: &KeyPair,
    authority_key_id: bool,
) -> Result<Certificate, TestCaError> {
    let mut key_usage = KeyUsage(KeyUsages::KeyCertSign.into());
    key_usage.0 |= KeyUsages::CRLSign;
    let profile = Profile {
        issuer,
        subject,
        extensions: vec![
            ext(
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(0),
                },
            )?,
            ext(true, &key_usage)?,
        ],
        authority_key_id,
    };
    let now = SystemTime::now();
    let validity = Validity::new(time(now - DAY)?, time(now + DAY * 3653)?);
    let builder =
        CertificateBuilder::new(profile, random_serial()?, validity, key.public_key_info()?)
            .map_err(build_err)?;
    signer.sign(builder).map_err(build_err)
}

/// Hex serial (as printed in results) → DER INTEGER content bytes.
pub fn parse_serial_hex(hex: &str) -> Option<Vec<u8>> {
    let hex = hex.trim();
    if hex.is_empty() || hex.len() > 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    let mut bytes: Vec<u8> = (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    if bytes[0] >= 0x80 {
        bytes.insert(0, 0);
    }
    Some(bytes)
}

/// Serial number DER-integer bytes of a DER certificate.
pub fn serial_of(cert_der: &[u8]) -> Option<Vec<u8>> {
    Certificate::from_der(cert_der)
        .ok()
        .map(|c| c.tbs_certificate().serial_number().as_bytes().to_vec())
}

/// Write a secret file readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TestCaError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(bytes).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}
