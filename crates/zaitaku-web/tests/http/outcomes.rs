//! Each way the authentication step can end without a registration has its own
//! screen, and writes no consent.

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::{Kit, Options, qualification, sign};
use std::time::{Duration, SystemTime};
use time::macros::date;
use zaitaku_card::test_ca::{LeafSpec, TestCa};
use zaitaku_domain::QualificationValidity;
use zaitaku_web::Lifetimes;

/// Register at the paper clinic with `card`; return the result page.
async fn attempt(kit: &Kit, card: &std::path::Path) -> (common::Response, serde_json::Value) {
    attempt_ending(kit, card, "failed").await
}

/// Register at the paper clinic with `card`, the flow's status then `state`;
/// return the page the status sends the browser to.
async fn attempt_ending(
    kit: &Kit,
    card: &std::path::Path,
    state: &str,
) -> (common::Response, serde_json::Value) {
    let mut browser = kit.client();
    let (walk, auth, nonce) =
        flow::until_authentication(&mut browser, kit, &kit.clinic, ALL_AGREE).await;
    let token = sign(card, &kit.origin, &nonce).await;
    let answer = browser.fresh().post_claimed(&auth, &token).await;
    let status = browser.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], state, "{}", answer.body);
    let page = browser.get(status["next"].as_str().unwrap()).await;
    (page, answer.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qualification_and_registration_outcomes() {
    let kit = Kit::start().await;

    let mut lost = qualification("鈴木 一郎");
    lost.lost_on = Some(date!(2026 - 01 - 31));
    let lost = kit.linked_card("lost", lost).await;
    let (page, answer) = attempt(&kit, &lost.path).await;
    assert_eq!(answer["error"], "qualification_lost");
    assert!(page.body.contains("資格が確認できません"));
    assert!(page.body.contains("同意内容は登録されていません"));

    let mut none = qualification("小林 さくら");
    none.validity = QualificationValidity::NoQualification;
    let none = kit.linked_card("none", none).await;
    let (page, answer) = attempt(&kit, &none.path).await;
    assert_eq!(answer["error"], "qualification_not_found");
    assert!(page.body.contains("資格情報が見つかりません"));

    let (unlinked, _) = kit.new_card("unlinked", &kit.ca, LeafSpec::jpki_auth(365).unwrap());
    let (page, answer) = attempt(&kit, &unlinked).await;
    assert_eq!(answer["error"], "not_registered");
    assert!(page.body.contains("健康保険証利用の登録がありません"));
    assert!(
        page.body.contains("https://myna.go.jp/"),
        "guidance to マイナポータル"
    );

    for card in [&lost, &none] {
        let person = card.person.unwrap();
        for institution in [&kit.clinic, &kit.clinic_e] {
            assert!(
                kit.store
                    .consent(institution.id, person)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_outcomes() {
    let mut kit = Kit::start().await;
    let person = kit
        .store
        .insert_person(&qualification("伊藤 美咲"))
        .await
        .unwrap();
    let link = |summary: zaitaku_card::validate::summary::CertificateSummary| {
        let store = kit.store.clone();
        async move {
            store
                .link_certificate(
                    &summary.issuer,
                    &summary.serial,
                    person,
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .unwrap();
        }
    };
    let mut expired_spec = LeafSpec::jpki_auth(365).unwrap();
    expired_spec.not_before = SystemTime::now() - Duration::from_secs(86_400 * 400);
    expired_spec.not_after = SystemTime::now() - Duration::from_secs(86_400);
    let (expired, summary) = kit.new_card("expired", &kit.ca, expired_spec);
    link(summary).await;
    let (revoked, summary) = kit.new_card("revoked", &kit.ca, LeafSpec::jpki_auth(365).unwrap());
    kit.revoke(&summary);
    link(summary).await;
    let stranger_ca = TestCa::generate("CN=Not a JPKI root,O=Elsewhere,C=JP").unwrap();
    let (untrusted, summary) =
        kit.new_card("untrusted", &stranger_ca, LeafSpec::jpki_auth(365).unwrap());
    link(summary).await;
    // The CRL is read at start: restart to pick up the revocation.
    kit.stop().await;
    kit.launch(Options::default()).await;

    let (page, answer) = attempt(&kit, &expired).await;
    assert_eq!(answer["error"], "certificate_expired");
    assert!(page.body.contains("電子証明書の有効期限が切れています"));
    let (page, answer) = attempt(&kit, &revoked).await;
    assert_eq!(answer["error"], "certificate_revoked");
    assert!(page.body.contains("電子証明書が失効しています"));
    // A card no trusted root vouches for can be made without any card: it ends
    // that challenge only, and the page offers a new one with the choices kept.
    let (page, answer) = attempt_ending(&kit, &untrusted, "reported").await;
    assert_eq!(answer["error"], "certificate_untrusted");
    assert!(
        page.body.contains("電子証明書を確認できません"),
        "{}",
        page.body
    );
    assert!(page.body.contains("もう一度認証する"));
    assert!(
        kit.store
            .consent(kit.clinic.id, person)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_pin_reported_by_the_authenticator_ends_the_challenge_and_says_so() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let (walk, auth, _) =
        flow::until_authentication(&mut browser, &kit, &kit.pharmacy, ALL_AGREE).await;
    let bad = browser
        .fresh()
        .post_claimed(&auth.error(), r#"{"code":"oops"}"#)
        .await;
    assert_eq!(bad.status, 400);
    // Without the claim, nobody else can end the challenge.
    for code in ["pin_blocked", "cancelled"] {
        let forged = browser
            .fresh()
            .post_json(
                &format!("{}/error", auth.path),
                &format!(r#"{{"code":"{code}"}}"#),
            )
            .await;
        assert_eq!(forged.status, 403, "{}", forged.body);
    }
    assert_eq!(
        browser.get(&format!("{}/status", walk.flow)).await.json()["state"],
        "claimed"
    );
    let blocked = browser
        .fresh()
        .post_claimed(&auth.error(), r#"{"code":"pin_blocked"}"#)
        .await;
    assert_eq!(blocked.status, 200, "{}", blocked.body);
    let status = browser.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "reported");
    assert_eq!(status["next"], format!("{}/authenticate", walk.flow));
    // The patient's own blocked card is still explained, with the way out.
    let page = browser.get(&format!("{}/authenticate", walk.flow)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("「暗証番号がロックされています」と報告されました")
    );
    assert!(page.body.contains("市区町村の窓口"));
    assert!(page.body.contains("に読み取られました"));
    assert!(page.body.contains("もう一度認証する"));
    let complete = browser.get(&format!("{}/complete", walk.flow)).await;
    assert_eq!(complete.location(), format!("{}/authenticate", walk.flow));
    let again = browser
        .fresh()
        .post_claimed(&auth.error(), r#"{"code":"pin_blocked"}"#)
        .await;
    assert_eq!(again.status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_times_out_and_can_be_renewed_with_the_choices_kept() {
    let kit = Kit::start_with(common::Options::short_challenges()).await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut browser = kit.client();
    let (walk, auth, nonce) =
        flow::until_authentication(&mut browser, &kit, &kit.clinic, ALL_AGREE).await;
    tokio::time::sleep(Duration::from_millis(common::SHORT_CHALLENGE_WAIT_MS)).await;

    assert_eq!(
        browser.get(&format!("{}/status", walk.flow)).await.json()["state"],
        "expired"
    );
    let page = browser.get(&format!("{}/authenticate", walk.flow)).await;
    assert!(page.body.contains("時間切れです"));
    assert!(page.body.contains("もう一度認証する"));
    let token = sign(&card.path, &kit.origin, &nonce).await;
    let late = browser.fresh().post_claimed(&auth, &token).await;
    assert_eq!(late.status, 410, "{}", late.body);
    assert_eq!(browser.fresh().get_claimed(&auth).await.status, 410);

    // 「もう一度認証する」 makes a new challenge for the same choices.
    let retry = browser
        .post_form(
            &format!("{}/confirm", walk.flow),
            &[("csrf", &walk.csrf), ("choices", &page.input("choices"))],
        )
        .await;
    assert_eq!(retry.status, 303);
    let (auth2, nonce2) = flow::challenge(&mut browser, &walk).await;
    assert_ne!(auth, auth2);
    let token = sign(&card.path, &kit.origin, &nonce2).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth2, &token).await.status,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_flow_expires_and_says_so() {
    let options = Options {
        lifetimes: Lifetimes {
            flow: time::Duration::seconds(1),
            ..Lifetimes::default()
        },
        ..Options::default()
    };
    let kit = Kit::start_with(options).await;
    let mut browser = kit.client();
    let walk = flow::start(&mut browser, &kit, &kit.clinic).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let page = browser.get(&format!("{}/select", walk.flow)).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("手続きの有効期限が切れました"));
    assert!(
        page.body.contains(&kit.url(&kit.clinic)),
        "a way to start again"
    );
    let post = flow::choose(&mut browser, &walk, ALL_AGREE).await;
    assert_eq!(post.status, 410);
}
