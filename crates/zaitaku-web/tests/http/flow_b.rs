//! Flow B over HTTP: 「同意照会・更新」 → card to view → edit → 「更新内容を確認する」 →
//! 「同意内容を更新する」 → the same person's card → update complete, and the
//! database after each path (unchanged, other card, conflict, nothing registered).

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::{Kit, qualification, sign};
use zaitaku_domain::{ConsentItem, ConsentStatus, PrescriptionForm};

/// Whether the radio button `name`=`value` is checked on `page`.
fn checked(page: &str, name: &str, value: &str) -> bool {
    let input = format!(r#"name="{name}" value="{value}""#);
    let start = page.find(&input).expect("the radio button exists");
    let end = page[start..].find('>').unwrap() + start;
    page[start..end].contains("checked")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewing_and_updating_at_an_e_prescription_clinic() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let person = card.person.unwrap();
    let mut browser = kit.client();
    let registered = [
        ("YZK", "1"),
        ("SRJ", "1"),
        ("TKK", "0"),
        ("prescription_form", "1"),
    ];
    flow::register(&mut browser, &kit, &kit.clinic_e, &card.path, &registered).await;
    let before = kit
        .store
        .consent(kit.clinic_e.id, person)
        .await
        .unwrap()
        .unwrap();

    // The first card is asked for viewing, on step ②.
    let (walk, auth, nonce) = flow::start_inquiry(&mut browser, &kit, &kit.clinic_e).await;
    let page = browser.get(&format!("{}/authenticate", walk.flow)).await;
    assert!(page.body.contains("登録内容の照会、更新内容の選択・確認"));
    let described = browser.fresh().get_claimed(&auth).await.json();
    assert_eq!(described["purpose"], "view");
    assert_eq!(described["purposeLabel"], "同意内容の照会");
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );

    // The registration, pre-selected.
    let edit = browser.get(&format!("{}/update", walk.flow)).await;
    for label in ["更新内容の選択", "過去の登録内容", "更新内容を確認する"] {
        assert!(edit.body.contains(label), "{label}");
    }
    for (name, value) in registered {
        assert!(checked(&edit.body, name, value), "{name}={value}");
    }
    assert!(!checked(&edit.body, "TKK", "1"));

    // Unchanged: said so, nothing written, still on the edit screen.
    let unchanged = flow::revise(&mut browser, &walk, &registered).await;
    assert_eq!(unchanged.status, 422);
    assert!(unchanged.body.contains("変更された項目がありません"));
    let status = browser.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["next"], format!("{}/update", walk.flow));

    // A change goes to the confirmation, which shows what changed.
    let changed = [
        ("YZK", "1"),
        ("SRJ", "0"),
        ("TKK", "1"),
        ("prescription_form", "2"),
    ];
    let revised = flow::revise(&mut browser, &walk, &changed).await;
    assert_eq!(revised.location(), format!("{}/update/confirm", walk.flow));
    let confirm = browser.get(revised.location()).await;
    for label in [
        "登録内容の更新確認",
        "同意内容を更新する",
        "選択内容を修正する",
        "同意しない（変更前：同意する）",
        "同意する（変更前：同意しない）",
    ] {
        assert!(confirm.body.contains(label), "{label}");
    }
    // 「選択内容を修正する」 keeps the edited answers.
    let back = browser.get(&format!("{}/update", walk.flow)).await;
    assert!(checked(&back.body, "TKK", "1"));

    let (auth, nonce) = flow::confirm_update(&mut browser, &walk).await;
    let described = browser.fresh().get_claimed(&auth).await.json();
    assert_eq!(described["purpose"], "update");
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );

    let done = browser.get(&format!("{}/complete", walk.flow)).await;
    for label in [
        "登録内容の更新完了",
        "登録内容の更新が完了しました",
        "職員は更新情報が正しいことを確認し",
        "同意の有効期限",
    ] {
        assert!(done.body.contains(label), "{label}");
    }
    assert!(
        !done.body.contains("資格情報"),
        "an update confirms no qualification"
    );

    let after = kit
        .store
        .consent(kit.clinic_e.id, person)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.status, ConsentStatus::Active);
    assert_eq!(after.choices.agreed(ConsentItem::Clinical), Some(false));
    assert_eq!(after.choices.agreed(ConsentItem::HealthCheckup), Some(true));
    assert_eq!(
        after.choices.prescription_form(),
        Some(PrescriptionForm::parse("2").unwrap())
    );
    let history = kit.store.consent_history(after.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].old.as_ref().unwrap().0, before.choices);
    assert_eq!(history[1].new.0, after.choices);
    assert!(history[1].authentication.is_some());

    // Viewing again shows the new answers.
    let (_, edit) = flow::view(&mut browser, &kit, &kit.clinic_e, &card.path).await;
    assert!(checked(&edit.body, "SRJ", "0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pharmacy_wording_of_flow_b() {
    let kit = Kit::start().await;
    let card = kit.linked_card("sato", qualification("佐藤 花子")).await;
    let mut browser = kit.client();
    flow::register(&mut browser, &kit, &kit.pharmacy, &card.path, ALL_AGREE).await;
    let (walk, edit) = flow::view(&mut browser, &kit, &kit.pharmacy, &card.path).await;
    assert!(edit.body.contains("同意内容の照会、更新内容の選択・確認"));
    assert!(edit.body.contains("過去の同意内容"));
    assert!(
        !edit.body.contains("prescription_form"),
        "no form at a pharmacy"
    );
    let changed = [("YZK", "1"), ("SRJ", "1"), ("TKK", "0")];
    flow::revise(&mut browser, &walk, &changed).await;
    let confirm = browser.get(&format!("{}/update/confirm", walk.flow)).await;
    assert!(confirm.body.contains("同意内容の更新確認"));
    let (auth, nonce) = flow::confirm_update(&mut browser, &walk).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let done = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(done.body.contains("同意内容の更新完了"));
    assert!(done.body.contains("同意内容の更新が完了しました"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_card_cannot_save_the_update() {
    let kit = Kit::start().await;
    let yamada = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let sato = kit.linked_card("sato", qualification("佐藤 花子")).await;
    let mut browser = kit.client();
    flow::register(&mut browser, &kit, &kit.clinic, &yamada.path, ALL_AGREE).await;
    let mut other = kit.client();
    flow::register(&mut other, &kit, &kit.clinic, &sato.path, ALL_AGREE).await;

    let (walk, _) = flow::view(&mut browser, &kit, &kit.clinic, &yamada.path).await;
    let changed = [("YZK", "0"), ("SRJ", "0"), ("TKK", "0")];
    flow::revise(&mut browser, &walk, &changed).await;
    let (auth, nonce) = flow::confirm_update(&mut browser, &walk).await;
    let token = sign(&sato.path, &kit.origin, &nonce).await;
    let refused = browser.fresh().post_claimed(&auth, &token).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.json()["error"], "different_person");
    let page = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(
        page.body
            .contains("照会したときと異なるマイナンバーカードです")
    );
    assert!(page.body.contains("今回の更新は保存していません"));

    // Nothing written to either person's consent.
    for (card, agreed) in [(&yamada, Some(true)), (&sato, Some(true))] {
        let consent = kit
            .store
            .consent(kit.clinic.id, card.person.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(consent.version, 1);
        assert_eq!(consent.choices.agreed(ConsentItem::Medication), agreed);
        assert_eq!(
            kit.store.consent_history(consent.id).await.unwrap().len(),
            1
        );
    }
    // The used challenge cannot be tried again with the right card.
    let token = sign(&yamada.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        409
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_updating_at_once_the_later_sees_a_conflict() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let person = card.person.unwrap();
    let mut phone = kit.client();
    flow::register(&mut phone, &kit, &kit.clinic, &card.path, ALL_AGREE).await;
    let mut tablet = kit.client();
    let (on_phone, _) = flow::view(&mut phone, &kit, &kit.clinic, &card.path).await;
    let (on_tablet, _) = flow::view(&mut tablet, &kit, &kit.clinic, &card.path).await;

    let first = [("YZK", "1"), ("SRJ", "0"), ("TKK", "1")];
    flow::revise(&mut phone, &on_phone, &first).await;
    let second = [("YZK", "0"), ("SRJ", "1"), ("TKK", "1")];
    flow::revise(&mut tablet, &on_tablet, &second).await;
    let (phone_auth, phone_nonce) = flow::confirm_update(&mut phone, &on_phone).await;
    let (tablet_auth, tablet_nonce) = flow::confirm_update(&mut tablet, &on_tablet).await;

    let token = sign(&card.path, &kit.origin, &phone_nonce).await;
    assert_eq!(
        phone.fresh().post_claimed(&phone_auth, &token).await.status,
        200
    );
    let token = sign(&card.path, &kit.origin, &tablet_nonce).await;
    let refused = tablet.fresh().post_claimed(&tablet_auth, &token).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.json()["error"], "update_conflict");

    // The later one sees the conflict and the state that stands (the phone's).
    let page = tablet.get(&format!("{}/complete", on_tablet.flow)).await;
    for label in [
        "同意内容がほかの画面で変更されました",
        "現在の同意内容",
        "もう一度照会する",
        &format!("action=\"{}/inquiry\"", kit.url(&kit.clinic)),
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    let consent = kit
        .store
        .consent(kit.clinic.id, person)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.choices.agreed(ConsentItem::Medication), Some(true));
    assert_eq!(consent.choices.agreed(ConsentItem::Clinical), Some(false));
    assert_eq!(consent.version, 2);
    let history = kit.store.consent_history(consent.id).await.unwrap();
    assert_eq!(
        history.len(),
        2,
        "the registration and the one update that landed"
    );

    // A revocation after the view is a conflict too; the page says it was revoked.
    let (walk, _) = flow::view(&mut tablet, &kit, &kit.clinic, &card.path).await;
    flow::revise(&mut tablet, &walk, &second).await;
    let (auth, nonce) = flow::confirm_update(&mut tablet, &walk).await;
    let (_, revoke_auth, revoke_nonce) =
        flow::revoke_until_authentication(&mut phone, &kit, &kit.clinic).await;
    let token = sign(&card.path, &kit.origin, &revoke_nonce).await;
    assert_eq!(
        phone
            .fresh()
            .post_claimed(&revoke_auth, &token)
            .await
            .status,
        200
    );
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(tablet.fresh().post_claimed(&auth, &token).await.status, 422);
    let page = tablet.get(&format!("{}/complete", walk.flow)).await;
    assert!(page.body.contains("同意しない（取消し済み）"));
    let consent = kit
        .store
        .consent(kit.clinic.id, person)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(consent.status, ConsentStatus::Revoked(_)));
    assert_eq!(
        kit.store.consent_history(consent.id).await.unwrap().len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_registered_says_so_and_offers_registration() {
    let kit = Kit::start().await;
    let card = kit.linked_card("suzuki", qualification("鈴木 一郎")).await;
    let mut browser = kit.client();
    let (walk, auth, nonce) = flow::start_inquiry(&mut browser, &kit, &kit.nursing).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let page = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(page.body.contains("登録されている同意はありません"));
    assert!(page.body.contains("同意登録をしてください"));
    let register = format!("{}/registration", kit.url(&kit.nursing));
    assert!(page.body.contains(&format!("action=\"{register}\"")));
    assert!(page.body.contains("同意登録をする"));
    // The offered button starts flow A.
    let started = browser.post_form(&register, &[("csrf", &walk.csrf)]).await;
    assert_eq!(started.status, 303);
    assert!(started.location().ends_with("/select"));
    assert!(
        kit.store
            .consent(kit.nursing.id, card.person.unwrap())
            .await
            .unwrap()
            .is_none()
    );

    // After a revocation, viewing finds nothing registered either.
    flow::register(&mut browser, &kit, &kit.nursing, &card.path, ALL_AGREE).await;
    let (_, auth, nonce) =
        flow::revoke_until_authentication(&mut browser, &kit, &kit.nursing).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let (walk, auth, nonce) = flow::start_inquiry(&mut browser, &kit, &kit.nursing).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let page = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(page.body.contains("登録されている同意はありません"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_view_is_retried_with_a_fresh_challenge() {
    let kit = Kit::start_with(common::Options::short_challenges()).await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut browser = kit.client();
    flow::register(&mut browser, &kit, &kit.clinic, &card.path, ALL_AGREE).await;
    let (walk, old_auth, _) = flow::start_inquiry(&mut browser, &kit, &kit.clinic).await;
    tokio::time::sleep(std::time::Duration::from_millis(
        common::SHORT_CHALLENGE_WAIT_MS,
    ))
    .await;
    let page = browser.get(&format!("{}/authenticate", walk.flow)).await;
    assert!(page.body.contains("時間切れです"));
    let retry_action = format!("{}/inquiry", walk.flow);
    assert!(page.body.contains(&format!("action=\"{retry_action}\"")));
    // Without the session's CSRF token the retry is refused.
    let forged = browser.post_form(&retry_action, &[("csrf", "x")]).await;
    assert_eq!(forged.status, 403);
    let retried = browser
        .post_form(&retry_action, &[("csrf", &walk.csrf)])
        .await;
    assert_eq!(retried.location(), format!("{}/authenticate", walk.flow));
    let (auth, nonce) = flow::challenge(&mut browser, &walk).await;
    assert_ne!(auth, old_auth);
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let edit = browser.get(&format!("{}/update", walk.flow)).await;
    assert!(edit.body.contains("更新内容の選択"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_b_screens_belong_to_their_session_and_step() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut browser = kit.client();
    flow::register(&mut browser, &kit, &kit.clinic, &card.path, ALL_AGREE).await;
    let (walk, _) = flow::view(&mut browser, &kit, &kit.clinic, &card.path).await;
    // Another browser cannot see or post to this flow.
    let mut stranger = kit.client();
    let seen = stranger.get(&format!("{}/update", walk.flow)).await;
    assert_eq!(seen.status, 404);
    // The confirmation before any change sends back to the edit screen.
    let early = browser.get(&format!("{}/update/confirm", walk.flow)).await;
    assert_eq!(early.location(), format!("{}/update", walk.flow));
    // A form that does not answer every item is marked, and nothing moves.
    let partial = flow::revise(&mut browser, &walk, &[("YZK", "0")]).await;
    assert_eq!(partial.status, 422);
    assert!(partial.body.contains("field-error"));
    // A confirmation shown before the answers were changed again (another tab)
    // is refused, and no card is asked for.
    flow::revise(
        &mut browser,
        &walk,
        &[("YZK", "0"), ("SRJ", "1"), ("TKK", "1")],
    )
    .await;
    let seen = browser.get(&format!("{}/update/confirm", walk.flow)).await;
    let shown = seen.input("choices");
    flow::revise(
        &mut browser,
        &walk,
        &[("YZK", "0"), ("SRJ", "0"), ("TKK", "1")],
    )
    .await;
    let stale = browser
        .post_form(
            &format!("{}/update/confirm", walk.flow),
            &[("csrf", &walk.csrf), ("choices", &shown)],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    let status = browser.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["next"], format!("{}/update/confirm", walk.flow));
    // Flow A's screens do not serve flow B's steps.
    let wrong = browser.get(&format!("{}/confirm", walk.flow)).await;
    assert_eq!(wrong.location(), format!("{}/update/confirm", walk.flow));
}
