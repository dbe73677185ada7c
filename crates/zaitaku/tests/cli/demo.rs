//! `zaitaku demo` and `zaitaku card auth`, as a person runs them: start the demo,
//! walk flow A in a "browser" (plain HTTP with a cookie), finish the
//! authentication step from the terminal with a demo card.

use crate::kit::{
    Browser, admin, card_auth, input, start_demo, start_demo_in, until_authentication,
};

#[test]
fn flow_a_finished_from_the_terminal_with_a_demo_card() {
    let demo = start_demo();
    assert_eq!(demo.institutions.len(), 4, "four demo institutions printed");
    let mut browser = Browser::demo_device(&demo.base);
    let index = browser.get("/");
    assert!(index.body.contains("さくら薬局") && index.body.contains("山田 太郎"));

    // The e-prescription clinic, with 山田 太郎's card.
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[0]);
    let out = card_auth(&demo.cards.join("yamada.card"), "1234", &link);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("在宅ひまわりクリニック"),
        "shows the institution: {stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"accepted\""));
    let done = browser.get(&format!("{flow}/complete"));
    assert!(done.body.contains("資格確認・登録完了"));
    assert!(done.body.contains("紙の処方箋"));
    assert!(done.body.contains("山田 太郎"));

    // The pharmacy, with the card whose PIN is already blocked: no PIN is sent.
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[2]);
    let out = card_auth(&demo.cards.join("takahashi.card"), "6789", &link);
    assert_eq!(out.status.code(), Some(1));
    // A reported blocked PIN ends that challenge only: the page says why and reads again.
    let failed = browser.get(&format!("{flow}/authenticate"));
    assert!(failed.body.contains("暗証番号がロックされています"));
    assert!(failed.body.contains("もう一度認証する"));

    // The visiting-nursing station, with a card whose qualification was lost.
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[3]);
    let out = card_auth(&demo.cards.join("suzuki.card"), "3456", &link);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("qualification_lost"));
    let failed = browser.get(&format!("{flow}/complete"));
    assert!(failed.body.contains("資格が確認できません"));
}

#[test]
fn the_demo_prints_a_staff_login_that_logs_in_with_the_code_on_its_index() {
    let demo = start_demo();
    assert!(
        demo.welcome.contains(&format!(
            "Staff console (管理画面): {}/console/login",
            demo.base
        )),
        "{}",
        demo.welcome
    );
    assert!(demo.welcome.contains("login himawari"));
    assert!(demo.welcome.contains("password zaitaku-demo-pass"));
    assert!(
        demo.welcome
            .contains("TOTP secret ZAITAKUDEMOSECRETZAITAKUDEMOSECR")
    );

    let mut browser = Browser::demo_device(&demo.base);
    let index = browser.get("/");
    assert!(index.body.contains("職員ログイン（管理画面）"));
    let start = index.body.find("class=\"demo-code\">").unwrap() + "class=\"demo-code\">".len();
    let code = index.body[start..start + 6].to_owned();
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");

    let form = browser.get("/console/login");
    let csrf = input(&form.body, "csrf");
    let password = browser.post(
        "/console/login",
        &[
            ("csrf", &csrf),
            ("login", "himawari"),
            ("password", "zaitaku-demo-pass"),
        ],
    );
    assert_eq!(password.location.as_deref(), Some("/console/login/code"));
    let page = browser.get("/console/login/code");
    let csrf = input(&page.body, "csrf");
    let done = browser.post("/console/login/code", &[("csrf", &csrf), ("code", &code)]);
    assert_eq!(
        done.location.as_deref(),
        Some("/console/patients"),
        "{}",
        done.body
    );
    let history = browser.get("/console/logins");
    assert_eq!(history.status, 200);
    assert!(history.body.contains("在宅ひまわりクリニック"));
}

#[test]
fn a_restarted_demo_trusts_its_root_from_the_database_and_keeps_the_revoked_card_revoked() {
    let dir = tempfile::tempdir().unwrap();
    drop(start_demo_in(dir.path()));

    // The second start adds the same roots again (already present) and imports fresh
    // CRLs through `admin crl import`'s path.
    let demo = start_demo_in(dir.path());
    let mut browser = Browser::demo_device(&demo.base);
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[1]);
    let out = card_auth(&demo.cards.join("watanabe.card"), "8901", &link);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("certificate_revoked"));
    assert!(
        browser
            .get(&format!("{flow}/complete"))
            .body
            .contains("電子証明書が失効しています")
    );
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[1]);
    let out = card_auth(&demo.cards.join("yamada.card"), "1234", &link);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        browser
            .get(&format!("{flow}/complete"))
            .body
            .contains("資格確認・登録完了")
    );

    let out = admin(dir.path(), &["trust", "list"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    // Today's RSA root and the next generation's P-384 root, under one name as JPKI's
    // generations are.
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.lines().all(|l| l.contains("CN=Zaitaku Test Root")),
        "{listed}"
    );
}

#[test]
fn the_next_generation_p384_card_registers_at_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_demo_in(dir.path());
    let mut browser = Browser::demo_device(&demo.base);
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[0]);
    let out = card_auth(&demo.cards.join("nakamura.card"), "9012", &link);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done = browser.get(&format!("{flow}/complete")).body;
    assert!(done.contains("資格確認・登録完了"), "{done}");
    assert!(done.contains("中村 陽菜"), "{done}");
}
