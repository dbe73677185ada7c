//! People and institutions come and go: the 管理者's staff page (disable,
//! enable, role, remove; CSRF; never without a 管理者), a session ended at its
//! next request, and a deactivated institution's URL, flows and console.

use crate::common;

use common::console::{
    StaffCredentials, console_login, console_login_with, staff_account, submit_password,
    totp_in_steps,
};
use common::flow::{self, ALL_AGREE};
use common::{Client, Kit, qualification, sign};
use time::OffsetDateTime;
use zaitaku_domain::{LoginName, StaffRole, StaffStatus};

async fn status_of(kit: &Kit, creds: &StaffCredentials) -> (StaffStatus, StaffRole) {
    let account = kit
        .store
        .staff_by_login(&LoginName::parse(&creds.login).unwrap())
        .await
        .unwrap()
        .unwrap();
    (account.status, account.role)
}

/// Post one of the staff page's forms, with the page's CSRF token.
async fn act(admin: &mut Client, path: &str, action: Option<&str>) -> common::Response {
    let page = admin.get("/console/staff").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.input("csrf");
    let mut form = vec![("csrf", csrf.as_str())];
    if let Some(action) = action {
        form.push(("action", action));
    }
    admin.post_form(path, &form).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_disables_enables_promotes_and_removes_a_colleague() {
    let kit = Kit::start().await;
    let admin_creds = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let colleague = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let stranger = staff_account(&kit, &kit.pharmacy, StaffRole::Staff).await;
    let mut admin = console_login(&kit, &admin_creds).await;
    let mut other = console_login(&kit, &colleague).await;

    assert_eq!(other.get("/console/staff").await.status, 403, "管理者 only");
    let page = admin.get("/console/staff").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "職員アカウントの管理",
        colleague.login.as_str(),
        admin_creds.login.as_str(),
        "（あなた）",
    ] {
        assert!(page.body.contains(text), "{text}");
    }
    assert!(
        !page.body.contains(&stranger.login),
        "only its own institution"
    );

    // Without the session's CSRF token, nothing happens.
    let path = format!("/console/staff/{}", colleague.login);
    let forged = admin
        .post_form(&path, &[("csrf", "forged"), ("action", "disable")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(status_of(&kit, &colleague).await.0, StaffStatus::Active);

    // Disabled: the colleague's session ends at its next request, and no login.
    let done = act(&mut admin, &path, Some("disable")).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/console/staff?done=disabled");
    let shown = admin.get(done.location()).await.body;
    assert!(shown.contains("アカウントを無効にしました") && shown.contains("無効"));
    let ended = other.get("/console/patients").await;
    assert_eq!(ended.status, 303);
    assert_eq!(ended.location(), "/console/login");
    let mut again = kit.client();
    let refused = submit_password(&mut again, &colleague.login, &colleague.password).await;
    assert_eq!(refused.status, 401, "no way to the code step");
    assert!(
        refused
            .body
            .contains("ログインIDまたはパスワードが正しくないか")
    );

    // Enabled, then made 管理者: read at the next request, no new login.
    let done = act(&mut admin, &path, Some("enable")).await;
    assert_eq!(done.location(), "/console/staff?done=enabled");
    // The code of the next step: this step's was used by the first login.
    let next = totp_in_steps(&colleague.totp_secret, 1);
    let mut other = console_login_with(&kit, &colleague, &next).await;
    assert_eq!(other.get("/console/staff").await.status, 403);
    let done = act(&mut admin, &path, Some("administrator")).await;
    assert_eq!(done.location(), "/console/staff?done=role");
    assert_eq!(other.get("/console/staff").await.status, 200);
    assert_eq!(
        status_of(&kit, &colleague).await,
        (StaffStatus::Active, StaffRole::Administrator)
    );

    // Removed, after a confirmation page.
    let confirm = admin.get(&format!("{path}/remove")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("元に戻せません") && confirm.body.contains(&colleague.login));
    let done = act(&mut admin, &format!("{path}/remove"), None).await;
    assert_eq!(done.location(), "/console/staff?done=removed");
    assert_eq!(
        other.get("/console/patients").await.location(),
        "/console/login"
    );
    assert_eq!(status_of(&kit, &colleague).await.0, StaffStatus::Removed);
    let page = admin.get("/console/staff").await.body;
    assert!(
        !page.contains(&colleague.login),
        "a removed account is not listed"
    );

    // Another institution's account is out of reach.
    let done = act(
        &mut admin,
        &format!("/console/staff/{}", stranger.login),
        Some("disable"),
    )
    .await;
    assert_eq!(done.location(), "/console/staff?done=gone");
    assert_eq!(status_of(&kit, &stranger).await.0, StaffStatus::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_administrator_cannot_step_down_disable_or_remove_themself() {
    let kit = Kit::start().await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut admin = console_login(&kit, &creds).await;
    let path = format!("/console/staff/{}", creds.login);
    for action in ["staff", "disable"] {
        let refused = act(&mut admin, &path, Some(action)).await;
        assert_eq!(
            refused.location(),
            "/console/staff?done=last-admin",
            "{action}"
        );
    }
    let refused = act(&mut admin, &format!("{path}/remove"), None).await;
    assert_eq!(refused.location(), "/console/staff?done=last-admin");
    let page = admin.get(refused.location()).await;
    assert_eq!(page.status, 200, "still logged in, still 管理者");
    assert!(
        page.body
            .contains("ログインできる管理者が1人もいなくなります")
    );
    assert_eq!(
        status_of(&kit, &creds).await,
        (StaffStatus::Active, StaffRole::Administrator)
    );

    // With a second 管理者, the first may disable themself: their session ends.
    staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let done = act(&mut admin, &path, Some("disable")).await;
    assert_eq!(done.location(), "/console/staff?done=disabled");
    assert_eq!(
        admin.get("/console/staff").await.location(),
        "/console/login"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_institution_starts_nothing_ends_its_flows_and_closes_its_console() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let creds = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut console = console_login(&kit, &creds).await;
    let mut browser = kit.client();
    let (walk, auth, nonce) =
        flow::until_authentication(&mut browser, &kit, &kit.clinic, ALL_AGREE).await;
    let url = kit.url(&kit.clinic);

    kit.store
        .deactivate_institution(&kit.clinic.code, OffsetDateTime::now_utc())
        .await
        .unwrap()
        .unwrap();

    let page = browser.get(&url).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("受付を終了しました"), "{}", page.body);
    let started = browser
        .post_form(&format!("{url}/registration"), &[("csrf", &walk.csrf)])
        .await;
    assert_eq!(started.status, 410, "no flow started");
    // The running flow is over: its page and its card answer.
    assert_eq!(browser.get(&walk.flow).await.status, 410);
    let token = sign(&card.path, &kit.origin, &nonce).await;
    let answered = browser.fresh().post_claimed(&auth, &token).await;
    assert_ne!(answered.status, 200, "{}", answered.body);
    assert!(
        kit.store
            .consent(kit.clinic.id, card.person.unwrap())
            .await
            .unwrap()
            .is_none(),
        "nothing registered"
    );
    // The console is closed, whoever asks.
    let closed = console.get("/console/patients").await;
    assert_eq!(closed.status, 403);
    assert!(closed.body.contains("利用停止中"));
    // Other institutions go on.
    assert_eq!(browser.get(&kit.url(&kit.pharmacy)).await.status, 200);

    kit.store
        .reactivate_institution(&kit.clinic.code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(browser.get(&url).await.status, 200);
    assert_eq!(console.get("/console/patients").await.status, 200);
    flow::until_authentication(&mut browser, &kit, &kit.clinic, ALL_AGREE).await;
}
