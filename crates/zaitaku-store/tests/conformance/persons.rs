//! Insured persons: upserts by key keep their ids.

use super::common::*;

async fn upserts_find_persons_by_key_and_keep_their_ids() {
    let (_dir, store) = fresh_store().await;
    let bare = qualification(); // no symbol, no branch
    let mut with_branch = qualification();
    with_branch.branch = Some("01".into());
    let mut with_symbol = qualification();
    with_symbol.symbol = Some("記号".into());
    with_symbol.branch = Some("01".into());
    let batch = vec![bare.clone(), with_branch.clone(), with_symbol.clone()];
    let counts = |inserted, updated, unchanged| UpsertCounts {
        inserted,
        updated,
        unchanged,
    };
    assert_eq!(store.upsert_persons(&batch).await.unwrap(), counts(3, 0, 0));
    assert_eq!(store.upsert_persons(&batch).await.unwrap(), counts(0, 0, 3));

    let key = PersonKey::of(&bare);
    let found = store.person_by_key(&key).await.unwrap().unwrap();
    assert_eq!(found.qualification, bare);
    let with_symbol_id = store
        .person_by_key(&PersonKey::of(&with_symbol))
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_ne!(with_symbol_id, found.id);
    let mut unknown = key.clone();
    unknown.number = "2".into();
    assert!(store.person_by_key(&unknown).await.unwrap().is_none());

    // A changed record updates the person in place: links stay attached.
    let at = OffsetDateTime::now_utc();
    store
        .link_certificate("CN=Issuer", "0A", found.id, at)
        .await
        .unwrap();
    let mut lost = bare.clone();
    lost.lost_on = Some(date!(2026 - 03 - 31));
    lost.loss_reason = Some("退職".into());
    assert_eq!(
        store
            .upsert_persons(&[lost.clone(), with_branch.clone()])
            .await
            .unwrap(),
        counts(0, 1, 1)
    );
    let linked = store
        .person_by_certificate("CN=Issuer", "0A")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.id, found.id);
    assert_eq!(linked.qualification, lost);

    // The key is unique for single inserts too, a missing symbol or branch included.
    assert!(matches!(
        store.insert_person(&bare).await,
        Err(StoreError::Duplicate { .. })
    ));

    assert!(store.unlink_certificate("CN=Issuer", "0A").await.unwrap());
    assert!(!store.unlink_certificate("CN=Issuer", "0A").await.unwrap());
    assert!(
        store
            .person_by_certificate("CN=Issuer", "0A")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.person(found.id).await.unwrap().is_some());
}

on_both_backends!(upserts_find_persons_by_key_and_keep_their_ids,);
