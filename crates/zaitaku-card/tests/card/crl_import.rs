//! What `zaitaku admin crl import` reads from a CRL before storing it: its
//! signer among the anchors, its number, its partition (issuing distribution
//! point), and the scopes the validator would never use.

use der::asn1::OctetString;
use der::{Decode, Encode};
use std::str::FromStr;
use std::time::{Duration, SystemTime};
use x509_cert::certificate::Rfc5280;
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::name::Name;
use zaitaku_card::test_ca::TestCa;
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::trust::TrustAnchor;

const HOUR: Duration = Duration::from_secs(3600);

fn new_ca(name: &str) -> (TestCa, TrustAnchor) {
    let ca = TestCa::generate(name).unwrap();
    let anchor = TrustAnchor::load_all(&ca.certificate_der().unwrap())
        .unwrap()
        .remove(0);
    (ca, anchor)
}

fn crl_der(ca: &TestCa) -> Vec<u8> {
    let now = SystemTime::now();
    let revoked = vec![(vec![0x01, 0x02], now - HOUR), (vec![0x03], now - HOUR)];
    ca.issue_crl(&revoked, now - HOUR, now + HOUR).unwrap()
}

/// The CRL with one more extension. The signature no longer matches, which the
/// scope checks do not look at.
fn with_extension(der: &[u8], extension: Extension) -> Crl {
    let mut list: CertificateList<Rfc5280> = CertificateList::from_der(der).unwrap();
    list.tbs_cert_list
        .crl_extensions
        .get_or_insert_with(Vec::new)
        .push(extension);
    Crl::load(&list.to_der().unwrap()).unwrap()
}

fn idp(value: &IssuingDistributionPoint) -> Extension {
    Extension {
        extn_id: const_oid::db::rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT,
        critical: true,
        extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
    }
}

fn town() -> IssuingDistributionPoint {
    IssuingDistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![
            GeneralName::DirectoryName(Name::from_str("CN=Town 131016,O=JPKI,C=JP").unwrap()),
        ])),
        only_contains_user_certs: true,
        only_contains_ca_certs: false,
        only_some_reasons: None,
        indirect_crl: false,
        only_contains_attribute_certs: false,
    }
}

#[test]
fn a_crl_names_its_signer_number_entries_and_times() {
    let (ca, anchor) = new_ca("CN=Root A,C=JP");
    let (_, same_name) = new_ca("CN=Root A,C=JP");
    let (_, other) = new_ca("CN=Root B,C=JP");
    let crl = Crl::load(&crl_der(&ca)).unwrap();
    assert_eq!(crl.issuer(), "CN=Root A,C=JP");
    assert_eq!(crl.revoked_count(), 2);
    assert!(crl.next_update().unwrap() > crl.this_update());
    // The test CA numbers its CRLs by thisUpdate in seconds.
    let secs = crl
        .this_update()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(crl.number().unwrap(), Some(format!("{secs:X}")));
    assert_eq!(crl.partition().unwrap(), None);

    let anchors = [other.clone(), same_name.clone(), anchor.clone()];
    let signer = crl.signer(&anchors).expect("the signing root");
    assert_eq!(signer.fingerprint_sha256(), anchor.fingerprint_sha256());
    assert!(crl.signer(&[other, same_name]).is_none());
    // A changed CRL no longer verifies under its root.
    assert!(
        with_extension(&crl_der(&ca), idp(&town()))
            .signer(&anchors)
            .is_none()
    );
}

#[test]
fn a_partitioned_crl_names_its_partition_and_unusable_scopes_are_refused() {
    let (ca, _) = new_ca("CN=Root A,C=JP");
    let der = crl_der(&ca);
    let crl = with_extension(&der, idp(&town()));
    assert_eq!(
        crl.partition().unwrap(),
        Some("CN=Town 131016,O=JPKI,C=JP".to_owned())
    );
    let mut indirect = town();
    indirect.indirect_crl = true;
    let mut cas_only = town();
    cas_only.only_contains_user_certs = false;
    cas_only.only_contains_ca_certs = true;
    for refused in [indirect, cas_only] {
        let why = with_extension(&der, idp(&refused)).partition().unwrap_err();
        assert!(why.to_string().contains("partial or indirect"), "{why}");
    }
    let unknown = Extension {
        extn_id: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
        critical: true,
        extn_value: OctetString::new(vec![0x05, 0x00]).unwrap(),
    };
    let why = with_extension(&der, unknown).partition().unwrap_err();
    assert!(
        why.to_string()
            .contains("unknown critical extension 1.3.6.1.4.1.99999.1")
    );
}
