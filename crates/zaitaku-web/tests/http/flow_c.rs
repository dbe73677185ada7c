//! Flow C over HTTP: 「すべての同意を取消す」 → confirmation → card → done, and
//! the database after.

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::{Kit, qualification, sign};
use zaitaku_domain::{ConsentItem, ConsentStatus, RevocationReason};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_all_consent_at_an_e_prescription_clinic() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut browser = kit.client();
    let answers = [
        ("YZK", "1"),
        ("SRJ", "1"),
        ("TKK", "0"),
        ("prescription_form", "1"),
    ];
    let (_, auth, nonce) =
        flow::until_authentication(&mut browser, &kit, &kit.clinic_e, &answers).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );

    let (walk, confirm) = flow::start_revocation(&mut browser, &kit, &kit.clinic_e).await;
    for label in [
        "登録内容の取消し確認",
        "すべての同意を取消す",
        "取り下げられます",
        "本人認証",
    ] {
        assert!(confirm.body.contains(label), "{label}");
    }
    let confirmed = flow::confirm_revocation(&mut browser, &walk).await;
    assert_eq!(confirmed.location(), format!("{}/authenticate", walk.flow));
    // A double submit makes no second challenge.
    let again = flow::confirm_revocation(&mut browser, &walk).await;
    assert_eq!(again.location(), format!("{}/authenticate", walk.flow));
    let (auth, nonce) = flow::challenge(&mut browser, &walk).await;
    let described = browser.fresh().get_claimed(&auth).await.json();
    assert_eq!(described["purpose"], "revoke");
    assert_eq!(described["purposeLabel"], "すべての同意の取消し");
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );

    let done = browser.get(&format!("{}/complete", walk.flow)).await;
    for label in [
        "登録内容の取消し完了",
        "取消しが完了しました",
        "取り下げ済み",
        "同意しない（取消し済み）",
    ] {
        assert!(done.body.contains(label), "{label}");
    }
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
    assert_eq!(consent.choices.agreed(ConsentItem::Medication), Some(false));
    assert_eq!(consent.choices.agreed(ConsentItem::Clinical), Some(false));
    assert_eq!(consent.choices.prescription_form(), None, "withdrawn");
    let history = kit.store.consent_history(consent.id).await.unwrap();
    assert_eq!(history.len(), 2);
    let (old_choices, old_status) = history[1].old.as_ref().unwrap();
    assert_eq!(*old_status, ConsentStatus::Active);
    assert_eq!(old_choices.agreed(ConsentItem::Medication), Some(true));
    assert!(history[1].authentication.is_some());

    // Revoking again: nothing is registered any more; nothing is written.
    let (walk, auth, nonce) =
        flow::revoke_until_authentication(&mut browser, &kit, &kit.clinic_e).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let nothing = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(nothing.body.contains("登録されている同意はありません"));
    assert_eq!(
        kit.store.consent_history(consent.id).await.unwrap().len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pharmacy_wording_and_nothing_to_revoke() {
    let kit = Kit::start().await;
    let card = kit.linked_card("sato", qualification("佐藤 花子")).await;
    let mut browser = kit.client();

    // Nothing registered yet: say so, write nothing.
    let (walk, auth, nonce) =
        flow::revoke_until_authentication(&mut browser, &kit, &kit.pharmacy).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let nothing = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(nothing.body.contains("登録されている同意はありません"));
    assert!(
        kit.store
            .consent(kit.pharmacy.id, card.person.unwrap())
            .await
            .unwrap()
            .is_none()
    );

    let (_, auth, nonce) =
        flow::until_authentication(&mut browser, &kit, &kit.pharmacy, ALL_AGREE).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let (walk, confirm) = flow::start_revocation(&mut browser, &kit, &kit.pharmacy).await;
    assert!(confirm.body.contains("同意内容の取消し確認"));
    assert!(
        !confirm.body.contains("処方箋の発行形態の情報"),
        "no prescription form at a pharmacy"
    );
    flow::confirm_revocation(&mut browser, &walk).await;
    let (auth, nonce) = flow::challenge(&mut browser, &walk).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let done = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(done.body.contains("同意取消しの完了"));
    let consent = kit
        .store
        .consent(kit.pharmacy.id, card.person.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        consent.status,
        ConsentStatus::Revoked(RevocationReason::ByPatient)
    );
    // Back and reload land on the result.
    let back = browser.get(&format!("{}/revoke", walk.flow)).await;
    assert_eq!(back.location(), format!("{}/complete", walk.flow));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_without_an_insurance_link_cannot_revoke() {
    let kit = Kit::start().await;
    let (unlinked, _) = kit.new_card(
        "unlinked",
        &kit.ca,
        zaitaku_card::test_ca::LeafSpec::jpki_auth(365).unwrap(),
    );
    let mut browser = kit.client();
    let (walk, auth, nonce) =
        flow::revoke_until_authentication(&mut browser, &kit, &kit.nursing).await;
    let token = sign(&unlinked, &kit.origin, &nonce).await;
    let refused = browser.fresh().post_claimed(&auth, &token).await;
    assert_eq!(refused.status, 422);
    let page = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(page.body.contains("健康保険証利用の登録がありません"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_revocation_is_retried_with_a_fresh_challenge() {
    let kit = Kit::start_with(common::Options::short_challenges()).await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut browser = kit.client();
    let (_, auth, nonce) =
        flow::until_authentication(&mut browser, &kit, &kit.clinic, ALL_AGREE).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );

    let (walk, old_auth, _) =
        flow::revoke_until_authentication(&mut browser, &kit, &kit.clinic).await;
    tokio::time::sleep(std::time::Duration::from_millis(
        common::SHORT_CHALLENGE_WAIT_MS,
    ))
    .await;
    let page = browser.get(&format!("{}/authenticate", walk.flow)).await;
    assert!(page.body.contains("時間切れです"));
    assert!(
        page.body
            .contains(&format!("action=\"{}/revoke\"", walk.flow))
    );
    // 「もう一度認証する」 posts the revocation's own confirmation again.
    let retry = flow::confirm_revocation(&mut browser, &walk).await;
    assert_eq!(retry.location(), format!("{}/authenticate", walk.flow));
    let (auth, nonce) = flow::challenge(&mut browser, &walk).await;
    assert_ne!(auth, old_auth);
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let consent = kit
        .store
        .consent(kit.clinic.id, card.person.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        consent.status,
        ConsentStatus::Revoked(RevocationReason::ByPatient)
    );
}
