//! Enrolment links (issue 17): each visit shows a fresh TOTP secret, to that
//! browser only, and voids the one shown before; the confirmation enrols exactly
//! the secret its page showed; once used, the link says so and shows nothing.

use crate::common;

use common::console::{StaffCredentials, console_login_with, totp_in_steps, totp_now};
use common::qr::Bitmap;
use common::{Client, Kit, Response};
use zaitaku_domain::{LoginName, StaffRole};

const USED: &str = "この登録用リンクは使用済みです";
const RENEWED: &str = "前の登録キーは使えなくなりました";
const WRONG_CODE: &str = "確認コードが正しくありません。";
const PASSWORD: &str = "a long enough pass phrase";

/// The secret a page shows (base32, the spaces between groups left out).
fn shown_secret(page: &Response) -> String {
    let start = page.body.find("totp-secret\">").expect("a secret") + "totp-secret\">".len();
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].replace(' ', "")
}

/// The enrolment form with `code` from the authenticator app.
async fn confirm(client: &mut Client, path: &str, page: &Response, code: &str) -> Response {
    let csrf = page.input("csrf");
    client
        .post_form(
            path,
            &[
                ("csrf", &csrf),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
                ("code", code),
            ],
        )
        .await
}

/// The secret in the page's 2D code, as this browser gets it.
async fn scanned_secret(client: &mut Client, path: &str) -> Option<String> {
    let image = client.get(&format!("{path}/code.svg")).await;
    if image.status != 200 {
        return None;
    }
    let uri = Bitmap::of_svg(&image.body).decode();
    let query = uri.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("secret="))
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_visit_shows_a_new_secret_and_only_the_last_page_enrols() {
    let kit = Kit::start().await;
    let (login, token) =
        common::console::unenrolled_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let path = token.path();

    // Someone opens the link first (a colleague, a mail scanner): a secret A.
    let mut someone = kit.client();
    let first = someone.get(&path).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let a = shown_secret(&first);
    assert_eq!(scanned_secret(&mut someone, &path).await, Some(a.clone()));

    // The staff member opens it: another secret, B; A's page can no longer scan.
    let mut person = kit.client();
    let page = person.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let b = shown_secret(&page);
    assert_ne!(a, b, "a fresh secret on each visit");
    assert_eq!(scanned_secret(&mut person, &path).await, Some(b.clone()));
    assert_eq!(scanned_secret(&mut someone, &path).await, None);
    assert_eq!(scanned_secret(&mut kit.client(), &path).await, None);

    // A's code does not enrol, from either browser.
    let refused = confirm(&mut person, &path, &page, &totp_now(&a)).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains(WRONG_CODE), "{}", refused.body);
    assert_eq!(
        shown_secret(&refused),
        b,
        "the same page again, secret kept"
    );
    let voided = confirm(&mut someone, &path, &first, &totp_now(&a)).await;
    assert_eq!(voided.status, 422);
    assert!(voided.body.contains(RENEWED), "{}", voided.body);
    let c = shown_secret(&voided);
    assert!(c != a && c != b, "voided: a new secret for that browser");

    // That voided B in turn: the staff member's code of B is refused, with a new secret D.
    let renewed = confirm(&mut person, &path, &page, &totp_now(&b)).await;
    assert_eq!(renewed.status, 422);
    assert!(renewed.body.contains(RENEWED), "{}", renewed.body);
    let d = shown_secret(&renewed);
    assert!(![&a, &b, &c].contains(&&d));
    let account = kit
        .store
        .staff_by_login(&LoginName::parse(&login).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!account.is_enrolled());

    // D's code enrols D.
    let done = confirm(&mut person, &path, &renewed, &totp_now(&d)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/console/patients");
    let account = kit
        .store
        .staff_by_login(&LoginName::parse(&login).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(account.is_enrolled());
    assert_eq!(account.totp_secret, d);
    assert_eq!(account.enrolment_secret, None);
    let creds = StaffCredentials {
        login,
        password: PASSWORD.to_owned(),
        totp_secret: d.clone(),
    };
    console_login_with(&kit, &creds, &totp_in_steps(&d, 1)).await;

    // Used: the link says so in Japanese and shows no secret, to anyone.
    for client in [&mut someone, &mut person, &mut kit.client()] {
        let dead = client.get(&path).await;
        assert_eq!(dead.status, 410);
        assert!(dead.body.contains(USED), "{}", dead.body);
        assert!(!dead.body.contains("totp-secret"));
        assert_eq!(client.get(&format!("{path}/code.svg")).await.status, 410);
    }
    let again = confirm(&mut someone, &path, &voided, &totp_now(&c)).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains(USED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revisit_in_the_same_browser_shows_a_new_secret_and_the_old_one_does_not_confirm() {
    let kit = Kit::start().await;
    let (_, token) =
        common::console::unenrolled_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let path = token.path();
    let mut browser = kit.client();
    let old_page = browser.get(&path).await;
    let old = shown_secret(&old_page);
    let page = browser.get(&path).await;
    let new = shown_secret(&page);
    assert_ne!(old, new);
    assert_eq!(scanned_secret(&mut browser, &path).await, Some(new.clone()));

    // The first tab's form with the first secret's code: refused.
    let refused = confirm(&mut browser, &path, &old_page, &totp_now(&old)).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains(WRONG_CODE), "{}", refused.body);
    assert_eq!(shown_secret(&refused), new);

    // The page shown last confirms, once.
    let done = confirm(&mut browser, &path, &page, &totp_now(&new)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let twice = confirm(&mut kit.client(), &path, &page, &totp_now(&new)).await;
    assert_eq!(twice.status, 410);
    let dead = browser.get(&path).await;
    assert_eq!(dead.status, 410);
    assert!(dead.body.contains(USED));
    assert!(!dead.body.contains(&new));
}
