//! The next card generation over HTTP: a P-384 card (ES384 tokens) goes through flows
//! A, B and C, and a service trusting an RSA root and a P-384 root accepts cards of
//! both generations, from either root.

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::{Kit, qualification, sign};
use zaitaku_card::keys::KeyKind;
use zaitaku_domain::{ConsentItem, ConsentStatus, RevocationReason};

/// The token a card makes for `nonce`, with its algorithm.
async fn token_algorithm(card: &std::path::Path, kit: &Kit, nonce: &str) -> (String, String) {
    let token = sign(card, &kit.origin, nonce).await;
    let json: serde_json::Value = serde_json::from_str(&token).unwrap();
    (token, json["algorithm"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p384_card_registers_views_updates_and_revokes() {
    let kit = Kit::start().await;
    let card = kit
        .linked_card_of(
            "nakamura",
            qualification("中村 陽菜"),
            &kit.next_ca,
            KeyKind::P384,
        )
        .await;
    let mut browser = kit.client();

    // Flow A.
    let (walk, auth, nonce) = flow::until_authentication(
        &mut browser,
        &kit,
        &kit.clinic_e,
        &[
            ("YZK", "1"),
            ("SRJ", "1"),
            ("TKK", "1"),
            ("prescription_form", "1"),
        ],
    )
    .await;
    let (token, algorithm) = token_algorithm(&card.path, &kit, &nonce).await;
    assert_eq!(algorithm, "ES384");
    let accepted = browser.fresh().post_claimed(&auth, &token).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let done = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(done.body.contains("資格確認・登録完了"), "{}", done.body);
    assert!(done.body.contains("中村 陽菜"));

    // Flow B: view, change one answer, save with the card again.
    let (walk, _) = flow::view(&mut browser, &kit, &kit.clinic_e, &card.path).await;
    flow::revise(
        &mut browser,
        &walk,
        &[
            ("YZK", "1"),
            ("SRJ", "0"),
            ("TKK", "1"),
            ("prescription_form", "1"),
        ],
    )
    .await;
    let (auth, nonce) = flow::confirm_update(&mut browser, &walk).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let done = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(done.body.contains("登録内容の更新が完了しました"));
    let consent = kit
        .store
        .consent(kit.clinic_e.id, card.person.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.choices.agreed(ConsentItem::Clinical), Some(false));

    // Flow C: revoke everything.
    let (walk, auth, nonce) =
        flow::revoke_until_authentication(&mut browser, &kit, &kit.clinic_e).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let done = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(done.body.contains("取消しが完了しました"), "{}", done.body);
    let consent = kit
        .store
        .consent(kit.clinic_e.id, card.person.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        consent.status,
        ConsentStatus::Revoked(RevocationReason::ByPatient)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_trusting_an_rsa_and_a_p384_root_accepts_both_generations() {
    let kit = Kit::start().await;
    let cards = [
        ("today", &kit.ca, KeyKind::Rsa2048, "RS256"),
        ("next", &kit.next_ca, KeyKind::P384, "ES384"),
        ("next_under_rsa", &kit.ca, KeyKind::P384, "ES384"),
        ("today_under_p384", &kit.next_ca, KeyKind::Rsa2048, "RS256"),
    ];
    for (name, ca, key, expected) in cards {
        let card = kit
            .linked_card_of(name, qualification("山田 太郎"), ca, key)
            .await;
        let mut browser = kit.client();
        let (walk, auth, nonce) =
            flow::until_authentication(&mut browser, &kit, &kit.clinic, ALL_AGREE).await;
        let (token, algorithm) = token_algorithm(&card.path, &kit, &nonce).await;
        assert_eq!(algorithm, expected, "{name}");
        let accepted = browser.fresh().post_claimed(&auth, &token).await;
        assert_eq!(accepted.status, 200, "{name}: {}", accepted.body);
        let done = browser.get(&format!("{}/complete", walk.flow)).await;
        assert!(done.body.contains("資格確認・登録完了"), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p384_token_relabelled_rs256_is_refused() {
    let kit = Kit::start().await;
    let card = kit
        .linked_card_of(
            "nakamura",
            qualification("中村 陽菜"),
            &kit.next_ca,
            KeyKind::P384,
        )
        .await;
    let mut browser = kit.client();
    let (_, auth, nonce) =
        flow::until_authentication(&mut browser, &kit, &kit.clinic, ALL_AGREE).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    let relabelled = token.replace("\"ES384\"", "\"RS256\"");
    assert_ne!(relabelled, token);
    let refused = browser.fresh().post_claimed(&auth, &relabelled).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.json()["error"], "token_algorithm_mismatch");
}
