//! A 2D code read by the wrong phone: whoever photographs the authentication
//! code can claim it first, but a claimant's error report ends that challenge
//! only. The staff's page says when the code was read and what was reported,
//! and reads again at once with the choices kept.

use crate::common;

use common::flow;
use common::{Kit, qualification, sign};

/// Medication and health checkups agreed, clinical information not.
const ANSWERS: &[(&str, &str)] = &[("YZK", "1"), ("SRJ", "0"), ("TKK", "1")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_claim_and_pin_blocked_report_leave_the_flow_able_to_read_again() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut tablet = kit.client();
    let walk = flow::start(&mut tablet, &kit, &kit.clinic).await;
    assert_eq!(flow::choose(&mut tablet, &walk, ANSWERS).await.status, 303);
    assert_eq!(flow::confirm(&mut tablet, &walk).await.status, 303);
    let here = format!("{}/authenticate", walk.flow);
    let shown = tablet.get(&format!("{here}?method=qr")).await;
    assert!(shown.body.contains("/authenticate/code.svg"), "the 2D code");

    // A stranger's phone reads the code first; the patient's is refused.
    let (stranger, _) = flow::challenge(&mut tablet, &walk).await;
    let patient = tablet.fresh().get_json(&stranger.path).await;
    assert_eq!(patient.status, 409, "{}", patient.body);
    assert_eq!(patient.json()["error"], "already_claimed");
    // The tablet says when it was read, on the page and in the status.
    let waiting = tablet.get(&here).await;
    assert!(
        waiting.body.contains("に認証アプリで読み取られました"),
        "{}",
        waiting.body
    );
    let status = tablet.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "claimed");
    assert!(
        status["claimedText"]
            .as_str()
            .unwrap()
            .contains("に認証アプリで読み取られました")
    );

    // The stranger reports a blocked PIN: the challenge ends, the flow does not.
    let reported = tablet
        .fresh()
        .post_claimed(&stranger.error(), r#"{"code":"pin_blocked"}"#)
        .await;
    assert_eq!(reported.status, 200, "{}", reported.body);
    let status = tablet.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "reported");
    assert_eq!(status["next"], here);
    let page = tablet.get(&here).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [
        "読み取った端末から「暗証番号がロックされています」と報告されました",
        "に読み取られました。",
        "二次元コードが別の端末で読み取られています",
        "選択内容はそのままです",
        "もう一度認証する",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(
        !page.body.contains("/auth/"),
        "no live link is left on the page"
    );
    // The stranger's claim ends nothing more.
    let again = tablet
        .fresh()
        .post_claimed(&stranger.error(), r#"{"code":"pin_blocked"}"#)
        .await;
    assert_eq!(again.status, 409);

    // 「もう一度認証する」 (CSRF-protected) issues a new challenge for the same choices.
    let forged = tablet
        .post_form(
            &format!("{}/confirm", walk.flow),
            &[("csrf", "forged"), ("choices", &page.input("choices"))],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let retry = tablet
        .post_form(
            &format!("{}/confirm", walk.flow),
            &[("csrf", &walk.csrf), ("choices", &page.input("choices"))],
        )
        .await;
    assert_eq!(retry.status, 303, "{}", retry.body);
    assert_eq!(retry.location(), here);
    let (fresh, nonce) = flow::challenge(&mut tablet, &walk).await;
    assert_ne!(fresh.path, stranger.path, "a new code");
    // The stranger's old claim answers nothing of the new challenge.
    let token = sign(&card.path, &kit.origin, &nonce).await;
    let by_stranger = tablet
        .fresh()
        .post_claimed(&fresh.with_claim(&stranger.claim), &token)
        .await;
    assert_eq!(by_stranger.status, 409, "{}", by_stranger.body);
    // The right card completes the flow with the original choices.
    let accepted = tablet.fresh().post_claimed(&fresh, &token).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let status = tablet.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "done");
    let consent = kit
        .store
        .consent(kit.clinic.id, card.person.unwrap())
        .await
        .unwrap()
        .expect("the consent is registered");
    let answered: Vec<(&str, bool)> = consent
        .choices
        .items()
        .map(|(item, agreed)| (item.code(), agreed))
        .collect();
    for (code, agreed) in ANSWERS {
        assert!(
            answered.contains(&(*code, *agreed == "1")),
            "{code}: {answered:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_same_device_a_blocked_pin_is_explained_and_read_again() {
    let kit = Kit::start().await;
    let mut phone = kit.client();
    let (walk, auth, _) =
        flow::until_authentication(&mut phone, &kit, &kit.clinic, flow::ALL_AGREE).await;
    let reported = phone
        .fresh()
        .post_claimed(&auth.error(), r#"{"code":"pin_blocked"}"#)
        .await;
    assert_eq!(reported.status, 200, "{}", reported.body);
    // The default way of reading is this smartphone's authenticator app.
    let page = phone.get(&format!("{}/authenticate", walk.flow)).await;
    for shown in [
        "「暗証番号がロックされています」と報告されました",
        "市区町村の窓口",
        "この認証だけを終了しました",
        "もう一度認証する",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(
        !page
            .body
            .contains("二次元コードが別の端末で読み取られています")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_the_staff_did_not_expect_is_replaced_by_a_new_reading() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut tablet = kit.client();
    let (walk, stranger, stranger_nonce) =
        flow::until_authentication(&mut tablet, &kit, &kit.clinic, ANSWERS).await;
    let here = format!("{}/authenticate", walk.flow);
    // The stranger keeps quiet; the page shows the reading and 「読み取り直す」.
    let page = tablet.get(&here).await;
    assert!(page.body.contains("に認証アプリで読み取られました"));
    assert!(page.body.contains("読み取り直す"));
    assert!(
        !page.body.contains(r#"id="auth-renew" hidden"#),
        "shown once claimed"
    );
    let renewed = tablet
        .post_form(
            &format!("{}/confirm", walk.flow),
            &[
                ("csrf", &walk.csrf),
                ("choices", &page.input("choices")),
                ("renew", "1"),
            ],
        )
        .await;
    assert_eq!(renewed.status, 303, "{}", renewed.body);
    assert_eq!(renewed.location(), here);
    // The stranger's challenge is over: it can neither answer nor report.
    let token = sign(&card.path, &kit.origin, &stranger_nonce).await;
    assert_eq!(
        tablet.fresh().post_claimed(&stranger, &token).await.status,
        409
    );
    let report = tablet
        .fresh()
        .post_claimed(&stranger.error(), r#"{"code":"pin_blocked"}"#)
        .await;
    assert_eq!(report.status, 409);
    // The new code, unclaimed, is not replaced by a second press (a double click).
    let (fresh_path, fresh_page) = {
        let page = tablet.get(&here).await;
        assert!(
            page.body.contains(r#"id="auth-renew" hidden"#),
            "hidden until claimed"
        );
        (flow::auth_link(&mut tablet, &walk).await, page)
    };
    assert_ne!(fresh_path, stranger.path);
    let again = tablet
        .post_form(
            &format!("{}/confirm", walk.flow),
            &[
                ("csrf", &walk.csrf),
                ("choices", &fresh_page.input("choices")),
                ("renew", "1"),
            ],
        )
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(flow::auth_link(&mut tablet, &walk).await, fresh_path);
    // The patient's phone reads it and the flow completes.
    let (fresh, nonce) = flow::challenge(&mut tablet, &walk).await;
    assert_eq!(fresh.path, fresh_path);
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        tablet.fresh().post_claimed(&fresh, &token).await.status,
        200
    );
    assert!(
        kit.store
            .consent(kit.clinic.id, card.person.unwrap())
            .await
            .unwrap()
            .is_some()
    );
}
