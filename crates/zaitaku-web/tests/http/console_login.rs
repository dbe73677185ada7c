//! The console login: password, then the TOTP code; lockout; sessions that end;
//! logout; the login history of one's own institution only; CSRF; enrolment links.

use crate::common;

use common::console::{
    StaffCredentials, console_login, console_login_with, staff_account, submit_code,
    submit_password, totp_in_steps, totp_now, unenrolled_account,
};
use common::{Kit, Options};
use std::time::Duration;
use zaitaku_domain::{LoginName, LoginOutcome, StaffRole};

const FAILED: &str =
    "ログインIDまたはパスワードが正しくないか、ログインが一時的に制限されています。";
const WRONG_CODE: &str = "確認コードが正しくありません。";

fn kit_with_console(idle_seconds: i64, absolute_seconds: i64) -> Options {
    Options {
        lifetimes: zaitaku_web::Lifetimes {
            console_idle: time::Duration::seconds(idle_seconds),
            console_absolute: time::Duration::seconds(absolute_seconds),
            ..zaitaku_web::Lifetimes::default()
        },
        ..Options::default()
    }
}

async fn outcomes(kit: &Kit, creds: &StaffCredentials) -> Vec<LoginOutcome> {
    let login = LoginName::parse(&creds.login).unwrap();
    let account = kit.store.staff_by_login(&login).await.unwrap().unwrap();
    kit.store
        .staff_logins(account.institution_id, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.login_name == creds.login)
        .map(|l| l.outcome)
        .collect()
}

fn cookie_of(response: &common::Response) -> &str {
    response.header("set-cookie").expect("a cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_then_a_code_logs_in_under_new_session_ids() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut browser = kit.client();
    let form = browser.get("/console/login").await;
    assert!(form.body.contains("ログインID") && form.body.contains("パスワード"));
    let first = cookie_of(&form).to_owned();
    assert!(first.starts_with("zaitaku_console="), "{first}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(first.contains(attribute), "{first}");
    }
    let password = submit_password(&mut browser, &creds.login, &creds.password).await;
    assert_eq!(password.status, 303);
    assert_eq!(password.location(), "/console/login/code");
    let second = cookie_of(&password).to_owned();
    assert_ne!(first.split(';').next(), second.split(';').next(), "rotated");
    let code_page = browser.get("/console/login/code").await;
    assert!(code_page.body.contains("確認コード (6桁)"));
    let done = submit_code(&mut browser, &totp_now(&creds.totp_secret)).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), "/console/patients");
    assert_ne!(
        second.split(';').next(),
        cookie_of(&done).split(';').next(),
        "rotated again"
    );

    let history = browser.get("/console/logins").await;
    assert_eq!(history.status, 200, "{}", history.body);
    for shown in [
        "ログイン履歴",
        "紙の診療所",
        &format!("職員 {}", creds.login),
        "同意取得済み患者一覧",
        "href=\"/console/settings\"",
        "href=\"/console/access-log\"",
        "ログアウト",
        "ログイン成功",
    ] {
        assert!(history.body.contains(shown), "{shown} in {}", history.body);
    }
    let home = browser.get("/console").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location(), "/console/patients");
    // Logged in, the login page leads to the console.
    assert_eq!(
        browser.get("/console/login").await.location(),
        "/console/patients"
    );
    assert_eq!(
        outcomes(&kit, &creds).await,
        [LoginOutcome::Success, LoginOutcome::Enrolment]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_login_get_the_same_answer() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let mut browser = kit.client();
    let wrong = submit_password(&mut browser, &creds.login, "not the password").await;
    let unknown = submit_password(&mut browser, "nobody-here", &creds.password).await;
    let malformed = submit_password(&mut browser, "NOT A LOGIN NAME", &creds.password).await;
    for response in [&wrong, &unknown, &malformed] {
        assert_eq!(response.status, 401);
        assert!(response.body.contains(FAILED), "{}", response.body);
    }
    // The page differs only in the login name kept in the form.
    assert_eq!(
        wrong.body.replace(&creds.login, "X"),
        unknown.body.replace("nobody-here", "X")
    );
    assert_eq!(
        outcomes(&kit, &creds).await,
        [LoginOutcome::WrongPassword, LoginOutcome::Enrolment]
    );
    // Not logged in.
    assert_eq!(
        browser.get("/console/logins").await.location(),
        "/console/login"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_is_refused_and_a_code_works_only_once() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let mut browser = kit.client();
    submit_password(&mut browser, &creds.login, &creds.password).await;
    let now = totp_now(&creds.totp_secret);
    let wrong = if now == "000000" { "000001" } else { "000000" };
    let refused = submit_code(&mut browser, wrong).await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains(WRONG_CODE));
    let junk = submit_code(&mut browser, "12ab").await;
    assert_eq!(junk.status, 401);
    // Still waiting for the code: the right one logs in.
    let done = submit_code(&mut browser, &now).await;
    assert_eq!(done.location(), "/console/patients");

    // The same code again, from another browser with the right password: refused.
    let mut other = kit.client();
    submit_password(&mut other, &creds.login, &creds.password).await;
    let replay = submit_code(&mut other, &now).await;
    assert_eq!(replay.status, 401);
    assert!(replay.body.contains(WRONG_CODE));
    assert_eq!(
        other.get("/console/logins").await.location(),
        "/console/login"
    );
    // The next step's code is new.
    let next = submit_code(&mut other, &totp_in_steps(&creds.totp_secret, 1)).await;
    assert_eq!(next.location(), "/console/patients");
    assert_eq!(
        outcomes(&kit, &creds).await,
        [
            LoginOutcome::Success,
            LoginOutcome::WrongCode,
            LoginOutcome::Success,
            LoginOutcome::WrongCode,
            LoginOutcome::WrongCode,
            LoginOutcome::Enrolment
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_make_unknown_browsers_wait_even_with_the_right_password() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let mut browser = kit.client();
    for n in 1..=5 {
        let wrong =
            submit_password(&mut browser, &creds.login, &format!("wrong password {n}")).await;
        assert_eq!(wrong.status, 401);
    }
    let waiting = submit_password(&mut browser, &creds.login, &creds.password).await;
    assert_eq!(
        waiting.status, 401,
        "waiting: the right password does not help"
    );
    assert!(waiting.body.contains(FAILED));
    let log = outcomes(&kit, &creds).await;
    assert_eq!(log[0], LoginOutcome::Locked);
    assert_eq!(
        log.iter()
            .filter(|o| **o == LoginOutcome::WrongPassword)
            .count(),
        5
    );
    let account = kit
        .store
        .staff_by_login(&LoginName::parse(&creds.login).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        account.locked_until, None,
        "wrong passwords alone never lock"
    );
    let count = kit
        .store
        .login_attempts(&zaitaku_store::AttemptKey::Account(account.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count.attempts, 5, "the refused attempt counted nothing");
    let wait = count.next_at - time::OffsetDateTime::now_utc();
    assert!(wait > time::Duration::seconds(50) && wait <= time::Duration::minutes(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fifth_wrong_code_in_a_row_locks_and_ends_the_half_login() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let mut browser = kit.client();
    for n in 1..=3 {
        submit_password(&mut browser, &creds.login, &format!("wrong password {n}")).await;
    }
    submit_password(&mut browser, &creds.login, &creds.password).await;
    let right = totp_now(&creds.totp_secret);
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 1..=4 {
        assert_eq!(submit_code(&mut browser, wrong).await.status, 401);
    }
    let page = browser.get("/console/login/code").await;
    let csrf = page.input("csrf");
    let fifth = browser
        .post_form("/console/login/code", &[("csrf", &csrf), ("code", wrong)])
        .await;
    assert_eq!(fifth.status, 401);
    assert!(fifth.body.contains(FAILED), "back at the login form");
    // The half login is gone: the right code no longer gets in.
    let late = browser
        .post_form("/console/login/code", &[("csrf", &csrf), ("code", &right)])
        .await;
    assert_eq!(late.status, 303);
    assert_eq!(late.location(), "/console/login");
    // Locked: the right password is refused, from any browser.
    let again = submit_password(&mut browser, &creds.login, &creds.password).await;
    assert_eq!(again.status, 401);
    let account = kit
        .store
        .staff_by_login(&LoginName::parse(&creds.login).unwrap())
        .await
        .unwrap()
        .unwrap();
    let until = account.locked_until.unwrap() - time::OffsetDateTime::now_utc();
    assert!(until > time::Duration::minutes(14) && until <= time::Duration::minutes(15));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_logged_in_session_opens_no_console_page() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut browser = kit.client();
    assert_eq!(
        browser.get("/console/logins").await.location(),
        "/console/login"
    );
    submit_password(&mut browser, &creds.login, &creds.password).await;
    let refused = browser.get("/console/logins").await;
    assert_eq!(refused.status, 303);
    assert_eq!(refused.location(), "/console/login");
    // Nor can it log out (that needs a logged-in session).
    let logout = browser.post_form("/console/logout", &[("csrf", "x")]).await;
    assert_eq!(logout.location(), "/console/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends_and_use_keeps_it_alive() {
    let kit = Kit::start_with(kit_with_console(3, 3600)).await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut browser = console_login(&kit, &creds).await;
    // Each use renews the idle time (stored to the second: 2–3 s left after each).
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(browser.get("/console/logins").await.status, 200);
    }
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let expired = browser.get("/console/logins").await;
    assert_eq!(expired.status, 303);
    assert_eq!(expired.location(), "/console/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_its_absolute_lifetime_however_used() {
    let kit = Kit::start_with(kit_with_console(3600, 2)).await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut browser = console_login(&kit, &creds).await;
    assert_eq!(browser.get("/console/logins").await.status, 200);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        browser.get("/console/logins").await.location(),
        "/console/login"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session_for_good() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut browser = console_login(&kit, &creds).await;
    let page = browser.get("/console/logins").await;
    let csrf = page.input("csrf");
    let mut copied = browser.fresh_with_cookies();
    // A wrong token logs no one out.
    let forged = browser
        .post_form("/console/logout", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(browser.get("/console/logins").await.status, 200);
    let out = browser
        .post_form("/console/logout", &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/console/login");
    assert!(cookie_of(&out).contains("Max-Age=0"));
    // The old cookie, kept by a copy, opens nothing.
    assert_eq!(
        copied.get("/console/logins").await.location(),
        "/console/login"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_history_shows_only_the_own_institutions_staff_and_only_to_administrators() {
    let kit = Kit::start().await;
    let admin_x = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let admin_y = staff_account(&kit, &kit.pharmacy, StaffRole::Administrator).await;
    let staff_y = staff_account(&kit, &kit.pharmacy, StaffRole::Staff).await;
    let staff_x = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let mut browser = kit.client();
    submit_password(&mut browser, &staff_y.login, "a wrong password").await;
    submit_password(&mut browser, "typed-by-someone", "whatever it is").await;

    let mut x = console_login(&kit, &admin_x).await;
    let history = x.get("/console/logins").await;
    assert_eq!(history.status, 200);
    assert!(history.body.contains(&admin_x.login));
    assert!(
        history.body.contains(&staff_x.login),
        "enrolment of X's staff"
    );
    for other in [&admin_y.login, &staff_y.login] {
        assert!(!history.body.contains(other.as_str()), "{other} is Y's");
    }
    assert!(!history.body.contains("typed-by-someone"));
    assert!(!history.body.contains("テスト薬局"));

    let mut y = console_login(&kit, &admin_y).await;
    let history_y = y.get("/console/logins").await;
    assert!(history_y.body.contains(&staff_y.login));
    assert!(history_y.body.contains("パスワード誤り"));
    assert!(!history_y.body.contains(&admin_x.login));

    // 職員 see the patients' pages only.
    let mut s = console_login(&kit, &staff_x).await;
    let forbidden = s.get("/console/logins").await;
    assert_eq!(forbidden.status, 403);
    assert!(forbidden.body.contains("管理者のみ"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_sessions_csrf_token_or_from_another_site_are_refused() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let mut browser = kit.client();
    browser.get("/console/login").await;
    let forged = browser
        .post_form(
            "/console/login",
            &[
                ("csrf", "forged"),
                ("login", &creds.login),
                ("password", &creds.password),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let mut cookieless = kit.client();
    let no_session = cookieless
        .post_form(
            "/console/login",
            &[
                ("csrf", "x"),
                ("login", &creds.login),
                ("password", &creds.password),
            ],
        )
        .await;
    assert_eq!(no_session.status, 403);
    let page = browser.get("/console/login").await;
    let body = common::http::form_encode(&[
        ("csrf", &page.input("csrf")),
        ("login", &creds.login),
        ("password", &creds.password),
    ]);
    let cross_site = browser
        .request(
            "POST",
            "/console/login",
            Some("application/x-www-form-urlencoded"),
            body.as_bytes(),
            &[("Sec-Fetch-Site", "cross-site")],
        )
        .await;
    assert_eq!(cross_site.status, 403);
    // Refused before any check: nothing was logged.
    assert_eq!(outcomes(&kit, &creds).await, [LoginOutcome::Enrolment]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_link_sets_password_and_code_once() {
    let kit = Kit::start().await;
    let (login, token) = unenrolled_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let path = token.path();
    let mut browser = kit.client();
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&login) && page.body.contains("紙の診療所"));
    let image = browser.get(&format!("{path}/code.svg")).await;
    assert_eq!(image.header("content-type"), Some("image/svg+xml"));
    assert!(image.body.contains("<svg"));
    let secret: String = {
        let start = page.body.find("totp-secret\">").unwrap() + "totp-secret\">".len();
        let end = page.body[start..].find('<').unwrap() + start;
        page.body[start..end].replace(' ', "")
    };
    let csrf = page.input("csrf");
    let password = "a long enough pass phrase";
    let code = totp_now(&secret);
    let attempt = |password: &str, again: &str, code: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("password".to_owned(), password.to_owned()),
            ("password_again".to_owned(), again.to_owned()),
            ("code".to_owned(), code.to_owned()),
        ]
    };
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for (fields, message) in [
        (
            attempt(password, "another pass phrase", &code),
            "一致しません",
        ),
        (attempt("short", "short", &code), "12文字以上"),
        (
            attempt(
                &format!("{login} is my name"),
                &format!("{login} is my name"),
                &code,
            ),
            "ログインIDを含めない",
        ),
        (attempt(password, password, wrong), WRONG_CODE),
    ] {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let refused = browser.post_form(&path, &pairs).await;
        assert_eq!(refused.status, 422);
        assert!(
            refused.body.contains(message),
            "{message}: {}",
            refused.body
        );
    }
    let fields = attempt(password, password, &code);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let done = browser.post_form(&path, &pairs).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/console/patients");
    assert_eq!(
        browser.get("/console/logins").await.status,
        200,
        "logged in"
    );

    // Used: the link is dead, for the page, the image and the form.
    let mut other = kit.client();
    let dead = other.get(&path).await;
    assert_eq!(dead.status, 410);
    assert!(dead.body.contains("この登録用リンクは使用済みです"));
    assert_eq!(other.get(&format!("{path}/code.svg")).await.status, 410);
    assert_eq!(browser.post_form(&path, &pairs).await.status, 410);

    // The password chosen logs in (with the next step's code: this one is used).
    let creds = StaffCredentials {
        login,
        password: password.to_owned(),
        totp_secret: secret,
    };
    console_login_with(&kit, &creds, &totp_in_steps(&creds.totp_secret, 1)).await;
}
