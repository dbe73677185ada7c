//! Flow A over HTTP, end to end: every institution kind, and the database after.

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::{Kit, qualification, sign};
use zaitaku_domain::{Channel, ConsentItem, ConsentStatus, PrescriptionForm};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_prescription_clinic_registers_consent_and_shows_qualification() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut browser = kit.client();

    let prepare = browser.get(&kit.url(&kit.clinic_e)).await;
    for label in [
        "同意登録の準備",
        "同意登録をする",
        "健康保険証利用の登録",
        "電子処方クリニック",
    ] {
        assert!(prepare.body.contains(label), "{label}");
    }
    let walk = flow::start(&mut browser, &kit, &kit.clinic_e).await;
    let select = browser.get(&format!("{}/select", walk.flow)).await;
    for label in [
        "同意内容、処方箋の発行形態の選択",
        "薬剤情報",
        "診療情報",
        "特定健診情報",
        "処方箋の発行形態",
        "電子処方箋",
        "紙の処方箋",
        "同意内容を確認する",
        "ⓘ",
    ] {
        assert!(select.body.contains(label), "{label}");
    }
    let answers = [
        ("YZK", "1"),
        ("SRJ", "0"),
        ("TKK", "1"),
        ("prescription_form", "1"),
    ];
    let chosen = flow::choose(&mut browser, &walk, &answers).await;
    assert_eq!(chosen.location(), format!("{}/confirm", walk.flow));
    let confirm = browser.get(&format!("{}/confirm", walk.flow)).await;
    for label in [
        "登録内容の確認",
        "同意内容を登録する",
        "選択内容を修正する",
        "同意しない",
    ] {
        assert!(confirm.body.contains(label), "{label}");
    }
    let confirmed = flow::confirm(&mut browser, &walk).await;
    assert_eq!(confirmed.location(), format!("{}/authenticate", walk.flow));
    let auth_page = browser.get(&format!("{}/authenticate", walk.flow)).await;
    for label in [
        "本人認証",
        "暗証番号",
        "3回連続して間違えるとロックが掛かります",
        "読み取り開始",
        "/assets/auth.js",
    ] {
        assert!(auth_page.body.contains(label), "{label}");
    }
    let status = browser.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "pending");
    // Fetching the challenge claims it for this authenticator; the page can tell.
    let (auth, nonce) = flow::challenge(&mut browser, &walk).await;
    let status = browser.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "claimed");

    // The authenticator: another client, no cookie, as a phone app would be.
    let described = browser.fresh().get_claimed(&auth).await.json();
    assert_eq!(described["institution"]["name"], "電子処方クリニック");
    assert_eq!(described["purpose"], "register");
    assert_eq!(described["origin"], kit.origin.as_str());
    let token = sign(&card.path, &kit.origin, &nonce).await;
    let accepted = browser.fresh().post_claimed(&auth, &token).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.json()["result"], "accepted");

    let status = browser.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "done");
    assert_eq!(status["next"], format!("{}/complete", walk.flow));
    let complete = browser.get(&format!("{}/complete", walk.flow)).await;
    for label in [
        "資格確認・登録完了",
        "電子処方クリニック",
        "山田 太郎",
        "01130012",
        "3割",
        "電子処方箋",
        "資格情報",
    ] {
        assert!(complete.body.contains(label), "{label}");
    }

    // Exactly one consent and one history row, as chosen, proven by this card.
    let person = card.person.unwrap();
    let consent = kit
        .store
        .consent(kit.clinic_e.id, person)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.status, ConsentStatus::Active);
    assert_eq!(consent.choices.agreed(ConsentItem::Medication), Some(true));
    assert_eq!(consent.choices.agreed(ConsentItem::Clinical), Some(false));
    assert_eq!(
        consent.choices.prescription_form(),
        Some(PrescriptionForm::Electronic)
    );
    let history = kit.store.consent_history(consent.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].channel, Channel::PatientWeb);
    assert_eq!(history[0].actor, "patient");
    assert!(history[0].old.is_none());
    let proof = history[0].authentication.as_ref().unwrap();
    assert!(
        proof.certificate_issuer.contains("CN="),
        "{}",
        proof.certificate_issuer
    );
    assert_eq!(proof.revocation, "good");

    // Replaying the token, or re-posting the confirmation, writes nothing more.
    let replay = browser.fresh().post_claimed(&auth, &token).await;
    assert_eq!(replay.status, 409);
    let again = flow::choose(&mut browser, &walk, &answers).await;
    assert_eq!(again.status, 409);
    assert_eq!(
        kit.store.consent_history(consent.id).await.unwrap().len(),
        1
    );
    // Back button and reload land on the result.
    for step in ["select", "confirm", "authenticate"] {
        let back = browser.get(&format!("{}/{step}", walk.flow)).await;
        assert_eq!(back.location(), format!("{}/complete", walk.flow), "{step}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pharmacy_nursing_and_paper_clinic_use_their_own_wording() {
    let kit = Kit::start().await;
    let card = kit.linked_card("sato", qualification("佐藤 花子")).await;
    for (institution, select_title, button, confirm_title, done_title) in [
        (
            &kit.pharmacy,
            "同意登録内容の選択",
            "同意内容を登録する",
            "同意登録内容の確認",
            "資格確認・同意登録完了",
        ),
        (
            &kit.nursing,
            "同意登録内容の選択",
            "同意内容を登録する",
            "同意登録内容の確認",
            "資格確認・同意登録完了",
        ),
        (
            &kit.clinic,
            "同意内容の選択",
            "同意内容を確認する",
            "登録内容の確認",
            "資格確認・登録完了",
        ),
    ] {
        let mut browser = kit.client();
        let walk = flow::start(&mut browser, &kit, institution).await;
        let select = browser.get(&format!("{}/select", walk.flow)).await;
        assert!(select.body.contains(select_title), "{select_title}");
        assert!(select.body.contains(button), "{button}");
        assert!(
            !select.body.contains("処方箋の発行形態"),
            "no prescription step at {}",
            institution.name
        );
        // A prescription form sent anyway is ignored, not stored.
        let answers = [
            ("YZK", "1"),
            ("SRJ", "1"),
            ("TKK", "0"),
            ("prescription_form", "1"),
        ];
        assert_eq!(
            flow::choose(&mut browser, &walk, &answers).await.status,
            303
        );
        let confirm = browser.get(&format!("{}/confirm", walk.flow)).await;
        assert!(confirm.body.contains(confirm_title), "{confirm_title}");
        flow::confirm(&mut browser, &walk).await;
        let (auth, nonce) = flow::challenge(&mut browser, &walk).await;
        let token = sign(&card.path, &kit.origin, &nonce).await;
        assert_eq!(
            browser.fresh().post_claimed(&auth, &token).await.status,
            200
        );
        let complete = browser.get(&format!("{}/complete", walk.flow)).await;
        assert!(complete.body.contains(done_title), "{done_title}");
        let consent = kit
            .store
            .consent(institution.id, card.person.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(consent.choices.prescription_form(), None);
        assert_eq!(
            consent.choices.agreed(ConsentItem::HealthCheckup),
            Some(false)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_again_replaces_the_choices_and_keeps_the_old_ones_in_history() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    for answers in [ALL_AGREE, &[("YZK", "0"), ("SRJ", "0"), ("TKK", "0")]] {
        let mut browser = kit.client();
        let (_, auth, nonce) =
            flow::until_authentication(&mut browser, &kit, &kit.clinic, answers).await;
        let token = sign(&card.path, &kit.origin, &nonce).await;
        assert_eq!(
            browser.fresh().post_claimed(&auth, &token).await.status,
            200
        );
    }
    let consent = kit
        .store
        .consent(kit.clinic.id, card.person.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.choices.agreed(ConsentItem::Medication), Some(false));
    assert_eq!(consent.version, 2);
    let history = kit.store.consent_history(consent.id).await.unwrap();
    assert_eq!(history.len(), 2);
    let (old, _) = history[1].old.as_ref().unwrap();
    assert_eq!(old.agreed(ConsentItem::Medication), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_a_flow_loses_nothing() {
    let mut kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut browser = kit.client();
    let walk = flow::start(&mut browser, &kit, &kit.clinic_e).await;
    let answers = [
        ("YZK", "1"),
        ("SRJ", "1"),
        ("TKK", "1"),
        ("prescription_form", "2"),
    ];
    flow::choose(&mut browser, &walk, &answers).await;

    kit.stop().await;
    kit.launch(common::Options::default()).await;
    let mut browser = browser.moved_to(&kit.base);

    let confirm = browser.get(&format!("{}/confirm", walk.flow)).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("紙の処方箋"));
    flow::confirm(&mut browser, &walk).await;
    let (auth, nonce) = flow::challenge(&mut browser, &walk).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let complete = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(complete.body.contains("資格確認・登録完了"));
}
