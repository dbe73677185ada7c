//! `zaitaku admin insured import` and `zaitaku admin card link|unlink`, run as an
//! operator runs them, against a data directory then read back through the store.

use crate::kit::{stderr, zaitaku};
use std::path::{Path, PathBuf};
use std::process::Output;
use zaitaku_domain::check_digit::check_digit;
use zaitaku_domain::{InsuredPerson, InsurerNumber, QualificationValidity};
use zaitaku_store::prelude::*;
use zaitaku_store::{PersonKey, SqliteStore};

const HEADER: &str = "insurer_number,insurer_name,symbol,number,branch,relationship,name,\
name_kana,sex,birth_date,address,postal_code,acquired_on,lost_on,loss_reason,valid_from,\
valid_until,burden_ratio,elderly_valid_from,elderly_valid_until,elderly_burden_ratio,\
limit_category,limit_applied_category,specific_disease,validity";

fn column(name: &str) -> usize {
    HEADER.split(',').position(|c| c == name).unwrap()
}

fn with_check_digit(body: &str) -> String {
    format!("{body}{}", check_digit(body.as_bytes()))
}

/// A good record; even `n` under a health-insurance society with a symbol and
/// branch, odd `n` under a National Health Insurance number without either.
fn fields(n: u32) -> Vec<String> {
    let (insurer, symbol, branch) = if n.is_multiple_of(2) {
        (
            with_check_digit("0613048"),
            format!("{}", n % 1000),
            "00".to_owned(),
        )
    } else {
        (with_check_digit("13800"), String::new(), String::new())
    };
    let mut f: Vec<String> = [
        insurer.as_str(),
        "保険者",
        &symbol,
        &format!("{n:08}"),
        &branch,
        "1",
        "山田 太郎",
        "ヤマダ タロウ",
        "1",
        "1950-04-01",
        "東京都千代田区",
        "100-0001",
        "2020-04-01",
        "",
        "",
        "2020-04-01",
        "",
        "030",
        "",
        "",
        "",
        "",
        "",
        "",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if n.is_multiple_of(3) {
        f[column("elderly_valid_from")] = "2025-01-01".into();
        f[column("elderly_burden_ratio")] = "020".into();
        f[column("limit_category")] = "ア".into();
        f[column("limit_applied_category")] = "A01".into();
        f[column("specific_disease")] = "人工透析".into();
    }
    f
}

fn line(fields: &[String]) -> String {
    fields.join(",")
}

fn changed(n: u32, changes: &[(&str, &str)]) -> String {
    let mut f = fields(n);
    for (name, value) in changes {
        f[column(name)] = (*value).to_owned();
    }
    line(&f)
}

fn write_csv(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut text = format!("{HEADER}\n");
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn import(data: &Path, file: &Path, extra: &[&str]) -> Output {
    zaitaku()
        .args(["admin", "insured", "import", "--data-dir"])
        .arg(data)
        .args(extra)
        .arg(file)
        .output()
        .unwrap()
}

fn key(n: u32) -> PersonKey {
    let f = fields(n);
    let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
    PersonKey {
        insurer_number: InsurerNumber::parse(&f[0]).unwrap(),
        symbol: opt(&f[column("symbol")]),
        number: f[column("number")].clone(),
        branch: opt(&f[column("branch")]),
    }
}

/// Ask the data directory's store, as `zaitaku serve` would.
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

fn person(data: &Path, n: u32) -> Option<InsuredPerson> {
    with_store(data, async |s| s.person_by_key(&key(n)).await.unwrap())
}

fn linked(data: &Path, issuer: &str, serial: &str) -> Option<InsuredPerson> {
    with_store(data, async |s| {
        s.person_by_certificate(issuer, serial).await.unwrap()
    })
}

#[test]
fn good_rows_are_imported_and_a_reimport_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = write_csv(
        dir.path(),
        "q.csv",
        &[line(&fields(1)), line(&fields(2)), line(&fields(3))],
    );
    let out = import(&data, &file, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 rows read")
            && stderr(&out).contains("3 inserted, 0 updated, 0 unchanged, 0 rejected"),
        "{}",
        stderr(&out)
    );
    let out = import(&data, &file, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("0 inserted, 0 updated, 3 unchanged, 0 rejected"),
        "{}",
        stderr(&out)
    );

    let nhi = person(&data, 1).unwrap().qualification;
    assert!(nhi.insurer_number.is_national_health_insurance());
    assert_eq!((nhi.symbol, nhi.branch), (None, None));
    let full = person(&data, 3).unwrap().qualification;
    assert_eq!(full.elderly.unwrap().burden_ratio.code(), "020");
    assert_eq!(full.limit.unwrap().applied_category, "A01");
    assert_eq!(full.specific_disease.as_deref(), Some("人工透析"));
    let society = person(&data, 2).unwrap().qualification;
    assert_eq!(society.symbol.as_deref(), Some("2"));
    assert_eq!(society.branch.as_deref(), Some("00"));
}

#[test]
fn every_kind_of_bad_row_is_rejected_with_all_its_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut short = fields(9);
    short.pop();
    let lines = [
        line(&fields(1)),                                          // 2: good
        changed(2, &[("insurer_number", "06130487")]),             // 3: check digit
        changed(4, &[("birth_date", "1950-02-30")]),               // 4: no such day
        changed(6, &[("sex", "9"), ("relationship", "3")]),        // 5: unknown codes
        changed(8, &[("name", ""), ("postal_code", "1000001")]),   // 6: missing, format
        line(&short),                                              // 7: column count
        changed(10, &[("validity", "5"), ("burden_ratio", "30")]), // 8: codes
        changed(12, &[("loss_reason", "退職")]),                   // 9: without lost_on
        changed(14, &[("name_kana", "やまだ"), ("branch", "1")]),  // 10: kana, branch
        line(&fields(1)),                                          // 11: same person as 2
        changed(16, &[("acquired_on", "2020/04/01")]),             // 12: date format
    ];
    let file = write_csv(dir.path(), "bad.csv", &lines);
    let rejects = dir.path().join("rejects.csv");
    let out = import(&data, &file, &["--rejects", rejects.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("11 rows read"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 inserted, 0 updated, 0 unchanged, 10 rejected"),
        "{}",
        stderr(&out)
    );
    let report = std::fs::read_to_string(&rejects).unwrap();
    let rows: Vec<(String, String)> = report
        .lines()
        .skip(1)
        .map(|l| {
            let mut parts = l.splitn(3, ',');
            (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("3", "insurer_number"),
        ("4", "birth_date"),
        ("5", "relationship"),
        ("5", "sex"),
        ("6", "name"),
        ("6", "postal_code"),
        ("7", ""),
        ("8", "burden_ratio"),
        ("8", "validity"),
        ("9", "loss_reason"),
        ("10", "branch"),
        ("10", "name_kana"),
        ("11", ""),
        ("12", "acquired_on"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(l, c)| (l.to_string(), c.to_string()))
        .collect();
    assert_eq!(rows, expected, "{report}");
    assert!(report.starts_with("line,column,reason\n"));
    assert!(report.contains("check digit"), "{report}");
    assert!(
        report.contains("24 fields where the header has 25 columns"),
        "{report}"
    );
    assert!(report.contains("as line 2"), "{report}");
    // Only the good line was written.
    assert!(person(&data, 1).is_some());
    for n in [2, 4, 6, 8, 10, 12, 14, 16] {
        assert!(person(&data, n).is_none(), "line of {n} was written");
    }

    // Without --rejects, the same report goes to standard error.
    let out = import(&dir.path().join("data2"), &file, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("line 3: insurer_number: the check digit"),
        "{err}"
    );
    assert!(err.contains("line 7: 24 fields"), "{err}");
}

#[test]
fn a_changed_row_updates_the_person_in_place_and_keeps_its_card() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = write_csv(dir.path(), "a.csv", &[line(&fields(2)), line(&fields(3))]);
    assert_eq!(import(&data, &first, &[]).status.code(), Some(0));
    let before = person(&data, 2).unwrap();
    let out = zaitaku()
        .args([
            "admin",
            "card",
            "link",
            "--issuer",
            "CN=Test CA",
            "--serial",
            "0a1b",
        ])
        .args([
            "--insurer-number",
            &fields(2)[0],
            "--symbol",
            "2",
            "--number",
            "00000002",
            "--branch",
            "00",
        ])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let lost = changed(
        2,
        &[
            ("lost_on", "2026-03-31"),
            ("loss_reason", "退職"),
            ("validity", "2"),
        ],
    );
    let second = write_csv(dir.path(), "b.csv", &[lost, line(&fields(3))]);
    let out = import(&data, &second, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("0 inserted, 1 updated, 1 unchanged, 0 rejected"),
        "{}",
        stderr(&out)
    );
    let after = person(&data, 2).unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.qualification.validity, QualificationValidity::Invalid);
    assert_eq!(after.qualification.loss_reason.as_deref(), Some("退職"));
    let by_card = linked(&data, "CN=Test CA", "0A1B").unwrap();
    assert_eq!(by_card, after);
}

#[test]
fn unusable_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cases: [(&str, Option<String>, &str); 5] = [
        ("missing.csv", None, "cannot read"),
        ("empty.csv", Some(String::new()), "no header row"),
        (
            "noheader.csv",
            Some(format!("{}\n", line(&fields(1)))),
            "unknown column",
        ),
        (
            "unknown.csv",
            Some(format!("{HEADER},extra\n")),
            "unknown column \"extra\"",
        ),
        (
            "lacking.csv",
            Some("insurer_number,number\n".to_owned()),
            "insurer_name",
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
    // The input is checked before the database is opened.
    assert!(!data.exists());
}

#[test]
fn optional_columns_may_be_left_out_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let required = [
        "insurer_number",
        "insurer_name",
        "number",
        "relationship",
        "name",
        "name_kana",
        "sex",
        "birth_date",
        "address",
        "postal_code",
        "acquired_on",
        "validity",
    ];
    let f = fields(1);
    let values: Vec<&str> = required.iter().map(|c| f[column(c)].as_str()).collect();
    let path = dir.path().join("few.csv");
    std::fs::write(
        &path,
        format!("{}\n{}\n", required.join(","), values.join(",")),
    )
    .unwrap();
    let out = import(&data, &path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let q = person(&data, 1).unwrap().qualification;
    assert_eq!(q.burden_ratio, None);
}

#[test]
fn twenty_thousand_rows_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lines: Vec<String> = (0..20_000).map(|n| line(&fields(n))).collect();
    let file = write_csv(dir.path(), "many.csv", &lines);
    let out = import(&data, &file, &["--batch-size", "3000"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("20000 inserted"), "{}", stderr(&out));
    for n in [0, 2999, 3000, 19_999] {
        assert_eq!(
            person(&data, n).unwrap().qualification.number,
            format!("{n:08}")
        );
    }
    let out = import(&data, &file, &[]);
    assert!(stderr(&out).contains("20000 unchanged"), "{}", stderr(&out));
}

/// `cargo test -p zaitaku --release --test cli -- --ignored --nocapture admin_insured::a_million_rows`:
/// the figure the README gives.
#[test]
#[ignore = "a measurement, run by hand"]
fn a_million_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lines: Vec<String> = (0..1_000_000).map(|n| line(&fields(n))).collect();
    let file = write_csv(dir.path(), "million.csv", &lines);
    for run in ["first import", "re-import"] {
        let started = std::time::Instant::now();
        let out = import(&data, &file, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        eprintln!(
            "{run}: {:.1} s: {}",
            started.elapsed().as_secs_f64(),
            stderr(&out).trim()
        );
    }
}

#[test]
fn cards_are_linked_to_known_persons_and_unlinked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = write_csv(dir.path(), "q.csv", &[line(&fields(1)), line(&fields(2))]);
    assert_eq!(import(&data, &file, &[]).status.code(), Some(0));
    let admin_card = |args: &[&str]| {
        zaitaku()
            .args(["admin", "card"])
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap()
    };
    let nhi = fields(1)[0].clone();
    let society = fields(2)[0].clone();
    let one = ["--insurer-number", nhi.as_str(), "--number", "00000001"];
    let two = [
        "--insurer-number",
        society.as_str(),
        "--symbol",
        "2",
        "--number",
        "00000002",
        "--branch",
        "00",
    ];
    let cert = ["--issuer", "CN=Issuer", "--serial", "1F"];

    let out = admin_card(&[&["link"][..], &cert, &one].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let id1 = person(&data, 1).unwrap().id;
    assert_eq!(linked(&data, "CN=Issuer", "1F").unwrap().id, id1);
    // Again: already so.
    assert_eq!(
        admin_card(&[&["link"][..], &cert, &one].concat())
            .status
            .code(),
        Some(0)
    );
    // Another person's: refused without --replace.
    let out = admin_card(&[&["link"][..], &cert, &two].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--replace"), "{}", stderr(&out));
    assert_eq!(linked(&data, "CN=Issuer", "1F").unwrap().id, id1);
    let out = admin_card(&[&["link", "--replace"][..], &cert, &two].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        linked(&data, "CN=Issuer", "1F").unwrap().id,
        person(&data, 2).unwrap().id
    );
    // Unknown person; bad insurer number; no certificate named.
    let out = admin_card(&[
        "link",
        "--issuer",
        "CN=Issuer",
        "--serial",
        "20",
        "--insurer-number",
        &nhi,
        "--number",
        "99",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no insured person"),
        "{}",
        stderr(&out)
    );
    assert!(linked(&data, "CN=Issuer", "20").is_none());
    let out = admin_card(
        &[
            &["link"][..],
            &cert,
            &["--insurer-number", "06130487", "--number", "1"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("check digit"), "{}", stderr(&out));
    assert_eq!(
        admin_card(&["link", "--insurer-number", &nhi, "--number", "1"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        admin_card(&["unlink", "--issuer", "CN=Issuer", "--serial", "zz"])
            .status
            .code(),
        Some(2)
    );

    let out = admin_card(&[&["unlink"][..], &cert].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(linked(&data, "CN=Issuer", "1F").is_none());
    let out = admin_card(&[&["unlink"][..], &cert].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not linked"), "{}", stderr(&out));

    // A certificate file names its issuer and serial itself.
    let ca = dir.path().join("ca");
    let out = zaitaku()
        .args(["card", "ca-init", "--dir"])
        .arg(&ca)
        .output()
        .unwrap();
    assert!(out.status.success());
    let pem = ca.join("ca-cert.pem");
    let pem = pem.to_str().unwrap();
    let out = admin_card(&[&["link", "--cert", pem][..], &one].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        with_store(&data, async |s| s.person(id1).await.unwrap())
            .unwrap()
            .id,
        id1
    );
    let out = admin_card(&["unlink", "--cert", pem]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        admin_card(&["unlink", "--cert", pem]).status.code(),
        Some(1)
    );
}
