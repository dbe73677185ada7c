//! The revocation index: what an import writes, that the newest CRL replaces
//! the older one's serials, look-ups by signer, partition and serial, that a
//! refused batch writes nothing, and the generation counter.

use super::backend::fresh_store;
use time::{Duration, OffsetDateTime};
use zaitaku_store::{CrlImport, NewCrl, NewTrustAnchor, RevocationKey, RevokedSerial, Store};

fn t(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + secs).unwrap()
}

fn anchor(fingerprint: &str) -> NewTrustAnchor {
    NewTrustAnchor {
        der: fingerprint.as_bytes().to_vec(),
        subject: "CN=Root".into(),
        key_identifier: None,
        not_before: t(-86_400),
        not_after: t(86_400 * 3650),
        fingerprint: fingerprint.into(),
    }
}

fn crl(signer: &str, partition: Option<&str>, this_update: i64, serials: &[&str]) -> NewCrl {
    NewCrl {
        der: format!("{signer}{partition:?}{this_update}").into_bytes(),
        issuer: "CN=Root".into(),
        signer_fingerprint: signer.into(),
        partition: partition.map(str::to_owned),
        this_update: t(this_update),
        next_update: Some(t(this_update) + Duration::days(1)),
        crl_number: None,
        entries: serials.len() as u64,
        revoked: serials
            .iter()
            .map(|s| RevokedSerial {
                serial: (*s).to_owned(),
                revoked_at: t(this_update - 10),
            })
            .collect(),
    }
}

fn key(signer: &str, partitions: &[&str], serial: &str) -> RevocationKey {
    RevocationKey {
        signer_fingerprint: signer.into(),
        partitions: partitions.iter().map(|p| (*p).to_owned()).collect(),
        serial: serial.into(),
    }
}

/// (partition, revoked_at) of each covering CRL, sorted.
async fn lookup(
    store: &dyn Store,
    signer: &str,
    partitions: &[&str],
    serial: &str,
) -> Vec<(Option<String>, Option<OffsetDateTime>)> {
    let mut found: Vec<_> = store
        .covering_crls(&key(signer, partitions, serial))
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.partition, c.revoked_at))
        .collect();
    found.sort();
    found
}

async fn an_import_indexes_serials_by_signer_partition_and_serial() {
    let (_dir, store) = fresh_store().await;
    store
        .add_trust_anchors(&[anchor("AA"), anchor("BB")], t(0))
        .await
        .unwrap();
    let town = crl("AA", Some("CN=Town 1"), 100, &["01", "0A"]);
    let complete = crl("BB", None, 100, &["01"]);
    store.import_crls(&[town, complete], t(200)).await.unwrap();

    // A certificate of AA naming Town 1 is covered by that CRL only.
    assert_eq!(
        lookup(store.as_ref(), "AA", &["CN=Town 1"], "0A").await,
        [(Some("CN=Town 1".into()), Some(t(90)))]
    );
    assert_eq!(
        lookup(store.as_ref(), "AA", &["CN=Town 1"], "0B").await,
        [(Some("CN=Town 1".into()), None)]
    );
    // Another town of AA has no CRL: nothing covers it.
    assert!(
        lookup(store.as_ref(), "AA", &["CN=Town 2"], "0A")
            .await
            .is_empty()
    );
    // BB's complete CRL covers every certificate of BB, whatever it names.
    assert_eq!(
        lookup(store.as_ref(), "BB", &["CN=Town 1"], "01").await,
        [(None, Some(t(90)))]
    );
    // An unknown signer: nothing.
    assert!(lookup(store.as_ref(), "CC", &[], "01").await.is_empty());

    let states = store.crl_states().await.unwrap();
    assert_eq!(states.len(), 2);
    assert!(states.iter().any(|s| s.signer_fingerprint == "AA"
        && s.partition.as_deref() == Some("CN=Town 1")
        && s.entries == 2
        && s.this_update == t(100)
        && s.next_update == Some(t(100) + Duration::days(1))));
}

async fn a_newer_crl_replaces_the_serials_of_the_older() {
    let (_dir, store) = fresh_store().await;
    store
        .add_trust_anchors(&[anchor("AA")], t(0))
        .await
        .unwrap();
    store
        .import_crls(&[crl("AA", Some("P"), 100, &["01", "02"])], t(200))
        .await
        .unwrap();
    store
        .import_crls(&[crl("AA", Some("P"), 300, &["02", "03"])], t(400))
        .await
        .unwrap();
    // 01 was taken off (a suspension lifted): the newer CRL alone speaks.
    assert_eq!(
        lookup(store.as_ref(), "AA", &["P"], "01").await,
        [(Some("P".into()), None)]
    );
    assert_eq!(
        lookup(store.as_ref(), "AA", &["P"], "03").await,
        [(Some("P".into()), Some(t(290)))]
    );
    let states = store.crl_states().await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].this_update, t(300));
}

async fn a_refused_batch_indexes_nothing() {
    let (_dir, store) = fresh_store().await;
    store
        .add_trust_anchors(&[anchor("AA")], t(0))
        .await
        .unwrap();
    store
        .import_crls(&[crl("AA", Some("P"), 300, &["01"])], t(400))
        .await
        .unwrap();
    let before = store.trust_generation().await.unwrap();
    // The second CRL is older than the kept one: the whole batch is refused,
    // the first one's serials included.
    let refused = store
        .import_crls(
            &[
                crl("AA", Some("Q"), 500, &["0F"]),
                crl("AA", Some("P"), 100, &["02"]),
            ],
            t(600),
        )
        .await
        .unwrap();
    assert!(matches!(refused, CrlImport::NotNewer { index: 1, .. }));
    assert!(lookup(store.as_ref(), "AA", &["Q"], "0F").await.is_empty());
    assert_eq!(
        lookup(store.as_ref(), "AA", &["P"], "02").await,
        [(Some("P".into()), None)]
    );
    assert_eq!(store.crl_states().await.unwrap().len(), 1);
    assert_eq!(store.trust_generation().await.unwrap(), before);
}

async fn the_generation_moves_with_every_anchor_and_crl_change_only() {
    let (_dir, store) = fresh_store().await;
    let empty = store.trust_generation().await.unwrap();
    assert_eq!(
        store.trust_generation().await.unwrap(),
        empty,
        "reading moves nothing"
    );
    store
        .add_trust_anchors(&[anchor("AA")], t(0))
        .await
        .unwrap();
    let anchored = store.trust_generation().await.unwrap();
    assert!(anchored > empty);
    // An anchor already stored changes nothing.
    store
        .add_trust_anchors(&[anchor("AA")], t(1))
        .await
        .unwrap();
    assert_eq!(store.trust_generation().await.unwrap(), anchored);
    store
        .import_crls(&[crl("AA", None, 100, &["01"])], t(200))
        .await
        .unwrap();
    let imported = store.trust_generation().await.unwrap();
    assert!(imported > anchored);
    store
        .import_crls(&[crl("AA", None, 300, &[])], t(400))
        .await
        .unwrap();
    assert!(store.trust_generation().await.unwrap() > imported);
}

async fn removing_an_anchor_takes_its_crls_and_moves_the_generation() {
    let (_dir, store) = fresh_store().await;
    store
        .add_trust_anchors(&[anchor("AA"), anchor("BB")], t(0))
        .await
        .unwrap();
    store
        .import_crls(
            &[
                crl("AA", None, 100, &["01"]),
                crl("AA", Some("p1"), 100, &["02"]),
                crl("BB", None, 100, &["03"]),
            ],
            t(200),
        )
        .await
        .unwrap();
    let before = store.trust_generation().await.unwrap();
    assert!(store.trust_anchor_stored("AA").await.unwrap());

    let removed = store.remove_trust_anchor("AA").await.unwrap().unwrap();
    assert_eq!(removed.record.anchor, anchor("AA"));
    assert_eq!(removed.crls, 2);
    assert!(store.trust_generation().await.unwrap() > before);
    assert!(!store.trust_anchor_stored("AA").await.unwrap());
    assert!(store.trust_anchor_stored("BB").await.unwrap());
    let left: Vec<_> = store
        .trust_anchors()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.anchor.fingerprint)
        .collect();
    assert_eq!(left, ["BB"]);
    assert!(lookup(store.as_ref(), "AA", &["p1"], "01").await.is_empty());
    assert_eq!(lookup(store.as_ref(), "BB", &[], "03").await.len(), 1);

    let after = store.trust_generation().await.unwrap();
    assert_eq!(store.remove_trust_anchor("AA").await.unwrap(), None);
    assert_eq!(store.trust_generation().await.unwrap(), after);
    // Added again, it is trusted again.
    store
        .add_trust_anchors(&[anchor("AA")], t(300))
        .await
        .unwrap();
    assert!(store.trust_anchor_stored("AA").await.unwrap());
}

on_both_backends!(
    removing_an_anchor_takes_its_crls_and_moves_the_generation,
    an_import_indexes_serials_by_signer_partition_and_serial,
    a_newer_crl_replaces_the_serials_of_the_older,
    a_refused_batch_indexes_nothing,
    the_generation_moves_with_every_anchor_and_crl_change_only,
);
