//! The revocation look-up contract: the validator checks everything but
//! revocation, says what it needs (signer, partitions, serial), and decides
//! from the CRLs an outside index returns; freshness, future revocation dates,
//! refused entries; and CRLs held in memory, whose signatures are checked once.

use crate::common::*;
use der::asn1::OctetString;
use der::{Decode, Encode};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, SystemTime};
use x509_cert::certificate::Rfc5280;
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use zaitaku_card::test_ca::{TestCa, serial_of};
use zaitaku_card::validate::crl::{Crl, RevocationStatus};
use zaitaku_card::validate::revocation::{
    CoveringCrl, CrlSet, RevocationLookup, RevocationQuery, judge,
};
use zaitaku_card::validate::{RevocationPolicy, Validator};

const MAX_AGE: Duration = Duration::from_secs(48 * 3600);

const TOWN: &str = "CN=Town 131016,OU=CRL,O=JPKI,C=JP";

/// The town as the validator names partitions (RFC 4514 of the parsed name).
fn town() -> String {
    Name::from_str(TOWN).unwrap().to_string()
}

fn covering(
    this_update: SystemTime,
    next: Option<SystemTime>,
    revoked: Option<SystemTime>,
) -> CoveringCrl {
    CoveringCrl {
        issuer: "CN=Root".into(),
        partition: Some("CN=Town".into()),
        this_update,
        next_update: next,
        revoked_at: revoked,
    }
}

/// An outside index, as the store keeps it: CRLs by signer and partition.
#[derive(Default)]
struct Index(HashMap<(String, Option<String>), (CoveringCrl, Vec<String>)>);

impl RevocationLookup for Index {
    fn covering(&self, q: &RevocationQuery) -> Vec<CoveringCrl> {
        std::iter::once(None)
            .chain(q.partitions.iter().cloned().map(Some))
            .filter_map(|p| self.0.get(&(q.signer_fingerprint.clone(), p)))
            .map(|(crl, serials)| CoveringCrl {
                revoked_at: serials.contains(&q.serial).then_some(crl.this_update),
                ..crl.clone()
            })
            .collect()
    }
}

fn strict() -> Validator {
    let mut config = config();
    config.revocation = RevocationPolicy::Required;
    Validator::new(config)
}

fn partitioned_cert() -> Vec<u8> {
    card_cert(|s| {
        s.extra_extensions
            .push(TestCa::distribution_point(TOWN).unwrap())
    })
}

#[test]
fn the_validator_asks_for_the_signer_partition_and_serial() {
    let cert = partitioned_cert();
    let (o, n) = (origin(), nonce());
    let pending = strict()
        .check_token(token_for(&cert, &o, &n).to_json().as_bytes(), &o, &n, now())
        .unwrap();
    let query = pending.query();
    assert_eq!(query.signer_fingerprint, anchor(ca()).fingerprint_sha256());
    assert_eq!(query.partitions, [town()]);
    assert_eq!(query.serial, pending.certificate().serial);
}

#[test]
fn the_answer_decides_good_revoked_and_unknown() {
    let cert = partitioned_cert();
    let (o, n) = (origin(), nonce());
    let token = token_for(&cert, &o, &n).to_json();
    let v = strict();
    let pending = || v.check_token(token.as_bytes(), &o, &n, now()).unwrap();
    let signer = anchor(ca()).fingerprint_sha256();
    let key = (signer, Some(town()));
    let fresh = covering(now() - days(1), Some(now() + days(1)), None);

    // Nothing covers it: refused, fail closed.
    let nothing = Index::default();
    let err = v
        .conclude(pending(), &nothing.covering(pending().query()))
        .unwrap_err();
    assert_eq!(err.error.code(), "revocation_unknown");

    let mut index = Index::default();
    index
        .0
        .insert(key.clone(), (fresh.clone(), vec!["01".into()]));
    let valid = v
        .conclude(pending(), &index.covering(pending().query()))
        .unwrap();
    assert!(matches!(valid.revocation, RevocationStatus::Good { .. }));

    let serial = pending().certificate().serial.clone();
    index.0.insert(key.clone(), (fresh, vec![serial]));
    let err = v
        .conclude(pending(), &index.covering(pending().query()))
        .unwrap_err();
    assert_eq!(err.error.code(), "certificate_revoked");

    // Only a stale CRL: refused, and the reason names it.
    let stale = covering(now() - days(3), Some(now() - days(1)), None);
    index.0.insert(key, (stale, vec![]));
    let err = v
        .conclude(pending(), &index.covering(pending().query()))
        .unwrap_err();
    assert_eq!(err.error.code(), "revocation_unknown");
    assert!(err.error.to_string().contains("stale"), "{}", err.error);
}

#[test]
fn a_listing_counts_whatever_its_date_or_the_crls_age() {
    let future = now() + days(10);
    let fresh_listing = covering(now() - days(1), Some(now() + days(1)), Some(future));
    assert!(matches!(
        judge(&[fresh_listing], now(), MAX_AGE),
        RevocationStatus::Revoked { .. }
    ));
    let stale_listing = covering(
        now() - days(9),
        Some(now() - days(2)),
        Some(now() - days(8)),
    );
    assert!(matches!(
        judge(&[stale_listing], now(), MAX_AGE),
        RevocationStatus::Revoked { .. }
    ));
}

#[test]
fn a_crl_without_next_update_is_stale_after_the_maximum_age() {
    let young = covering(now() - Duration::from_secs(3600), None, None);
    assert!(matches!(
        judge(&[young], now(), MAX_AGE),
        RevocationStatus::Good { .. }
    ));
    let old = covering(now() - days(3), None, None);
    match judge(&[old], now(), MAX_AGE) {
        RevocationStatus::NotChecked { reason } => {
            assert!(reason.contains("no nextUpdate"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // A fresh CRL beside a stale one speaks.
    let both = [
        covering(now() - days(3), Some(now() - days(1)), None),
        covering(now() - days(1), Some(now() + days(1)), None),
    ];
    assert!(matches!(
        judge(&both, now(), MAX_AGE),
        RevocationStatus::Good { .. }
    ));
}

#[test]
fn held_crls_cover_only_their_partition_and_need_their_signers_signature() {
    let cert = partitioned_cert();
    let serial = serial_of(&cert).unwrap();
    let revoked = [(serial, now() - days(1))];
    let ours = ca()
        .issue_partitioned_crl(&revoked, now() - days(1), Some(now() + days(1)), Some(TOWN))
        .unwrap();
    let other_town = "CN=Town 999999,OU=CRL,O=JPKI,C=JP";
    let elsewhere = ca()
        .issue_partitioned_crl(
            &revoked,
            now() - days(1),
            Some(now() + days(1)),
            Some(other_town),
        )
        .unwrap();
    let foreign = other_generation_ca()
        .issue_partitioned_crl(&revoked, now() - days(1), Some(now() + days(1)), Some(TOWN))
        .unwrap();
    let anchors = [anchor(ca())];
    let (o, n) = (origin(), nonce());
    let query = strict()
        .check_token(token_for(&cert, &o, &n).to_json().as_bytes(), &o, &n, now())
        .unwrap()
        .query()
        .clone();

    let set = CrlSet::new(&[Crl::load(&ours).unwrap()], &anchors);
    assert!(set.covering(&query)[0].revoked_at.is_some());
    let set = CrlSet::new(&[Crl::load(&elsewhere).unwrap()], &anchors);
    assert!(
        set.covering(&query).is_empty(),
        "another town's CRL does not cover it"
    );
    let set = CrlSet::new(&[Crl::load(&foreign).unwrap()], &anchors);
    assert!(set.is_empty(), "a CRL our anchor did not sign is left out");
}

#[test]
fn an_unknown_critical_entry_extension_refuses_the_crl() {
    let der = ca()
        .issue_crl(&[(vec![0x01], now())], now() - days(1), now() + days(1))
        .unwrap();
    let mut list: CertificateList<Rfc5280> = CertificateList::from_der(&der).unwrap();
    let entry = &mut list.tbs_cert_list.revoked_certificates.as_mut().unwrap()[0];
    entry.crl_entry_extensions = Some(vec![Extension {
        extn_id: const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
        critical: true,
        extn_value: OctetString::new(vec![0x05, 0x00]).unwrap(),
    }]);
    let crl = Crl::load(&list.to_der().unwrap()).unwrap();
    let err = crl.entries().unwrap_err();
    assert!(err.to_string().contains("critical"), "{err}");

    // A critical reason code is understood: the entry stays.
    entry_reason(&mut list);
    let crl = Crl::load(&list.to_der().unwrap()).unwrap();
    assert_eq!(crl.entries().unwrap().len(), 1);
}

fn entry_reason(list: &mut CertificateList<Rfc5280>) {
    let entry = &mut list.tbs_cert_list.revoked_certificates.as_mut().unwrap()[0];
    entry.crl_entry_extensions = Some(vec![Extension {
        extn_id: const_oid::db::rfc5280::ID_CE_CRL_REASONS,
        critical: true,
        // ENUMERATED keyCompromise (1)
        extn_value: OctetString::new(vec![0x0A, 0x01, 0x01]).unwrap(),
    }]);
}
