//! Less left behind on shared devices: a finished flow's page (資格情報, the
//! consent) is shown for `Lifetimes::result` after it finished and says until
//! when; 「閉じる」 ends it at once; after either, its URL says the result is no
//! longer shown, and shows none of the personal data.

use crate::common;

use common::flow::{self, ALL_AGREE, Walk};
use common::{Client, Kit, Options, qualification, sign};
use std::time::Duration;
use zaitaku_web::Lifetimes;

const NAME: &str = "山田 太郎";
/// The insurer number of `common::qualification`'s records.
const INSURER: &str = "01130012";

/// Flow A to its completion with a new card; the flow and its complete page.
async fn completed(kit: &Kit, browser: &mut Client) -> (Walk, common::Response) {
    let card = kit.linked_card("yamada", qualification(NAME)).await;
    let (walk, auth, nonce) =
        flow::until_authentication(browser, kit, &kit.clinic, ALL_AGREE).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    let accepted = browser.fresh().post_claimed(&auth, &token).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let page = browser.get(&format!("{}/complete", walk.flow)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [NAME, INSURER, "まで表示されます", "閉じる"] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(
        page.body
            .contains(&format!(r#"action="{}/close""#, walk.flow)),
        "{}",
        page.body
    );
    (walk, page)
}

/// The flow's pages say the result is no longer shown, and show no personal data.
async fn no_longer_shown(browser: &mut Client, walk: &Walk) {
    for path in [
        format!("{}/complete", walk.flow),
        walk.flow.clone(),
        format!("{}/status", walk.flow),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 410, "{path}: {}", page.body);
        if !path.ends_with("/status") {
            assert!(page.body.contains("表示を終了しました"), "{path}");
        }
        for hidden in [NAME, "山田", INSURER, "薬剤情報"] {
            assert!(!page.body.contains(hidden), "{path} shows {hidden}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_ends_the_result_at_once() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let (walk, _) = completed(&kit, &mut browser).await;
    let close = format!("{}/close", walk.flow);
    // Without this session's token, nothing is closed.
    let forged = browser.post_form(&close, &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let still = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(still.body.contains(NAME));
    // Another browser cannot close it either, even with a token of its own session.
    let mut other = kit.client();
    let own = other.get(&kit.url(&kit.clinic)).await.input("csrf");
    let elsewhere = other.post_form(&close, &[("csrf", &own)]).await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    assert!(
        browser
            .get(&format!("{}/complete", walk.flow))
            .await
            .body
            .contains(NAME)
    );

    let closed = browser.post_form(&close, &[("csrf", &walk.csrf)]).await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    assert_eq!(closed.location(), format!("{}/complete", walk.flow));
    no_longer_shown(&mut browser, &walk).await;
    // Closing again shows the same.
    let twice = browser.post_form(&close, &[("csrf", &walk.csrf)]).await;
    assert_eq!(twice.status, 410);
    // The consent itself stays registered.
    let stored = kit
        .store
        .flow(walk.flow.trim_start_matches("/f/"))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.closed_at.is_some());
    assert!(stored.consent_id.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocations_result_closes_too() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification(NAME)).await;
    let mut browser = kit.client();
    flow::register(&mut browser, &kit, &kit.clinic, &card.path, ALL_AGREE).await;
    let (walk, auth, nonce) =
        flow::revoke_until_authentication(&mut browser, &kit, &kit.clinic).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        200
    );
    let done = browser.get(&format!("{}/complete", walk.flow)).await;
    assert!(done.body.contains("薬剤情報"), "{}", done.body);
    assert!(done.body.contains("まで表示されます"));
    let closed = browser
        .post_form(&format!("{}/close", walk.flow), &[("csrf", &walk.csrf)])
        .await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    no_longer_shown(&mut browser, &walk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_is_no_longer_shown_after_its_lifetime() {
    let options = Options {
        lifetimes: Lifetimes {
            result: time::Duration::seconds(2),
            ..Lifetimes::default()
        },
        ..Options::default()
    };
    let kit = Kit::start_with(options).await;
    let mut browser = kit.client();
    let (walk, _) = completed(&kit, &mut browser).await;
    // Settlement times are stored to the second: 2 s lasts at most 3.
    tokio::time::sleep(Duration::from_millis(common::SHORT_CHALLENGE_WAIT_MS)).await;
    no_longer_shown(&mut browser, &walk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_bs_view_closes_too() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification(NAME)).await;
    let mut browser = kit.client();
    flow::register(&mut browser, &kit, &kit.clinic, &card.path, ALL_AGREE).await;
    let (walk, edit) = flow::view(&mut browser, &kit, &kit.clinic, &card.path).await;
    // The viewed consent is on screen, with until when and 「閉じる」.
    assert!(edit.body.contains("薬剤情報"));
    assert!(edit.body.contains("まで表示されます"), "{}", edit.body);
    let closed = browser
        .post_form(&format!("{}/close", walk.flow), &[("csrf", &walk.csrf)])
        .await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    for path in [
        format!("{}/update", walk.flow),
        format!("{}/update/confirm", walk.flow),
        format!("{}/status", walk.flow),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 410, "{path}: {}", page.body);
        assert!(!page.body.contains("薬剤情報"), "{path}");
    }
    // Nothing can be saved from it any more.
    let revised = flow::revise(
        &mut browser,
        &walk,
        &[("YZK", "0"), ("SRJ", "1"), ("TKK", "1")],
    )
    .await;
    assert_eq!(revised.status, 410);
}
