//! `zaitaku admin records import`, run as an operator runs it, against a data
//! directory whose persons `admin insured import` loaded, then read back
//! through the store.

use crate::kit::{stderr, zaitaku};
use std::path::{Path, PathBuf};
use std::process::Output;
use zaitaku_domain::{InsurerNumber, MedicalRecord, PersonId, RecordKind};
use zaitaku_store::prelude::*;
use zaitaku_store::{PersonKey, SqliteStore};

const INSURED: &str = "\
insurer_number,insurer_name,symbol,number,branch,relationship,name,name_kana,sex,birth_date,address,postal_code,acquired_on,validity
06130488,霞が関健康保険組合,77,1001,00,1,山田 太郎,ヤマダ タロウ,1,1960-05-10,東京都千代田区,100-0013,2020-04-01,1
138008,千代田区国民健康保険,,20345,,1,佐藤 花子,サトウ ハナコ,2,1940-02-20,東京都千代田区,100-0013,2020-04-01,1
";

const HEADER: &str = "insurer_number,symbol,number,branch,kind,date,provider,name,detail";
/// 山田 太郎 and 佐藤 花子 as the records file names them.
const TARO: &str = "06130488,77,1001,00";
const HANAKO: &str = "138008,,20345,";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn records_csv(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let mut text = format!("{HEADER}\n");
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    write(dir, name, &text)
}

/// A data directory with the two persons imported.
fn data_with_persons(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let insured = write(dir, "insured.csv", INSURED);
    let out = zaitaku()
        .args(["admin", "insured", "import", "--data-dir"])
        .arg(&data)
        .arg(&insured)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    data
}

fn import(data: &Path, file: &Path, extra: &[&str]) -> Output {
    zaitaku()
        .args(["admin", "records", "import", "--data-dir"])
        .arg(data)
        .args(extra)
        .arg(file)
        .output()
        .unwrap()
}

fn key(insurer: &str, symbol: Option<&str>, number: &str, branch: Option<&str>) -> PersonKey {
    PersonKey {
        insurer_number: InsurerNumber::parse(insurer).unwrap(),
        symbol: symbol.map(str::to_owned),
        number: number.to_owned(),
        branch: branch.map(str::to_owned),
    }
}

/// The person's records of `kinds`, read as the console will.
fn records(data: &Path, person: &PersonKey, kinds: &[RecordKind]) -> Vec<MedicalRecord> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = SqliteStore::open(&data.join("zaitaku.sqlite3"))
                .await
                .unwrap();
            let id: PersonId = store.person_by_key(person).await.unwrap().unwrap().id;
            let found = store.records_of(id, kinds).await.unwrap();
            store.close().await;
            found
        })
}

fn taro() -> PersonKey {
    key("06130488", Some("77"), "1001", Some("00"))
}

fn hanako() -> PersonKey {
    key("138008", None, "20345", None)
}

fn good_lines() -> Vec<String> {
    vec![
        format!("{TARO},YZK,2026-10-13,さくら薬局,アムロジピン錠5mg,1日1回朝食後 28日分"),
        format!("{TARO},SRJ,2026-10-13,みどり在宅診療所,高血圧症,継続"),
        format!("{TARO},TKK,2026-06-12,千代田健診センター,HbA1c,6.1 %"),
        format!("{TARO},TKK,2026-06-12,千代田健診センター,血圧,132/84 mmHg"),
        format!("{TARO},SHJ,2019-02-05,千代田中央病院,腹腔鏡下胆嚢摘出術,"),
        format!("{HANAKO},YZK,2026-11-05,さくら薬局,ドネペジル塩酸塩OD錠5mg,1日1回 28日分"),
    ]
}

#[test]
fn good_rows_are_imported_and_a_reimport_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_persons(dir.path());
    let file = records_csv(dir.path(), "r.csv", &good_lines());
    let out = import(&data, &file, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("6 rows read")
            && stderr(&out).contains("6 inserted, 0 unchanged, 0 rejected"),
        "{}",
        stderr(&out)
    );
    let out = import(&data, &file, &["--batch-size", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 inserted, 6 unchanged, 0 rejected"),
        "{}",
        stderr(&out)
    );

    let all = records(&data, &taro(), RecordKind::ALL);
    let summary: Vec<(RecordKind, String, &str, Option<&str>)> = all
        .iter()
        .map(|r| (r.kind(), r.date().to_string(), r.name(), r.detail()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                RecordKind::Medication,
                "2026-10-13".to_owned(),
                "アムロジピン錠5mg",
                Some("1日1回朝食後 28日分")
            ),
            (
                RecordKind::Clinical,
                "2026-10-13".to_owned(),
                "高血圧症",
                Some("継続")
            ),
            (
                RecordKind::HealthCheckup,
                "2026-06-12".to_owned(),
                "HbA1c",
                Some("6.1 %")
            ),
            (
                RecordKind::HealthCheckup,
                "2026-06-12".to_owned(),
                "血圧",
                Some("132/84 mmHg")
            ),
            (
                RecordKind::Surgery,
                "2019-02-05".to_owned(),
                "腹腔鏡下胆嚢摘出術",
                None
            ),
        ]
    );
    assert_eq!(all[0].provider(), "さくら薬局");
    // Only the kinds asked for, and each person's own.
    let checkups = records(&data, &taro(), &[RecordKind::HealthCheckup]);
    assert_eq!(checkups.len(), 2);
    let theirs = records(&data, &hanako(), RecordKind::ALL);
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].name(), "ドネペジル塩酸塩OD錠5mg");
}

#[test]
fn every_kind_of_bad_row_is_rejected_with_all_its_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_persons(dir.path());
    let long = "長".repeat(201);
    let lines = [
        format!("{TARO},YZK,2026-10-13,さくら薬局,アムロジピン錠5mg,28日分"), // 2: good
        "06130487,77,1001,00,YZK,2026-10-13,薬局,薬,".to_owned(),             // 3: check digit
        "06130488,77,,0,SRJ,2026-10-13,医院,高血圧症,".to_owned(),            // 4: number, branch
        format!("{TARO},TSR,2026-10-13,医院,高血圧症,"),                      // 5: unknown kind
        format!("{TARO},SRJ,2026-02-30,医院,高血圧症,"),                      // 6: no such day
        format!("{TARO},SRJ,2026/10/13,医院,高血圧症,"),                      // 7: date format
        format!("{TARO},SRJ,2999-01-01,医院,高血圧症,"),                      // 8: in the future
        format!("{TARO},SRJ,2026-10-13,,,"),                                  // 9: provider, name
        format!("{TARO},SRJ,2026-10-13,医院,{long},\"a\tb\""), // 10: too long, control
        format!("{TARO},SRJ,2026-10-13"),                      // 11: short line
        format!("{TARO},YZK,2026-10-13,さくら薬局,アムロジピン錠5mg,28日分"), // 12: same as 2
        "06130488,77,9999,00,YZK,2026-10-13,薬局,薬,".to_owned(), // 13: unknown person
        format!("{TARO},,2026-10-13,医院,高血圧症,"),          // 14: kind missing
    ];
    let file = records_csv(dir.path(), "bad.csv", &lines);
    let rejects = dir.path().join("rejects.csv");
    let out = import(&data, &file, &["--rejects", rejects.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("13 rows read")
            && stderr(&out).contains("1 inserted, 0 unchanged, 12 rejected"),
        "{}",
        stderr(&out)
    );
    let report = std::fs::read_to_string(&rejects).unwrap();
    assert!(report.starts_with("line,column,reason\n"), "{report}");
    let mut rows: Vec<(u64, String)> = csv::Reader::from_reader(report.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].parse().unwrap(), r[1].to_owned())
        })
        .collect();
    // Unknown persons are found when their batch is written, so reported after.
    rows.sort();
    let expected: Vec<(u64, String)> = [
        (3, "insurer_number"),
        (4, "number"),
        (4, "branch"),
        (5, "kind"),
        (6, "date"),
        (7, "date"),
        (8, "date"),
        (9, "provider"),
        (9, "name"),
        (10, "name"),
        (10, "detail"),
        (11, ""),
        (12, ""),
        (13, ""),
        (14, "kind"),
    ]
    .iter()
    .map(|&(l, c)| (l, c.to_owned()))
    .collect();
    let mut expected = expected;
    expected.sort();
    assert_eq!(rows, expected, "{report}");
    for reason in [
        "check digit",
        "unknown code (YZK",
        "2026-02-30 is not a day of the calendar",
        "a date is written YYYY-MM-DD",
        "2999-01-01 is in the future",
        "longer than 200 characters",
        "control character",
        "6 fields where the header has 9 columns",
        "the same record as line 2",
        "no insured person has this insurer_number, symbol, number and branch",
    ] {
        assert!(report.contains(reason), "{reason}: {report}");
    }
    // Only the good line was written.
    let all = records(&data, &taro(), RecordKind::ALL);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name(), "アムロジピン錠5mg");

    // Without --rejects, the same report goes to standard error.
    let out = import(&data, &file, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("line 3: insurer_number: the check digit"),
        "{err}"
    );
    assert!(err.contains("line 13: no insured person"), "{err}");
    assert!(
        err.contains("0 inserted, 1 unchanged, 12 rejected"),
        "{err}"
    );
}

#[test]
fn an_unknown_person_loses_nothing_else_of_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_persons(dir.path());
    let lines = [
        format!("{TARO},YZK,2026-10-13,薬局,薬A,"),
        "06130488,77,9999,00,YZK,2026-10-13,薬局,薬B,".to_owned(),
        format!("{HANAKO},YZK,2026-10-13,薬局,薬C,"),
        format!("{TARO},YZK,2026-10-14,薬局,薬D,"),
    ];
    let file = records_csv(dir.path(), "r.csv", &lines);
    let out = import(&data, &file, &["--batch-size", "3"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 3: no insured person"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("3 inserted, 0 unchanged, 1 rejected"),
        "{}",
        stderr(&out)
    );
    assert_eq!(records(&data, &taro(), RecordKind::ALL).len(), 2);
    assert_eq!(records(&data, &hanako(), RecordKind::ALL).len(), 1);
}

#[test]
fn unusable_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_persons(dir.path());
    let cases: [(&str, Option<String>, &str); 5] = [
        ("missing.csv", None, "cannot read"),
        ("empty.csv", Some(String::new()), "no header row"),
        (
            "noheader.csv",
            Some(format!("{}\n", good_lines()[0])),
            "unknown column",
        ),
        ("twice.csv", Some(format!("{HEADER},kind\n")), "named twice"),
        (
            "lacking.csv",
            Some("insurer_number,number,kind,date\n".to_owned()),
            "provider, name",
        ),
    ];
    for (name, text, message) in cases {
        let path = dir.path().join(name);
        if let Some(text) = text {
            std::fs::write(&path, text).unwrap();
        }
        let out = import(&data, &path, &[]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{name}: {}", stderr(&out));
    }
    // No database: refused rather than made empty (every line would be rejected).
    let file = records_csv(dir.path(), "r.csv", &good_lines());
    let elsewhere = dir.path().join("elsewhere");
    let out = import(&elsewhere, &file, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no Zaitaku database"),
        "{}",
        stderr(&out)
    );
    assert!(!elsewhere.exists());
    assert!(records(&data, &taro(), RecordKind::ALL).is_empty());
}

#[test]
fn optional_columns_may_be_left_out_and_columns_come_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_persons(dir.path());
    let path = write(
        dir.path(),
        "few.csv",
        "\u{feff}name,kind,date,provider,number,insurer_number\n\
         国保の薬,YZK,2026-10-13,薬局,20345,138008\n",
    );
    let out = import(&data, &path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let found = records(&data, &hanako(), &[RecordKind::Medication]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name(), "国保の薬");
    assert_eq!(found[0].detail(), None);
}

#[test]
fn help_names_the_columns() {
    let out = zaitaku()
        .args(["admin", "records", "import", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for column in [
        "insurer_number",
        "symbol",
        "number",
        "branch",
        "kind",
        "date",
        "provider",
        "name",
        "detail",
        "--rejects",
        "--batch-size",
    ] {
        assert!(help.contains(column), "{column}: {help}");
    }
}
