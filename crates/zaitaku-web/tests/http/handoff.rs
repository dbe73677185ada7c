//! Authentication from a tablet/PC (issue 5): the staff's chosen way of reading
//! is remembered; the page shows this challenge's 2D code and a matching code;
//! the first authenticator to fetch the challenge claims it, a second is refused;
//! only the claimer can answer; the page's long-polled status moves on as soon
//! as the card is read, or as soon as the claimer reports the reading cancelled
//! (issue 13: the page then offers a new challenge with the choices kept).

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::qr::{Bitmap, attribute};
use common::{Claimed, Kit, Response, qualification, sign};
use std::time::{Duration, Instant};

/// The text of the element with `id`.
fn by_id(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\"")).expect(id);
    let open = html[start..].find('>').unwrap() + start + 1;
    let close = html[open..].find('<').unwrap() + open;
    html[open..close].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_shows_the_challenges_2d_code_and_a_phone_answers_it_once() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut tablet = kit.client();
    let walk = flow::start(&mut tablet, &kit, &kit.clinic).await;
    flow::choose(&mut tablet, &walk, ALL_AGREE).await;
    flow::confirm(&mut tablet, &walk).await;

    // The staff pick 2D-code reading on the authentication page.
    let here = format!("{}/authenticate", walk.flow);
    let page = tablet.get(&format!("{here}?method=qr")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for label in [
        "スマートフォン（二次元コード）認証",
        "ICカードリーダライタ認証",
        "スマートフォンで二次元コードを読み取る",
        "確認コード",
        "1回だけ",
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    assert!(
        page.body
            .contains("aria-current=\"page\">スマートフォン（二次元コード）認証")
    );
    let matching = by_id(&page.body, "matching-code");
    assert_eq!(matching.len(), 4);

    // The code on the screen is the page's own authentication link.
    let src = attribute(&page.body, "<img class=\"qr__image\"", "src");
    assert_eq!(src, format!("{here}/code.svg"));
    let image = tablet.get(&src).await;
    assert_eq!(image.header("content-type"), Some("image/svg+xml"));
    assert_eq!(image.header("cache-control"), Some("no-store"));
    let scanned = Bitmap::of_svg(&image.body).decode();
    let auth = flow::auth_link(&mut tablet, &walk).await;
    assert_eq!(scanned, format!("{}{auth}", kit.base));
    // Another browser cannot get this challenge's code.
    assert_eq!(kit.client().get(&src).await.status, 404);

    // The phone's authenticator fetches it: it claims it and shows the same code.
    let mut phone = tablet.fresh();
    let described = phone.get_json(&auth).await;
    assert_eq!(described.status, 200, "{}", described.body);
    let described = described.json();
    assert_eq!(described["matchingCode"], matching.as_str());
    let claim = described["claim"].as_str().unwrap().to_owned();
    let status = tablet.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "claimed");
    let page = tablet.get(&here).await;
    assert!(page.body.contains("認証アプリで読み取られました"));

    // A second scan, from anywhere, is refused; so is answering without the claim.
    let again = tablet.fresh().get_json(&auth).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.json()["error"], "already_claimed");
    let nonce = described["nonce"].as_str().unwrap();
    let token = sign(&card.path, &kit.origin, nonce).await;
    let unclaimed = tablet.fresh().post_json(&auth, &token).await;
    assert_eq!(unclaimed.status, 403, "{}", unclaimed.body);
    assert!(unclaimed.body.contains("Authorization header"));
    let claimed = Claimed {
        path: auth.clone(),
        claim,
    };
    let wrong = claimed.with_claim("not-the-claim");
    assert_eq!(
        tablet.fresh().post_claimed(&wrong, &token).await.status,
        409
    );
    // The claimer may ask again (a retry after a dropped connection).
    assert_eq!(phone.get_claimed(&claimed).await.status, 200);
    // The right claim in the URL, where the protocol once had it, answers nothing.
    let in_url = format!("{auth}?claim={}", claimed.claim);
    for refused in [
        phone.post_json(&in_url, &token).await,
        phone
            .post_claimed(&claimed.with_path(&in_url), &token)
            .await,
        phone.get_claimed(&claimed.with_path(&in_url)).await,
    ] {
        assert_claim_in_url_refused(&refused);
    }
    let status = tablet.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "claimed", "still waiting for its card");

    // The tablet's page waits (long poll) and hears of the card at once.
    let waiting = {
        let mut tablet = tablet.fresh_with_cookies();
        let url = format!("{}/status?wait=claimed", walk.flow);
        tokio::spawn(async move {
            let started = Instant::now();
            let answer = tablet.get(&url).await.json();
            (answer, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let accepted = phone.post_claimed(&claimed, &token).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let (answer, waited) = waiting.await.unwrap();
    assert_eq!(answer["state"], "done");
    assert_eq!(answer["next"], format!("{}/complete", walk.flow));
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "held until the card was read, then answered: {waited:?}"
    );
    // Used: the code is good for nothing now.
    assert_eq!(phone.get_claimed(&claimed).await.status, 409);
    assert_eq!(tablet.get(&src).await.status, 404);
}

/// 400 with the protocol's JSON error saying where the claim goes.
fn assert_claim_in_url_refused(refused: &Response) {
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.header("content-type"), Some("application/json"));
    let error = refused.json();
    assert_eq!(error["error"], "claim_in_url", "{}", refused.body);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{}",
        refused.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_in_the_url_is_refused_before_anything_and_claims_nothing() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut pc = kit.client();
    let walk = flow::start(&mut pc, &kit, &kit.clinic).await;
    flow::choose(&mut pc, &walk, ALL_AGREE).await;
    flow::confirm(&mut pc, &walk).await;
    let auth = flow::auth_link(&mut pc, &walk).await;
    // Any claim in the query, on every endpoint, even an unclaimed challenge's
    // (which a fetch would claim) and even spelt with escapes.
    let mut authenticator = pc.fresh();
    for path in [
        format!("{auth}?claim=anything"),
        format!("{auth}?claim="),
        format!("{auth}?x=1&cl%61im=anything"),
    ] {
        assert_claim_in_url_refused(&authenticator.get_json(&path).await);
        assert_claim_in_url_refused(&authenticator.get(&path).await);
        assert_claim_in_url_refused(&authenticator.post_json(&path, "{}").await);
    }
    let error = format!("{auth}/error?claim=anything");
    assert_claim_in_url_refused(
        &authenticator
            .post_json(&error, r#"{"code":"cancelled"}"#)
            .await,
    );
    let status = pc.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(
        status["state"], "pending",
        "nothing claimed, nothing cancelled"
    );

    // The header way works from the start: fetch, then answer with the claim.
    let described = authenticator.get_json(&auth).await;
    assert_eq!(described.status, 200, "{}", described.body);
    let described = described.json();
    let claimed = Claimed {
        path: auth.clone(),
        claim: described["claim"].as_str().unwrap().to_owned(),
    };
    let token = sign(
        &card.path,
        &kit.origin,
        described["nonce"].as_str().unwrap(),
    )
    .await;
    let accepted = authenticator.post_claimed(&claimed, &token).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_way_of_reading_is_remembered_for_the_session() {
    let kit = Kit::start().await;
    let mut pc = kit.client();
    let (walk, _, _) = flow::until_authentication(&mut pc, &kit, &kit.pharmacy, ALL_AGREE).await;
    let here = format!("{}/authenticate", walk.flow);
    // By default, this device reads the card (a smartphone).
    let page = pc.get(&here).await;
    assert!(
        page.body
            .contains("aria-current=\"page\">この端末で読み取る")
    );
    assert!(page.body.contains("zaitaku-auth://authenticate?link="));
    // The IC card reader: the link to hand to the desktop authenticator.
    let page = pc.get(&format!("{here}?method=reader")).await;
    assert!(page.body.contains("ICカードリーダライタで読み取る"));
    assert!(page.body.contains("zaitaku card auth --reader"));
    assert!(page.body.contains("zaitaku-auth://authenticate?link="));
    // A later flow of the same session opens in the way last chosen.
    let (walk, _) = flow::start_revocation(&mut pc, &kit, &kit.pharmacy).await;
    flow::confirm_revocation(&mut pc, &walk).await;
    let page = pc.get(&format!("{}/authenticate", walk.flow)).await;
    assert!(
        page.body
            .contains("aria-current=\"page\">ICカードリーダライタ認証")
    );
    // Another browser has its own default.
    let mut phone = kit.client();
    let (walk, _, _) = flow::until_authentication(&mut phone, &kit, &kit.pharmacy, ALL_AGREE).await;
    let page = phone.get(&format!("{}/authenticate", walk.flow)).await;
    assert!(
        page.body
            .contains("aria-current=\"page\">この端末で読み取る")
    );
    // The tablet/PC menu offers each flow per way of reading; its choice sticks.
    let prepare = phone.get(&kit.url(&kit.pharmacy)).await;
    let group = prepare
        .body
        .find("id=\"menu-group-qr\"")
        .expect("the 2D-code group");
    let form = &prepare.body[group..];
    assert!(form.contains("<input type=\"hidden\" name=\"method\" value=\"qr\">"));
    let csrf = prepare.input("csrf");
    let started = phone
        .post_form(
            &format!("{}/inquiry", kit.url(&kit.pharmacy)),
            &[("csrf", &csrf), ("method", "qr")],
        )
        .await;
    assert_eq!(started.status, 303);
    let page = phone.get(started.location()).await;
    assert!(
        page.body
            .contains("aria-current=\"page\">スマートフォン（二次元コード）認証")
    );
    assert!(page.body.contains("この認証の二次元コード"));
    // An unknown method is ignored: the remembered one stays.
    let page = phone
        .get(&format!("{}/authenticate?method=carrier-pigeon", walk.flow))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("aria-current=\"page\">スマートフォン（二次元コード）認証")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_made_for_one_challenge_is_refused_by_another() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    // Two flows waiting for a card: a registration, and a view of flow B.
    let mut first = kit.client();
    let (walk_a, auth_a, nonce_a) =
        flow::until_authentication(&mut first, &kit, &kit.clinic, ALL_AGREE).await;
    let mut second = kit.client();
    let (walk_b, auth_b, _) = flow::start_inquiry(&mut second, &kit, &kit.clinic).await;
    // The card signs the registration's challenge; the token is posted to the view's.
    let token = sign(&card.path, &kit.origin, &nonce_a).await;
    let refused = second.fresh().post_claimed(&auth_b, &token).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    // A signature that does not verify ends that challenge only.
    let page = second.get(&format!("{}/authenticate", walk_b.flow)).await;
    assert!(
        page.body.contains("電子証明書を確認できません"),
        "{}",
        page.body
    );
    assert!(page.body.contains("もう一度認証する"));
    // Its own challenge still takes it.
    assert_eq!(
        first.fresh().post_claimed(&auth_a, &token).await.status,
        200
    );
    let done = first.get(&format!("{}/complete", walk_a.flow)).await;
    assert!(done.body.contains("資格確認・登録完了"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_on_the_authenticator_ends_the_challenge_and_the_page_offers_another() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut pc = kit.client();
    let walk = flow::start(&mut pc, &kit, &kit.clinic).await;
    // Mixed answers, so "the choices are kept" is visible in the consent.
    let answers = &[("YZK", "1"), ("SRJ", "0"), ("TKK", "1")];
    flow::choose(&mut pc, &walk, answers).await;
    flow::confirm(&mut pc, &walk).await;
    let here = format!("{}/authenticate", walk.flow);
    let page = pc.get(&format!("{here}?method=reader")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let (auth, nonce) = flow::challenge(&mut pc, &walk).await;

    // The page waits on `claimed` (long poll) and hears of the cancel at once.
    let waiting = {
        let mut pc = pc.fresh_with_cookies();
        let url = format!("{}/status?wait=claimed", walk.flow);
        tokio::spawn(async move {
            let started = Instant::now();
            let answer = pc.get(&url).await.json();
            (answer, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The desktop app's 「キャンセル」: its claim, the error endpoint.
    let cancelled = pc
        .fresh()
        .post_claimed(&auth.error(), r#"{"code":"cancelled"}"#)
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.json()["result"], "recorded");
    let (answer, waited) = waiting.await.unwrap();
    assert_eq!(answer["state"], "cancelled");
    assert_eq!(answer["next"], here);
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "held until the cancel, then answered: {waited:?}"
    );
    let status = pc.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["state"], "cancelled");

    // The challenge is over: no token, no second cancel, no new fetch.
    let token = sign(&card.path, &kit.origin, &nonce).await;
    let late = pc.fresh().post_claimed(&auth, &token).await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert_eq!(late.json()["error"], "already_used");
    let twice = pc
        .fresh()
        .post_claimed(&auth.error(), r#"{"code":"cancelled"}"#)
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(pc.fresh().get_json(&auth.path).await.status, 409);

    // The staff page says so in Japanese, not as a time-out, and offers a retry
    // that keeps the choices.
    let page = pc.get(&here).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        by_id(&page.body, "auth-ended"),
        "認証アプリで読み取りが取り消されました"
    );
    assert!(page.body.contains("「キャンセル」が押された"));
    assert!(page.body.contains("選択内容はそのままです"));
    assert!(!page.body.contains("時間切れです"));
    assert!(page.body.contains("もう一度認証する"));
    assert!(
        !page.body.contains("id=\"auth-status\""),
        "no longer waiting"
    );
    let retry_action = format!("{}/confirm", walk.flow);
    assert!(page.body.contains(&format!("action=\"{retry_action}\"")));
    let retry = pc
        .post_form(
            &retry_action,
            &[("csrf", &walk.csrf), ("choices", &page.input("choices"))],
        )
        .await;
    assert_eq!(retry.status, 303, "{}", retry.body);
    assert_eq!(retry.location(), here);
    assert_eq!(
        pc.get(&format!("{}/status", walk.flow)).await.json()["state"],
        "pending"
    );
    // A new challenge, answered by the card: registered with the choices shown.
    let (auth2, nonce2) = flow::challenge(&mut pc, &walk).await;
    assert_ne!(auth, auth2);
    let token = sign(&card.path, &kit.origin, &nonce2).await;
    let accepted = pc.fresh().post_claimed(&auth2, &token).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let consent = kit
        .store
        .consent(kit.clinic.id, card.person.unwrap())
        .await
        .unwrap()
        .expect("registered after the retry");
    let agreed: Vec<bool> = consent.choices.items().map(|(_, agreed)| agreed).collect();
    assert_eq!(agreed.iter().filter(|a| **a).count(), 2, "{agreed:?}");
    assert_eq!(agreed.len(), 3, "the choices of the first try: {agreed:?}");
}
