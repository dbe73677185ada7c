//! Enrolled devices and activation codes (issue 16): a browser is a live
//! device of one institution per row, a revoked row stays and a new enrolment
//! makes a new one; a code enrols once, before it expires, even when raced;
//! the last-seen time is written at most once a minute; flows keep their device.

use super::common::*;
use zaitaku_domain::{DeviceId, DeviceName, FlowsFrom};
use zaitaku_store::{Activation, DeviceActor, Enrolled, NewActivationCode, NewDevice};

async fn two_institutions() -> (Guard, Arc<dyn Store>, InstitutionId, InstitutionId) {
    let (dir, store) = fresh_store().await;
    let mut ids = Vec::new();
    for (code, token, flows_from) in [
        ("1310123458", 'a', FlowsFrom::Enrolled),
        ("1340112349", 'b', FlowsFrom::Anyone),
    ] {
        let institution = store
            .insert_institution(&NewInstitution {
                code: InstitutionCode::parse(code).unwrap(),
                name: "機関".into(),
                offered_items: vec![ConsentItem::Medication],
                e_prescription: EPrescriptionUsage::NotUsed,
                consent_validity_days: 365,
                url_token: UrlToken::parse(&token.to_string().repeat(43)).unwrap(),
                flows_from,
            })
            .await
            .unwrap();
        assert_eq!(institution.flows_from, flows_from);
        assert_eq!(
            store
                .institution(institution.id)
                .await
                .unwrap()
                .unwrap()
                .flows_from,
            flows_from
        );
        ids.push(institution.id);
    }
    (dir, store, ids[0], ids[1])
}

fn at() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
}

fn new_device(institution: InstitutionId, hash: &str, name: &str) -> NewDevice {
    NewDevice {
        institution_id: institution,
        name: DeviceName::parse(name).unwrap(),
        credential_hash: hash.to_owned(),
        enrolled_by: DeviceActor::AdminCli,
        at: at(),
    }
}

fn code(hash: &str, institution: InstitutionId, created_at: OffsetDateTime) -> NewActivationCode {
    NewActivationCode {
        code_hash: hash.to_owned(),
        institution_id: institution,
        device_name: DeviceName::parse("訪問用タブレット1").unwrap(),
        created_by: DeviceActor::AdminCli,
        created_at,
        expires_at: created_at + Duration::minutes(10),
    }
}

async fn a_browser_is_a_device_of_each_institution_that_enrolled_it() {
    let (_dir, store, x, y) = two_institutions().await;
    let first = new_device(x, "h1", "受付PC");
    let Enrolled::New(at_x) = store.enrol_device(&first).await.unwrap() else {
        panic!("a new device");
    };
    assert_eq!(at_x.enrolled_by, "admin CLI");
    assert_eq!(at_x.enrolled_by_staff, None);
    assert_eq!(at_x.name.as_str(), "受付PC");
    assert_eq!(
        store.enrol_device(&first).await.unwrap(),
        Enrolled::Existing(at_x.clone())
    );
    assert_eq!(
        store.live_device("h1", x).await.unwrap(),
        Some(at_x.clone())
    );
    assert_eq!(store.live_device("h1", y).await.unwrap(), None, "not of Y");
    assert_eq!(store.live_device("h2", x).await.unwrap(), None);
    let mut second = first.clone();
    second.institution_id = y;
    let at_y = store.enrol_device(&second).await.unwrap().device().clone();
    assert_ne!(at_x.id, at_y.id);
    assert_eq!(
        store.devices(Some(x)).await.unwrap(),
        std::slice::from_ref(&at_x)
    );
    assert_eq!(store.devices(None).await.unwrap().len(), 2);
    assert_eq!(store.device(at_x.id, Some(y)).await.unwrap(), None);
    assert_eq!(
        store.device(at_x.id, None).await.unwrap(),
        Some(at_x.clone())
    );

    // Revoked: no longer live, kept; within the wrong institution, nothing.
    let now = at();
    assert_eq!(
        store
            .revoke_device(at_x.id, Some(y), &DeviceActor::AdminCli, now)
            .await
            .unwrap(),
        None
    );
    let revoked = store
        .revoke_device(at_x.id, Some(x), &DeviceActor::AdminCli, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(now));
    assert_eq!(revoked.revoked_by.as_deref(), Some("admin CLI"));
    assert_eq!(store.live_device("h1", x).await.unwrap(), None);
    assert!(store.live_device("h1", y).await.unwrap().is_some());
    assert_eq!(
        store
            .revoke_device(at_x.id, None, &DeviceActor::AdminCli, now)
            .await
            .unwrap(),
        None,
        "revoked once"
    );
    // Enrolled again: a new row beside the revoked one.
    let again = store.enrol_device(&first).await.unwrap();
    assert!(matches!(again, Enrolled::New(ref d) if d.id != at_x.id));
    assert_eq!(store.devices(Some(x)).await.unwrap().len(), 2);
}

async fn last_seen_is_written_at_most_once_a_minute() {
    let (_dir, store, x, _) = two_institutions().await;
    let new = new_device(x, "h1", "端末");
    let device = store.enrol_device(&new).await.unwrap().device().clone();
    assert_eq!(device.last_seen_at, None);
    let t = at();
    store.touch_device(device.id, t).await.unwrap();
    store
        .touch_device(device.id, t + Duration::seconds(59))
        .await
        .unwrap();
    let seen = store.live_device("h1", x).await.unwrap().unwrap();
    assert_eq!(seen.last_seen_at, Some(t));
    store
        .touch_device(device.id, t + Duration::seconds(60))
        .await
        .unwrap();
    let seen = store.live_device("h1", x).await.unwrap().unwrap();
    assert_eq!(seen.last_seen_at, Some(t + Duration::seconds(60)));
}

async fn an_activation_code_enrols_once_before_it_expires() {
    let (_dir, store, x, _) = two_institutions().await;
    let now = at();
    store
        .issue_activation_code(&code("c1", x, now))
        .await
        .unwrap();
    assert!(matches!(
        store.issue_activation_code(&code("c1", x, now)).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert_eq!(
        store.activate_device("nope", "h1", now).await.unwrap(),
        Activation::Unknown
    );
    let Activation::Enrolled(device) = store.activate_device("c1", "h1", now).await.unwrap() else {
        panic!("enrolled");
    };
    assert_eq!(device.institution_id, x);
    assert_eq!(device.name.as_str(), "訪問用タブレット1");
    assert_eq!(device.enrolled_by, "admin CLI");
    assert_eq!(
        store.activate_device("c1", "h2", now).await.unwrap(),
        Activation::Used
    );
    assert_eq!(store.live_device("h2", x).await.unwrap(), None);
    // A browser already enrolled there: told so, and the code stays unused.
    store
        .issue_activation_code(&code("c2", x, now))
        .await
        .unwrap();
    assert_eq!(
        store.activate_device("c2", "h1", now).await.unwrap(),
        Activation::AlreadyEnrolled(device)
    );
    assert!(matches!(
        store.activate_device("c2", "h3", now).await.unwrap(),
        Activation::Enrolled(_)
    ));
    // Ten minutes after its issue, a code is dead.
    let old = now - Duration::minutes(10);
    store
        .issue_activation_code(&code("c3", x, old))
        .await
        .unwrap();
    assert_eq!(
        store.activate_device("c3", "h4", now).await.unwrap(),
        Activation::Expired
    );
    assert_eq!(store.live_device("h4", x).await.unwrap(), None);
}

async fn a_raced_code_enrols_one_browser() {
    let (_dir, store, x, _) = two_institutions().await;
    let now = at();
    store
        .issue_activation_code(&code("race", x, now))
        .await
        .unwrap();
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .activate_device("race", &format!("browser{i}"), now)
                    .await
            })
        })
        .collect();
    let mut enrolled = 0;
    for t in tries {
        match t.await.unwrap().unwrap() {
            Activation::Enrolled(_) => enrolled += 1,
            Activation::Used => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(enrolled, 1);
    assert_eq!(store.devices(Some(x)).await.unwrap().len(), 1);
}

async fn a_flow_keeps_the_device_that_started_it() {
    let f = fixture().await;
    let new = new_device(f.flow.institution_id, "h1", "端末");
    let device = f.store.enrol_device(&new).await.unwrap().device().clone();
    let flow = FlowRecord {
        id: "flow-with-a-device-0001".into(),
        step: FlowStep::Select,
        challenge_ref: None,
        version: 0,
        device_id: Some(device.id),
        ..f.flow.clone()
    };
    f.store.insert_flow(&flow).await.unwrap();
    let stored = f.store.flow(&flow.id).await.unwrap().unwrap();
    assert_eq!(stored.device_id, Some(device.id));
    let (with_institution, _) = f
        .store
        .flow_with_institution(&flow.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with_institution.device_id, Some(device.id));
    assert_eq!(
        f.store.flow(&f.flow.id).await.unwrap().unwrap().device_id,
        None
    );
    assert_eq!(
        f.store
            .device(DeviceId(device.id.0 + 100), None)
            .await
            .unwrap(),
        None
    );
}

async fn codes_a_day_past_their_expiry_are_purged_and_their_devices_stay() {
    let (_dir, store, x, _) = two_institutions().await;
    let now = at();
    store
        .issue_activation_code(&code("fresh", x, now))
        .await
        .unwrap();
    let old = now - Duration::days(1) - Duration::minutes(11);
    store
        .issue_activation_code(&code("old", x, old))
        .await
        .unwrap();
    let Activation::Enrolled(device) = store
        .activate_device("old", "h1", old + Duration::minutes(1))
        .await
        .unwrap()
    else {
        panic!("enrolled");
    };
    assert_eq!(store.purge_expired(now).await.unwrap(), 1);
    assert_eq!(
        store.activate_device("old", "h2", now).await.unwrap(),
        Activation::Unknown
    );
    assert_eq!(store.live_device("h1", x).await.unwrap(), Some(device));
    assert!(matches!(
        store.activate_device("fresh", "h3", now).await.unwrap(),
        Activation::Enrolled(_)
    ));
}

on_both_backends!(
    codes_a_day_past_their_expiry_are_purged_and_their_devices_stay,
    a_browser_is_a_device_of_each_institution_that_enrolled_it,
    last_seen_is_written_at_most_once_a_minute,
    an_activation_code_enrols_once_before_it_expires,
    a_raced_code_enrols_one_browser,
    a_flow_keeps_the_device_that_started_it,
);
