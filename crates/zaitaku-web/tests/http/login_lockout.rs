//! Lockout that holds (issue 17): every password attempt is counted before it
//! is hashed, so a burst of parallel guesses gets no more than the free ones and
//! the right password after them never reaches the code step; and a stranger
//! who knows a login name cannot keep its staff member out of their own device.

use crate::common;

use common::console::{StaffCredentials, staff_account, submit_code, submit_password, totp_now};
use common::{Client, Kit};
use zaitaku_domain::{LoginName, LoginOutcome, StaffRole};
use zaitaku_store::AttemptKey;

const GUESSES: usize = 50;

async fn account_id(kit: &Kit, creds: &StaffCredentials) -> zaitaku_domain::StaffId {
    let login = LoginName::parse(&creds.login).unwrap();
    kit.store.staff_by_login(&login).await.unwrap().unwrap().id
}

async fn wrong_passwords_at_once(kit: &Kit, creds: &StaffCredentials) -> Vec<u16> {
    let guesses: Vec<_> = (0..GUESSES)
        .map(|n| {
            let mut stranger = kit.client();
            let login = creds.login.clone();
            tokio::spawn(async move {
                submit_password(&mut stranger, &login, &format!("guess number {n}"))
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_wrong_passwords_then_the_right_one_never_reach_the_code_step() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let statuses = wrong_passwords_at_once(&kit, &creds).await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503),
        "refused (or turned away while the queue was full): {statuses:?}"
    );
    // The right password, after the burst: refused, no code step.
    let mut late = kit.client();
    let right = submit_password(&mut late, &creds.login, &creds.password).await;
    assert_eq!(right.status, 401, "{}", right.body);
    assert_eq!(
        late.get("/console/login/code").await.location(),
        "/console/login"
    );

    // Exactly the free attempts were hashed; the account's unknown browsers wait.
    let id = account_id(&kit, &creds).await;
    let log = kit.store.staff_logins(kit.clinic.id, 200).await.unwrap();
    let wrong = log
        .iter()
        .filter(|l| l.outcome == LoginOutcome::WrongPassword)
        .count();
    assert_eq!(wrong, 5, "five guesses checked, of {GUESSES}");
    let count = kit
        .store
        .login_attempts(&AttemptKey::Account(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count.attempts, 5);
    assert!(
        count.next_at > time::OffsetDateTime::now_utc(),
        "the account ends locked for unknown browsers"
    );
}

/// A browser where `creds` logged in once: it has its device cookie.
async fn own_device(kit: &Kit, creds: &StaffCredentials) -> Client {
    let mut browser = kit.client();
    let password = submit_password(&mut browser, &creds.login, &creds.password).await;
    assert_eq!(password.status, 303, "{}", password.body);
    let done = submit_code(&mut browser, &totp_now(&creds.totp_secret)).await;
    assert_eq!(done.location(), "/console/patients");
    let device = done
        .headers
        .iter()
        .find(|(k, v)| {
            k.eq_ignore_ascii_case("set-cookie") && v.starts_with("zaitaku_staff_device=")
        })
        .map(|(_, v)| v.clone())
        .expect("the browser is remembered");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=7776000"] {
        assert!(device.contains(attribute), "{device}");
    }
    let page = browser.get("/console/patients").await;
    let csrf = page.input("csrf");
    let out = browser
        .post_form("/console/logout", &[("csrf", &csrf)])
        .await;
    assert_eq!(out.location(), "/console/login");
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stranger_who_knows_the_login_name_cannot_keep_the_staff_member_out() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let mut browser = own_device(&kit, &creds).await;

    // A stranger guesses, many times at once, then again and again.
    for _ in 0..2 {
        wrong_passwords_at_once(&kit, &creds).await;
    }
    // Nothing a stranger can do locks the account itself…
    let login = LoginName::parse(&creds.login).unwrap();
    let account = kit.store.staff_by_login(&login).await.unwrap().unwrap();
    assert_eq!(account.locked_until, None);
    assert_eq!(account.failed_attempts, 0);
    // …and the staff member's own browser still logs in at once.
    let password = submit_password(&mut browser, &creds.login, &creds.password).await;
    assert_eq!(password.status, 303, "{}", password.body);
    assert_eq!(password.location(), "/console/login/code");
    let next = common::console::totp_in_steps(&creds.totp_secret, 1);
    let done = submit_code(&mut browser, &next).await;
    assert_eq!(done.location(), "/console/patients", "{}", done.body);
    // Any other browser is an unknown one: it still waits.
    let mut forged = kit.client();
    let _ = forged.get("/console/login").await;
    let forged_status = submit_password(&mut forged, &creds.login, &creds.password).await;
    assert_eq!(forged_status.status, 401, "unknown browsers still wait");
}
