//! Medical records: imported once, read by kind.

use super::common::*;

fn record(kind: RecordKind, day: time::Date, name: &str, detail: &str) -> MedicalRecord {
    MedicalRecord::new(
        kind,
        day,
        "在宅クリニック",
        name,
        detail,
        date!(2026 - 11 - 24),
    )
    .unwrap()
}

fn for_person(key: &PersonKey, record: &MedicalRecord) -> NewRecord {
    NewRecord {
        person: key.clone(),
        record: record.clone(),
    }
}

async fn records_are_imported_once_and_read_by_kind_newest_first() {
    let (_dir, store) = fresh_store().await;
    let taro = qualification();
    let mut hanako = qualification();
    hanako.number = "2".into();
    store
        .upsert_persons(&[taro.clone(), hanako.clone()])
        .await
        .unwrap();
    let (taro_key, hanako_key) = (PersonKey::of(&taro), PersonKey::of(&hanako));
    let mut stranger = taro_key.clone();
    stranger.number = "99".into();

    let old_drug = record(
        RecordKind::Medication,
        date!(2026 - 09 - 01),
        "アムロジピン錠5mg",
        "1日1回朝食後 28日分",
    );
    let new_drug = record(
        RecordKind::Medication,
        date!(2026 - 10 - 01),
        "アムロジピン錠5mg",
        "1日1回朝食後 28日分",
    );
    let same_day = record(
        RecordKind::Medication,
        date!(2026 - 10 - 01),
        "ロスバスタチン錠2.5mg",
        "",
    );
    let diagnosis = record(
        RecordKind::Clinical,
        date!(2026 - 09 - 15),
        "高血圧症",
        "継続",
    );
    let checkup = record(
        RecordKind::HealthCheckup,
        date!(2026 - 06 - 10),
        "HbA1c",
        "6.1 %",
    );
    let surgery = record(
        RecordKind::Surgery,
        date!(2019 - 02 - 05),
        "腹腔鏡下胆嚢摘出術",
        "",
    );
    let theirs = record(RecordKind::Clinical, date!(2026 - 11 - 01), "糖尿病", "");
    let batch = vec![
        for_person(&taro_key, &old_drug),
        for_person(&taro_key, &new_drug),
        for_person(&stranger, &diagnosis),
        for_person(&taro_key, &same_day),
        for_person(&taro_key, &diagnosis),
        for_person(&taro_key, &checkup),
        for_person(&taro_key, &surgery),
        for_person(&hanako_key, &theirs),
    ];
    let counts = store.import_records(&batch).await.unwrap();
    assert_eq!(
        counts,
        RecordImportCounts {
            inserted: 7,
            unchanged: 0,
            unknown_persons: vec![2],
        }
    );
    // Again: nothing new, the unknown person still unknown.
    let again = store.import_records(&batch).await.unwrap();
    assert_eq!(
        again,
        RecordImportCounts {
            inserted: 0,
            unchanged: 7,
            unknown_persons: vec![2],
        }
    );

    let taro_id = store.person_by_key(&taro_key).await.unwrap().unwrap().id;
    let all = store.records_of(taro_id, RecordKind::ALL).await.unwrap();
    // Newest first; one day's records in import order.
    assert_eq!(
        all,
        vec![
            new_drug.clone(),
            same_day.clone(),
            diagnosis.clone(),
            old_drug.clone(),
            checkup.clone(),
            surgery.clone(),
        ]
    );
    assert_eq!(all[1].detail(), None, "an empty detail reads back as none");
    // Only the kinds asked for.
    let consented = store
        .records_of(taro_id, &[RecordKind::Clinical, RecordKind::Surgery])
        .await
        .unwrap();
    assert_eq!(consented, vec![diagnosis, surgery]);
    assert!(store.records_of(taro_id, &[]).await.unwrap().is_empty());
    let medication_twice = store
        .records_of(taro_id, &[RecordKind::Medication, RecordKind::Medication])
        .await
        .unwrap();
    assert_eq!(medication_twice, vec![new_drug, same_day, old_drug]);
    // Another person's records are theirs alone.
    let hanako_id = store.person_by_key(&hanako_key).await.unwrap().unwrap().id;
    assert_eq!(
        store.records_of(hanako_id, RecordKind::ALL).await.unwrap(),
        vec![theirs]
    );

    // A record differing in any one field is another record.
    let changed = record(
        RecordKind::Medication,
        date!(2026 - 10 - 01),
        "アムロジピン錠5mg",
        "1日1回朝食後 14日分",
    );
    let counts = store
        .import_records(&[for_person(&taro_key, &changed)])
        .await
        .unwrap();
    assert_eq!(counts.inserted, 1);
    assert_eq!(
        store
            .records_of(taro_id, &[RecordKind::Medication])
            .await
            .unwrap()
            .len(),
        4
    );
}

async fn a_batch_of_unknown_persons_writes_nothing() {
    let (_dir, store) = fresh_store().await;
    let key = PersonKey::of(&qualification());
    let drug = record(RecordKind::Medication, date!(2026 - 10 - 01), "薬", "");
    let counts = store
        .import_records(&[for_person(&key, &drug), for_person(&key, &drug)])
        .await
        .unwrap();
    assert_eq!(
        counts,
        RecordImportCounts {
            inserted: 0,
            unchanged: 0,
            unknown_persons: vec![0, 1],
        }
    );
    let id = store.insert_person(&qualification()).await.unwrap();
    assert!(
        store
            .records_of(id, RecordKind::ALL)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.import_records(&[]).await.unwrap(),
        RecordImportCounts::default()
    );
}

on_both_backends!(
    records_are_imported_once_and_read_by_kind_newest_first,
    a_batch_of_unknown_persons_writes_nothing,
);
