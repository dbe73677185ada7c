//! `zaitaku admin device …` and `admin institution add|set --flows-from` as an
//! operator runs them, while `zaitaku serve` runs on the data directory: a new
//! institution lets only its enrolled devices start flows; an activation code
//! enrols a browser once; a revoked device is refused on its next request.

use crate::kit::{self, Browser, Serve, refused_silently, stderr, stdout};
use std::path::Path;
use std::process::Output;

const CODE: &str = "1310123458";
const PHARMACY: &str = "3440712366";

fn admin(data: &Path, args: &[&str]) -> Output {
    kit::admin(data, args)
}

fn add(data: &Path, code: &str, origin: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "institution",
        "add",
        "--code",
        code,
        "--name",
        "在宅クリニック",
        "--public-origin",
        origin,
    ];
    args.extend_from_slice(extra);
    let out = admin(data, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().strip_prefix(origin).unwrap().to_owned()
}

/// `device list` lines: id, institution, name, enrolled by, enrolled at, last seen, state.
fn listed(data: &Path, extra: &[&str]) -> Vec<Vec<String>> {
    let out = admin(data, &[&["device", "list"], extra].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn flows_from_is_enrolled_for_new_institutions_and_can_be_set() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let origin = "https://zaitaku.example.jp";
    add(&data, CODE, origin, &[]);
    add(&data, PHARMACY, origin, &["--flows-from", "anyone"]);
    let show = |code: &str| stdout(&admin(&data, &["institution", "show", code]));
    assert!(
        show(CODE).contains("flows from      enrolled (only its enrolled devices start flows)\n"),
        "{}",
        show(CODE)
    );
    assert!(
        show(PHARMACY).contains("flows from      anyone (anyone who knows the URL starts flows)\n"),
        "{}",
        show(PHARMACY)
    );
    let out = admin(
        &data,
        &["institution", "set", CODE, "--flows-from", "anyone"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("flows from      anyone"));
    let out = admin(&data, &["institution", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["flows_from"], "anyone");
    // A bad value: exit 2, nothing changed.
    refused_silently(
        &admin(
            &data,
            &["institution", "set", CODE, "--flows-from", "everyone"],
        ),
        2,
        "give `enrolled`",
    );
    assert!(show(CODE).contains("flows from      anyone"));
}

#[test]
fn an_activation_code_enrols_a_browser_which_the_operator_can_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = Serve::with_new_root(dir.path(), &data);
    let path = add(&data, CODE, &serve.origin, &[]);
    assert!(listed(&data, &[]).is_empty());

    // An unenrolled browser is refused and starts nothing.
    let mut stranger = Browser::new(&serve.origin);
    let page = stranger.get(&path);
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("この端末は登録されていません"));

    // `device add` prints a code; typed at /device it enrols the browser, once.
    let out = admin(
        &data,
        &[
            "device",
            "add",
            "--institution",
            CODE,
            "--name",
            "訪問用タブレット1",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let code = stdout(&out).trim().to_owned();
    assert_eq!(code.len(), 9, "{code}");
    assert_eq!(&code[4..5], "-");
    assert!(
        code.chars()
            .filter(|c| *c != '-')
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        "{code}"
    );
    assert!(stderr(&out).contains("before 20"), "{}", stderr(&out));
    let mut tablet = Browser::new(&serve.origin);
    tablet.enrol(&code);
    assert_eq!(tablet.get(&path).status, 200);
    let form = stranger.get("/device");
    let csrf = form.input("csrf");
    let again = stranger.post("/device", &[("csrf", &csrf), ("code", &code)]);
    assert_eq!(again.status, 422, "{}", again.body);

    let lines = listed(&data, &["--institution", CODE]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(&line[1..4], [CODE, "訪問用タブレット1", "admin CLI"]);
    assert!(line[5].starts_with("20"), "seen by the gate: {line:?}");
    assert_eq!(line[6], "live");
    let id = line[0].clone();

    // Revoked by the operator while the service runs: refused at once.
    let out = admin(&data, &["device", "revoke", "--id", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("revoked device"), "{}", stderr(&out));
    assert_eq!(tablet.get(&path).status, 403);
    let line = &listed(&data, &[])[0];
    assert!(line[6].starts_with("revoked 20"), "{line:?}");
    assert!(line[6].ends_with("by admin CLI"), "{line:?}");
    refused_silently(
        &admin(&data, &["device", "revoke", "--id", &id]),
        1,
        "already revoked",
    );
    refused_silently(
        &admin(&data, &["device", "revoke", "--id", "9999"]),
        1,
        "no device has id 9999",
    );
    drop(serve);

    // Bad values exit 2, unknown institutions 1, before anything is written.
    refused_silently(
        &admin(
            &data,
            &["device", "add", "--institution", CODE, "--name", "   "],
        ),
        2,
        "1 to 32 characters",
    );
    refused_silently(
        &admin(
            &data,
            &[
                "device",
                "add",
                "--institution",
                "3410712362",
                "--name",
                "x",
            ],
        ),
        1,
        "no institution has code 3410712362",
    );
    refused_silently(
        &admin(&data, &["device", "list", "--institution", "3410712362"]),
        1,
        "no institution has code 3410712362",
    );
}
