//! The data lifecycle as an operator runs it: `zaitaku admin purge` (dry and
//! real, with retention options), `serve`'s scheduled purge, and `admin person
//! export|delete` for one insured person.

use crate::kit::{Serve, admin, admin_command, refused, stderr, stdout, test_ca};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use time::OffsetDateTime;
use zaitaku_domain::{
    ConsentItem, EPrescriptionUsage, InstitutionCode, InsurerNumber, PersonId, UrlToken,
};
use zaitaku_store::prelude::*;
use zaitaku_store::{
    AccessAction, AccessActor, AccessEntry, NewInstitution, PersonKey, SqliteStore, StaffActor,
};

/// 山田 太郎 (insured), 佐藤 花子 (lost in 2015), 鈴木 次郎 (lost in 2025).
const INSURED: &str = "\
insurer_number,insurer_name,symbol,number,branch,relationship,name,name_kana,sex,birth_date,address,postal_code,acquired_on,lost_on,validity
06130488,霞が関健康保険組合,77,1001,00,1,山田 太郎,ヤマダ タロウ,1,1960-05-10,東京都千代田区,100-0013,2020-04-01,,1
138008,千代田区国民健康保険,,20345,,1,佐藤 花子,サトウ ハナコ,2,1940-02-20,東京都港区,105-0001,2010-04-01,2015-03-31,2
138008,千代田区国民健康保険,,20346,,1,鈴木 次郎,スズキ ジロウ,1,1945-02-20,東京都港区,105-0001,2010-04-01,2025-03-31,2
";

const RECORDS: &str = "\
insurer_number,symbol,number,branch,kind,date,provider,name,detail
06130488,77,1001,00,YZK,2026-09-01,在宅クリニック,アムロジピン錠5mg,1日1回
138008,,20345,,YZK,2014-09-01,港中央病院,ロキソプロフェン錠60mg,頓用
";

const TARO: [&str; 8] = [
    "--insurer-number",
    "06130488",
    "--symbol",
    "77",
    "--number",
    "1001",
    "--branch",
    "00",
];

fn ok(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
}

/// A data directory with the three persons, their records, a card link each
/// for 山田 (serial 0A) and 佐藤 (serial 0B).
fn data_dir(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let insured = dir.join("insured.csv");
    std::fs::write(&insured, INSURED).unwrap();
    let records = dir.join("records.csv");
    std::fs::write(&records, RECORDS).unwrap();
    ok(&admin_command(&data, &["insured", "import"])
        .arg(&insured)
        .output()
        .unwrap());
    ok(&admin_command(&data, &["records", "import"])
        .arg(&records)
        .output()
        .unwrap());
    let link = |serial: &str, key: &[&str]| {
        let mut args = vec!["card", "link", "--issuer", "CN=Test CA", "--serial", serial];
        args.extend_from_slice(key);
        ok(&admin(&data, &args));
    };
    link("0A", &TARO);
    link("0B", &["--insurer-number", "138008", "--number", "20345"]);
    data
}

fn with_store<T>(data: &Path, f: impl AsyncFnOnce(&SqliteStore) -> T) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = SqliteStore::open(&data.join("zaitaku.sqlite3"))
                .await
                .unwrap();
            let found = f(&store).await;
            store.close().await;
            found
        })
}

fn key(insurer: &str, symbol: Option<&str>, number: &str, branch: Option<&str>) -> PersonKey {
    PersonKey {
        insurer_number: InsurerNumber::parse(insurer).unwrap(),
        symbol: symbol.map(Into::into),
        number: number.into(),
        branch: branch.map(Into::into),
    }
}

fn taro(data: &Path) -> Option<PersonId> {
    let key = key("06130488", Some("77"), "1001", Some("00"));
    with_store(data, async |s| {
        s.person_by_key(&key).await.unwrap().map(|p| p.id)
    })
}

fn hanako(data: &Path) -> Option<PersonId> {
    let key = key("138008", None, "20345", None);
    with_store(data, async |s| {
        s.person_by_key(&key).await.unwrap().map(|p| p.id)
    })
}

fn jiro(data: &Path) -> Option<PersonId> {
    let key = key("138008", None, "20346", None);
    with_store(data, async |s| {
        s.person_by_key(&key).await.unwrap().map(|p| p.id)
    })
}

/// The rows a purge's table says for `table`.
fn rows(out: &Output, table: &str) -> u64 {
    let text = stdout(out);
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(table))
        .unwrap_or_else(|| panic!("no {table} line in {text}"));
    line.split_whitespace().last().unwrap().parse().unwrap()
}

#[test]
fn purge_counts_when_dry_then_deletes_what_the_periods_let_go() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(dir.path());

    // Lost in 2015, nothing kept refers to her: she goes with her link and record.
    let dry = admin(&data, &["purge", "--dry-run"]);
    ok(&dry);
    assert!(stdout(&dry).contains("would delete"), "{}", stdout(&dry));
    assert_eq!(rows(&dry, "insured_persons"), 1);
    assert_eq!(rows(&dry, "certificate_links"), 1);
    assert_eq!(rows(&dry, "medical_records"), 1);
    assert_eq!(rows(&dry, "access_log"), 0);
    assert!(hanako(&data).is_some(), "a dry run deletes nothing");

    let done = admin(&data, &["purge"]);
    ok(&done);
    assert!(stdout(&done).contains("deleted"), "{}", stdout(&done));
    assert_eq!(rows(&done, "insured_persons"), 1);
    assert!(hanako(&data).is_none());
    assert!(taro(&data).is_some() && jiro(&data).is_some());

    // A shorter period, as an option and as its environment variable: 鈴木
    // (lost 2025-03-31) goes too.
    let env = admin_command(&data, &["purge", "--dry-run"])
        .env("ZAITAKU_KEEP_PERSONS_DAYS", "30")
        .output()
        .unwrap();
    assert_eq!(rows(&env, "insured_persons"), 1);
    let done = admin(&data, &["purge", "--keep-persons-days", "30"]);
    assert_eq!(rows(&done, "insured_persons"), 1);
    assert!(jiro(&data).is_none());
    assert!(taro(&data).is_some(), "still insured: never purged by age");
    refused(
        &admin(&data, &["purge", "--keep-persons-days", "0"]),
        2,
        "--keep-persons-days",
    );
}

#[test]
fn serve_purges_at_start_unless_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(dir.path());
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    let anchor = anchor.to_str().unwrap();

    let off = Serve::start_with(
        &data,
        &["--trust-anchor", anchor, "--purge-every-hours", "0"],
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(hanako(&data).is_some(), "purges turned off");
    drop(off);

    let serve = Serve::start_with(&data, &["--trust-anchor", anchor]);
    let line = serve
        .log
        .iter()
        .find(|l| l.contains("retention purge done"))
        .expect("the purge's log line");
    assert!(line.contains("insured_persons=1"), "{line}");
    // Counts per table only: no name, no number.
    assert!(!line.contains("20345") && !line.contains("佐藤"), "{line}");
    assert!(hanako(&data).is_none());
}

/// An institution and one access-log line about `person`.
fn looked_at(data: &Path, person: PersonId) {
    with_store(data, async |s| {
        let institution = s
            .insert_institution(&NewInstitution {
                code: InstitutionCode::parse("1310123458").unwrap(),
                name: "在宅クリニック".into(),
                offered_items: vec![ConsentItem::Medication],
                e_prescription: EPrescriptionUsage::NotUsed,
                consent_validity_days: 30,
                url_token: UrlToken::parse(&"t".repeat(43)).unwrap(),
                flows_from: zaitaku_domain::FlowsFrom::Anyone,
            })
            .await
            .unwrap();
        s.record_access(&AccessEntry {
            at: OffsetDateTime::now_utc(),
            institution: Some(institution.id),
            actor: AccessActor::Staff(StaffActor {
                id: zaitaku_domain::StaffId(1),
                login: "hanako".into(),
                name: "看護 花子".into(),
            }),
            person: Some(person),
            action: AccessAction::View,
            device_name: None,
            detail: None,
        })
        .await
        .unwrap();
    })
}

#[test]
fn export_holds_one_persons_data_by_key_or_id() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(dir.path());
    let id = taro(&data).unwrap();
    looked_at(&data, id);

    let mut args = vec!["person", "export"];
    args.extend_from_slice(&TARO);
    let out = admin(&data, &args);
    ok(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["person"]["id"], id.0);
    assert_eq!(json["person"]["qualification"]["name"], "山田 太郎");
    assert_eq!(json["certificate_links"][0]["serial"], "0A");
    assert_eq!(json["certificate_links"].as_array().unwrap().len(), 1);
    assert_eq!(json["medical_records"][0]["name"], "アムロジピン錠5mg");
    assert_eq!(json["medical_records"].as_array().unwrap().len(), 1);
    assert_eq!(json["access_log"][0]["institution"]["code"], "1310123458");
    assert_eq!(json["access_log"][0]["staff_login"], "hanako");
    assert_eq!(json["consents"], serde_json::json!([]));
    // Nothing of another person.
    let text = stdout(&out);
    for theirs in ["佐藤", "20345", "0B", "ロキソプロフェン"] {
        assert!(!text.contains(theirs), "{theirs} in {text}");
    }

    // By the console's id, to a file only its owner reads; never over a file.
    let file = dir.path().join("taro.json");
    let id_text = id.0.to_string();
    let by_id = [
        "person",
        "export",
        "--id",
        &id_text,
        "--to",
        file.to_str().unwrap(),
    ];
    ok(&admin(&data, &by_id));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["person"], json["person"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    refused(&admin(&data, &by_id), 2, "cannot create");
    refused(
        &admin(&data, &["person", "export", "--id", "999"]),
        1,
        "no insured person",
    );
    refused(&admin(&data, &["person", "export"]), 2, "--id");
}

#[test]
fn delete_asks_for_yes_removes_what_may_go_and_keeps_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(dir.path());
    let taro_id = taro(&data).unwrap();
    looked_at(&data, taro_id);

    let mut args = vec!["person", "delete"];
    args.extend_from_slice(&TARO);
    refused(&admin(&data, &args), 2, "--yes");
    assert_eq!(
        with_store(&data, async |s| s
            .certificate_links(taro_id)
            .await
            .unwrap()
            .len()),
        1,
        "nothing deleted without --yes"
    );

    args.push("--yes");
    let out = admin(&data, &args);
    ok(&out);
    let text = stdout(&out);
    let said = |table: &str, what: &str| {
        text.lines()
            .any(|l| l.split_whitespace().next() == Some(table) && l.ends_with(what))
    };
    assert!(said("certificate_links", "removed 1"), "{text}");
    assert!(said("medical_records", "removed 1"), "{text}");
    assert!(
        said("access_log", "kept for the retention purge 1"),
        "{text}"
    );
    assert!(said("insured_persons", "removed 0"), "{text}");
    assert!(
        text.contains(&format!("person {} kept", taro_id.0)),
        "{text}"
    );
    let (links, records, log) = with_store(&data, async |s| {
        (
            s.certificate_links(taro_id).await.unwrap().len(),
            s.records_of(taro_id, zaitaku_domain::RecordKind::ALL)
                .await
                .unwrap()
                .len(),
            s.access_log_of_person(taro_id).await.unwrap().len(),
        )
    });
    assert_eq!((links, records, log), (0, 0, 1));

    // 佐藤: nothing kept refers to her, so she goes entirely.
    let hanako_id = hanako(&data).unwrap().0.to_string();
    let out = admin(&data, &["person", "delete", "--id", &hanako_id, "--yes"]);
    ok(&out);
    assert!(
        stdout(&out).contains(&format!("person {hanako_id} removed")),
        "{}",
        stdout(&out)
    );
    assert!(hanako(&data).is_none());
    refused(
        &admin(&data, &["person", "export", "--id", &hanako_id]),
        1,
        "no insured person",
    );
}
