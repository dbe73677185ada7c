//! Trust anchors and CRLs.

use super::common::*;

fn anchor(fingerprint: &str, subject: &str) -> NewTrustAnchor {
    let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    NewTrustAnchor {
        der: fingerprint.as_bytes().to_vec(),
        subject: subject.into(),
        key_identifier: Some("0A0B".into()),
        not_before: t,
        not_after: t + Duration::days(3650),
        fingerprint: fingerprint.into(),
    }
}

fn crl(signer: &str, partition: Option<&str>, this_update: i64, number: Option<&str>) -> NewCrl {
    let this_update = OffsetDateTime::from_unix_timestamp(this_update).unwrap();
    NewCrl {
        der: format!("{signer}{partition:?}{this_update}{number:?}").into_bytes(),
        issuer: "CN=Root".into(),
        signer_fingerprint: signer.into(),
        partition: partition.map(str::to_owned),
        this_update,
        next_update: Some(this_update + Duration::days(1)),
        crl_number: number.map(str::to_owned),
        entries: 2,
        revoked: Vec::new(),
    }
}

async fn trust_anchors_are_kept_once_each_in_the_order_added() {
    let (_dir, store) = fresh_store().await;
    assert!(store.trust_anchors().await.unwrap().is_empty());
    let first = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let added = store
        .add_trust_anchors(&[anchor("AA", "CN=Root"), anchor("BB", "CN=Root")], first)
        .await
        .unwrap();
    assert!(matches!(
        added.as_slice(),
        [AnchorAdded::Added(_), AnchorAdded::Added(_)]
    ));

    // Again, with a new one: the known one is reported with when it was added.
    let later = first + Duration::hours(1);
    let again = store
        .add_trust_anchors(&[anchor("BB", "CN=Root"), anchor("CC", "CN=Other")], later)
        .await
        .unwrap();
    match again.as_slice() {
        [AnchorAdded::AlreadyPresent(b), AnchorAdded::Added(c)] => {
            assert_eq!((b.anchor.fingerprint.as_str(), b.added_at), ("BB", first));
            assert_eq!((c.anchor.fingerprint.as_str(), c.added_at), ("CC", later));
        }
        other => panic!("{other:?}"),
    }
    let stored = store.trust_anchors().await.unwrap();
    let fingerprints: Vec<_> = stored
        .iter()
        .map(|a| a.anchor.fingerprint.as_str())
        .collect();
    assert_eq!(fingerprints, ["AA", "BB", "CC"]);
    assert_eq!(
        stored[0].anchor,
        anchor("AA", "CN=Root"),
        "every field round-trips"
    );
}

async fn only_the_newest_crl_per_signer_and_partition_is_kept() {
    let (_dir, store) = fresh_store().await;
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    // The signer must be a stored anchor.
    assert!(matches!(
        store
            .import_crls(&[crl("AA", None, 1000, Some("1"))], at)
            .await,
        Err(StoreError::Database(_))
    ));
    assert!(store.crls().await.unwrap().is_empty());
    store
        .add_trust_anchors(&[anchor("AA", "CN=Root"), anchor("BB", "CN=Root")], at)
        .await
        .unwrap();

    let first = crl("AA", None, 1000, Some("0F"));
    assert_eq!(
        store
            .import_crls(std::slice::from_ref(&first), at)
            .await
            .unwrap(),
        CrlImport::Imported(vec![None])
    );
    // Equal, or older, by number: refused, and nothing of the batch is written,
    // not even a CRL of another partition that came first.
    let other_partition = crl("AA", Some("CN=Town"), 2000, Some("1"));
    for stale in [
        crl("AA", None, 1000, Some("F")),
        crl("AA", None, 3000, Some("E")),
        crl("AA", None, 900, Some("10")),
    ] {
        match store
            .import_crls(&[other_partition.clone(), stale], at)
            .await
            .unwrap()
        {
            CrlImport::NotNewer { index, stored } => {
                assert_eq!((index, stored.crl), (1, first.clone()));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(store.crls().await.unwrap().len(), 1);
    }

    // A higher number replaces it; a partition and another root of the same
    // name (JPKI's generations share one) are kept apart.
    let newer = crl("AA", None, 1000, Some("100"));
    let other_root = crl("BB", None, 500, None);
    let later = at + Duration::minutes(5);
    assert_eq!(
        store
            .import_crls(
                &[newer.clone(), other_partition.clone(), other_root.clone()],
                later
            )
            .await
            .unwrap(),
        CrlImport::Imported(vec![
            Some(CrlRecord {
                crl: first,
                imported_at: at
            }),
            None,
            None
        ])
    );
    let kept: Vec<NewCrl> = store
        .crls()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.crl)
        .collect();
    assert_eq!(kept, [newer, other_partition, other_root.clone()]);

    // Without numbers, thisUpdate decides: the same time is not newer.
    assert!(matches!(
        store
            .import_crls(&[crl("BB", None, 500, None)], later)
            .await
            .unwrap(),
        CrlImport::NotNewer { index: 0, .. }
    ));
    let replaced = store
        .import_crls(&[crl("BB", None, 501, None)], later)
        .await
        .unwrap();
    assert!(
        matches!(&replaced, CrlImport::Imported(r) if r[0].as_ref().unwrap().crl == other_root)
    );
    assert_eq!(store.crls().await.unwrap().len(), 3);
}

on_both_backends!(
    trust_anchors_are_kept_once_each_in_the_order_added,
    only_the_newest_crl_per_signer_and_partition_is_kept,
);
