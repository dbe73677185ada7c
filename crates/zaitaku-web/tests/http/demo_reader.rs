//! The demo card reader: the phone app's stand-in, signing with virtual cards
//! through the same verification as any authenticator.

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::{Kit, Options, qualification};
use zaitaku_card::test_ca::LeafSpec;
use zaitaku_card::{JpkiCard, Pin, VirtualCard};
use zaitaku_web::DemoCard;

async fn demo_kit() -> (Kit, common::Card) {
    let mut kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let (blocked, _) = kit.new_card("blocked", &kit.ca, LeafSpec::jpki_auth(365).unwrap());
    let mut jpki = JpkiCard::open(VirtualCard::open(&blocked).unwrap()).unwrap();
    for _ in 0..3 {
        let _ = jpki.verify_pin(&Pin::parse("9999").unwrap());
    }
    drop(jpki);
    let demo_cards = vec![
        DemoCard {
            id: "yamada".into(),
            label: "山田 太郎（有効・3割）".into(),
            pin: common::PIN.into(),
            path: card.path.clone(),
        },
        DemoCard {
            id: "blocked".into(),
            label: "ロック中のカード".into(),
            pin: common::PIN.into(),
            path: blocked,
        },
    ];
    kit.stop().await;
    kit.launch(Options {
        demo_cards,
        ..Options::default()
    })
    .await;
    (kit, card)
}

/// The demo reader of the challenge at `auth` (`/auth/{ref}`).
fn reader_path(auth: &str) -> String {
    auth.replace("/auth/", "/demo/reader/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_count_down_and_the_right_one_returns_to_the_service() {
    let (kit, card) = demo_kit().await;
    let index = kit.client().get("/").await;
    assert_eq!(index.status, 200);
    assert!(
        index.body.contains("電子処方クリニック") && index.body.contains("山田 太郎（有効・3割）")
    );

    let mut browser = kit.client();
    let (walk, auth, _) = flow::until_authentication(
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
    let auth_page = browser.get(&format!("{}/authenticate", walk.flow)).await;
    let reader = reader_path(&auth.path);
    assert!(
        auth_page.body.contains(&format!("href=\"{reader}\"")),
        "読み取り開始 opens the demo reader"
    );
    let page = browser.get(&reader).await;
    for label in [
        "デモ用カードリーダー",
        "暗証番号",
        "読み取り開始",
        "電子処方クリニック",
        kit.origin.as_str(),
        "同意登録",
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    let csrf = page.input("csrf");
    let wrong = browser
        .post_form(
            &reader,
            &[("csrf", &csrf), ("card", "yamada"), ("pin", "0000")],
        )
        .await;
    assert_eq!(wrong.status, 200);
    assert!(
        wrong.body.contains("暗証番号が違います。残り2回です。"),
        "{}",
        wrong.body
    );
    let wrong = browser
        .post_form(
            &reader,
            &[("csrf", &csrf), ("card", "yamada"), ("pin", "0000")],
        )
        .await;
    assert!(
        wrong
            .body
            .contains("残り1回です。次に間違えるとロックが掛かります。")
    );
    let malformed = browser
        .post_form(
            &reader,
            &[("csrf", &csrf), ("card", "yamada"), ("pin", "12")],
        )
        .await;
    assert!(malformed.body.contains("数字4桁で入力してください"));
    let right = browser
        .post_form(
            &reader,
            &[("csrf", &csrf), ("card", "yamada"), ("pin", common::PIN)],
        )
        .await;
    assert_eq!(right.status, 303);
    assert_eq!(right.location(), format!("{}/authenticate", walk.flow));
    let back = browser.get(right.location()).await;
    assert_eq!(back.location(), format!("{}/complete", walk.flow));
    let complete = browser.get(back.location()).await;
    assert!(complete.body.contains("資格確認・登録完了"));
    assert!(
        kit.store
            .consent(kit.clinic_e.id, card.person.unwrap())
            .await
            .unwrap()
            .is_some()
    );
    // The right PIN reset the counter, as a card does.
    let status = VirtualCard::open(&card.path).unwrap();
    assert_eq!(status.tries_left(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_card_ends_the_challenge_and_another_device_sees_done() {
    let (kit, card) = demo_kit().await;
    let mut browser = kit.client();
    let (walk, auth, _) =
        flow::until_authentication(&mut browser, &kit, &kit.nursing, ALL_AGREE).await;
    let reader = reader_path(&auth.path);
    let page = browser.get(&reader).await;
    let blocked = browser
        .post_form(
            &reader,
            &[
                ("csrf", &page.input("csrf")),
                ("card", "blocked"),
                ("pin", common::PIN),
            ],
        )
        .await;
    assert_eq!(blocked.status, 303);
    // The challenge ends, not the flow: the page says why and offers a new one.
    assert_eq!(blocked.location(), format!("{}/authenticate", walk.flow));
    let result = browser.get(&format!("{}/authenticate", walk.flow)).await;
    assert!(result.body.contains("暗証番号がロックされています"));
    assert!(result.body.contains("もう一度認証する"));

    // The reader on another device (a phone that scanned the page's 2D code): it
    // claims the challenge, says it is done, and the flow page moves on.
    let mut browser = kit.client();
    let walk = flow::start(&mut browser, &kit, &kit.nursing).await;
    flow::choose(&mut browser, &walk, ALL_AGREE).await;
    flow::confirm(&mut browser, &walk).await;
    let auth = flow::auth_link(&mut browser, &walk).await;
    let mut phone = browser.fresh();
    let reader = reader_path(&auth);
    let page = phone.get(&reader).await;
    // A second device that scans the same code is refused.
    let mut other = browser.fresh();
    let refused = other.get(&reader).await;
    assert!(refused.body.contains("すでに別の端末で読み取られています"));
    assert!(!refused.body.contains("name=\"pin\""));
    let done = phone
        .post_form(
            &reader,
            &[
                ("csrf", &page.input("csrf")),
                ("card", "yamada"),
                ("pin", common::PIN),
            ],
        )
        .await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("読み取りが完了しました"));
    assert_eq!(
        browser.get(&format!("{}/status", walk.flow)).await.json()["state"],
        "done"
    );
    let settled = phone.get(&reader).await;
    assert!(settled.body.contains("すでに完了しているか"));
    assert!(
        kit.store
            .consent(kit.nursing.id, card.person.unwrap())
            .await
            .unwrap()
            .is_some()
    );
}
