//! `zaitaku admin audit verify|head` against tampering done directly in the
//! database, as an operator with database access could: an edited, a
//! deleted and a reordered row of each chain (the consent history, the access
//! log, the login log) is named and exits 1; an intact database exits 0; a
//! check that cannot run exits 2; a purge leaves a chain that verifies; a
//! deleted tail with its head row rewound is caught against a saved head.
//! The database's triggers refuse an edit first; the tests drop them, as an
//! operator set on editing would, and the chain still shows it.
//! SQLite through the `sqlite3` program, PostgreSQL through `psql` on a fresh
//! schema of `ZAITAKU_TEST_DATABASE_URL` (skipped, saying so, without it).

use crate::kit::{stderr, stdout, zaitaku};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use time::macros::date;
use time::{Duration, OffsetDateTime};
use zaitaku_domain::{
    CardAuthentication, ConsentChoices, ConsentItem, EPrescriptionUsage, FlowStep, InstitutionCode,
    InsurerNumber, LoginOutcome, Purpose, Qualification, QualificationValidity, Relationship, Sex,
    StaffId, UrlToken,
};
use zaitaku_store::postgres::TestSchema;
use zaitaku_store::{
    AccessAction, AccessActor, AccessEntry, ChallengeRecord, ChallengeState, FlowRecord,
    LoginRecord, NewInstitution, RegistrationWrite, SqliteStore, StaffActor, Store,
};

const CODE: &str = "1310123458";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A database of one backend, and how to reach it from outside.
enum Db {
    Sqlite {
        _dir: tempfile::TempDir,
        data: PathBuf,
    },
    Postgres(TestSchema),
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        Db::Sqlite { _dir: dir, data }
    }

    fn postgres() -> Option<Db> {
        let url = TestSchema::database_url()?;
        Some(Db::Postgres(runtime().block_on(TestSchema::create(&url))))
    }

    async fn store(&self) -> Arc<dyn Store> {
        match self {
            Db::Sqlite { data, .. } => Arc::new(
                SqliteStore::open(&data.join("zaitaku.sqlite3"))
                    .await
                    .unwrap(),
            ),
            Db::Postgres(schema) => Arc::new(schema.store().await),
        }
    }

    /// `zaitaku admin ARGS` on this database.
    fn admin(&self, args: &[&str]) -> Output {
        let mut command = zaitaku();
        command.arg("admin").args(args);
        match self {
            Db::Sqlite { data, .. } => command.arg("--data-dir").arg(data),
            Db::Postgres(schema) => command.args(["--database-url", &schema.url()]),
        };
        command.output().unwrap()
    }

    /// Run SQL directly on the database, behind Zaitaku's back.
    fn sql(&self, statements: &str) {
        let out = match self {
            Db::Sqlite { data, .. } => Command::new("sqlite3")
                .arg(data.join("zaitaku.sqlite3"))
                .arg(statements)
                .output()
                .unwrap(),
            Db::Postgres(schema) => Command::new("psql")
                .args([
                    &schema.url(),
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-q",
                    "-c",
                    statements,
                ])
                .output()
                .unwrap(),
        };
        assert!(out.status.success(), "{statements}: {}", stderr(&out));
    }
}

impl Db {
    /// Drop the trigger that refuses UPDATEs of `table`'s chained entries, as
    /// an operator set on editing would: the chain still shows the edit.
    fn drop_trigger(&self, table: &str) {
        self.sql(&match self {
            Db::Sqlite { .. } => format!("DROP TRIGGER {table}_sealed"),
            Db::Postgres(_) => format!("DROP TRIGGER {table}_sealed ON {table}"),
        });
    }

    /// Run SQL that must fail; what the database said.
    fn sql_refused(&self, statement: &str) -> String {
        let out = match self {
            Db::Sqlite { data, .. } => Command::new("sqlite3")
                .arg(data.join("zaitaku.sqlite3"))
                .arg(statement)
                .output()
                .unwrap(),
            Db::Postgres(schema) => Command::new("psql")
                .args([
                    &schema.url(),
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-q",
                    "-c",
                    statement,
                ])
                .output()
                .unwrap(),
        };
        assert!(!out.status.success(), "{statement} was allowed");
        stderr(&out)
    }
}

/// Run `case` on SQLite, then on PostgreSQL when a test database is named.
fn on_both(case: impl Fn(&Db)) {
    case(&Db::sqlite());
    match Db::postgres() {
        Some(db) => case(&db),
        None => eprintln!("skipped on PostgreSQL: ZAITAKU_TEST_DATABASE_URL is not set"),
    }
}

fn qualification(number: &str) -> Qualification {
    Qualification {
        insurer_number: InsurerNumber::parse("06130488").unwrap(),
        insurer_name: "組合".into(),
        symbol: None,
        number: number.into(),
        branch: None,
        relationship: Relationship::Insured,
        name: "山田 太郎".into(),
        name_kana: "ヤマダ タロウ".into(),
        sex: Sex::Male,
        birth_date: date!(1960 - 01 - 01),
        address: "東京都".into(),
        postal_code: "100-0001".into(),
        acquired_on: date!(2020 - 01 - 01),
        lost_on: None,
        loss_reason: None,
        valid_from: None,
        valid_until: None,
        burden_ratio: None,
        elderly: None,
        limit: None,
        specific_disease: None,
        validity: QualificationValidity::Valid,
    }
}

/// Three entries in each of the institution's chains (ids 1, 2, 3 of each
/// table), written `at`.
fn populate(db: &Db, at: OffsetDateTime) {
    runtime().block_on(async {
        let store = db.store().await;
        let institution = store
            .insert_institution(&NewInstitution {
                code: InstitutionCode::parse(CODE).unwrap(),
                name: "クリニック".into(),
                offered_items: vec![ConsentItem::Medication],
                e_prescription: EPrescriptionUsage::NotUsed,
                consent_validity_days: 30,
                url_token: UrlToken::parse(&"t".repeat(43)).unwrap(),
                flows_from: zaitaku_domain::FlowsFrom::Anyone,
            })
            .await
            .unwrap();
        for i in 1..=3 {
            // A registration through flow A: one consent history entry.
            let person = store
                .insert_person(&qualification(&i.to_string()))
                .await
                .unwrap();
            let choices = ConsentChoices::none_of(&[ConsentItem::Medication]);
            let mut flow = FlowRecord {
                id: format!("flow-{i}-0123456789abcdef"),
                session_hash: "s".into(),
                institution_id: institution.id,
                purpose: Purpose::Register,
                step: FlowStep::Select,
                challenge_ref: None,
                person_id: None,
                consent_id: None,
                created_at: OffsetDateTime::now_utc(),
                expires_at: OffsetDateTime::now_utc() + Duration::minutes(30),
                version: 0,
                device_id: None,
                url_token: institution.url_token.clone(),
                closed_at: None,
            };
            store.insert_flow(&flow).await.unwrap();
            let reference = format!("challenge-{i}-0123456789ab");
            let now = OffsetDateTime::now_utc();
            let challenge = ChallengeRecord {
                reference: reference.clone(),
                nonce: format!("{reference:n<44}"),
                flow_id: flow.id.clone(),
                session_hash: flow.session_hash.clone(),
                purpose: Purpose::Register,
                created_at: now,
                expires_at: now + Duration::minutes(5),
                state: ChallengeState::Pending,
                claim_hash: None,
                claimed_at: None,
                settled_at: None,
            };
            flow.step = FlowStep::Authenticate(choices.clone());
            flow.challenge_ref = Some(reference.clone());
            assert!(store.update_flow(&flow, Some(&challenge)).await.unwrap());
            store
                .settle_registration(&RegistrationWrite {
                    challenge_ref: reference,
                    flow_id: flow.id.clone(),
                    institution_id: institution.id,
                    person_id: person,
                    choices,
                    expires_on: date!(2027 - 01 - 01),
                    at,
                    authentication: CardAuthentication {
                        certificate_issuer: "CN=Test".into(),
                        certificate_serial: format!("0{i}"),
                        revocation: "good".into(),
                    },
                })
                .await
                .unwrap();
            store
                .record_access(&AccessEntry {
                    at,
                    institution: Some(institution.id),
                    actor: AccessActor::Staff(StaffActor {
                        id: StaffId(7),
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
            store
                .record_login(&LoginRecord {
                    at,
                    login_name: "who".into(),
                    staff_id: None,
                    institution_id: Some(institution.id),
                    outcome: LoginOutcome::UnknownLogin,
                })
                .await
                .unwrap();
        }
        store.close().await;
    });
}

fn verify(db: &Db, extra: &[&str]) -> Output {
    let mut args = vec!["audit", "verify"];
    args.extend_from_slice(extra);
    db.admin(&args)
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        stdout(out),
        stderr(out)
    );
}

/// `verify` exits 1 and names `needle` on the line of `table`'s chain.
fn tampered(db: &Db, table: &str, needle: &str) {
    let out = verify(db, &[]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{table} of institution {CODE}")))
        .unwrap_or_else(|| panic!("no line for {table}: {text}"));
    assert!(line.contains(needle), "{needle:?} not in {line:?}");
    // The other chains still verify.
    for other in text.lines().filter(|l| !l.starts_with(table)) {
        assert!(other.contains(": intact"), "{other}");
    }
}

const TABLES: [&str; 3] = ["consent_history", "access_log", "staff_logins"];

#[test]
fn an_intact_database_verifies_and_the_result_is_kept() {
    on_both(|db| {
        populate(db, OffsetDateTime::now_utc());
        let out = verify(db, &[]);
        assert_exit(&out, 0);
        let text = stdout(&out);
        for table in TABLES {
            assert!(
                text.contains(&format!(
                    "{table} of institution {CODE}: intact: 3 entries, head at sequence 3"
                )),
                "{text}"
            );
        }
        assert_exit(&verify(db, &["--institution", CODE]), 0);
        let last = runtime().block_on(async {
            let store = db.store().await;
            let institution = store
                .institution_by_code(&InstitutionCode::parse(CODE).unwrap())
                .await
                .unwrap()
                .unwrap();
            store.last_audit_verification(institution.id).await.unwrap()
        });
        assert!(last.unwrap().intact);
    });
}

#[test]
fn an_edited_row_is_named_by_its_id() {
    for table in TABLES {
        on_both(|db| {
            populate(db, OffsetDateTime::now_utc());
            // The database refuses the edit first; without its trigger, the
            // chain shows it.
            let said = db.sql_refused(&format!("UPDATE {table} SET at = at + 1 WHERE id = 2"));
            assert!(said.contains("never changed once chained"), "{said}");
            db.drop_trigger(table);
            db.sql(&format!("UPDATE {table} SET at = at + 1 WHERE id = 2"));
            tampered(db, table, "entry id 2 (sequence 2) was edited");
        });
    }
}

#[test]
fn a_deleted_row_leaves_a_gap_that_is_named() {
    for table in TABLES {
        on_both(|db| {
            populate(db, OffsetDateTime::now_utc());
            db.sql(&format!("DELETE FROM {table} WHERE id = 2"));
            tampered(db, table, "sequence 2 is missing after entry id 1");
        });
    }
}

#[test]
fn a_reordered_row_is_named() {
    for table in TABLES {
        on_both(|db| {
            populate(db, OffsetDateTime::now_utc());
            // Swap the places of entries 2 and 3 (through a free number: the
            // places are unique).
            db.drop_trigger(table);
            db.sql(&format!(
                "UPDATE {table} SET chain_seq = -1 WHERE id = 2; \
                 UPDATE {table} SET chain_seq = 2 WHERE id = 3; \
                 UPDATE {table} SET chain_seq = 3 WHERE id = 2;"
            ));
            tampered(
                db,
                table,
                "entry id 3 (sequence 2) was reordered: it stands before entry id 2",
            );
        });
    }
}

#[test]
fn a_cut_tail_with_its_head_rewound_is_caught_against_a_saved_head() {
    on_both(|db| {
        populate(db, OffsetDateTime::now_utc());
        let head = db.admin(&["audit", "head"]);
        assert_exit(&head, 0);
        let saved = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(saved.path(), stdout(&head)).unwrap();
        let saved_path = saved.path().to_str().unwrap().to_owned();
        assert!(
            stdout(&head).contains(&format!(
                "chain=access_log institution={CODE} sequence=3 hash="
            )),
            "{}",
            stdout(&head)
        );
        assert_exit(&verify(db, &["--against", &saved_path]), 0);
        // The last entry deleted and the head row made to match what is left:
        // the chain alone looks whole.
        db.sql(
            "DELETE FROM access_log WHERE id = 3; \
             UPDATE audit_chains SET head_seq = 2, \
               head_hash = (SELECT chain_hash FROM access_log WHERE id = 2) \
             WHERE chain = 'access_log';",
        );
        assert_exit(&verify(db, &[]), 0);
        let out = verify(db, &["--against", &saved_path]);
        assert_exit(&out, 1);
        assert!(
            stdout(&out).contains("the saved head at sequence 3 is no longer in the chain"),
            "{}",
            stdout(&out)
        );
        // Without rewinding the head row, the chain itself says so.
        db.sql("DELETE FROM staff_logins WHERE id = 3");
        tampered_line(
            &verify(db, &[]),
            "staff_logins",
            "sequences 3 to 3 are missing after entry id 2",
        );
    });
}

fn tampered_line(out: &Output, table: &str, needle: &str) {
    assert_exit(out, 1);
    let text = stdout(out);
    assert!(
        text.lines()
            .any(|l| l.starts_with(table) && l.contains(needle)),
        "{needle:?} not on the {table} line: {text}"
    );
}

#[test]
fn a_purge_leaves_a_chain_that_verifies_and_still_shows_a_deletion() {
    on_both(|db| {
        // Written six years ago: past every default retention period.
        populate(db, OffsetDateTime::now_utc() - Duration::days(6 * 366));
        runtime().block_on(async {
            let store = db.store().await;
            let institution = store
                .institution_by_code(&InstitutionCode::parse(CODE).unwrap())
                .await
                .unwrap()
                .unwrap();
            for _ in 0..2 {
                store
                    .record_access(&AccessEntry {
                        at: OffsetDateTime::now_utc(),
                        institution: Some(institution.id),
                        actor: AccessActor::Cli,
                        person: None,
                        action: AccessAction::Export,
                        device_name: None,
                        detail: None,
                    })
                    .await
                    .unwrap();
            }
            store.close().await;
        });
        let purge = db.admin(&["purge"]);
        assert_exit(&purge, 0);
        assert!(
            stdout(&purge)
                .lines()
                .any(|l| l.starts_with("access_log") && l.ends_with("deleted 3")),
            "{}",
            stdout(&purge)
        );
        let out = verify(db, &[]);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains(&format!(
                "access_log of institution {CODE}: intact: 2 entries, head at sequence 5"
            )),
            "{}",
            stdout(&out)
        );
        // A deletion after the checkpoint is still a deletion.
        db.sql("DELETE FROM access_log WHERE id = 4");
        tampered(
            db,
            "access_log",
            "sequence 4 is missing at the start of the chain",
        );
    });
}

#[test]
fn a_check_that_cannot_run_exits_2() {
    let db = Db::sqlite();
    populate(&db, OffsetDateTime::now_utc());
    let out = verify(&db, &["--institution", "1310000000"]);
    assert_exit(&out, 2);
    let missing = tempfile::tempdir().unwrap();
    let out = zaitaku()
        .args(["admin", "audit", "verify", "--data-dir"])
        .arg(missing.path().join("nowhere"))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let out = zaitaku()
        .args([
            "admin",
            "audit",
            "verify",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert_exit(&out, 2);
}

#[test]
fn a_person_export_is_logged_with_the_cli_as_actor() {
    let db = Db::sqlite();
    populate(&db, OffsetDateTime::now_utc());
    let out = db.admin(&["person", "export", "--id", "1"]);
    assert_exit(&out, 0);
    let lines = runtime().block_on(async {
        let store = db.store().await;
        let institution = store
            .institution_by_code(&InstitutionCode::parse(CODE).unwrap())
            .await
            .unwrap()
            .unwrap();
        store.access_log(institution.id, 10).await.unwrap()
    });
    assert_eq!(lines[0].entry.action, AccessAction::PersonExport);
    assert_eq!(lines[0].entry.actor, AccessActor::Cli);
    assert_exit(&verify(&db, &[]), 0);
}
