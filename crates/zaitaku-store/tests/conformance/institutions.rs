//! Institutions: by code and URL token, changed in place.

use super::common::*;

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
                flows_from: Some(zaitaku_domain::FlowsFrom::Enrolled),
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
    assert_eq!(changed.flows_from, zaitaku_domain::FlowsFrom::Enrolled);
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
            flows_from: zaitaku_domain::FlowsFrom::Anyone,
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

async fn a_deactivated_institution_ends_its_running_flows_and_can_come_back() {
    let f = fixture().await;
    let code = InstitutionCode::parse("1310123458").unwrap();
    let at = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let reference = f.flow.challenge_ref.clone().unwrap();
    let closed = f
        .store
        .deactivate_institution(&code, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.deactivated_at, Some(at));
    assert!(!closed.is_active());
    // Found as it is, by every reader (the URL token finds it closed).
    assert_eq!(
        f.store
            .institution_by_url_token(&closed.url_token)
            .await
            .unwrap(),
        Some(closed.clone())
    );
    let (flow, of_flow) = f
        .store
        .flow_with_institution(&f.flow.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(of_flow, closed);
    assert!(flow.expires_at <= at, "the running flow ended");
    assert_eq!(
        f.store.challenge(&reference).await.unwrap().unwrap().state,
        ChallengeState::Cancelled
    );
    // No card answer settles it now.
    assert!(matches!(
        f.store.settle_registration(&f.write).await,
        Err(SettleError::ChallengeNotPending)
    ));
    // Again: the first time is kept.
    let again = f
        .store
        .deactivate_institution(&code, at + Duration::hours(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.deactivated_at, Some(at));

    let open = f
        .store
        .reactivate_institution(&code)
        .await
        .unwrap()
        .unwrap();
    assert!(open.is_active());
    assert_eq!(
        (open.id, &open.url_token),
        (closed.id, &closed.url_token),
        "the same institution at the same URL"
    );
    assert_eq!(
        f.store.challenge(&reference).await.unwrap().unwrap().state,
        ChallengeState::Cancelled,
        "what deactivation ended stays ended"
    );
    let missing = InstitutionCode::parse("3410712362").unwrap();
    assert_eq!(
        f.store.deactivate_institution(&missing, at).await.unwrap(),
        None
    );
    assert_eq!(
        f.store.reactivate_institution(&missing).await.unwrap(),
        None
    );
}

on_both_backends!(
    a_deactivated_institution_ends_its_running_flows_and_can_come_back,
    institutions_are_found_by_code_and_changed_in_place,
    a_new_url_token_makes_the_old_one_find_nothing_at_once,
);
