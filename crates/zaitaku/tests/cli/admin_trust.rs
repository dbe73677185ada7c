//! `zaitaku admin trust add|list` and `zaitaku admin crl import` against a data
//! directory, read back through the commands and the store; and a running
//! `zaitaku serve` that takes its anchor from the database and picks up a CRL
//! imported while it runs.

use crate::kit::{self, Serve, refused, stderr, stdout, test_ca, until_authentication, zaitaku};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};
use zaitaku_card::shared_data;
use zaitaku_card::test_ca::TestCa;
use zaitaku_store::SqliteStore;
use zaitaku_store::prelude::*;

/// `zaitaku admin ARGS… --data-dir DATA FILES…`.
fn admin(data: &Path, args: &[&str], files: &[&Path]) -> Output {
    kit::admin_command(data, args).args(files).output().unwrap()
}

fn list_json(data: &Path) -> Vec<serde_json::Value> {
    let out = admin(data, &["trust", "list", "--json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn fingerprint(pem: &Path) -> String {
    let der = &zaitaku_card::pem::load_certificates(&std::fs::read(pem).unwrap()).unwrap()[0].1;
    let out = Command::new("openssl")
        .args([
            "x509",
            "-inform",
            "DER",
            "-noout",
            "-fingerprint",
            "-sha256",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(der)?;
            child.wait_with_output()
        });
    match out {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .rsplit('=')
            .next()
            .unwrap()
            .to_owned(),
        // Without openssl, the SHA-256 of the DER by our own means.
        _ => {
            let anchor = &zaitaku_card::validate::trust::TrustAnchor::load_all(der).unwrap()[0];
            anchor.fingerprint_sha256()
        }
    }
}

#[test]
fn anchors_are_added_listed_and_added_again_harmlessly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca = test_ca(dir.path(), "ca");
    let pem = ca.join("ca-cert.pem");

    // Nothing yet: list says how to add one.
    let out = admin(&data, &["trust", "add"], &[&pem]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let fp = fingerprint(&pem);
    assert!(
        printed.starts_with("added: CN=Zaitaku Test Root"),
        "{printed}"
    );
    assert!(printed.contains(&format!("SHA-256 {fp}")), "{printed}");
    assert!(printed.contains("  valid   20"), "{printed}");

    // The same root again, as DER: reported, nothing new.
    let der = dir.path().join("ca.der");
    std::fs::write(&der, TestCa::load(&ca).unwrap().certificate_der().unwrap()).unwrap();
    let out = admin(&data, &["trust", "add"], &[&der]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("already present: CN=Zaitaku Test Root"));

    // Two roots in one PEM file, one of them known.
    let other = test_ca(dir.path(), "other");
    let both = dir.path().join("both.pem");
    let text = std::fs::read_to_string(&pem).unwrap()
        + &std::fs::read_to_string(other.join("ca-cert.pem")).unwrap();
    std::fs::write(&both, text).unwrap();
    let out = admin(&data, &["trust", "add"], &[&both]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<_> = stdout(&out)
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("already present:") && lines[1].starts_with("added:"));

    let listed = list_json(&data);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["fingerprint_sha256"], fp.as_str());
    assert_eq!(
        listed[1]["fingerprint_sha256"],
        fingerprint(&other.join("ca-cert.pem")).as_str()
    );
    assert!(listed[0]["not_after"].as_str().unwrap().ends_with('Z'));
    let out = admin(&data, &["trust", "list"], &[]);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2);
    assert!(text.starts_with(&format!("{fp}\t")), "{text}");
    assert!(
        text.lines().all(|l| l.ends_with(
            "\tCN=Zaitaku Test Root,OU=Virtual card user authentication (not JPKI),O=Zaitaku,C=JP"
        )),
        "{text}"
    );
}

#[test]
fn what_is_not_a_usable_root_is_refused_and_nothing_is_added() {
    let Some(data) = shared_data::folder(
        "jpki",
        "admin_trust::what_is_not_a_usable_root_is_refused_and_nothing_is_added",
    ) else {
        return;
    };
    let jpki = |file: &str| data.join(file);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca = test_ca(dir.path(), "ca");
    let pem = ca.join("ca-cert.pem");

    // A card's certificate is not a CA; given with a good root, neither is added.
    let card = dir.path().join("x.card");
    let out = zaitaku()
        .args(["card", "new", "--pin", "1234", "--ca"])
        .arg(&ca)
        .arg("--out")
        .arg(&card)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let leaf = dir.path().join("leaf.der");
    std::fs::write(
        &leaf,
        zaitaku_card::VirtualCard::open(&card)
            .unwrap()
            .certificate_der(),
    )
    .unwrap();
    let out = admin(&data, &["trust", "add"], &[&pem, &leaf]);
    refused(&out, 1, "is not a CA certificate");
    assert!(stderr(&out).contains("leaf.der"));
    assert!(stderr(&out).contains("nothing was added"));

    // Garbage, an empty PEM, a missing file: unusable files, exit 2.
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, b"not a certificate at all").unwrap();
    refused(
        &admin(&data, &["trust", "add"], &[&garbage]),
        2,
        "garbage.pem: not a valid certificate",
    );
    let empty = dir.path().join("empty.pem");
    std::fs::write(
        &empty,
        b"-----BEGIN SOMETHING-----\n-----END SOMETHING-----\n",
    )
    .unwrap();
    refused(
        &admin(&data, &["trust", "add"], &[&empty]),
        2,
        "no certificate found",
    );
    refused(
        &admin(&data, &["trust", "add"], &[&dir.path().join("missing.pem")]),
        2,
        "missing.pem",
    );
    refused(&admin(&data, &["trust", "add"], &[]), 2, "FILE");

    // The 2015 JPKI root expired in October 2025: refused, saying when it was valid.
    let out = admin(
        &data,
        &["trust", "add"],
        &[&jpki("auth-root-2015.pem"), &pem],
    );
    refused(
        &out,
        1,
        "is not valid now (valid 2015-10-20T03:08:13Z to 2025-10-19T14:59:59Z)",
    );

    // Nothing of any of that was written: refused before the database was made.
    assert!(!data.join("zaitaku.sqlite3").exists());
    let out = admin(&data, &["trust", "add"], &[&pem]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(list_json(&data).len(), 1);
}

#[test]
fn the_public_jpki_roots_are_added_as_anchors() {
    let Some(data) = shared_data::folder(
        "jpki",
        "admin_trust::the_public_jpki_roots_are_added_as_anchors",
    ) else {
        return;
    };
    let jpki = |file: &str| data.join(file);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let roots = [jpki("auth-root-2019.pem"), jpki("auth-root-2023.pem")];
    let out = admin(&data, &["trust", "add"], &[&roots[0], &roots[1]]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = list_json(&data);
    assert_eq!(listed.len(), 2);
    for (entry, root) in listed.iter().zip(&roots) {
        // Three generations share one name; the fingerprints tell them apart.
        assert_eq!(
            entry["subject"],
            "OU=Japan Agency for Local Authority Information Systems,\
             OU=JPKI for user authentication,O=JPKI,C=JP"
        );
        assert_eq!(entry["fingerprint_sha256"], fingerprint(root).as_str());
    }
    assert_eq!(listed[0]["not_before"], "2019-09-14T23:41:59Z");
    assert_eq!(listed[1]["not_after"], "2033-07-15T14:59:59Z");
}

/// A CRL of `ca` written as DER to `path`, thisUpdate `age` ago.
fn crl_file(ca: &TestCa, path: &Path, age: Duration, valid: Duration) -> PathBuf {
    let now = SystemTime::now();
    std::fs::write(
        path,
        ca.issue_crl(&[], now - age, now - age + valid).unwrap(),
    )
    .unwrap();
    path.to_owned()
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

#[test]
fn crls_are_imported_only_from_a_stored_root_and_only_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca_dir = test_ca(dir.path(), "ca");
    let ca = TestCa::load(&ca_dir).unwrap();
    let older = crl_file(&ca, &dir.path().join("older.crl"), 2 * HOUR, DAY);
    let current = ca_dir.join("crl.pem");

    // No database yet: nothing to check the signature against.
    refused(
        &admin(&data, &["crl", "import"], &[&current]),
        2,
        "no Zaitaku database",
    );
    let out = admin(&data, &["trust", "add"], &[&ca_dir.join("ca-cert.pem")]);
    assert!(out.status.success(), "{}", stderr(&out));

    // The older one first (DER), then the current one (PEM) replaces it.
    let out = admin(&data, &["crl", "import"], &[&older]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        printed.starts_with("imported: CRL of CN=Zaitaku Test Root"),
        "{printed}"
    );
    assert!(printed.contains("  revoked    0\n"), "{printed}");
    assert!(printed.contains("  thisUpdate 20") && printed.contains("  nextUpdate 20"));
    let out = admin(&data, &["crl", "import"], &[&current]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("  replaces   the CRL of thisUpdate"));

    // The same again, or the older one: not newer, nothing written.
    refused(
        &admin(&data, &["crl", "import"], &[&current]),
        1,
        "not newer than the CRL already imported",
    );
    refused(&admin(&data, &["crl", "import"], &[&older]), 1, "not newer");

    // Signed by another root of the same name (as JPKI's generations are).
    let stranger = test_ca(dir.path(), "stranger");
    refused(
        &admin(&data, &["crl", "import"], &[&stranger.join("crl.pem")]),
        1,
        "the signature does not verify with any stored trust anchor named CN=Zaitaku Test Root",
    );
    // Signed by a root of another name.
    let other = TestCa::generate("CN=Other Root,O=Elsewhere,C=JP").unwrap();
    let foreign = crl_file(&other, &dir.path().join("foreign.crl"), HOUR, DAY);
    refused(
        &admin(&data, &["crl", "import"], &[&foreign]),
        1,
        "no stored trust anchor is named CN=Other Root,O=Elsewhere,C=JP",
    );
    // Stale: its nextUpdate has passed, though it is newer than the stored one.
    let stale = crl_file(
        &ca,
        &dir.path().join("stale.crl"),
        Duration::ZERO,
        Duration::ZERO,
    );
    std::thread::sleep(Duration::from_secs(1));
    refused(
        &admin(&data, &["crl", "import"], &[&stale]),
        1,
        "the CRL is stale",
    );
    // Not a CRL at all.
    let garbage = dir.path().join("garbage.crl");
    std::fs::write(&garbage, b"garbage").unwrap();
    refused(
        &admin(&data, &["crl", "import"], &[&garbage]),
        2,
        "not a valid CRL",
    );

    // A good CRL in the same command as a refused one: neither is imported.
    let newest = crl_file(&ca, &dir.path().join("newest.crl"), Duration::ZERO, DAY);
    let out = admin(&data, &["crl", "import"], &[&newest, &foreign]);
    refused(&out, 1, "nothing was imported");

    let kept = block_on(async {
        let store = SqliteStore::open(&data.join("zaitaku.sqlite3"))
            .await
            .unwrap();
        let crls = store.crls().await.unwrap();
        store.close().await;
        crls
    });
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].crl.der,
        zaitaku_card::validate::crl::Crl::load(&std::fs::read(&current).unwrap())
            .unwrap()
            .der()
    );
}

fn block_on<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(work)
}

// ---------------------------------------------------------------- a running service

/// `zaitaku serve` on `data` (and FLAGS), trusting only what the database
/// holds and the virtual cards' policy, reloading every second.
fn start_serve(data: &Path, flags: &[&str]) -> Serve {
    let always = ["--allow-policy", "zaitaku-test", "--trust-reload-secs", "1"];
    Serve::start_with(data, &[&always[..], flags].concat())
}

fn card_auth(card: &Path, link: &str) -> Output {
    kit::card_auth(card, "2468", link)
}

const CSV_HEADER: &str = "insurer_number,insurer_name,symbol,number,branch,relationship,name,\
name_kana,sex,birth_date,address,postal_code,acquired_on,lost_on,loss_reason,valid_from,\
valid_until,burden_ratio,elderly_valid_from,elderly_valid_until,elderly_burden_ratio,\
limit_category,limit_applied_category,specific_disease,validity";
const CSV_LINE: &str = "06130488,保険者,,00000001,,1,山田 太郎,ヤマダ タロウ,1,1950-04-01,\
東京都千代田区,100-0001,2020-04-01,,,,,030,,,,,,,1";

#[test]
fn serve_trusts_the_stored_anchor_and_picks_up_a_new_crl_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca_dir = test_ca(dir.path(), "ca");
    let card = dir.path().join("card.card");
    let out = zaitaku()
        .args(["card", "new", "--pin", "2468", "--ca"])
        .arg(&ca_dir)
        .arg("--out")
        .arg(&card)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let cert = dir.path().join("card-cert.der");
    std::fs::write(
        &cert,
        zaitaku_card::VirtualCard::open(&card)
            .unwrap()
            .certificate_der(),
    )
    .unwrap();

    // The operator's set-up: the root, a CRL from an hour ago, an institution, a
    // person and the card's link.
    let ok = |out: Output| assert!(out.status.success(), "{}", stderr(&out));
    ok(admin(
        &data,
        &["trust", "add"],
        &[&ca_dir.join("ca-cert.pem")],
    ));
    let ca = TestCa::load(&ca_dir).unwrap();
    ok(admin(
        &data,
        &["crl", "import"],
        &[&crl_file(&ca, &dir.path().join("first.crl"), HOUR, DAY)],
    ));
    let out = admin(
        &data,
        &[
            "institution",
            "add",
            "--code",
            "1310123458",
            "--name",
            "在宅クリニック",
            "--public-origin",
            "http://127.0.0.1:1",
        ],
        &[],
    );
    ok(out.clone());
    let institution = stdout(&out)
        .trim()
        .trim_start_matches("http://127.0.0.1:1")
        .to_owned();
    let csv = dir.path().join("insured.csv");
    std::fs::write(&csv, format!("{CSV_HEADER}\n{CSV_LINE}\n")).unwrap();
    ok(admin(&data, &["insured", "import"], &[&csv]));
    let out = zaitaku()
        .args([
            "admin",
            "card",
            "link",
            "--insurer-number",
            "06130488",
            "--number",
            "00000001",
            "--cert",
        ])
        .arg(&cert)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    ok(out);

    // No --trust-anchor: the database's root is trusted, and the card accepted.
    let serve = start_serve(&data, &[]);
    let mut browser = kit::enrolled_browser(&data, &serve.origin, "1310123458");
    let (flow, link) = until_authentication(&mut browser, &institution);
    let out = card_auth(&card, &link);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"accepted\""));
    assert!(
        browser
            .get(&format!("{flow}/complete"))
            .body
            .contains("資格確認・登録完了")
    );

    // The card is revoked and the new CRL imported while the service runs.
    while serve.log.try_recv().is_ok() {}
    let out = zaitaku()
        .args(["card", "revoke", "--ca"])
        .arg(&ca_dir)
        .arg("--card")
        .arg(&card)
        .output()
        .unwrap();
    ok(out);
    let out = admin(&data, &["crl", "import"], &[&ca_dir.join("crl.pem")]);
    ok(out.clone());
    assert!(stdout(&out).contains("  revoked    1\n"));
    serve.reloaded();
    let (flow, link) = until_authentication(&mut browser, &institution);
    let out = card_auth(&card, &link);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("certificate_revoked"),
        "{}",
        stdout(&out)
    );
    assert!(
        browser
            .get(&format!("{flow}/complete"))
            .body
            .contains("失効")
    );
}

/// The next card generation has its own root: `admin trust add` takes a P-384 root
/// beside today's RSA root (one name, as JPKI's generations share one), and Web eID's
/// P-521 intermediate CA as an anchor that is not self-signed.
#[test]
fn ec_roots_are_added_beside_an_rsa_root() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rsa = test_ca(dir.path(), "rsa");
    let p384 = dir.path().join("p384");
    let out = zaitaku()
        .args(["card", "ca-init", "--key", "p384", "--dir"])
        .arg(&p384)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for ca in [&rsa, &p384] {
        let out = admin(&data, &["trust", "add"], &[&ca.join("ca-cert.pem")]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).starts_with("added: CN=Zaitaku Test Root"));
    }
    assert_eq!(list_json(&data).len(), 2);

    let Some(webeid) = shared_data::folder("webeid", "admin_trust::ec_roots (Web eID part)") else {
        return;
    };
    let out = admin(
        &data,
        &["trust", "add"],
        &[&webeid.join("TEST_of_ESTEID2018.cer")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("TEST of ESTEID2018"),
        "{}",
        stdout(&out)
    );
    assert_eq!(list_json(&data).len(), 3);
}

// ---------------------------------------------------------------- revocation status and fail-closed

fn crl_status(data: &Path, json: bool) -> Output {
    let args: &[&str] = if json {
        &["crl", "status", "--json"]
    } else {
        &["crl", "status"]
    };
    admin(data, args, &[])
}

#[test]
fn crl_status_lists_fresh_stale_and_missing_with_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    block_on(async {
        let store = SqliteStore::open(&data.join("zaitaku.sqlite3"))
            .await
            .unwrap();
        store.close().await;
    });

    // No root trusted: nothing can be checked.
    let out = crl_status(&data, true);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no root is trusted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out).trim(), "[]");

    // A root without a CRL: missing.
    let ca_dir = test_ca(dir.path(), "ca");
    let ok = |out: Output| assert!(out.status.success(), "{}", stderr(&out));
    ok(admin(
        &data,
        &["trust", "add"],
        &[&ca_dir.join("ca-cert.pem")],
    ));
    let out = crl_status(&data, false);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("missing CN=Zaitaku Test Root"),
        "{}",
        stdout(&out)
    );

    // Its CRL: fresh, exit 0; in JSON, every field.
    let ca = TestCa::load(&ca_dir).unwrap();
    ok(admin(
        &data,
        &["crl", "import"],
        &[&crl_file(&ca, &dir.path().join("a.crl"), HOUR, DAY)],
    ));
    let out = crl_status(&data, true);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["state"], "fresh");
    assert_eq!(line["entries"], 0);
    assert!(
        line["issuer"]
            .as_str()
            .unwrap()
            .contains("Zaitaku Test Root")
    );
    assert!(line["partition"].is_null());
    assert!(line["this_update"].as_str().unwrap().ends_with('Z'));
    assert!(line["next_update"].as_str().unwrap().ends_with('Z'));
    let text = stdout(&crl_status(&data, false));
    assert!(text.starts_with("fresh   CN=Zaitaku Test Root"), "{text}");
    assert!(text.contains("  revoked    0\n"), "{text}");

    // A second root with a CRL that goes stale within seconds.
    let other_dir = test_ca(dir.path(), "other");
    ok(admin(
        &data,
        &["trust", "add"],
        &[&other_dir.join("ca-cert.pem")],
    ));
    let other = TestCa::load(&other_dir).unwrap();
    let soon = stale_soon_crl(&other, &dir.path().join("soon.crl"));
    ok(admin(&data, &["crl", "import"], &[&soon]));
    wait_until_stale();
    let out = crl_status(&data, true);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let states: Vec<&str> = lines.iter().map(|l| l["state"].as_str().unwrap()).collect();
    assert_eq!(
        states.iter().filter(|s| **s == "stale").count(),
        1,
        "{lines:?}"
    );
    assert_eq!(
        states.iter().filter(|s| **s == "fresh").count(),
        1,
        "{lines:?}"
    );
}

/// How long a "stale soon" CRL stays fresh.
const FRESH_FOR: Duration = Duration::from_secs(4);

/// A CRL of `ca` issued an hour ago whose nextUpdate comes `FRESH_FOR` from now.
fn stale_soon_crl(ca: &TestCa, path: &Path) -> PathBuf {
    let now = SystemTime::now();
    std::fs::write(
        path,
        ca.issue_crl(&[], now - HOUR, now + FRESH_FOR).unwrap(),
    )
    .unwrap();
    path.to_owned()
}

/// Past the nextUpdate of a CRL made by `stale_soon_crl` just before.
fn wait_until_stale() {
    std::thread::sleep(FRESH_FOR + Duration::from_secs(2));
}

#[test]
fn serve_refuses_a_card_once_its_crl_is_stale_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca_dir = test_ca(dir.path(), "ca");
    let card = dir.path().join("card.card");
    let out = zaitaku()
        .args(["card", "new", "--pin", "2468", "--ca"])
        .arg(&ca_dir)
        .arg("--out")
        .arg(&card)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let cert = dir.path().join("card-cert.der");
    std::fs::write(
        &cert,
        zaitaku_card::VirtualCard::open(&card)
            .unwrap()
            .certificate_der(),
    )
    .unwrap();
    let ok = |out: Output| assert!(out.status.success(), "{}", stderr(&out));
    ok(admin(
        &data,
        &["trust", "add"],
        &[&ca_dir.join("ca-cert.pem")],
    ));
    let ca = TestCa::load(&ca_dir).unwrap();
    ok(admin(
        &data,
        &["crl", "import"],
        &[&stale_soon_crl(&ca, &dir.path().join("soon.crl"))],
    ));
    let out = admin(
        &data,
        &[
            "institution",
            "add",
            "--code",
            "1310123458",
            "--name",
            "在宅クリニック",
            "--public-origin",
            "http://127.0.0.1:1",
        ],
        &[],
    );
    ok(out.clone());
    let institution = stdout(&out)
        .trim()
        .trim_start_matches("http://127.0.0.1:1")
        .to_owned();
    let csv = dir.path().join("insured.csv");
    std::fs::write(&csv, format!("{CSV_HEADER}\n{CSV_LINE}\n")).unwrap();
    ok(admin(&data, &["insured", "import"], &[&csv]));
    ok(zaitaku()
        .args(["admin", "card", "link", "--insurer-number", "06130488"])
        .args(["--number", "00000001", "--cert"])
        .arg(&cert)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap());

    wait_until_stale();
    let serve = start_serve(&data, &[]);
    let mut browser = kit::enrolled_browser(&data, &serve.origin, "1310123458");
    let (flow, link) = until_authentication(&mut browser, &institution);
    let out = card_auth(&card, &link);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("revocation_unknown"),
        "{}",
        stdout(&out)
    );
    let screen = browser.get(&format!("{flow}/complete")).body;
    assert!(
        screen.contains("電子証明書の有効性を確認できません"),
        "{screen}"
    );
    assert!(!screen.contains("失効しています"), "not the revoked screen");

    // The operator's alarm, at start and at each reload while it lasts.
    let alarm = |line: &str| {
        line.contains("ERROR")
            && line.contains("CRL stale")
            && line.contains("CN=Zaitaku Test Root")
    };
    let mut alarms = 0;
    while alarms < 2 {
        let line = serve
            .log
            .recv_timeout(Duration::from_secs(120))
            .expect("the stale-CRL alarm in the service's log");
        if alarm(&line) {
            alarms += 1;
        }
    }
    drop(serve);

    // Told to accept unchecked cards, the same service lets the card through.
    let serve = start_serve(&data, &["--allow-unchecked-revocation"]);
    let mut browser = kit::enrolled_browser(&data, &serve.origin, "1310123458");
    let (flow, link) = until_authentication(&mut browser, &institution);
    let out = card_auth(&card, &link);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        browser
            .get(&format!("{flow}/complete"))
            .body
            .contains("資格確認・登録完了")
    );
}

/// `admin trust remove` on a running service: the card of the removed root is
/// refused at its next token, long before the next reload (60 seconds here);
/// the root's CRLs go with it; the card's link stays.
#[test]
fn a_removed_root_stops_its_cards_at_once_and_keeps_their_links() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca_dir = test_ca(dir.path(), "ca");
    let pem = ca_dir.join("ca-cert.pem");
    let other = test_ca(dir.path(), "other").join("ca-cert.pem");
    let card = dir.path().join("card.card");
    let ok = |out: Output| {
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };
    ok(zaitaku()
        .args(["card", "new", "--pin", "2468", "--ca"])
        .arg(&ca_dir)
        .arg("--out")
        .arg(&card)
        .output()
        .unwrap());
    let cert = dir.path().join("card-cert.der");
    std::fs::write(
        &cert,
        zaitaku_card::VirtualCard::open(&card)
            .unwrap()
            .certificate_der(),
    )
    .unwrap();
    ok(admin(&data, &["trust", "add"], &[&pem, &other]));
    let ca = TestCa::load(&ca_dir).unwrap();
    ok(admin(
        &data,
        &["crl", "import"],
        &[&crl_file(&ca, &dir.path().join("first.crl"), HOUR, DAY)],
    ));
    let out = ok(admin(
        &data,
        &[
            "institution",
            "add",
            "--code",
            "1310123458",
            "--name",
            "在宅クリニック",
            "--public-origin",
            "http://127.0.0.1:1",
        ],
        &[],
    ));
    let institution = stdout(&out)
        .trim()
        .trim_start_matches("http://127.0.0.1:1")
        .to_owned();
    let csv = dir.path().join("insured.csv");
    std::fs::write(&csv, format!("{CSV_HEADER}\n{CSV_LINE}\n")).unwrap();
    ok(admin(&data, &["insured", "import"], &[&csv]));
    let cert_arg = format!("--cert={}", cert.display());
    ok(admin(
        &data,
        &[
            "card",
            "link",
            "--insurer-number",
            "06130488",
            "--number",
            "00000001",
            &cert_arg,
        ],
        &[],
    ));

    let serve = Serve::start_with(&data, &["--allow-policy", "zaitaku-test"]);
    let mut browser = kit::enrolled_browser(&data, &serve.origin, "1310123458");
    let (_, link) = until_authentication(&mut browser, &institution);
    let out = card_auth(&card, &link);
    assert!(stdout(&out).contains("\"accepted\""), "{}", stdout(&out));

    // Named as `list` prints it; colons and case do not matter.
    let fp = fingerprint(&pem);
    let out = ok(admin(
        &data,
        &["trust", "remove", &fp.replace(':', "").to_lowercase()],
        &[],
    ));
    assert!(stdout(&out).starts_with("removed: CN=Zaitaku Test Root"));
    assert!(stdout(&out).contains(&format!("SHA-256 {fp}")));
    assert!(
        stderr(&out).contains("1 CRL(s) it signed removed"),
        "{}",
        stderr(&out)
    );
    let left = list_json(&data);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["fingerprint_sha256"], fingerprint(&other).as_str());

    let (flow, link) = until_authentication(&mut browser, &institution);
    let out = card_auth(&card, &link);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("certificate_untrusted"),
        "{}",
        stdout(&out)
    );
    // An untrusted card ends that challenge only; the page says so and reads again.
    let page = browser.get(&format!("{flow}/authenticate"));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("電子証明書を確認できません"),
        "{}",
        page.body
    );

    // The card's link is kept (unlinking finds it); removing again finds nothing.
    let out = ok(admin(&data, &["card", "unlink", &cert_arg], &[]));
    assert!(stderr(&out).contains("unlinked certificate"));
    refused(
        &admin(&data, &["trust", "remove", &fp], &[]),
        1,
        "no trust anchor has the fingerprint",
    );
    refused(
        &admin(&data, &["trust", "remove", "AB:CD"], &[]),
        2,
        "32 bytes of hex",
    );
}
