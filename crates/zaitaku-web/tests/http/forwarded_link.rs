//! The forwarded link (issue 16), replayed step by step. Someone who knows an
//! institution's URL (it is printed as a 2D code for patients) starts flow A in
//! their own browser and sends the authentication link to a victim, who reads
//! their card truthfully; the sender's browser would then receive the victim's
//! 資格情報 and a consent would open the victim's information to the
//! institution. Where anyone may start flows, that is what happens (the
//! control); where only the institution's devices may, every step gets the
//! attacker nothing, and nothing is written.

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::{Kit, qualification};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forwarded_link_gets_the_attacker_nothing_where_only_devices_start_flows() {
    let kit = Kit::start().await;
    let victim = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let person = victim.person.unwrap();

    // The control: at an institution open to anyone, the attack succeeds.
    let open = kit.open_to_anyone(&kit.pharmacy).await;
    let mut attacker = kit.client().stranger();
    let (walk, auth, nonce) =
        flow::until_authentication(&mut attacker, &kit, &open, ALL_AGREE).await;
    let token = common::sign(&victim.path, &kit.origin, &nonce).await;
    let victims_phone = attacker.stranger().post_claimed(&auth, &token).await;
    assert_eq!(victims_phone.status, 200, "{}", victims_phone.body);
    let seen = attacker.get(&format!("{}/complete", walk.flow)).await;
    assert!(
        seen.body.contains("山田 太郎"),
        "the attacker sees the victim's 資格情報"
    );
    assert!(kit.store.consent(open.id, person).await.unwrap().is_some());

    // At the clinic (only its devices start flows), step by step.
    let before = kit.store.row_counts().await.unwrap();
    let mut attacker = kit.client().stranger();
    let url = kit.url(&kit.clinic);
    // 1. The institution URL shows no way in.
    let page = attacker.get(&url).await;
    assert_eq!(page.status, 403);
    assert!(!page.body.contains("同意登録をする"));
    // 2. Starting registration, inquiry (view/update) or revocation directly,
    //    with a valid CSRF token of the attacker's own session, is refused.
    let csrf = attacker.get("/device").await.input("csrf");
    for start in ["registration", "inquiry", "revocation"] {
        let refused = attacker
            .post_form(&format!("{url}/{start}"), &[("csrf", &csrf)])
            .await;
        assert_eq!(refused.status, 403, "{start}");
        assert!(
            !refused.body.contains("/auth/"),
            "no authentication link to forward"
        );
    }
    // 3. A code a tablet showed a patient, photographed and opened after the
    //    patient: dead.
    let mut tablet = kit.client();
    let qr = tablet.get(&format!("{url}/qr")).await;
    let invitation = common::qr::attribute(&qr.body, "<div class=\"qr__image", "data-url")
        .trim_start_matches(&kit.base)
        .to_owned();
    let mut patient = tablet.stranger();
    assert_eq!(patient.get(&invitation).await.status, 303);
    let after_patient = kit.store.row_counts().await.unwrap();
    assert_eq!(attacker.get(&invitation).await.status, 410);
    assert_eq!(attacker.get(&url).await.status, 403);
    // Nothing of the attacker's was written: the only new rows are the
    // tablet's invitation and the patient's admitted session.
    assert_eq!(kit.store.row_counts().await.unwrap(), after_patient);
    let changed: Vec<_> = before
        .iter()
        .zip(&after_patient)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0.clone())
        .collect();
    assert_eq!(
        changed,
        ["invitations", "sessions"],
        "{before:?} → {after_patient:?}"
    );
    // 4. The victim's information stays closed at the clinic: no consent.
    assert!(
        kit.store
            .consent(kit.clinic.id, person)
            .await
            .unwrap()
            .is_none()
    );
}
