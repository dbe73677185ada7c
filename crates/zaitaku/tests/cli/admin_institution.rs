//! `zaitaku admin institution …` as an operator runs it: against a real data
//! directory, while `zaitaku serve` runs on it.

use crate::kit::{self, Serve, refused_silently, stderr, stdout};
use std::path::Path;
use std::process::Output;

const CODE: &str = "1310123458";
const ORIGIN: &str = "https://zaitaku.example.jp";

fn admin(data: &Path, args: &[&str]) -> Output {
    kit::admin(data, &[&["institution"], args].concat())
}

fn add_clinic(data: &Path, origin: &str) -> String {
    let out = admin(
        data,
        &[
            "add",
            "--code",
            CODE,
            "--name",
            "在宅クリニック",
            "--items",
            "YZK,SRJ,TKK",
            "--e-prescription",
            "2",
            "--validity-days",
            "180",
            "--public-origin",
            origin,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("added 1310123458 病院・診療所 在宅クリニック"));
    let url = stdout(&out).trim().to_owned();
    let token = url
        .strip_prefix(&format!("{origin}/i/"))
        .unwrap_or_else(|| panic!("URL {url}"));
    assert_eq!(token.len(), 43);
    url
}

#[test]
fn add_list_show_and_set_an_institution() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = add_clinic(&data, ORIGIN);
    assert!(data.join("zaitaku.sqlite3").is_file());

    // A pharmacy with the defaults.
    let out = admin(
        &data,
        &[
            "add",
            "--code",
            "3440712366",
            "--name",
            "みなと薬局",
            "--public-origin",
            ORIGIN,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(stdout(&out).trim(), url, "each institution its own URL");

    let out = admin(&data, &["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "1310123458\tclinic\t在宅クリニック\tYZK,SRJ,TKK\t2\t180\n\
         3440712366\tpharmacy\tみなと薬局\tYZK,SRJ,TKK\t0\t365\n"
    );
    let out = admin(&data, &["list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        listed[0],
        serde_json::json!({
            "code": CODE, "kind": "clinic", "name": "在宅クリニック",
            "items": ["YZK", "SRJ", "TKK"], "e_prescription": "2",
            "consent_validity_days": 180, "flows_from": "enrolled",
        })
    );
    assert_eq!(listed[1]["kind"], "pharmacy");
    assert!(!stdout(&out).contains(&url[url.len() - 43..]), "no tokens");

    // Without an origin, no URL; with one, the URL `add` printed.
    let out = admin(&data, &["show", CODE]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "code            1310123458\n\
         kind            clinic (病院・診療所)\n\
         name            在宅クリニック\n\
         items           YZK 薬剤情報, SRJ 診療情報, TKK 特定健診情報\n\
         e-prescription  2 電子処方箋・紙の処方箋 (patients choose the prescription form)\n\
         validity        180 days\n\
         flows from      enrolled (only its enrolled devices start flows)\n"
    );
    let out = admin(&data, &["show", CODE, "--public-origin", ORIGIN]);
    assert!(stdout(&out).ends_with(&format!("url             {url}\n")));

    // Only what is given changes.
    let out = admin(
        &data,
        &["set", CODE, "--items", "SHJ,YZK", "--validity-days", "730"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("items           SHJ 手術情報, YZK 薬剤情報\n"));
    let out = admin(
        &data,
        &[
            "set",
            CODE,
            "--name",
            "在宅医療クリニック",
            "--e-prescription",
            "1",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = admin(&data, &["list"]);
    assert!(
        stdout(&out).starts_with("1310123458\tclinic\t在宅医療クリニック\tSHJ,YZK\t1\t730\n"),
        "{}",
        stdout(&out)
    );
    // The URL did not change.
    let out = admin(&data, &["show", CODE, "--public-origin", ORIGIN]);
    assert!(stdout(&out).contains("e-prescription  1 電子処方箋のみ (no prescription-form step)"));
    assert!(stdout(&out).ends_with(&format!("url             {url}\n")));
}

#[test]
fn every_bad_value_is_refused_with_a_clear_message_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // `extra` may name the institution itself.
    let add = |code: &str, extra: &[&str]| {
        let mut args = vec!["add", "--code", code, "--public-origin", ORIGIN];
        if !extra.contains(&"--name") {
            args.extend(["--name", "X"]);
        }
        args.extend_from_slice(extra);
        admin(&data, &args)
    };
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "1310123459",
            &[],
            "the check digit (10th digit) is 9, but for 131012345 it must be 8",
        ),
        ("131012345", &[], "10 half-width digits"),
        ("4810123458", &[], "prefecture"),
        ("1320123458", &[], "fee schedule"),
        (
            CODE,
            &["--items", "YZK,ABC"],
            "unknown consent item \"ABC\"; known codes: YZK (薬剤情報), SRJ (診療情報), TKK (特定健診情報), SHJ (手術情報), TSR (特定疾病療養受療証)",
        ),
        (
            CODE,
            &["--items", "YZK,SRJ,YZK"],
            "consent item YZK is given twice",
        ),
        (CODE, &["--items", ""], "separated by commas"),
        (
            CODE,
            &["--e-prescription", "4"],
            "must be one of 0 (利用しない), 1 (電子処方箋のみ), 2 (電子処方箋・紙の処方箋), 3 (紙の処方箋のみ)",
        ),
        (CODE, &["--validity-days", "0"], "from 1 to 3650"),
        (CODE, &["--validity-days", "3651"], "from 1 to 3650"),
        (CODE, &["--validity-days", "ten"], "from 1 to 3650"),
        (CODE, &["--name", "  "], "the name is empty"),
        (CODE, &["--name", "a\nb"], "control character"),
    ];
    for (code, extra, needle) in cases {
        refused_silently(&add(code, extra), 2, needle);
    }
    // A bad origin, and no origin at all.
    refused_silently(
        &admin(
            &data,
            &[
                "add",
                "--code",
                CODE,
                "--name",
                "X",
                "--public-origin",
                "http://zaitaku.example.jp",
            ],
        ),
        2,
        "plain http is allowed only on localhost",
    );
    refused_silently(
        &admin(&data, &["add", "--code", CODE, "--name", "X"]),
        2,
        "--public-origin",
    );
    assert!(!data.exists(), "nothing was created for a refused command");

    // Reading a data directory that is not there creates none.
    refused_silently(&admin(&data, &["list"]), 2, "no Zaitaku database in");
    assert!(!data.exists());

    add_clinic(&data, ORIGIN);
    // The same code again: refused, the first one unchanged.
    let out = add(CODE, &["--e-prescription", "3"]);
    refused_silently(
        &out,
        1,
        "an institution with code 1310123458 already exists",
    );
    let out = admin(&data, &["list"]);
    assert_eq!(stdout(&out).lines().count(), 1);
    assert!(stdout(&out).contains("在宅クリニック"));

    // Codes nobody has.
    let other = "3410712362";
    refused_silently(
        &admin(&data, &["show", other]),
        1,
        "no institution has code 3410712362",
    );
    refused_silently(
        &admin(&data, &["set", other, "--name", "Y"]),
        1,
        "no institution has code",
    );
    refused_silently(
        &admin(&data, &["rotate-url", other, "--public-origin", ORIGIN]),
        1,
        "no institution has code",
    );
    refused_silently(&admin(&data, &["show", "1310123459"]), 2, "it must be 8");

    // `set` needs something to change, and checks what it is given.
    refused_silently(&admin(&data, &["set", CODE]), 2, "--name");
    refused_silently(
        &admin(&data, &["set", CODE, "--items", "XYZ"]),
        2,
        "unknown consent item",
    );
    refused_silently(
        &admin(&data, &["set", CODE, "--validity-days", "0"]),
        2,
        "from 1 to 3650",
    );
    refused_silently(&admin(&data, &["rotate-url", CODE]), 2, "--public-origin");
    let out = admin(&data, &["list"]);
    assert_eq!(
        stdout(&out),
        "1310123458\tclinic\t在宅クリニック\tYZK,SRJ,TKK\t2\t180\n"
    );
}

#[test]
fn a_rotated_url_stops_working_at_once_on_a_running_service() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = Serve::with_new_root(dir.path(), &data);
    let origin = serve.origin.clone();
    // Added while the service runs, and served at once (to its enrolled device).
    let old = add_clinic(&data, &origin);
    let mut browser = kit::enrolled_browser(&data, &origin, CODE);
    let mut status = |url: &str| browser.get(url.strip_prefix(&origin).unwrap()).status;
    assert_eq!(status(&old), 200);
    assert_eq!(status(&format!("{old}/qr")), 200);

    let out = admin(&data, &["rotate-url", CODE, "--public-origin", &origin]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("the old URL no longer works"));
    let new = stdout(&out).trim().to_owned();
    assert!(
        new.starts_with(&format!("{origin}/i/")) && new != old,
        "{new}"
    );
    assert_eq!(status(&old), 404);
    assert_eq!(status(&format!("{old}/qr")), 404);
    assert_eq!(status(&new), 200);

    // `show` gives the new URL; settings changed while serving show at once.
    let out = admin(&data, &["show", CODE, "--public-origin", &origin]);
    assert!(stdout(&out).ends_with(&format!("url             {new}\n")));
    let out = admin(&data, &["set", CODE, "--name", "新しい名前のクリニック"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = browser.get(new.strip_prefix(&origin).unwrap());
    assert!(page.body.contains("新しい名前のクリニック"));
}

#[test]
fn a_deactivated_institution_stops_accepting_at_once_and_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = Serve::with_new_root(dir.path(), &data);
    let url = add_clinic(&data, &serve.origin);
    let mut browser = kit::enrolled_browser(&data, &serve.origin, CODE);
    let url = url.strip_prefix(&serve.origin).unwrap().to_owned();
    assert_eq!(browser.get(&url).status, 200);

    let out = admin(&data, &["deactivate", "--code", CODE]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("deactivated 1310123458 在宅クリニック"));
    let page = browser.get(&url);
    assert_eq!(page.status, 410);
    assert!(page.body.contains("受付を終了しました"), "{}", page.body);
    let out = admin(&data, &["show", CODE]);
    assert!(
        stdout(&out).contains("\ndeactivated     20"),
        "{}",
        stdout(&out)
    );
    let out = admin(&data, &["list"]);
    assert!(
        stdout(&out).ends_with("\t180\tdeactivated\n"),
        "{}",
        stdout(&out)
    );
    let out = admin(&data, &["list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(listed[0]["deactivated_at"].is_string());

    let out = admin(&data, &["reactivate", "--code", CODE]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("reactivated 1310123458"));
    assert_eq!(browser.get(&url).status, 200, "the same URL");
    let out = admin(&data, &["show", CODE]);
    assert!(!stdout(&out).contains("deactivated"));

    for command in ["deactivate", "reactivate"] {
        refused_silently(
            &admin(&data, &[command, "--code", "3410712362"]),
            1,
            "no institution has code 3410712362",
        );
        refused_silently(
            &admin(&data, &[command, "--code", "1310123459"]),
            2,
            "check digit",
        );
    }
}
