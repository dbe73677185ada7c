//! The institution console: the patient list, re-query, the staff's revocation, the access log.

use super::common::*;

fn staff(login: &str) -> StaffActor {
    StaffActor {
        id: StaffId(7),
        login: login.into(),
        name: "看護 花子".into(),
    }
}

/// Register `name` (a new person) at the fixture's institution through flow A.
async fn register_person(f: &Fixture, n: u32, name: &str, kana: &str) -> PersonId {
    let mut q = qualification();
    q.number = format!("{}", 100 + n);
    q.name = name.into();
    q.name_kana = kana.into();
    let person = f.store.insert_person(&q).await.unwrap();
    let flow = waiting_flow(
        f,
        &format!("flow-register-{n}"),
        f.flow.step.clone(),
        &format!("challenge-register-{n}"),
    )
    .await;
    let write = RegistrationWrite {
        challenge_ref: flow.challenge_ref.clone().unwrap(),
        flow_id: flow.id.clone(),
        person_id: person,
        ..f.write.clone()
    };
    f.store.settle_registration(&write).await.unwrap();
    person
}

fn patient_query(f: &Fixture) -> PatientQuery {
    PatientQuery {
        institution: f.write.institution_id,
        name: None,
        registered_from: None,
        registered_before: None,
        state: None,
        today: date!(2026 - 11 - 24),
        limit: 50,
        offset: 0,
    }
}

async fn the_patient_list_filters_by_name_state_and_date_within_one_institution() {
    let f = fixture().await;
    let yamada = register_person(&f, 1, "山田 花子", "ヤマダ ハナコ").await;
    let sato = register_person(&f, 2, "佐藤 一郎", "サトウ イチロウ").await;
    let names =
        |rows: Vec<PatientSummary>| -> Vec<PersonId> { rows.iter().map(|r| r.person_id).collect() };
    let all = f.store.patients(&patient_query(&f)).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].consent.person_id, all[0].person_id);

    let by_name = |name: &str| PatientQuery {
        name: Some(name.into()),
        ..patient_query(&f)
    };
    // Spaces never matter; kana matches too; LIKE's own characters are literal.
    assert_eq!(
        names(f.store.patients(&by_name("山田花子")).await.unwrap()),
        [yamada]
    );
    assert_eq!(
        names(f.store.patients(&by_name("サトウ")).await.unwrap()),
        [sato]
    );
    assert!(f.store.patients(&by_name("%")).await.unwrap().is_empty());

    // Revoked by the staff: listed as revoked, no longer as standing.
    let consent = f
        .store
        .consent(f.write.institution_id, sato)
        .await
        .unwrap()
        .unwrap();
    let revoked = f
        .store
        .revoke_by_staff(&StaffRevocation {
            institution: f.write.institution_id,
            person: sato,
            expected_version: consent.version,
            actor: staff("hanako"),
            at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    assert_eq!(revoked, StaffRevocationOutcome::Revoked);
    let in_state = |state| PatientQuery {
        state: Some(state),
        ..patient_query(&f)
    };
    assert_eq!(
        names(
            f.store
                .patients(&in_state(ConsentFilter::Standing))
                .await
                .unwrap()
        ),
        [yamada]
    );
    assert_eq!(
        names(
            f.store
                .patients(&in_state(ConsentFilter::Revoked))
                .await
                .unwrap()
        ),
        [sato]
    );
    // The fixture's consents run to 2027-01-01: expired when today is later.
    let later = PatientQuery {
        today: date!(2027 - 01 - 02),
        ..in_state(ConsentFilter::Expired)
    };
    assert_eq!(names(f.store.patients(&later).await.unwrap()), [yamada]);

    let now = OffsetDateTime::now_utc();
    let window = |from: OffsetDateTime, before: OffsetDateTime| PatientQuery {
        registered_from: Some(from),
        registered_before: Some(before),
        ..patient_query(&f)
    };
    let hour = Duration::hours(1);
    assert_eq!(
        f.store
            .patients(&window(now - hour, now + hour))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        f.store
            .patients(&window(now + hour, now + hour * 2))
            .await
            .unwrap()
            .is_empty()
    );
    let paged = PatientQuery {
        limit: 1,
        offset: 1,
        ..patient_query(&f)
    };
    assert_eq!(f.store.patients(&paged).await.unwrap().len(), 1);

    // Another institution sees none of them.
    let other = f
        .store
        .insert_institution(&NewInstitution {
            code: InstitutionCode::parse("3410712362").unwrap(),
            name: "別の診療所".into(),
            offered_items: vec![ConsentItem::Medication],
            e_prescription: EPrescriptionUsage::NotUsed,
            consent_validity_days: 30,
            url_token: token('o'),
            flows_from: zaitaku_domain::FlowsFrom::Anyone,
        })
        .await
        .unwrap();
    let theirs = PatientQuery {
        institution: other.id,
        ..patient_query(&f)
    };
    assert!(f.store.patients(&theirs).await.unwrap().is_empty());
}

async fn a_requery_records_the_current_qualification_only_while_the_consent_stands() {
    let f = fixture().await;
    let (institution, person) = (f.write.institution_id, f.write.person_id);
    f.store.settle_registration(&f.write).await.unwrap();
    let checks = f
        .store
        .qualification_checks(institution, person, 5)
        .await
        .unwrap();
    assert_eq!(checks.len(), 1, "the registration's check is kept");
    assert_eq!(checks[0].source, CheckSource::Registration);
    assert_eq!(checks[0].qualification, qualification());

    // The insurer changes the record; the re-query finds the new one.
    let mut changed = qualification();
    changed.address = "大阪府".into();
    f.store.upsert_persons(&[changed.clone()]).await.unwrap();
    let today = date!(2026 - 11 - 24);
    let now = OffsetDateTime::now_utc();
    let check = f
        .store
        .requery_qualification(institution, person, today, now)
        .await
        .unwrap()
        .expect("a standing consent allows a re-query");
    assert_eq!(check.source, CheckSource::Requery);
    assert_eq!(check.qualification, changed);
    let checks = f
        .store
        .qualification_checks(institution, person, 5)
        .await
        .unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0].id, check.id, "newest first");
    assert_eq!(checks[1].qualification.address, "東京都");

    // After its expiry day, or once revoked, nothing is fetched or written.
    let expired = f
        .store
        .requery_qualification(institution, person, date!(2027 - 01 - 02), now)
        .await
        .unwrap();
    assert!(expired.is_none());
    let consent = f.store.consent(institution, person).await.unwrap().unwrap();
    let revocation = StaffRevocation {
        institution,
        person,
        expected_version: consent.version,
        actor: staff("hanako"),
        at: now,
    };
    assert_eq!(
        f.store.revoke_by_staff(&revocation).await.unwrap(),
        StaffRevocationOutcome::Revoked
    );
    let after = f
        .store
        .requery_qualification(institution, person, today, now)
        .await
        .unwrap();
    assert!(after.is_none());
    assert_eq!(
        f.store
            .qualification_checks(institution, person, 5)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn a_staff_revocation_writes_its_history_once_and_only_at_the_confirmed_version() {
    let f = fixture().await;
    let (institution, person) = (f.write.institution_id, f.write.person_id);
    let now = OffsetDateTime::now_utc();
    let revocation = |version| StaffRevocation {
        institution,
        person,
        expected_version: version,
        actor: staff("hanako"),
        at: now,
    };
    assert_eq!(
        f.store.revoke_by_staff(&revocation(1)).await.unwrap(),
        StaffRevocationOutcome::NotStanding,
        "nothing registered yet"
    );
    let consent_id = f.store.settle_registration(&f.write).await.unwrap();
    let consent = f.store.consent_by_id(consent_id).await.unwrap().unwrap();
    assert_eq!(
        f.store
            .revoke_by_staff(&revocation(consent.version - 1))
            .await
            .unwrap(),
        StaffRevocationOutcome::Conflict,
        "a change after the confirmation wins"
    );
    assert_eq!(f.store.consent_history(consent_id).await.unwrap().len(), 1);
    assert_eq!(
        f.store
            .revoke_by_staff(&revocation(consent.version))
            .await
            .unwrap(),
        StaffRevocationOutcome::Revoked
    );
    assert_eq!(
        f.store
            .revoke_by_staff(&revocation(consent.version + 1))
            .await
            .unwrap(),
        StaffRevocationOutcome::NotStanding,
        "revoked once"
    );
    let revoked = f.store.consent_by_id(consent_id).await.unwrap().unwrap();
    assert_eq!(
        revoked.status,
        ConsentStatus::Revoked(RevocationReason::ByInstitution)
    );
    assert!(revoked.choices.items().all(|(_, agreed)| !agreed));
    let history = f.store.consent_history(consent_id).await.unwrap();
    assert_eq!(history.len(), 2);
    let last = &history[1];
    assert_eq!(last.actor, "staff:hanako");
    assert_eq!(last.channel, Channel::InstitutionTerminal);
    assert!(last.authentication.is_none());
    assert_eq!(last.old.as_ref().unwrap().1, ConsentStatus::Active);
}

async fn the_access_log_lists_one_institutions_lines_newest_first() {
    let f = fixture().await;
    let person = f.write.person_id;
    let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
    for (i, action) in [
        AccessAction::View,
        AccessAction::Requery,
        AccessAction::Revoke,
    ]
    .into_iter()
    .enumerate()
    {
        let entry = AccessEntry {
            at: at + Duration::seconds(i as i64),
            institution: Some(f.write.institution_id),
            actor: AccessActor::Staff(staff("hanako")),
            person: Some(person),
            action,
            device_name: Some("訪問用タブレット1".into()),
            detail: None,
        };
        f.store.record_access(&entry).await.unwrap();
    }
    let lines = f.store.access_log(f.write.institution_id, 2).await.unwrap();
    assert_eq!(lines.len(), 2, "the limit holds");
    assert_eq!(lines[0].entry.action, AccessAction::Revoke);
    assert_eq!(lines[0].entry.at, at + Duration::seconds(2));
    assert_eq!(lines[0].entry.actor, AccessActor::Staff(staff("hanako")));
    assert_eq!(
        lines[0].entry.device_name.as_deref(),
        Some("訪問用タブレット1")
    );
    assert_eq!(lines[0].person_name.as_deref(), Some("山田 太郎"));
    assert_eq!(lines[1].entry.action, AccessAction::Requery);
    let elsewhere = f
        .store
        .access_log(
            zaitaku_domain::InstitutionId(f.write.institution_id.0 + 1),
            10,
        )
        .await
        .unwrap();
    assert!(elsewhere.is_empty());
}

on_both_backends!(
    the_patient_list_filters_by_name_state_and_date_within_one_institution,
    a_requery_records_the_current_qualification_only_while_the_consent_stands,
    a_staff_revocation_writes_its_history_once_and_only_at_the_confirmed_version,
    the_access_log_lists_one_institutions_lines_newest_first,
);
