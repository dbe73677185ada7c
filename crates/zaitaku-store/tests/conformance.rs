//! What every `Store` must do, written against the trait: settlements are single
//! use even when raced, flow updates detect conflicts, a failed settlement writes
//! nothing, records round-trip. Every case runs on SQLite and on PostgreSQL
//! (`backend.rs`; the list at the end names them all).

#[macro_use]
#[path = "conformance/backend.rs"]
mod backend;
#[path = "conformance/revocation.rs"]
mod revocation;

use backend::{Guard, fresh_store};
use std::sync::Arc;
use time::macros::date;
use time::{Duration, OffsetDateTime};
use zaitaku_domain::{
    BurdenRatio, CardAuthentication, Channel, ConsentChoices, ConsentItem, ConsentStatus,
    EPrescriptionUsage, FailureReason, FlowStep, InstitutionCode, InstitutionId, InsurerNumber,
    LoginName, LoginOutcome, MedicalRecord, PersonId, Purpose, Qualification,
    QualificationValidity, RecordKind, Relationship, RevocationReason, Sex, StaffId, StaffRole,
    UrlToken,
};
use zaitaku_store::{
    AccessAction, AccessEntry, AnchorAdded, ChallengeRecord, ChallengeState, CheckSource,
    ConsentFilter, CrlImport, CrlRecord, FlowRecord, InstitutionChanges, NewCrl, NewInstitution,
    NewRecord, NewTrustAnchor, PatientQuery, PatientSummary, PersonKey, RecordImportCounts,
    RegistrationWrite, SettleError, StaffActor, StaffRevocation, StaffRevocationOutcome, Store,
    StoreError, UpdateOutcome, UpdateWrite, UpsertCounts, ViewWrite,
};
use zaitaku_store::{
    Enrolment, EnrolmentWrite, Lockout, LoginCompletion, LoginRecord, NewStaff, StaffAccount,
    StaffSessionRecord, StaffSessionStage,
};

struct Fixture {
    _dir: Guard,
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

/// Two tabs (or two server processes) finish a first registration for the same
/// patient at once: both land, one creating the consent and one replacing its
/// answers, each with its history row; neither fails on the other's insert.
async fn two_first_registrations_racing_both_land_on_one_consent() {
    let f = fixture().await;
    let mut writes = Vec::new();
    for (id, medication) in [("flow-a-tab-one-0123456", 1), ("flow-a-tab-two-0123456", 0)] {
        let choices = ConsentChoices::decode(&format!("YZK={medication}")).unwrap();
        let flow = waiting_flow(
            &f,
            id,
            FlowStep::Authenticate(choices.clone()),
            &format!("{id}-challenge"),
        )
        .await;
        writes.push(RegistrationWrite {
            challenge_ref: flow.challenge_ref.clone().unwrap(),
            flow_id: flow.id.clone(),
            choices,
            ..f.write.clone()
        });
    }
    let (a, b) = tokio::join!(
        {
            let (store, w) = (f.store.clone(), writes[0].clone());
            async move { store.settle_registration(&w).await.unwrap() }
        },
        {
            let (store, w) = (f.store.clone(), writes[1].clone());
            async move { store.settle_registration(&w).await.unwrap() }
        }
    );
    assert_eq!(a, b, "one consent per institution and person");
    let consent = f.store.consent_by_id(a).await.unwrap().unwrap();
    assert_eq!(consent.version, 2, "created once, replaced once");
    let history = f.store.consent_history(a).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].old, None, "the first row created the consent");
    assert_eq!(
        history[1].old.as_ref().map(|(choices, _)| choices),
        Some(&history[0].new.0),
        "the second replaced the first's answers, which history keeps"
    );
    assert_eq!(consent.choices, history[1].new.0, "the last write stands");
    for w in &writes {
        let flow = f.store.flow(&w.flow_id).await.unwrap().unwrap();
        assert_eq!(flow.step, FlowStep::Done);
        assert_eq!(flow.consent_id, Some(a));
    }
}

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

// The institution console.

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
            institution: f.write.institution_id,
            staff: staff("hanako"),
            person,
            action,
        };
        f.store.record_access(&entry).await.unwrap();
    }
    let lines = f.store.access_log(f.write.institution_id, 2).await.unwrap();
    assert_eq!(lines.len(), 2, "the limit holds");
    assert_eq!(lines[0].entry.action, AccessAction::Revoke);
    assert_eq!(lines[0].entry.at, at + Duration::seconds(2));
    assert_eq!(lines[0].entry.staff, staff("hanako"));
    assert_eq!(lines[0].person_name, "山田 太郎");
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

// Staff accounts and console sessions.

/// An empty store with two institutions, for the staff cases.
async fn staff_store() -> (Guard, Arc<dyn Store>, InstitutionId, InstitutionId) {
    let (dir, store) = fresh_store().await;
    let mut ids = Vec::new();
    for (code, t) in [("1310123458", 'a'), ("3410712362", 'b')] {
        let institution = store
            .insert_institution(&NewInstitution {
                code: InstitutionCode::parse(code).unwrap(),
                name: format!("機関{t}"),
                offered_items: vec![ConsentItem::Medication],
                e_prescription: EPrescriptionUsage::NotUsed,
                consent_validity_days: 365,
                url_token: token(t),
            })
            .await
            .unwrap();
        ids.push(institution.id);
    }
    (dir, store, ids[0], ids[1])
}

fn new_staff(institution: InstitutionId, login: &str, token_hash: &str) -> NewStaff {
    let now = OffsetDateTime::now_utc();
    NewStaff {
        institution_id: institution,
        login_name: LoginName::parse(login).unwrap(),
        display_name: format!("{login}さん"),
        role: StaffRole::Staff,
        totp_secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
        enrolment: Enrolment {
            token_hash: token_hash.into(),
            expires_at: now + Duration::hours(72),
        },
        created_at: now,
    }
}

/// Add and enrol (no code) an account.
async fn enrolled(store: &Arc<dyn Store>, institution: InstitutionId, login: &str) -> StaffAccount {
    let hash = format!("{login:e<64}");
    let account = store
        .insert_staff(&new_staff(institution, login, &hash))
        .await
        .unwrap();
    assert!(
        store
            .complete_enrolment(&EnrolmentWrite {
                staff_id: account.id,
                token_hash: hash,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                totp_step: None,
                replaces: None,
                session: None,
                at: OffsetDateTime::now_utc(),
            })
            .await
            .unwrap()
    );
    store.staff(account.id).await.unwrap().unwrap()
}

fn console_session(
    id: &str,
    staff: Option<StaffId>,
    stage: StaffSessionStage,
) -> StaffSessionRecord {
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    StaffSessionRecord {
        id_hash: format!("{id:s<64}"),
        staff_id: staff,
        csrf_token: format!("csrf-{id}"),
        stage,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::minutes(30),
    }
}

fn attempt(account: &StaffAccount, outcome: LoginOutcome) -> LoginRecord {
    LoginRecord {
        at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
        login_name: account.login_name.as_str().into(),
        staff_id: Some(account.id),
        institution_id: Some(account.institution_id),
        outcome,
    }
}

const LOCKOUT: Lockout = Lockout {
    max_failures: 5,
    duration: Duration::minutes(15),
};

async fn staff_accounts_round_trip_and_login_names_are_unique() {
    let (_dir, store, a, b) = staff_store().await;
    let added = store
        .insert_staff(&new_staff(a, "sato", &"1".repeat(64)))
        .await
        .unwrap();
    assert_eq!(added.login_name.as_str(), "sato");
    assert_eq!(added.display_name, "satoさん");
    assert_eq!(added.role, StaffRole::Staff);
    assert!(!added.is_enrolled());
    assert_eq!(added.failed_attempts, 0);
    assert_eq!(added.totp_last_step, None);
    assert!(added.enrolment_expires_at.is_some());
    assert_eq!(store.staff(added.id).await.unwrap(), Some(added.clone()));
    let login = LoginName::parse("sato").unwrap();
    assert_eq!(
        store.staff_by_login(&login).await.unwrap(),
        Some(added.clone())
    );
    assert!(matches!(
        store
            .insert_staff(&new_staff(b, "sato", &"2".repeat(64)))
            .await,
        Err(StoreError::Duplicate { .. })
    ));
    store
        .insert_staff(&new_staff(a, "abe", &"3".repeat(64)))
        .await
        .unwrap();
    store
        .insert_staff(&new_staff(b, "kato", &"4".repeat(64)))
        .await
        .unwrap();
    let of_a: Vec<_> = store
        .staff_of_institution(a)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.login_name.as_str().to_owned())
        .collect();
    assert_eq!(of_a, ["abe", "sato"]);

    // The enrolment token finds the account until it expires.
    let now = OffsetDateTime::now_utc();
    let found = store
        .staff_by_enrolment(&"1".repeat(64), now)
        .await
        .unwrap();
    assert_eq!(found.map(|s| s.id), Some(added.id));
    assert_eq!(
        store
            .staff_by_enrolment(&"1".repeat(64), now + Duration::hours(73))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .staff_by_enrolment(&"9".repeat(64), now)
            .await
            .unwrap(),
        None
    );
}

async fn an_enrolment_link_is_used_once_and_logged() {
    let (_dir, store, a, _) = staff_store().await;
    let hash = "7".repeat(64);
    let account = store
        .insert_staff(&new_staff(a, "ito", &hash))
        .await
        .unwrap();
    let form = console_session("form", None, StaffSessionStage::Login);
    store.insert_staff_session(&form).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let write = |n: char| EnrolmentWrite {
        staff_id: account.id,
        token_hash: hash.clone(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${n}"),
        totp_step: Some(1000),
        replaces: Some(form.id_hash.clone()),
        session: Some(console_session(
            &format!("done{n}"),
            Some(account.id),
            StaffSessionStage::Complete,
        )),
        at: now,
    };
    // Raced: exactly one lands.
    let (wx, wy) = (write('x'), write('y'));
    let (x, y) = tokio::join!(store.complete_enrolment(&wx), store.complete_enrolment(&wy));
    assert!(x.unwrap() ^ y.unwrap());
    let enrolled = store.staff(account.id).await.unwrap().unwrap();
    assert!(enrolled.is_enrolled());
    assert_eq!(enrolled.totp_last_step, Some(1000));
    assert_eq!(enrolled.enrolment_expires_at, None);
    assert_eq!(store.staff_by_enrolment(&hash, now).await.unwrap(), None);
    assert_eq!(store.staff_session(&form.id_hash, now).await.unwrap(), None);
    let winner = if x_won(&enrolled) { "donex" } else { "doney" };
    let session = store
        .staff_session(&format!("{winner:s<64}"), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.stage, StaffSessionStage::Complete);
    assert_eq!(session.staff_id, Some(account.id));
    let log = store.staff_logins(a, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, LoginOutcome::Enrolment);
    assert_eq!(log[0].login_name, "ito");
    assert_eq!(log[0].staff_id, Some(account.id));

    // An expired token finishes nothing.
    let late = store
        .insert_staff(&new_staff(a, "late", &"8".repeat(64)))
        .await
        .unwrap();
    let mut expired = write('z');
    expired.staff_id = late.id;
    expired.token_hash = "8".repeat(64);
    expired.replaces = None;
    expired.session = None;
    expired.at = now + Duration::hours(73);
    assert!(!store.complete_enrolment(&expired).await.unwrap());
    assert!(!store.staff(late.id).await.unwrap().unwrap().is_enrolled());
}

fn x_won(account: &StaffAccount) -> bool {
    account
        .password_hash
        .as_deref()
        .is_some_and(|h| h.ends_with('x'))
}

async fn the_fifth_failure_in_a_row_locks_and_ends_half_logged_in_sessions() {
    let (_dir, store, a, _) = staff_store().await;
    let account = enrolled(&store, a, "ueda").await;
    let half = console_session("half", Some(account.id), StaffSessionStage::PasswordOk);
    let whole = console_session("whole", Some(account.id), StaffSessionStage::Complete);
    store.insert_staff_session(&half).await.unwrap();
    store.insert_staff_session(&whole).await.unwrap();
    for n in 1..=4 {
        let outcome = if n % 2 == 0 {
            LoginOutcome::WrongCode
        } else {
            LoginOutcome::WrongPassword
        };
        assert!(
            !store
                .record_login_failure(&attempt(&account, outcome), &LOCKOUT)
                .await
                .unwrap()
        );
        let now = store.staff(account.id).await.unwrap().unwrap();
        assert_eq!(now.failed_attempts, n);
        assert!(!now.is_locked(OffsetDateTime::now_utc()));
    }
    let fifth = attempt(&account, LoginOutcome::WrongPassword);
    assert!(store.record_login_failure(&fifth, &LOCKOUT).await.unwrap());
    let locked = store.staff(account.id).await.unwrap().unwrap();
    assert_eq!(locked.locked_until, Some(fifth.at + Duration::minutes(15)));
    assert!(locked.is_locked(fifth.at + Duration::minutes(14)));
    assert!(!locked.is_locked(fifth.at + Duration::minutes(15)));
    assert_eq!(locked.failed_attempts, 0, "the count starts again");
    let now = OffsetDateTime::now_utc();
    assert_eq!(store.staff_session(&half.id_hash, now).await.unwrap(), None);
    assert!(
        store
            .staff_session(&whole.id_hash, now)
            .await
            .unwrap()
            .is_some()
    );
    let log = store.staff_logins(a, 100).await.unwrap();
    // The enrolment and five failures.
    assert_eq!(log.len(), 6);
    assert_eq!(log[0].outcome, LoginOutcome::WrongPassword);

    // A success clears the count.
    store
        .record_login_failure(&attempt(&account, LoginOutcome::WrongPassword), &LOCKOUT)
        .await
        .unwrap();
    let half = console_session("half2", Some(account.id), StaffSessionStage::PasswordOk);
    store.insert_staff_session(&half).await.unwrap();
    assert!(
        store
            .complete_login(&LoginCompletion {
                staff_id: account.id,
                totp_step: 5,
                replaces: half.id_hash.clone(),
                session: console_session("in", Some(account.id), StaffSessionStage::Complete),
                at: now,
            })
            .await
            .unwrap()
    );
    let cleared = store.staff(account.id).await.unwrap().unwrap();
    assert_eq!(cleared.failed_attempts, 0);
    assert_eq!(cleared.locked_until, None);
}

async fn a_code_step_logs_in_once_even_when_raced() {
    let (_dir, store, a, _) = staff_store().await;
    let account = enrolled(&store, a, "endo").await;
    let completion = |half: &StaffSessionRecord, step: i64, new: &str| LoginCompletion {
        staff_id: account.id,
        totp_step: step,
        replaces: half.id_hash.clone(),
        session: console_session(new, Some(account.id), StaffSessionStage::Complete),
        at: OffsetDateTime::now_utc(),
    };
    let one = console_session("one", Some(account.id), StaffSessionStage::PasswordOk);
    let two = console_session("two", Some(account.id), StaffSessionStage::PasswordOk);
    store.insert_staff_session(&one).await.unwrap();
    store.insert_staff_session(&two).await.unwrap();
    let (c1, c2) = (completion(&one, 100, "in1"), completion(&two, 100, "in2"));
    let (x, y) = tokio::join!(store.complete_login(&c1), store.complete_login(&c2));
    assert!(x.unwrap() ^ y.unwrap(), "one step, one login");
    assert_eq!(
        store
            .staff(account.id)
            .await
            .unwrap()
            .unwrap()
            .totp_last_step,
        Some(100)
    );
    // The loser's half session is still there, and an earlier step does not help it.
    let loser = if store
        .staff_session(&one.id_hash, OffsetDateTime::now_utc())
        .await
        .unwrap()
        .is_some()
    {
        one.clone()
    } else {
        two.clone()
    };
    assert!(
        !store
            .complete_login(&completion(&loser, 99, "in3"))
            .await
            .unwrap()
    );
    assert!(
        store
            .complete_login(&completion(&loser, 101, "in4"))
            .await
            .unwrap()
    );
    // A session that is not half logged in cannot be completed.
    let login_form = console_session("form", None, StaffSessionStage::Login);
    store.insert_staff_session(&login_form).await.unwrap();
    assert!(
        !store
            .complete_login(&completion(&login_form, 200, "in5"))
            .await
            .unwrap()
    );
    let successes = store
        .staff_logins(a, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.outcome == LoginOutcome::Success)
        .count();
    assert_eq!(successes, 2);
}

async fn a_reset_clears_the_factors_unlocks_and_ends_every_session() {
    let (_dir, store, a, _) = staff_store().await;
    let account = enrolled(&store, a, "mori").await;
    for _ in 0..5 {
        store
            .record_login_failure(&attempt(&account, LoginOutcome::WrongCode), &LOCKOUT)
            .await
            .unwrap();
    }
    let session = console_session("in", Some(account.id), StaffSessionStage::Complete);
    store.insert_staff_session(&session).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let enrolment = Enrolment {
        token_hash: "5".repeat(64),
        expires_at: now + Duration::hours(72),
    };
    let reset = store
        .reset_staff(
            &account.login_name,
            "MFRGGZDFMZTWQ2LKNNWG23TPOA",
            &enrolment,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(!reset.is_enrolled());
    assert_eq!(reset.totp_secret, "MFRGGZDFMZTWQ2LKNNWG23TPOA");
    assert_eq!(reset.totp_last_step, None);
    assert_eq!(reset.failed_attempts, 0);
    assert_eq!(reset.locked_until, None);
    assert_eq!(
        store.staff_session(&session.id_hash, now).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .staff_by_enrolment(&enrolment.token_hash, now)
            .await
            .unwrap()
            .map(|s| s.id),
        Some(account.id)
    );
    let nobody = LoginName::parse("nobody").unwrap();
    assert_eq!(
        store.reset_staff(&nobody, "X", &enrolment).await.unwrap(),
        None
    );
}

async fn console_sessions_expire_are_kept_alive_rotated_and_purged() {
    let (_dir, store, a, _) = staff_store().await;
    let account = enrolled(&store, a, "noda").await;
    let s = console_session("live", None, StaffSessionStage::Login);
    store.insert_staff_session(&s).await.unwrap();
    assert_eq!(
        store.staff_session(&s.id_hash, s.created_at).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        store.staff_session(&s.id_hash, s.expires_at).await.unwrap(),
        None
    );
    let later = s.created_at + Duration::minutes(20);
    store
        .touch_staff_session(&s.id_hash, later, later + Duration::minutes(30))
        .await
        .unwrap();
    let touched = store
        .staff_session(&s.id_hash, s.expires_at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_seen_at, later);
    assert_eq!(touched.expires_at, later + Duration::minutes(30));

    let next = console_session("next", Some(account.id), StaffSessionStage::PasswordOk);
    store
        .replace_staff_session(&s.id_hash, &next)
        .await
        .unwrap();
    assert_eq!(store.staff_session(&s.id_hash, later).await.unwrap(), None);
    assert_eq!(
        store.staff_session(&next.id_hash, later).await.unwrap(),
        Some(next.clone())
    );
    store.delete_staff_session(&next.id_hash).await.unwrap();
    assert_eq!(
        store.staff_session(&next.id_hash, later).await.unwrap(),
        None
    );

    let old = console_session("old", None, StaffSessionStage::Login);
    store.insert_staff_session(&old).await.unwrap();
    assert!(store.purge_expired(old.expires_at).await.unwrap() >= 1);
    assert_eq!(
        store
            .staff_session(&old.id_hash, old.created_at)
            .await
            .unwrap(),
        None
    );
}

async fn the_login_log_lists_an_institutions_own_staff_newest_first() {
    let (_dir, store, a, b) = staff_store().await;
    let at_a = enrolled(&store, a, "aoki").await;
    let at_b = enrolled(&store, b, "baba").await;
    let base = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    for (n, (account, outcome)) in [
        (&at_a, LoginOutcome::WrongPassword),
        (&at_b, LoginOutcome::Locked),
        (&at_a, LoginOutcome::Locked),
    ]
    .into_iter()
    .enumerate()
    {
        let mut line = attempt(account, outcome);
        line.at = base + Duration::seconds(n as i64 + 1);
        store.record_login(&line).await.unwrap();
    }
    store
        .record_login(&LoginRecord {
            at: base + Duration::seconds(10),
            login_name: "who?".into(),
            staff_id: None,
            institution_id: None,
            outcome: LoginOutcome::UnknownLogin,
        })
        .await
        .unwrap();
    let log = store.staff_logins(a, 100).await.unwrap();
    let outcomes: Vec<_> = log.iter().map(|l| l.outcome).collect();
    assert_eq!(
        outcomes,
        [
            LoginOutcome::Locked,
            LoginOutcome::WrongPassword,
            LoginOutcome::Enrolment
        ]
    );
    assert!(log.iter().all(|l| l.institution_id == Some(a)));
    assert_eq!(log[0].at, base + Duration::seconds(3));
    assert_eq!(store.staff_logins(a, 1).await.unwrap().len(), 1);
    let of_b = store.staff_logins(b, 100).await.unwrap();
    assert_eq!(of_b.len(), 2);
    assert!(of_b.iter().all(|l| l.login_name == "baba"));
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
    racing_settlements_of_one_challenge_succeed_exactly_once,
    a_stale_flow_update_is_refused_and_cancels_nothing,
    an_expired_challenge_cannot_be_settled_and_is_purged_with_its_flow,
    qualification_records_round_trip_every_field,
    a_success_and_a_failure_racing_for_one_challenge_never_both_land,
    sessions_expire_and_flows_come_with_their_institution,
    viewing_with_nothing_registered_ends_the_flow_and_writes_no_consent,
    an_expired_consent_is_not_shown_for_update,
    an_update_writes_the_new_answers_and_its_history_once,
    two_updates_of_one_viewed_consent_never_lose_one_silently,
    two_first_registrations_racing_both_land_on_one_consent,
    a_revocation_after_the_view_makes_the_update_a_conflict,
    a_challenge_is_claimed_by_one_authenticator_only,
    institutions_are_found_by_code_and_changed_in_place,
    a_new_url_token_makes_the_old_one_find_nothing_at_once,
    upserts_find_persons_by_key_and_keep_their_ids,
    the_patient_list_filters_by_name_state_and_date_within_one_institution,
    a_requery_records_the_current_qualification_only_while_the_consent_stands,
    a_staff_revocation_writes_its_history_once_and_only_at_the_confirmed_version,
    the_access_log_lists_one_institutions_lines_newest_first,
    records_are_imported_once_and_read_by_kind_newest_first,
    a_batch_of_unknown_persons_writes_nothing,
    staff_accounts_round_trip_and_login_names_are_unique,
    an_enrolment_link_is_used_once_and_logged,
    the_fifth_failure_in_a_row_locks_and_ends_half_logged_in_sessions,
    a_code_step_logs_in_once_even_when_raced,
    a_reset_clears_the_factors_unlocks_and_ends_every_session,
    console_sessions_expire_are_kept_alive_rotated_and_purged,
    the_login_log_lists_an_institutions_own_staff_newest_first,
    trust_anchors_are_kept_once_each_in_the_order_added,
    only_the_newest_crl_per_signer_and_partition_is_kept,
);
