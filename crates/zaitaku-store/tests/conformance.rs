//! What every `Store` must do, written against the trait: settlements are single
//! use even when raced, flow updates detect conflicts, a failed settlement writes
//! nothing, records round-trip. `fresh_store` gives the SQLite store today; the
//! PostgreSQL store (issue 7) runs the same cases.

use std::sync::Arc;
use time::macros::date;
use time::{Duration, OffsetDateTime};
use zaitaku_domain::{
    BurdenRatio, CardAuthentication, ConsentChoices, ConsentItem, EPrescriptionUsage,
    FailureReason, FlowStep, InstitutionCode, InsurerNumber, Purpose, Qualification,
    QualificationValidity, Relationship, Sex, UrlToken,
};
use zaitaku_store::{
    AnchorAdded, ChallengeRecord, ChallengeState, CrlImport, CrlRecord, FlowRecord,
    InstitutionChanges, NewCrl, NewInstitution, NewTrustAnchor, PersonKey, RegistrationWrite,
    SettleError, SqliteStore, Store, StoreError, UpdateOutcome, UpdateWrite, UpsertCounts,
    ViewWrite,
};

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    flow: FlowRecord,
    write: RegistrationWrite,
}

fn qualification() -> Qualification {
    Qualification {
        insurer_number: InsurerNumber::parse("06130488").unwrap(),
        insurer_name: "組合".into(),
        symbol: None,
        number: "1".into(),
        branch: None,
        relationship: Relationship::Insured,
        name: "山田 太郎".into(),
        name_kana: "ヤマダ タロウ".into(),
        sex: Sex::Male,
        birth_date: date!(1960 - 01 - 01),
        address: "東京都".into(),
        postal_code: "100-0001".into(),
        acquired_on: date!(2020 - 01 - 01),
        lost_on: None,
        loss_reason: None,
        valid_from: None,
        valid_until: None,
        burden_ratio: Some(BurdenRatio::parse("030").unwrap()),
        elderly: None,
        limit: None,
        specific_disease: None,
        validity: QualificationValidity::Valid,
    }
}

/// An empty store of the backend under test, with what keeps it alive.
async fn fresh_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
    (dir, Arc::new(store))
}

/// A fresh 5-minute challenge named `reference` for `flow` and `purpose`.
fn pending_challenge(reference: &str, flow: &FlowRecord, purpose: Purpose) -> ChallengeRecord {
    let now = OffsetDateTime::now_utc();
    ChallengeRecord {
        reference: reference.into(),
        nonce: format!("{reference:n<44}"),
        flow_id: flow.id.clone(),
        session_hash: flow.session_hash.clone(),
        purpose,
        created_at: now,
        expires_at: now + Duration::minutes(5),
        state: ChallengeState::Pending,
        claim_hash: None,
    }
}

/// A flow at its authentication step with a pending challenge.
async fn fixture() -> Fixture {
    let (dir, store) = fresh_store().await;
    let institution = store
        .insert_institution(&NewInstitution {
            code: InstitutionCode::parse("1310123458").unwrap(),
            name: "クリニック".into(),
            offered_items: vec![ConsentItem::Medication],
            e_prescription: EPrescriptionUsage::NotUsed,
            consent_validity_days: 30,
            url_token: UrlToken::parse(&"t".repeat(43)).unwrap(),
        })
        .await
        .unwrap();
    let person = store.insert_person(&qualification()).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let choices = ConsentChoices::none_of(&[ConsentItem::Medication]);
    let mut flow = FlowRecord {
        id: "flow-0123456789abcdef".into(),
        session_hash: "s".into(),
        institution_id: institution.id,
        purpose: Purpose::Register,
        step: FlowStep::Select,
        challenge_ref: None,
        person_id: None,
        consent_id: None,
        created_at: now,
        expires_at: now + Duration::minutes(30),
        version: 0,
    };
    store.insert_flow(&flow).await.unwrap();
    let challenge = pending_challenge("challenge-0123456789ab", &flow, Purpose::Register);
    flow.step = FlowStep::Authenticate(choices.clone());
    flow.challenge_ref = Some(challenge.reference.clone());
    assert!(store.update_flow(&flow, Some(&challenge)).await.unwrap());
    flow.version += 1;
    let write = RegistrationWrite {
        challenge_ref: challenge.reference.clone(),
        flow_id: flow.id.clone(),
        institution_id: institution.id,
        person_id: person,
        choices,
        expires_on: date!(2027 - 01 - 01),
        at: now,
        authentication: CardAuthentication {
            certificate_issuer: "CN=Test".into(),
            certificate_serial: "01".into(),
            revocation: "good".into(),
        },
    };
    Fixture {
        _dir: dir,
        store,
        flow,
        write,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_settlements_of_one_challenge_succeed_exactly_once() {
    let f = fixture().await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, write) = (f.store.clone(), f.write.clone());
        tasks.push(tokio::spawn(async move {
            store.settle_registration(&write).await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(SettleError::ChallengeNotPending) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 1);
    let consent = f
        .store
        .consent(f.write.institution_id, f.write.person_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.store.consent_history(consent.id).await.unwrap().len(), 1);
    let failure = f
        .store
        .settle_failure(
            &f.write.challenge_ref,
            FailureReason::PinBlocked,
            f.write.at,
        )
        .await;
    assert!(matches!(failure, Err(SettleError::ChallengeNotPending)));
    let flow = f.store.flow(&f.flow.id).await.unwrap().unwrap();
    assert_eq!(flow.step, FlowStep::Done);
    assert_eq!(flow.consent_id, Some(consent.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_flow_update_is_refused_and_cancels_nothing() {
    let f = fixture().await;
    let mut stale = f.flow.clone();
    stale.version -= 1;
    stale.step = FlowStep::Select;
    stale.challenge_ref = None;
    assert!(!f.store.update_flow(&stale, None).await.unwrap());
    let challenge = f
        .store
        .challenge(&f.write.challenge_ref)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(challenge.state, ChallengeState::Pending);

    // The current version goes back to the selection: the challenge is cancelled.
    let mut back = f.flow.clone();
    back.step = FlowStep::Select;
    back.challenge_ref = None;
    assert!(f.store.update_flow(&back, None).await.unwrap());
    let challenge = f
        .store
        .challenge(&f.write.challenge_ref)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(challenge.state, ChallengeState::Cancelled);
    let settle = f.store.settle_registration(&f.write).await;
    assert!(matches!(settle, Err(SettleError::ChallengeNotPending)));
    assert!(
        f.store
            .consent(f.write.institution_id, f.write.person_id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_challenge_cannot_be_settled_and_is_purged_with_its_flow() {
    let f = fixture().await;
    let mut late = f.write.clone();
    late.at = f.write.at + Duration::minutes(6);
    assert!(matches!(
        f.store.settle_registration(&late).await,
        Err(SettleError::ChallengeNotPending)
    ));
    let purged = f
        .store
        .purge_expired(f.write.at + Duration::hours(1))
        .await
        .unwrap();
    assert!(purged >= 2, "challenge and flow, got {purged}");
    assert!(f.store.flow(&f.flow.id).await.unwrap().is_none());
    assert!(
        f.store
            .challenge(&f.write.challenge_ref)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qualification_records_round_trip_every_field() {
    let f = fixture().await;
    let mut q = qualification();
    q.symbol = Some("記号".into());
    q.branch = Some("01".into());
    q.lost_on = Some(date!(2026 - 03 - 31));
    q.loss_reason = Some("退職".into());
    q.valid_from = Some(date!(2020 - 01 - 01));
    q.valid_until = Some(date!(2026 - 03 - 31));
    q.elderly = Some(zaitaku_domain::ElderlyCertificate {
        valid_from: date!(2025 - 01 - 01),
        valid_until: None,
        burden_ratio: BurdenRatio::parse("020").unwrap(),
    });
    q.limit = Some(zaitaku_domain::LimitCertificate {
        category: "ア".into(),
        applied_category: "A01".into(),
    });
    q.specific_disease = Some("人工透析".into());
    q.validity = QualificationValidity::InvalidWithNewQualification;
    let id = f.store.insert_person(&q).await.unwrap();
    assert_eq!(f.store.person(id).await.unwrap().unwrap().qualification, q);
    f.store
        .link_certificate("CN=Issuer", "0A", id, f.write.at)
        .await
        .unwrap();
    let found = f
        .store
        .person_by_certificate("CN=Issuer", "0A")
        .await
        .unwrap();
    assert_eq!(found.unwrap().id, id);
    assert!(
        f.store
            .person_by_certificate("CN=Issuer", "0B")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_success_and_a_failure_racing_for_one_challenge_never_both_land() {
    let f = fixture().await;
    let (store, write) = (f.store.clone(), f.write.clone());
    let success = tokio::spawn(async move { store.settle_registration(&write).await.is_ok() });
    let (store, reference) = (f.store.clone(), f.write.challenge_ref.clone());
    let at = f.write.at;
    let failure = tokio::spawn(async move {
        store
            .settle_failure(&reference, FailureReason::CertificateRevoked, at)
            .await
            .is_ok()
    });
    let (success, failure) = (success.await.unwrap(), failure.await.unwrap());
    assert!(success ^ failure, "exactly one lands");
    let flow = f.store.flow(&f.flow.id).await.unwrap().unwrap();
    let consent = f
        .store
        .consent(f.write.institution_id, f.write.person_id)
        .await
        .unwrap();
    if success {
        assert_eq!(flow.step, FlowStep::Done);
        assert!(consent.is_some());
    } else {
        assert_eq!(
            flow.step,
            FlowStep::Failed(FailureReason::CertificateRevoked)
        );
        assert!(consent.is_none(), "a failed settlement writes no consent");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_and_flows_come_with_their_institution() {
    let f = fixture().await;
    // Instants are kept to the second.
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let session = zaitaku_store::SessionRecord {
        id_hash: "h".repeat(64),
        csrf_token: "c".into(),
        created_at: now,
        expires_at: now + Duration::hours(8),
        auth_method: None,
    };
    f.store.insert_session(&session).await.unwrap();
    assert_eq!(
        f.store.session(&session.id_hash, now).await.unwrap(),
        Some(session.clone())
    );
    // The staff's choice of card reading is remembered.
    f.store
        .set_session_auth_method(&session.id_hash, zaitaku_domain::AuthMethod::QrCode)
        .await
        .unwrap();
    let remembered = f
        .store
        .session(&session.id_hash, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        remembered.auth_method,
        Some(zaitaku_domain::AuthMethod::QrCode)
    );
    let later = now + Duration::hours(9);
    assert_eq!(
        f.store.session(&session.id_hash, later).await.unwrap(),
        None
    );

    let (flow, institution) = f
        .store
        .flow_with_institution(&f.flow.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(flow.id, f.flow.id);
    assert_eq!(institution.id, f.write.institution_id);
    assert!(
        f.store
            .flow_with_institution("no-such-flow-id-00000")
            .await
            .unwrap()
            .is_none()
    );
}

/// A new flow of `f`'s institution and session, at `step` with a pending challenge
/// named `reference`.
async fn waiting_flow(f: &Fixture, id: &str, step: FlowStep, reference: &str) -> FlowRecord {
    let purpose = step.authentication_purpose().unwrap();
    let mut flow = FlowRecord {
        id: id.into(),
        step: FlowStep::Select,
        challenge_ref: None,
        purpose,
        version: 0,
        ..f.flow.clone()
    };
    f.store.insert_flow(&flow).await.unwrap();
    let challenge = pending_challenge(reference, &flow, purpose);
    flow.step = step;
    flow.challenge_ref = Some(challenge.reference.clone());
    assert!(f.store.update_flow(&flow, Some(&challenge)).await.unwrap());
    flow.version += 1;
    flow
}

fn view_write(f: &Fixture, flow: &FlowRecord) -> ViewWrite {
    ViewWrite {
        challenge_ref: flow.challenge_ref.clone().unwrap(),
        flow_id: flow.id.clone(),
        institution_id: f.write.institution_id,
        person_id: f.write.person_id,
        today: date!(2026 - 11 - 24),
        at: OffsetDateTime::now_utc(),
    }
}

/// A flow B that viewed the registered consent, now waiting to save `draft`.
async fn viewed_then_waiting(f: &Fixture, id: &str, draft: &ConsentChoices) -> UpdateWrite {
    let view = waiting_flow(f, id, FlowStep::ViewAuthenticate, &format!("{id}-view")).await;
    let shown = f.store.settle_view(&view_write(f, &view)).await.unwrap();
    let consent = shown.expect("a standing consent is shown");
    let flow = f.store.flow(id).await.unwrap().unwrap();
    let FlowStep::UpdateSelect {
        viewed,
        draft: preselected,
    } = flow.step.clone()
    else {
        panic!("viewing leads to the edit step, got {:?}", flow.step);
    };
    assert_eq!(
        preselected, consent.choices,
        "the edit starts from the consent"
    );
    assert_eq!(viewed.version, consent.version);
    assert_eq!(flow.person_id, Some(f.write.person_id));
    assert_eq!(flow.consent_id, Some(consent.id));
    let reference = format!("{id}-save");
    let mut saving = flow.clone();
    let now = OffsetDateTime::now_utc();
    let challenge = pending_challenge(&reference, &flow, Purpose::Update);
    saving.step = FlowStep::UpdateAuthenticate {
        viewed: viewed.clone(),
        draft: draft.clone(),
    };
    saving.challenge_ref = Some(reference.clone());
    assert!(
        f.store
            .update_flow(&saving, Some(&challenge))
            .await
            .unwrap()
    );
    let stored = f.store.flow(id).await.unwrap().unwrap();
    assert_eq!(stored.step, saving.step, "flow B's steps round-trip");
    UpdateWrite {
        challenge_ref: reference,
        flow_id: id.into(),
        consent_id: consent.id,
        viewed_version: viewed.version,
        choices: draft.clone(),
        expires_on: date!(2027 - 06 - 01),
        at: now,
        authentication: f.write.authentication.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewing_with_nothing_registered_ends_the_flow_and_writes_no_consent() {
    let f = fixture().await;
    let view = waiting_flow(
        &f,
        "flow-b-nothing-0123456",
        FlowStep::ViewAuthenticate,
        "v-1",
    )
    .await;
    assert!(
        f.store
            .settle_view(&view_write(&f, &view))
            .await
            .unwrap()
            .is_none()
    );
    let flow = f.store.flow(&view.id).await.unwrap().unwrap();
    assert_eq!(
        flow.step,
        FlowStep::Failed(FailureReason::NothingRegistered)
    );
    let challenge = f.store.challenge("v-1").await.unwrap().unwrap();
    assert_eq!(
        challenge.state,
        ChallengeState::Failed(FailureReason::NothingRegistered)
    );
    let consent = f.store.consent(f.write.institution_id, f.write.person_id);
    assert!(consent.await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_consent_is_not_shown_for_update() {
    let f = fixture().await;
    let mut write = f.write.clone();
    write.expires_on = date!(2026 - 11 - 23);
    f.store.settle_registration(&write).await.unwrap();
    let view = waiting_flow(
        &f,
        "flow-b-expired-0123456",
        FlowStep::ViewAuthenticate,
        "v-2",
    )
    .await;
    assert!(
        f.store
            .settle_view(&view_write(&f, &view))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_writes_the_new_answers_and_its_history_once() {
    let f = fixture().await;
    f.store.settle_registration(&f.write).await.unwrap();
    let draft = ConsentChoices::decode("YZK=1").unwrap();
    let update = viewed_then_waiting(&f, "flow-b-update-01234567", &draft).await;
    assert_eq!(
        f.store.settle_update(&update).await.unwrap(),
        UpdateOutcome::Updated
    );
    let again = f.store.settle_update(&update).await;
    assert!(matches!(again, Err(SettleError::ChallengeNotPending)));
    let consent = f
        .store
        .consent_by_id(update.consent_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.choices, draft);
    assert_eq!(consent.version, update.viewed_version + 1);
    assert_eq!(consent.expires_on, date!(2027 - 06 - 01));
    let history = f.store.consent_history(consent.id).await.unwrap();
    assert_eq!(history.len(), 2);
    let last = &history[1];
    assert_eq!(last.old.as_ref().unwrap().0, f.write.choices);
    assert_eq!(last.new.0, draft);
    let flow = f.store.flow(&update.flow_id).await.unwrap().unwrap();
    assert_eq!(flow.step, FlowStep::Done);
    assert_eq!(flow.consent_id, Some(consent.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_updates_of_one_viewed_consent_never_lose_one_silently() {
    let f = fixture().await;
    f.store.settle_registration(&f.write).await.unwrap();
    let agree = ConsentChoices::decode("YZK=1").unwrap();
    let first = viewed_then_waiting(&f, "flow-b-tab-one-0123456", &agree).await;
    let second = viewed_then_waiting(&f, "flow-b-tab-two-0123456", &agree).await;
    let (a, b) = tokio::join!(
        {
            let (store, w) = (f.store.clone(), first.clone());
            async move { store.settle_update(&w).await.unwrap() }
        },
        {
            let (store, w) = (f.store.clone(), second.clone());
            async move { store.settle_update(&w).await.unwrap() }
        }
    );
    let mut outcomes = [a, b];
    outcomes.sort_by_key(|o| *o == UpdateOutcome::Conflict);
    assert_eq!(outcomes, [UpdateOutcome::Updated, UpdateOutcome::Conflict]);
    let history = f.store.consent_history(first.consent_id).await.unwrap();
    assert_eq!(
        history.len(),
        2,
        "registration and the one update that landed"
    );
    for w in [&first, &second] {
        let flow = f.store.flow(&w.flow_id).await.unwrap().unwrap();
        assert!(
            flow.step == FlowStep::Done
                || flow.step == FlowStep::Failed(FailureReason::UpdateConflict),
            "{:?}",
            flow.step
        );
        assert_eq!(
            flow.consent_id,
            Some(w.consent_id),
            "the conflict can show the consent"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_after_the_view_makes_the_update_a_conflict() {
    let f = fixture().await;
    f.store.settle_registration(&f.write).await.unwrap();
    let draft = ConsentChoices::decode("YZK=1").unwrap();
    let update = viewed_then_waiting(&f, "flow-b-revoked-0123456", &draft).await;
    let revoke = waiting_flow(
        &f,
        "flow-c-meanwhile-01234",
        FlowStep::RevokeAuthenticate,
        "r-1",
    )
    .await;
    let revocation = zaitaku_store::RevocationWrite {
        challenge_ref: "r-1".into(),
        flow_id: revoke.id.clone(),
        institution_id: f.write.institution_id,
        person_id: f.write.person_id,
        reason: zaitaku_domain::RevocationReason::ByPatient,
        at: OffsetDateTime::now_utc(),
        authentication: f.write.authentication.clone(),
    };
    f.store
        .settle_revocation(&revocation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.store.settle_update(&update).await.unwrap(),
        UpdateOutcome::Conflict
    );
    let consent = f
        .store
        .consent_by_id(update.consent_id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(consent.status, zaitaku_domain::ConsentStatus::Active);
    assert_eq!(f.store.consent_history(consent.id).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_challenge_is_claimed_by_one_authenticator_only() {
    let f = fixture().await;
    let reference = f.write.challenge_ref.clone();
    let now = OffsetDateTime::now_utc();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (store, reference) = (f.store.clone(), reference.clone());
        tasks.push(tokio::spawn(async move {
            store
                .claim_challenge(&reference, &format!("claim-{i}"), now)
                .await
                .unwrap()
        }));
    }
    let mut claimed = 0;
    for task in tasks {
        claimed += usize::from(task.await.unwrap());
    }
    assert_eq!(claimed, 1, "scanned by several: exactly one claims it");
    let stored = f.store.challenge(&reference).await.unwrap().unwrap();
    assert!(stored.claim_hash.unwrap().starts_with("claim-"));
    // A used challenge cannot be claimed.
    let unclaimed = fixture().await;
    unclaimed
        .store
        .settle_registration(&unclaimed.write)
        .await
        .unwrap();
    let late = unclaimed
        .store
        .claim_challenge(&unclaimed.write.challenge_ref, "x", now);
    assert!(!late.await.unwrap());
}

fn token(c: char) -> UrlToken {
    UrlToken::parse(&c.to_string().repeat(43)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn institutions_are_found_by_code_and_changed_in_place() {
    let f = fixture().await;
    let code = InstitutionCode::parse("1310123458").unwrap();
    let before = f.store.institution_by_code(&code).await.unwrap().unwrap();
    assert_eq!(before.id, f.write.institution_id);
    let other = InstitutionCode::parse("3410712362").unwrap();
    assert_eq!(f.store.institution_by_code(&other).await.unwrap(), None);

    // Only what is given changes; the URL token stays.
    let renamed = f
        .store
        .update_institution(
            &code,
            &InstitutionChanges {
                name: Some("在宅クリニック".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "在宅クリニック");
    assert_eq!(renamed.offered_items, before.offered_items);
    assert_eq!(renamed.url_token, before.url_token);

    let changed = f
        .store
        .update_institution(
            &code,
            &InstitutionChanges {
                name: None,
                offered_items: Some(vec![ConsentItem::Surgery, ConsentItem::Medication]),
                e_prescription: Some(EPrescriptionUsage::Both),
                consent_validity_days: Some(730),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.name, "在宅クリニック");
    assert_eq!(
        changed.offered_items,
        [ConsentItem::Surgery, ConsentItem::Medication]
    );
    assert_eq!(changed.e_prescription, EPrescriptionUsage::Both);
    assert_eq!(changed.consent_validity_days, 730);
    assert_eq!(
        f.store.institution(changed.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        f.store.institutions().await.unwrap(),
        std::slice::from_ref(&changed)
    );

    // No such institution: nothing written, none returned.
    let missing = f
        .store
        .update_institution(
            &other,
            &InstitutionChanges {
                name: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(missing, None);
    assert_eq!(f.store.institutions().await.unwrap(), [changed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_url_token_makes_the_old_one_find_nothing_at_once() {
    let f = fixture().await;
    let code = InstitutionCode::parse("1310123458").unwrap();
    let old = f.store.institution_by_code(&code).await.unwrap().unwrap();
    let rotated = f
        .store
        .set_url_token(&code, &token('u'))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.url_token, token('u'));
    assert_eq!(
        (rotated.id, &rotated.name, rotated.consent_validity_days),
        (old.id, &old.name, old.consent_validity_days)
    );
    assert_eq!(
        f.store
            .institution_by_url_token(&old.url_token)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        f.store.institution_by_url_token(&token('u')).await.unwrap(),
        Some(rotated.clone())
    );
    // The flow in progress still finds its institution.
    let (_, of_flow) = f
        .store
        .flow_with_institution(&f.flow.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(of_flow, rotated);

    // Another institution's token is refused and nothing changes.
    let pharmacy = f
        .store
        .insert_institution(&NewInstitution {
            code: InstitutionCode::parse("3440712366").unwrap(),
            name: "薬局".into(),
            offered_items: vec![ConsentItem::Medication],
            e_prescription: EPrescriptionUsage::NotUsed,
            consent_validity_days: 30,
            url_token: token('p'),
        })
        .await
        .unwrap();
    assert!(matches!(
        f.store.set_url_token(&code, &pharmacy.url_token).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert_eq!(
        f.store.institution_by_code(&code).await.unwrap(),
        Some(rotated)
    );
    let missing = InstitutionCode::parse("3410712362").unwrap();
    assert_eq!(
        f.store.set_url_token(&missing, &token('m')).await.unwrap(),
        None
    );
    assert_eq!(
        f.store.institution_by_url_token(&token('m')).await.unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
