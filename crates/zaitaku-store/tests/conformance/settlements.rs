//! Settlements and flows: challenges used once under races, flow updates that detect conflicts, flows A, B and C, sessions.

use super::common::*;

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

async fn a_cancel_by_its_claimer_ends_the_challenge_only() {
    let f = fixture().await;
    let reference = f.write.challenge_ref.clone();
    let now = OffsetDateTime::now_utc();
    // Unclaimed: nothing to cancel.
    assert!(
        !f.store
            .end_claimed_challenge(&reference, Some("claim-a"), None, now)
            .await
            .unwrap()
    );
    assert!(
        f.store
            .claim_challenge(&reference, "claim-a", now)
            .await
            .unwrap()
    );
    // Another's claim cancels nothing.
    assert!(
        !f.store
            .end_claimed_challenge(&reference, Some("claim-b"), None, now)
            .await
            .unwrap()
    );
    let stored = f.store.challenge(&reference).await.unwrap().unwrap();
    assert_eq!(stored.state, ChallengeState::Pending);
    // Past its expiry it is not cancelled (it has run out anyway).
    assert!(
        !f.store
            .end_claimed_challenge(
                &reference,
                Some("claim-a"),
                None,
                now + Duration::minutes(6)
            )
            .await
            .unwrap()
    );
    // The claimer cancels it: once.
    assert!(
        f.store
            .end_claimed_challenge(&reference, Some("claim-a"), None, now)
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .end_claimed_challenge(&reference, Some("claim-a"), None, now)
            .await
            .unwrap()
    );
    let stored = f.store.challenge(&reference).await.unwrap().unwrap();
    assert_eq!(stored.state, ChallengeState::Cancelled);
    // The flow is untouched: still at its authentication step, choices kept.
    let flow = f.store.flow(&f.flow.id).await.unwrap().unwrap();
    assert_eq!(flow.step, f.flow.step);
    assert_eq!(flow.challenge_ref, f.flow.challenge_ref);
    assert_eq!(flow.version, f.flow.version);
    // A cancelled challenge can no longer be settled or claimed.
    assert!(matches!(
        f.store.settle_registration(&f.write).await,
        Err(SettleError::ChallengeNotPending)
    ));
    assert!(!f.store.claim_challenge(&reference, "x", now).await.unwrap());
    // A new challenge for the same flow and choices can be settled.
    let mut again = f.flow.clone();
    let fresh = pending_challenge("challenge-fresh0123456", &f.flow, Purpose::Register);
    again.challenge_ref = Some(fresh.reference.clone());
    assert!(f.store.update_flow(&again, Some(&fresh)).await.unwrap());
    let mut write = f.write.clone();
    write.challenge_ref = fresh.reference.clone();
    f.store.settle_registration(&write).await.unwrap();
    let flow = f.store.flow(&f.flow.id).await.unwrap().unwrap();
    assert_eq!(flow.step, FlowStep::Done);
}

/// A report (a blocked PIN) ends the challenge only, with its reason and the
/// times it was claimed and ended; the demo reader of the flow's own session
/// ends an unclaimed one; and the flow keeps its URL token and its closing.
async fn a_report_by_its_claimer_ends_the_challenge_only_with_its_reason() {
    let f = fixture().await;
    let reference = f.write.challenge_ref.clone();
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        f.store
            .challenge(&reference)
            .await
            .unwrap()
            .unwrap()
            .claimed_at,
        None
    );
    assert!(
        f.store
            .claim_challenge(&reference, "claim-a", now)
            .await
            .unwrap()
    );
    let blocked = Some(FailureReason::PinBlocked);
    assert!(
        !f.store
            .end_claimed_challenge(&reference, None, blocked, now)
            .await
            .unwrap(),
        "a claimed challenge is not ended as an unclaimed one"
    );
    assert!(
        f.store
            .end_claimed_challenge(&reference, Some("claim-a"), blocked, now)
            .await
            .unwrap()
    );
    let stored = f.store.challenge(&reference).await.unwrap().unwrap();
    assert_eq!(
        stored.state,
        ChallengeState::Reported(FailureReason::PinBlocked)
    );
    assert_eq!(
        stored.claimed_at.map(|t| t.unix_timestamp()),
        Some(now.unix_timestamp())
    );
    assert_eq!(
        stored.settled_at.map(|t| t.unix_timestamp()),
        Some(now.unix_timestamp())
    );
    let flow = f.store.flow(&f.flow.id).await.unwrap().unwrap();
    assert_eq!(flow.step, f.flow.step, "the flow waits for a new challenge");
    assert_eq!(flow.url_token, f.flow.url_token);
    assert_eq!(flow.closed_at, None);

    // Unclaimed (the demo reader in the flow's own session).
    let other = waiting_flow(
        &f,
        "flow-unclaimed-0123",
        f.flow.step.clone(),
        "challenge-unclaimed0",
    )
    .await;
    let unclaimed = other.challenge_ref.clone().unwrap();
    assert!(
        f.store
            .end_claimed_challenge(&unclaimed, None, blocked, now)
            .await
            .unwrap()
    );
    assert_eq!(
        f.store.challenge(&unclaimed).await.unwrap().unwrap().state,
        ChallengeState::Reported(FailureReason::PinBlocked)
    );

    // Closing a flow's result is kept.
    let mut closed = f.store.flow(&f.flow.id).await.unwrap().unwrap();
    closed.closed_at = Some(now);
    assert!(f.store.update_flow(&closed, None).await.unwrap());
    let flow = f.store.flow(&f.flow.id).await.unwrap().unwrap();
    assert_eq!(
        flow.closed_at.map(|t| t.unix_timestamp()),
        Some(now.unix_timestamp())
    );
}

/// A URL rotation cancels the pending challenges of the flows begun from the
/// old URL in the same write, and those flows no longer started from the URL.
async fn a_rotation_ends_what_the_old_url_started() {
    let f = fixture().await;
    let code = InstitutionCode::parse("1310123458").unwrap();
    let before = f.store.institution_by_code(&code).await.unwrap().unwrap();
    assert!(f.flow.started_from(&before));
    let rotated = f
        .store
        .set_url_token(&code, &token('r'))
        .await
        .unwrap()
        .unwrap();
    assert!(!f.flow.started_from(&rotated));
    let stored = f
        .store
        .challenge(&f.write.challenge_ref)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, ChallengeState::Cancelled);
    assert!(matches!(
        f.store.settle_registration(&f.write).await,
        Err(SettleError::ChallengeNotPending)
    ));
}

/// Revoking a device cancels the pending challenges of the flows it started
/// in the same write, and only those: a card being read settles nothing.
async fn a_revocation_ends_what_the_device_started() {
    let f = fixture().await;
    let device = f
        .store
        .enrol_device(&zaitaku_store::NewDevice {
            institution_id: f.flow.institution_id,
            name: zaitaku_domain::DeviceName::parse("訪問用タブレット1").unwrap(),
            credential_hash: "c".repeat(64),
            enrolled_by: zaitaku_store::DeviceActor::AdminCli,
            at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap()
        .device()
        .clone();
    // The fixture's flow (no device) waits too; this one is the tablet's.
    let mut with_device = FlowRecord {
        id: "flow-of-the-tablet-0001".into(),
        step: FlowStep::Select,
        challenge_ref: None,
        version: 0,
        device_id: Some(device.id),
        ..f.flow.clone()
    };
    f.store.insert_flow(&with_device).await.unwrap();
    let challenge = pending_challenge(
        "challenge-of-the-tablet-01",
        &with_device,
        Purpose::Register,
    );
    with_device.step = f.flow.step.clone();
    with_device.challenge_ref = Some(challenge.reference.clone());
    assert!(
        f.store
            .update_flow(&with_device, Some(&challenge))
            .await
            .unwrap()
    );

    f.store
        .revoke_device(
            device.id,
            None,
            &zaitaku_store::DeviceActor::AdminCli,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap()
        .expect("revoked");
    let state = |reference: &'static str| {
        let store = f.store.clone();
        async move { store.challenge(reference).await.unwrap().unwrap().state }
    };
    assert_eq!(
        state("challenge-of-the-tablet-01").await,
        ChallengeState::Cancelled
    );
    // A flow the device did not start goes on.
    assert_eq!(
        state("challenge-0123456789ab").await,
        ChallengeState::Pending
    );
    let write = RegistrationWrite {
        challenge_ref: challenge.reference.clone(),
        flow_id: with_device.id.clone(),
        ..f.write.clone()
    };
    assert!(matches!(
        f.store.settle_registration(&write).await,
        Err(SettleError::ChallengeNotPending)
    ));
}

on_both_backends!(
    a_revocation_ends_what_the_device_started,
    a_rotation_ends_what_the_old_url_started,
    a_report_by_its_claimer_ends_the_challenge_only_with_its_reason,
    a_cancel_by_its_claimer_ends_the_challenge_only,
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
);
