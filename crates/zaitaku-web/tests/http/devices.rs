//! Enrolled devices (issue 16): at an institution that lets only its devices
//! start flows, any other browser is told so and starts nothing (no session or
//! flow row, no session cookie); activation codes enrol once and only in time;
//! the console enrols its own browser, issues codes and revokes, and a revoked
//! device is refused on its very next request; a device of one institution is
//! no device of another; `anyone` keeps the old behaviour.

use crate::common;

use common::console::{console_login, staff_account};
use common::flow::{self, ALL_AGREE};
use common::{Client, Kit, Response};
use time::{Duration, OffsetDateTime};
use zaitaku_domain::{DeviceName, FlowsFrom, Institution, StaffRole};
use zaitaku_store::devices::ACTIVATION_CODE_LIFETIME;
use zaitaku_store::{DeviceActor, NewActivationCode};

const NOT_ENROLLED: &str = "この端末は登録されていません";

async fn rows(kit: &Kit) -> Vec<(String, i64)> {
    kit.store.row_counts().await.unwrap()
}

fn assert_refused(page: &Response) {
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains(NOT_ENROLLED), "{}", page.body);
    assert!(page.body.contains("端末登録コード"), "{}", page.body);
    assert!(page.body.contains("href=\"/device\""), "{}", page.body);
}

/// A code for `institution` issued as `zaitaku admin device add` does.
async fn issue(kit: &Kit, institution: &Institution, name: &str) -> String {
    let (code, expires_at) = zaitaku_web::devices::issue_activation_code(
        kit.store.as_ref(),
        institution.id,
        DeviceName::parse(name).unwrap(),
        DeviceActor::AdminCli,
    )
    .await
    .unwrap();
    let left = expires_at - OffsetDateTime::now_utc();
    assert!(left > Duration::minutes(9) && left <= Duration::minutes(10));
    code.display()
}

/// Type `code` at `/device` in `browser`.
async fn activate(browser: &mut Client, code: &str) -> Response {
    let form = browser.get("/device").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.input("csrf");
    browser
        .post_form("/device", &[("csrf", &csrf), ("code", code)])
        .await
}

/// Start flow A in `browser` (it must be admitted); the flow's id.
async fn start_flow(browser: &mut Client, kit: &Kit, institution: &Institution) -> String {
    let walk = flow::start(browser, kit, institution).await;
    walk.flow.trim_start_matches("/f/").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unenrolled_browser_starts_nothing_at_a_restricted_institution() {
    let kit = Kit::start().await;
    let before = rows(&kit).await;
    let mut stranger = kit.client().stranger();
    let url = kit.url(&kit.clinic_e);
    let page = stranger.get(&url).await;
    assert_refused(&page);
    assert_eq!(page.header("set-cookie"), None, "no session cookie either");
    assert!(!page.body.contains("同意登録をする"), "{}", page.body);
    // With a session's CSRF token (the /device form gives one), each start is refused the same way.
    let form = stranger.get("/device").await;
    let csrf = form.input("csrf");
    for start in ["registration", "inquiry", "revocation"] {
        let refused = stranger
            .post_form(&format!("{url}/{start}"), &[("csrf", &csrf)])
            .await;
        assert_refused(&refused);
    }
    assert_eq!(
        rows(&kit).await,
        before,
        "no session, flow or any other row"
    );
    // The kit's enrolled device still starts flows there, and the flow names it.
    let mut device = kit.client();
    let id = start_flow(&mut device, &kit, &kit.clinic_e).await;
    let stored = kit.store.flow(&id).await.unwrap().unwrap();
    let enrolled = kit
        .store
        .devices(Some(kit.clinic_e.id))
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.revoked_at.is_none())
        .unwrap();
    assert_eq!(stored.device_id, Some(enrolled.id));
    assert!(
        enrolled.last_seen_at.is_some(),
        "the gate notes the device was seen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activation_code_enrols_once_and_only_in_time() {
    let kit = Kit::start().await;
    let code = issue(&kit, &kit.clinic, "訪問用タブレット1").await;
    let mut tablet = kit.client().stranger();
    assert_refused(&tablet.get(&kit.url(&kit.clinic)).await);
    // Typed in lower case without the hyphen: accepted.
    let typed = code.replace('-', "").to_lowercase();
    let done = activate(&mut tablet, &typed).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("この端末を登録しました"),
        "{}",
        done.body
    );
    assert!(done.body.contains("訪問用タブレット1"), "{}", done.body);
    assert!(done.body.contains(&kit.clinic.name), "{}", done.body);
    assert!(done.body.contains(&kit.url(&kit.clinic)), "{}", done.body);
    let cookie = done.header("set-cookie").unwrap();
    assert!(cookie.starts_with("zaitaku_device="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(cookie.contains("Max-Age=34560000"), "{cookie}");
    start_flow(&mut tablet, &kit, &kit.clinic).await;
    let devices = kit.store.devices(Some(kit.clinic.id)).await.unwrap();
    let tablet_row = devices
        .iter()
        .find(|d| d.name.as_str() == "訪問用タブレット1")
        .unwrap();
    assert_eq!(tablet_row.enrolled_by, "admin CLI");

    // A code past its ten minutes (tried below).
    let expired = zaitaku_domain::ActivationCode::from_random([7, 7, 7, 7, 7]);
    let issued_at = OffsetDateTime::now_utc() - ACTIVATION_CODE_LIFETIME - Duration::seconds(1);
    kit.store
        .issue_activation_code(&NewActivationCode {
            code_hash: zaitaku_web::devices::code_hash(&expired),
            institution_id: kit.clinic.id,
            device_name: DeviceName::parse("遅いタブレット").unwrap(),
            created_by: DeviceActor::AdminCli,
            created_at: issued_at,
            expires_at: issued_at + ACTIVATION_CODE_LIFETIME,
        })
        .await
        .unwrap();
    // The same code again, in another browser: used; nothing enrolled.
    let before = rows(&kit).await;
    let mut other = kit.client().stranger();
    let used = activate(&mut other, &code).await;
    assert_eq!(used.status, 422, "{}", used.body);
    assert!(used.body.contains("すでに使われています"), "{}", used.body);
    assert_eq!(used.header("set-cookie"), None);
    assert_eq!(rows(&kit).await, before);
    assert_refused(&other.get(&kit.url(&kit.clinic)).await);

    // Expired, unknown and malformed codes: refused.
    let late = activate(&mut other, &expired.display()).await;
    assert_eq!(late.status, 422, "{}", late.body);
    assert!(late.body.contains("有効期限"), "{}", late.body);
    let unknown = activate(&mut other, "ZZZZ-ZZZZ").await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert!(
        unknown.body.contains("正しくありません"),
        "{}",
        unknown.body
    );
    let malformed = activate(&mut other, "ABC").await;
    assert_eq!(malformed.status, 422, "{}", malformed.body);
    assert_eq!(rows(&kit).await, before, "no device from a refused code");
    // Without the session's token, nothing is tried.
    let forged = other
        .post_form("/device", &[("csrf", "x"), ("code", &code)])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_of_one_institution_cannot_start_at_another() {
    let kit = Kit::start().await;
    let mut browser = kit.client().stranger().with_device("x".repeat(43).as_str());
    kit.enrol_device(&"x".repeat(43), &kit.clinic, "クリニックの端末")
        .await;
    start_flow(&mut browser, &kit, &kit.clinic).await;
    let before = rows(&kit).await;
    assert_refused(&browser.get(&kit.url(&kit.pharmacy)).await);
    let csrf = browser.get(&kit.url(&kit.clinic)).await.input("csrf");
    let refused = browser
        .post_form(
            &format!("{}/registration", kit.url(&kit.pharmacy)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_refused(&refused);
    assert_eq!(rows(&kit).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_refused_on_its_next_request() {
    let kit = Kit::start().await;
    let secret = "r".repeat(43);
    let device = kit
        .enrol_device(&secret, &kit.clinic_e, "取消する端末")
        .await;
    let mut browser = kit.client().stranger().with_device(&secret);
    let walk = flow::start(&mut browser, &kit, &kit.clinic_e).await;
    let revoked = kit
        .store
        .revoke_device(
            device.id,
            Some(kit.clinic_e.id),
            &DeviceActor::AdminCli,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.revoked_by.as_deref(), Some("admin CLI"));
    assert_refused(&browser.get(&kit.url(&kit.clinic_e)).await);
    let refused = browser
        .post_form(
            &format!("{}/registration", kit.url(&kit.clinic_e)),
            &[("csrf", &walk.csrf)],
        )
        .await;
    assert_refused(&refused);
    // The flow it started goes no further either.
    let chose = flow::choose(&mut browser, &walk, ALL_AGREE).await;
    assert_refused(&chose);
    assert_refused(&browser.get(&format!("{}/select", walk.flow)).await);
    // Revoking again finds nothing to revoke.
    let again = kit
        .store
        .revoke_device(
            device.id,
            None,
            &DeviceActor::AdminCli,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    assert_eq!(again, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyone_keeps_the_old_behaviour() {
    let kit = Kit::start().await;
    let changed = kit.open_to_anyone(&kit.pharmacy).await;
    assert_eq!(changed.flows_from, FlowsFrom::Anyone);
    let mut stranger = kit.client().stranger();
    let id = start_flow(&mut stranger, &kit, &changed).await;
    let stored = kit.store.flow(&id).await.unwrap().unwrap();
    assert_eq!(stored.device_id, None, "no device started it");
    // The other institutions still refuse the stranger.
    assert_refused(&stranger.get(&kit.url(&kit.clinic)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_enrols_its_browser_issues_codes_and_revokes() {
    let kit = Kit::start().await;
    let admin = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut console = console_login(&kit, &admin).await.without_device();
    let page = console.get("/console/devices").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("テスト端末"),
        "the kit's device is listed"
    );
    assert!(page.body.contains("登録されていません"), "{}", page.body);
    let csrf = page.input("csrf");

    // 「この端末を登録」: this browser becomes a device of the clinic.
    let enrolled = console
        .post_form(
            "/console/devices/enrol",
            &[("csrf", &csrf), ("name", " 受付PC ")],
        )
        .await;
    assert_eq!(enrolled.status, 303, "{}", enrolled.body);
    assert!(
        console.device_secret().is_some(),
        "the device cookie is set"
    );
    let listed = console.get(enrolled.location()).await;
    assert!(
        listed.body.contains("このブラウザを端末として登録しました"),
        "{}",
        listed.body
    );
    assert!(listed.body.contains("受付PC"), "{}", listed.body);
    assert!(listed.body.contains(&admin.login), "who enrolled it");
    start_flow(&mut console, &kit, &kit.clinic).await;
    let again = console
        .post_form(
            "/console/devices/enrol",
            &[("csrf", &csrf), ("name", "二つ目")],
        )
        .await;
    assert_eq!(again.location(), "/console/devices?done=already");

    // A bad name: refused, nothing written.
    let before = rows(&kit).await;
    let bad = console
        .post_form("/console/devices/code", &[("csrf", &csrf), ("name", "  ")])
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(rows(&kit).await, before);

    // 「登録コードを発行」: shown once, with its expiry; it enrols a tablet.
    let issued = console
        .post_form(
            "/console/devices/code",
            &[("csrf", &csrf), ("name", "訪問用タブレット2")],
        )
        .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert_eq!(issued.header("cache-control"), Some("no-store"));
    let marker = "data-testid=\"activation-code\"><code>";
    let start = issued.body.find(marker).unwrap() + marker.len();
    let code = issued.body[start..start + 9].to_owned();
    assert!(issued.body.contains("有効期限"), "{}", issued.body);
    let mut tablet = kit.client().stranger();
    let done = activate(&mut tablet, &code).await;
    assert_eq!(done.status, 200, "{}", done.body);
    start_flow(&mut tablet, &kit, &kit.clinic).await;

    // 「取消」: the tablet is refused on its next request.
    let tablet_row = kit
        .store
        .devices(Some(kit.clinic.id))
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name.as_str() == "訪問用タブレット2")
        .unwrap();
    assert_eq!(tablet_row.enrolled_by, admin.login);
    let revoked = console
        .post_form(
            &format!("/console/devices/{}/revoke", tablet_row.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.location(), "/console/devices?done=revoked");
    assert_refused(&tablet.get(&kit.url(&kit.clinic)).await);
    let listed = console.get("/console/devices").await;
    assert!(listed.body.contains("取消済み"), "{}", listed.body);
    // Another institution's device is not this console's to revoke.
    let foreign = kit
        .store
        .devices(Some(kit.pharmacy.id))
        .await
        .unwrap()
        .remove(0);
    let gone = console
        .post_form(
            &format!("/console/devices/{}/revoke", foreign.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(gone.location(), "/console/devices?done=gone");
    assert!(
        kit.store
            .device(foreign.id, None)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    // Without the CSRF token: nothing.
    let forged = console
        .post_form("/console/devices/enrol", &[("csrf", "x"), ("name", "偽")])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    // Each enrolment, code and revocation is in the access log.
    let log = console.get("/console/access-log").await;
    for detail in [
        "<td>受付PC（このブラウザ）</td>",
        "<td>訪問用タブレット2（端末登録コードを発行）</td>",
        "<td>訪問用タブレット2</td>",
    ] {
        assert!(log.body.contains(detail), "{detail} not in {}", log.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_see_the_devices_but_only_the_administrator_changes_them() {
    let kit = Kit::start().await;
    let staff = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let mut console = console_login(&kit, &staff).await.without_device();
    let page = console.get("/console/devices").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains("/console/devices/code"),
        "{}",
        page.body
    );
    let csrf = console.get("/console/patients").await.input("csrf");
    let before = rows(&kit).await;
    for path in ["/console/devices/enrol", "/console/devices/code"] {
        let refused = console
            .post_form(path, &[("csrf", &csrf), ("name", "職員の端末")])
            .await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
    }
    // Nor may staff revoke the kit's tablet.
    let tablet = kit.store.devices(Some(kit.clinic.id)).await.unwrap()[0].clone();
    let refused = console
        .post_form(
            &format!("/console/devices/{}/revoke", tablet.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        !kit.store
            .device(tablet.id, None)
            .await
            .unwrap()
            .unwrap()
            .is_revoked()
    );
    assert_eq!(rows(&kit).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_activation_codes_meets_the_rate_per_client() {
    let kit = Kit::start_with(common::Options {
        caps: zaitaku_web::Limits {
            device_activations: zaitaku_web::Rate { per_minute: 2 },
            ..zaitaku_web::Limits::default()
        },
        ..common::Options::default()
    })
    .await;
    let code = issue(&kit, &kit.clinic, "訪問用タブレット1").await;
    let mut guesser = kit.client().stranger();
    for _ in 0..2 {
        let wrong = activate(&mut guesser, "ZZZZ-ZZZZ").await;
        assert_eq!(wrong.status, 422, "{}", wrong.body);
    }
    // Past the rate even the right code is not looked at: nothing enrolled.
    let before = rows(&kit).await;
    let refused = activate(&mut guesser, &code).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.header("retry-after").is_some());
    assert!(
        refused
            .header("set-cookie")
            .is_none_or(|c| !c.starts_with("zaitaku_device="))
    );
    assert_eq!(rows(&kit).await, before);
    assert_refused(&guesser.get(&kit.url(&kit.clinic)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_choose_who_may_start_flows() {
    let kit = Kit::start().await;
    let admin = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut console = console_login(&kit, &admin).await;
    let page = console.get("/console/settings").await;
    assert!(page.body.contains("登録した端末のみ"), "{}", page.body);
    assert!(page.body.contains("すべての端末"), "{}", page.body);
    assert!(
        page.body.contains("URLを知っている人なら誰でも"),
        "{}",
        page.body
    );
    let csrf = page.input("csrf");
    let saved = console
        .post_form(
            "/console/settings",
            &[
                ("csrf", &csrf),
                ("item_YZK", "1"),
                ("e_prescription", "0"),
                ("validity_days", "365"),
                ("flows_from", "anyone"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored = kit.store.institution(kit.clinic.id).await.unwrap().unwrap();
    assert_eq!(stored.flows_from, FlowsFrom::Anyone);
    let mut stranger = kit.client().stranger();
    start_flow(&mut stranger, &kit, &stored).await;
    let bad = console
        .post_form(
            "/console/settings",
            &[
                ("csrf", &csrf),
                ("item_YZK", "1"),
                ("e_prescription", "0"),
                ("validity_days", "365"),
                ("flows_from", "everyone"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_index_enrols_the_visiting_browser() {
    let kit = Kit::start_with(common::Options {
        demo: true,
        ..common::Options::default()
    })
    .await;
    let mut visitor = kit.client().stranger();
    assert_refused(&visitor.get(&kit.url(&kit.clinic_e)).await);
    let index = visitor.get("/").await;
    assert_eq!(index.status, 200, "{}", index.body);
    assert!(
        index
            .body
            .contains("このブラウザをデモ医療機関の端末として登録しました"),
        "{}",
        index.body
    );
    start_flow(&mut visitor, &kit, &kit.clinic_e).await;
    start_flow(&mut visitor, &kit, &kit.nursing).await;
    // A second visit enrols nothing new.
    let before = rows(&kit).await;
    visitor.get("/").await;
    assert_eq!(rows(&kit).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_index_enrols_a_bounded_number_of_new_browsers_per_client() {
    let kit = Kit::start_with(common::Options {
        demo: true,
        caps: zaitaku_web::Limits {
            demo_enrolments: zaitaku_web::Rate { per_minute: 3 },
            ..zaitaku_web::Limits::default()
        },
        ..common::Options::default()
    })
    .await;
    let mut first = kit.client().stranger();
    assert_eq!(first.get("/").await.status, 200);
    for _ in 0..2 {
        let index = kit.client().stranger().get("/").await;
        assert_eq!(index.status, 200, "{}", index.body);
    }
    // A client that drops its cookies (or makes one up) in a loop: refused,
    // and no row written.
    let before = rows(&kit).await;
    let refused = kit.client().stranger().get("/").await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.header("retry-after").is_some());
    let made_up = kit
        .client()
        .stranger()
        .with_device(zaitaku_web::new_url_token().as_str())
        .get("/")
        .await;
    assert_eq!(made_up.status, 429);
    assert_eq!(rows(&kit).await, before);
    // A browser enrolled already is not counted: the demo stays open to it.
    let again = first.get("/").await;
    assert_eq!(again.status, 200, "{}", again.body);
    start_flow(&mut first, &kit, &kit.clinic_e).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_names_the_console_browsers_device() {
    let kit = Kit::start().await;
    let admin = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut console = console_login(&kit, &admin).await.without_device();
    // Not a device yet: the search is logged without one.
    assert_eq!(console.get("/console/patients").await.status, 200);
    let csrf = console.get("/console/devices").await.input("csrf");
    let enrolled = console
        .post_form(
            "/console/devices/enrol",
            &[("csrf", &csrf), ("name", "受付PC")],
        )
        .await;
    assert_eq!(enrolled.status, 303, "{}", enrolled.body);
    assert_eq!(console.get("/console/patients").await.status, 200);
    let log = console.get("/console/access-log").await;
    assert_eq!(log.status, 200, "{}", log.body);
    assert_eq!(
        log.body.matches("<td>受付PC</td>").count(),
        1,
        "{}",
        log.body
    );
    // A device of another institution is no device of this console.
    let other = kit.client().device_secret().unwrap();
    let mut foreign = console.without_device().with_device(&other);
    kit.store
        .revoke_device(
            kit.store
                .devices(Some(kit.clinic.id))
                .await
                .unwrap()
                .into_iter()
                .find(|d| d.name.as_str() == "テスト端末")
                .unwrap()
                .id,
            None,
            &DeviceActor::AdminCli,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    assert_eq!(foreign.get("/console/patients").await.status, 200);
    let log = foreign.get("/console/access-log").await;
    assert!(!log.body.contains("<td>テスト端末</td>"), "{}", log.body);
}
