//! `zaitaku admin staff …` as an operator runs it: against a real data
//! directory, and the printed enrolment link used on a running `zaitaku serve`.

use crate::kit::{self, Serve, between, refused_silently, stderr, stdout};
use std::path::Path;
use std::process::Output;
use zaitaku_web::console::totp::TotpSecret;

const CODE: &str = "1310123458";
const ORIGIN: &str = "https://zaitaku.example.jp";

fn admin(data: &Path, group: &str, args: &[&str]) -> Output {
    kit::admin(data, &[&[group], args].concat())
}

fn add_clinic(data: &Path) {
    let out = admin(
        data,
        "institution",
        &[
            "add",
            "--code",
            CODE,
            "--name",
            "在宅クリニック",
            "--public-origin",
            ORIGIN,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

fn add_staff(data: &Path, login: &str, role: &str, origin: Option<&str>) -> Output {
    let mut args = vec![
        "add",
        "--institution",
        CODE,
        "--login",
        login,
        "--name",
        "佐藤 花子",
        "--role",
        role,
    ];
    if let Some(origin) = origin {
        args.extend(["--public-origin", origin]);
    }
    admin(data, "staff", &args)
}

#[test]
fn add_list_reset_and_every_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let none = add_staff(&data, "sato", "staff", None);
    refused_silently(&none, 2, "no Zaitaku database");
    add_clinic(&data);

    let out = add_staff(&data, "sato", "administrator", Some(ORIGIN));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("added sato (administrator, 佐藤 花子) at 1310123458 在宅クリニック")
    );
    assert!(stderr(&out).contains("works once, for 72 hours"));
    let link = stdout(&out).trim().to_owned();
    let token = link
        .strip_prefix(&format!("{ORIGIN}/console/enrol/"))
        .unwrap_or_else(|| panic!("link {link}"));
    assert_eq!(token.len(), 43);

    // Without an origin: the path, and a hint on standard error.
    let out = add_staff(&data, "ito", "staff", None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("/console/enrol/"));
    assert!(stderr(&out).contains("--public-origin"));

    refused_silently(
        &add_staff(&data, "sato", "staff", Some(ORIGIN)),
        1,
        "the login name sato is taken",
    );
    refused_silently(&add_staff(&data, "Sato", "staff", None), 2, "a-z, 0-9");
    refused_silently(&add_staff(&data, "ab", "staff", None), 2, "3 to 32");
    refused_silently(
        &add_staff(&data, "kato", "admin", None),
        2,
        "administrator (管理者) or staff",
    );
    let out = admin(
        &data,
        "staff",
        &[
            "add",
            "--institution",
            "3410712362",
            "--login",
            "kato",
            "--name",
            "加藤",
            "--role",
            "staff",
        ],
    );
    refused_silently(&out, 1, "no institution has code 3410712362");
    let out = admin(
        &data,
        "staff",
        &[
            "add",
            "--institution",
            "1310123459",
            "--login",
            "kato",
            "--name",
            "加藤",
            "--role",
            "staff",
        ],
    );
    refused_silently(&out, 2, "check digit");

    let out = admin(&data, "staff", &["list", "--institution", CODE]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "ito\tstaff\t佐藤 花子\tenrolment-pending\n\
         sato\tadministrator\t佐藤 花子\tenrolment-pending\n"
    );
    assert!(!stdout(&out).contains(token), "no tokens in lists");

    let out = admin(
        &data,
        "staff",
        &["reset", "--login", "sato", "--public-origin", ORIGIN],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("reset sato"));
    let new_link = stdout(&out).trim().to_owned();
    assert!(new_link.starts_with(&format!("{ORIGIN}/console/enrol/")));
    assert_ne!(new_link, link);
    refused_silently(
        &admin(&data, "staff", &["reset", "--login", "nobody"]),
        1,
        "no staff account has the login name nobody",
    );
}

#[test]
fn the_printed_link_enrols_on_a_running_service_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_clinic(&data);
    let serve = Serve::with_new_root(dir.path(), &data);
    let origin = serve.origin.clone();
    let out = add_staff(&data, "sato", "administrator", Some(&origin));
    assert!(out.status.success(), "{}", stderr(&out));
    let link = stdout(&out).trim().to_owned();

    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    let mut page = agent.get(&link).call().unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body = page.body_mut().read_to_string().unwrap();
    assert!(body.contains("sato") && body.contains("在宅クリニック"));
    let csrf = between(&body, "name=\"csrf\" value=\"", "\"").to_owned();
    let secret = between(&body, "totp-secret\">", "<").replace(' ', "");
    let code = TotpSecret::parse(&secret)
        .unwrap()
        .code_at(time::OffsetDateTime::now_utc().unix_timestamp());
    let enrol = || {
        agent
            .post(&link)
            .header("Cookie", &cookie)
            .send_form([
                ("csrf", csrf.as_str()),
                ("password", "a long pass phrase"),
                ("password_again", "a long pass phrase"),
                ("code", code.as_str()),
            ])
            .unwrap()
    };
    let done = enrol();
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/console/patients");
    assert_eq!(enrol().status(), 410, "the link works once");
    assert_eq!(agent.get(&link).call().unwrap().status(), 410);

    let out = admin(&data, "staff", &["list", "--institution", CODE]);
    assert_eq!(stdout(&out), "sato\tadministrator\t佐藤 花子\tenrolled\n");

    // A reset while serving: the new link works at once.
    let out = admin(
        &data,
        "staff",
        &["reset", "--login", "sato", "--public-origin", &origin],
    );
    let new_link = stdout(&out).trim().to_owned();
    assert_eq!(agent.get(&new_link).call().unwrap().status(), 200);
}

#[test]
fn disable_enable_set_and_remove_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_clinic(&data);
    assert!(
        add_staff(&data, "sato", "administrator", None)
            .status
            .success()
    );
    assert!(add_staff(&data, "ito", "staff", None).status.success());
    let list = || stdout(&admin(&data, "staff", &["list", "--institution", CODE]));

    let out = admin(&data, "staff", &["disable", "--login", "ito"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("ito: disabled: cannot log in, its console sessions ended"));
    assert!(
        list().contains("ito\tstaff\t佐藤 花子\tdisabled\n"),
        "{}",
        list()
    );
    let out = admin(&data, "staff", &["enable", "--login", "ito"]);
    assert!(stderr(&out).contains("ito: enabled"), "{}", stderr(&out));
    assert!(list().contains("ito\tstaff\t佐藤 花子\tenrolment-pending\n"));

    let out = admin(
        &data,
        "staff",
        &["set", "--login", "ito", "--role", "administrator"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("role is now administrator (管理者)"));
    assert!(list().contains("ito\tadministrator\t"));
    refused_silently(
        &admin(&data, "staff", &["set", "--login", "ito", "--role", "boss"]),
        2,
        "administrator (管理者) or staff",
    );

    // The operator may leave an institution without a 管理者 who can log in (none
    // has enrolled here), and is told.
    let out = admin(&data, "staff", &["remove", "--login", "ito"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("ito: removed"));
    assert!(stderr(&out).contains("warning: its institution has no administrator"));
    assert!(list().contains("ito\tadministrator\t佐藤 花子\tremoved\n"));
    for args in [
        &["enable", "--login", "ito"][..],
        &["disable", "--login", "ito"],
        &["remove", "--login", "ito"],
        &["set", "--login", "ito", "--role", "staff"],
    ] {
        refused_silently(&admin(&data, "staff", args), 1, "was removed");
    }
    refused_silently(
        &admin(&data, "staff", &["reset", "--login", "ito"]),
        1,
        "no staff account has the login name ito",
    );
    refused_silently(
        &add_staff(&data, "ito", "staff", None),
        1,
        "the login name ito is taken",
    );
    refused_silently(
        &admin(&data, "staff", &["disable", "--login", "nobody"]),
        1,
        "no staff account has the login name nobody",
    );
}

/// Enrol through `link` (as the holder does on the page); the logged-in
/// session's cookie.
fn enrol(agent: &ureq::Agent, link: &str) -> String {
    let mut page = agent.get(link).call().unwrap();
    assert_eq!(page.status(), 200, "{link}");
    let cookie = session_cookie(page.headers()).expect("the form's session");
    let body = page.body_mut().read_to_string().unwrap();
    let csrf = between(&body, "name=\"csrf\" value=\"", "\"").to_owned();
    let secret = between(&body, "totp-secret\">", "<").replace(' ', "");
    let code = TotpSecret::parse(&secret)
        .unwrap()
        .code_at(time::OffsetDateTime::now_utc().unix_timestamp());
    let done = agent
        .post(link)
        .header("Cookie", &cookie)
        .send_form([
            ("csrf", csrf.as_str()),
            ("password", "a long pass phrase"),
            ("password_again", "a long pass phrase"),
            ("code", code.as_str()),
        ])
        .unwrap();
    assert_eq!(done.status(), 303);
    session_cookie(done.headers()).expect("a logged-in session")
}

fn session_cookie(headers: &ureq::http::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap().to_owned())
        .find(|c| c.contains("zaitaku_console="))
}

/// GET `path` with `cookie`: the status and where a redirect leads.
fn visit(agent: &ureq::Agent, url: &str, cookie: &str) -> (u16, String, String) {
    let mut response = agent.get(url).header("Cookie", cookie).call().unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), location, body)
}

/// Two `zaitaku serve` processes on one database: the 管理者 disables a
/// colleague on one; the colleague's session, served by the other, ends at its
/// next request. Then `zaitaku admin` (a third process) disables the 管理者.
#[test]
fn a_disable_on_one_process_ends_a_session_served_by_another() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_clinic(&data);
    let first = Serve::with_new_root(dir.path(), &data);
    let anchor = dir.path().join("ca").join("ca-cert.pem");
    let second = Serve::start_with(&data, &["--trust-anchor", anchor.to_str().unwrap()]);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    let link = |login: &str, role: &str, origin: &str| {
        let out = add_staff(&data, login, role, Some(origin));
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).trim().to_owned()
    };
    let admin_cookie = enrol(&agent, &link("sato", "administrator", &first.origin));
    let staff_cookie = enrol(&agent, &link("ito", "staff", &second.origin));
    let patients = format!("{}/console/patients", second.origin);
    assert_eq!(visit(&agent, &patients, &staff_cookie).0, 200);

    let (status, _, page) = visit(
        &agent,
        &format!("{}/console/staff", first.origin),
        &admin_cookie,
    );
    assert_eq!(status, 200);
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_owned();
    let done = agent
        .post(&format!("{}/console/staff/ito", first.origin))
        .header("Cookie", &admin_cookie)
        .send_form([("csrf", csrf.as_str()), ("action", "disable")])
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/console/staff?done=disabled");
    let (status, location, _) = visit(&agent, &patients, &staff_cookie);
    assert_eq!((status, location.as_str()), (303, "/console/login"));

    let out = admin(&data, "staff", &["disable", "--login", "sato"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: its institution has no administrator"));
    let (status, location, _) = visit(
        &agent,
        &format!("{}/console/staff", first.origin),
        &admin_cookie,
    );
    assert_eq!((status, location.as_str()), (303, "/console/login"));
    let out = admin(&data, "staff", &["list", "--institution", CODE]);
    assert_eq!(
        stdout(&out),
        "ito\tstaff\t佐藤 花子\tdisabled\nsato\tadministrator\t佐藤 花子\tdisabled\n"
    );
}
