//! Console helpers: staff accounts made through the same functions as
//! `zaitaku admin staff add`, enrolled without the web page, and a logged-in client.

use super::{Client, Kit};
use zaitaku_domain::{Institution, LoginName, NewPassword, StaffRole};
use zaitaku_web::console::accounts::{self, EnrolmentToken};
use zaitaku_web::console::totp::{STEP_SECONDS, TotpSecret};

pub struct StaffCredentials {
    pub login: String,
    pub password: String,
    pub totp_secret: String,
}

/// A new login name for this test binary.
pub fn next_login(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{n}")
}

/// An account awaiting enrolment, and its one-time link.
pub async fn unenrolled_account(
    kit: &Kit,
    institution: &Institution,
    role: StaffRole,
) -> (String, EnrolmentToken) {
    let login = next_login("staff");
    let (account, token) = accounts::add_staff(
        kit.store.as_ref(),
        institution.id,
        LoginName::parse(&login).unwrap(),
        format!("職員 {login}"),
        role,
        None,
    )
    .await
    .unwrap();
    (account.login_name.as_str().to_owned(), token)
}

/// An enrolled account of `institution`.
pub async fn staff_account(
    kit: &Kit,
    institution: &Institution,
    role: StaffRole,
) -> StaffCredentials {
    let login = next_login(match role {
        StaffRole::Administrator => "admin",
        StaffRole::Staff => "staff",
    });
    let secret = TotpSecret::generate();
    let (_, token) = accounts::add_staff(
        kit.store.as_ref(),
        institution.id,
        LoginName::parse(&login).unwrap(),
        format!("職員 {login}"),
        role,
        Some(secret.clone()),
    )
    .await
    .unwrap();
    let password = "correct horse battery staple".to_owned();
    let parsed = NewPassword::parse(&password, &LoginName::parse(&login).unwrap()).unwrap();
    accounts::enrol_without_code(kit.store.as_ref(), &token, &parsed)
        .await
        .unwrap();
    StaffCredentials {
        login,
        password,
        totp_secret: secret.base32(),
    }
}

/// The code of the current 30-second step.
pub fn totp_now(secret: &str) -> String {
    totp_in_steps(secret, 0)
}

/// The code `steps` steps from now (the server accepts one step either side).
pub fn totp_in_steps(secret: &str, steps: i64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    TotpSecret::parse(secret)
        .unwrap()
        .code_at(now + steps * STEP_SECONDS)
}

/// Send the password; the response is the redirect to the code page on success.
pub async fn submit_password(browser: &mut Client, login: &str, password: &str) -> super::Response {
    let form = browser.get("/console/login").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.input("csrf");
    browser
        .post_form(
            "/console/login",
            &[("csrf", &csrf), ("login", login), ("password", password)],
        )
        .await
}

pub async fn submit_code(browser: &mut Client, code: &str) -> super::Response {
    let page = browser.get("/console/login/code").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.input("csrf");
    browser
        .post_form("/console/login/code", &[("csrf", &csrf), ("code", code)])
        .await
}

/// A client logged in as `creds`, with the current code.
pub async fn console_login(kit: &Kit, creds: &StaffCredentials) -> Client {
    console_login_with(kit, creds, &totp_now(&creds.totp_secret)).await
}

pub async fn console_login_with(kit: &Kit, creds: &StaffCredentials, code: &str) -> Client {
    let mut browser = kit.client();
    let password = submit_password(&mut browser, &creds.login, &creds.password).await;
    assert_eq!(password.status, 303, "{}", password.body);
    assert_eq!(password.location(), "/console/login/code");
    let done = submit_code(&mut browser, code).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/console/patients");
    browser
}
