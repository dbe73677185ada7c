//! The personal data's lifecycle: the retention purge table by table with a
//! fixed clock, one person's data read for export, a person's deletion.

use super::common::*;
use zaitaku_store::{PersonDeletion, RetentionPolicy, TableCount};

fn staff() -> StaffActor {
    StaffActor {
        id: StaffId(7),
        login: "hanako".into(),
        name: "看護 花子".into(),
    }
}

fn medication(name: &str) -> MedicalRecord {
    MedicalRecord::new(
        RecordKind::Medication,
        date!(2026 - 09 - 01),
        "在宅クリニック",
        name,
        "1日1回",
        date!(2026 - 11 - 24),
    )
    .unwrap()
}

/// A person with the fixture's record but `number`, lost on `lost_on`, with
/// one certificate link (serial `number`) and one medical record.
async fn person(f: &Fixture, number: &str, lost_on: Option<time::Date>) -> PersonId {
    let mut q = qualification();
    q.number = number.into();
    q.lost_on = lost_on;
    let id = f.store.insert_person(&q).await.unwrap();
    f.store
        .link_certificate("CN=Test", number, id, f.write.at)
        .await
        .unwrap();
    f.store
        .import_records(&[NewRecord {
            person: PersonKey::of(&q),
            record: medication(&format!("薬{number}")),
        }])
        .await
        .unwrap();
    id
}

async fn access(f: &Fixture, person: PersonId, at: OffsetDateTime) {
    f.store
        .record_access(&AccessEntry {
            at,
            institution: Some(f.write.institution_id),
            actor: AccessActor::Staff(staff()),
            person: Some(person),
            action: AccessAction::View,
            device_name: None,
            detail: None,
        })
        .await
        .unwrap();
}

fn rows(counts: &[TableCount], table: &str) -> u64 {
    counts
        .iter()
        .find(|c| c.table == table)
        .unwrap_or_else(|| panic!("{table} is not counted: {counts:?}"))
        .rows
}

/// Every table counted, in the order the purge applies its rules.
const TABLES: [&str; 15] = [
    "challenges",
    "flows",
    "sessions",
    "staff_sessions",
    "staff_devices",
    "device_activation_codes",
    "invitations",
    "qualification_checks",
    "access_log",
    "staff_logins",
    "consent_history",
    "consents",
    "certificate_links",
    "medical_records",
    "insured_persons",
];

async fn a_purge_lets_go_of_each_table_only_past_its_period() {
    let f = fixture().await;
    let now = f.write.at;
    let long_ago = now - Duration::days(i64::from(RetentionPolicy::DEFAULT.access_log_days) + 1);
    // Registered now (a consent, its history, a qualification check), expiring 2027-01-01.
    let consent = f.store.settle_registration(&f.write).await.unwrap();
    let registered = f.write.person_id;
    // Logs are chained in the order written, which is their time order: the
    // purge lets go of a chain's oldest entries.
    access(&f, registered, long_ago).await;
    access(&f, registered, now).await;
    f.store
        .record_login(&LoginRecord {
            at: long_ago,
            login_name: "who?".into(),
            staff_id: None,
            institution_id: None,
            outcome: LoginOutcome::UnknownLogin,
        })
        .await
        .unwrap();
    // Lost long ago and nothing refers to them: goes with link and record.
    let gone = person(&f, "20", Some(date!(2015 - 01 - 01))).await;
    // Lost long ago, but a recent access-log entry refers to them: stays.
    let looked_at = person(&f, "21", Some(date!(2015 - 01 - 01))).await;
    access(&f, looked_at, now).await;
    // Lost recently: stays.
    let recent = person(&f, "22", Some(date!(2026 - 01 - 01))).await;

    let policy = RetentionPolicy::DEFAULT;
    let dry = f.store.purge(&policy.cutoffs(now), true).await.unwrap();
    let tables: Vec<_> = dry.iter().map(|c| c.table).collect();
    assert_eq!(tables, TABLES);
    let expected = |table: &str| match table {
        "access_log" | "staff_logins" | "certificate_links" | "medical_records"
        | "insured_persons" => 1,
        _ => 0,
    };
    for table in TABLES {
        assert_eq!(rows(&dry, table), expected(table), "dry run, {table}");
    }
    // A dry run deleted nothing.
    assert_eq!(
        f.store.purge(&policy.cutoffs(now), true).await.unwrap(),
        dry
    );

    let done = f.store.purge(&policy.cutoffs(now), false).await.unwrap();
    assert_eq!(done, dry);
    assert!(f.store.person(gone).await.unwrap().is_none());
    assert!(
        f.store
            .person_by_certificate("CN=Test", "20")
            .await
            .unwrap()
            .is_none()
    );
    for kept in [registered, looked_at, recent] {
        assert!(f.store.person(kept).await.unwrap().is_some());
    }
    assert_eq!(
        f.store
            .access_log_of_person(registered)
            .await
            .unwrap()
            .len(),
        1
    );
    let again = f.store.purge(&policy.cutoffs(now), true).await.unwrap();
    assert!(again.iter().all(|c| c.rows == 0), "{again:?}");

    // One day short of five years after the consent expired (2027-01-01): kept.
    let expiry = OffsetDateTime::new_utc(date!(2027 - 01 - 01), time::Time::MIDNIGHT);
    let days = i64::from(policy.consent_days);
    let short = f
        .store
        .purge(&policy.cutoffs(expiry + Duration::days(days - 1)), true)
        .await
        .unwrap();
    assert_eq!(rows(&short, "consents"), 0);
    // Past it: the consent and its history go, then everything older, then
    // the persons lost long ago whom nothing refers to any more.
    let later = expiry + Duration::days(days + 1);
    let done = f.store.purge(&policy.cutoffs(later), false).await.unwrap();
    assert_eq!(rows(&done, "consents"), 1);
    assert_eq!(rows(&done, "consent_history"), 1);
    assert_eq!(rows(&done, "qualification_checks"), 1);
    assert_eq!(rows(&done, "access_log"), 2);
    assert_eq!(rows(&done, "flows"), 1);
    assert_eq!(rows(&done, "insured_persons"), 2, "{done:?}");
    assert!(f.store.consent_by_id(consent).await.unwrap().is_none());
    // Still insured: never purged by age.
    assert!(f.store.person(registered).await.unwrap().is_some());
    assert!(f.store.person(looked_at).await.unwrap().is_none());
    assert!(f.store.person(recent).await.unwrap().is_none());
}

async fn a_revoked_consent_goes_its_period_after_the_revocation() {
    let f = fixture().await;
    let id = f.store.settle_registration(&f.write).await.unwrap();
    let consent = f.store.consent_by_id(id).await.unwrap().unwrap();
    let revoked_at = f.write.at + Duration::days(1);
    f.store
        .revoke_by_staff(&StaffRevocation {
            institution: f.write.institution_id,
            person: f.write.person_id,
            expected_version: consent.version,
            actor: staff(),
            at: revoked_at,
        })
        .await
        .unwrap();
    let policy = RetentionPolicy {
        consent_days: 10,
        ..RetentionPolicy::DEFAULT
    };
    let at = |days: i64| revoked_at + Duration::days(days);
    let before = f.store.purge(&policy.cutoffs(at(9)), true).await.unwrap();
    assert_eq!(rows(&before, "consents"), 0);
    let done = f.store.purge(&policy.cutoffs(at(10)), false).await.unwrap();
    assert_eq!(rows(&done, "consents"), 1);
    assert_eq!(rows(&done, "consent_history"), 2);
    assert!(f.store.consent_by_id(id).await.unwrap().is_none());
    assert!(f.store.consent_history(id).await.unwrap().is_empty());
    // The qualification check is kept for its own (default) period.
    assert_eq!(rows(&done, "qualification_checks"), 0);
}

async fn a_persons_export_holds_their_data_and_no_one_elses() {
    let f = fixture().await;
    f.store.settle_registration(&f.write).await.unwrap();
    let me = f.write.person_id;
    f.store
        .link_certificate("CN=Test", "0A", me, f.write.at)
        .await
        .unwrap();
    access(&f, me, f.write.at).await;
    let other = person(&f, "30", None).await;
    access(&f, other, f.write.at).await;

    let links = f.store.certificate_links(me).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(
        (links[0].issuer.as_str(), links[0].serial.as_str()),
        ("CN=Test", "0A")
    );
    assert_eq!(
        links[0].linked_at,
        f.write.at.replace_nanosecond(0).unwrap()
    );
    let consents = f.store.consents_of_person(me).await.unwrap();
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].institution_id, f.write.institution_id);
    let checks = f.store.qualification_checks_of_person(me).await.unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].0, f.write.institution_id);
    assert_eq!(checks[0].1.qualification.name, "山田 太郎");
    let log = f.store.access_log_of_person(me).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].entry.person, Some(me));

    assert_eq!(
        f.store.certificate_links(other).await.unwrap()[0].serial,
        "30"
    );
    assert!(f.store.consents_of_person(other).await.unwrap().is_empty());
    assert!(
        f.store
            .qualification_checks_of_person(other)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        f.store.access_log_of_person(other).await.unwrap()[0]
            .entry
            .person,
        Some(other)
    );
}

async fn deleting_a_person_keeps_the_evidence_and_waits_for_a_standing_consent() {
    let f = fixture().await;
    let id = f.store.settle_registration(&f.write).await.unwrap();
    let me = f.write.person_id;
    f.store
        .link_certificate("CN=Test", "0A", me, f.write.at)
        .await
        .unwrap();
    access(&f, me, f.write.at).await;
    let today = date!(2026 - 12 - 01);

    // The consent stands until 2027-01-01: refused, nothing written.
    assert_eq!(
        f.store.delete_person(me, today).await.unwrap(),
        Some(PersonDeletion::ConsentStands(vec![f.write.institution_id]))
    );
    assert_eq!(f.store.certificate_links(me).await.unwrap().len(), 1);
    // Once it has expired, the deletion goes ahead.
    let Some(PersonDeletion::Done {
        removed,
        kept,
        person_removed,
    }) = f
        .store
        .delete_person(me, date!(2027 - 01 - 02))
        .await
        .unwrap()
    else {
        panic!("not deleted")
    };
    assert!(!person_removed);
    assert_eq!(rows(&removed, "certificate_links"), 1);
    assert_eq!(rows(&removed, "flows"), 1);
    assert_eq!(rows(&removed, "insured_persons"), 0);
    assert_eq!(rows(&kept, "consents"), 1);
    assert_eq!(rows(&kept, "consent_history"), 1);
    assert_eq!(rows(&kept, "qualification_checks"), 1);
    assert_eq!(rows(&kept, "access_log"), 1);
    assert!(f.store.certificate_links(me).await.unwrap().is_empty());
    assert!(
        f.store
            .person_by_certificate("CN=Test", "0A")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(f.store.consent_history(id).await.unwrap().len(), 1);
    assert!(f.store.person(me).await.unwrap().is_some());

    // Someone nothing kept refers to: gone entirely, records too.
    let other = person(&f, "40", None).await;
    let Some(PersonDeletion::Done {
        removed,
        kept,
        person_removed,
    }) = f.store.delete_person(other, today).await.unwrap()
    else {
        panic!("not deleted")
    };
    assert!(person_removed);
    assert_eq!(rows(&removed, "medical_records"), 1);
    assert_eq!(rows(&removed, "insured_persons"), 1);
    assert!(kept.iter().all(|c| c.rows == 0));
    assert!(f.store.person(other).await.unwrap().is_none());
    assert_eq!(f.store.delete_person(other, today).await.unwrap(), None);
}

on_both_backends!(
    a_purge_lets_go_of_each_table_only_past_its_period,
    a_revoked_consent_goes_its_period_after_the_revocation,
    a_persons_export_holds_their_data_and_no_one_elses,
    deleting_a_person_keeps_the_evidence_and_waits_for_a_standing_consent,
);
