//! `zaitaku admin staff unlock --login NAME` (issue 17): lifts the lock of
//! wrong codes and the password-attempt waits, keeps the credentials.

use crate::kit;
use std::path::Path;
use std::process::Output;
use time::{Duration, OffsetDateTime};
use zaitaku_domain::{LoginName, LoginOutcome};
use zaitaku_store::prelude::*;
use zaitaku_store::{AttemptClaim, AttemptKey, Lockout, LoginRecord, SqliteStore, ThrottlePolicy};

const CODE: &str = "1310123458";

fn admin(data: &Path, group: &str, args: &[&str]) -> Output {
    let mut all = vec![group];
    all.extend_from_slice(args);
    kit::admin(data, &all)
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

#[tokio::test]
async fn unlock_lifts_the_lock_and_the_waits_and_refuses_an_unknown_login() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(&admin(
        data,
        "institution",
        &[
            "add",
            "--code",
            CODE,
            "--name",
            "在宅クリニック",
            "--public-origin",
            "https://zaitaku.example.jp",
        ],
    ));
    ok(&admin(
        data,
        "staff",
        &[
            "add",
            "--institution",
            CODE,
            "--login",
            "sato",
            "--name",
            "佐藤 花子",
            "--role",
            "staff",
        ],
    ));
    // Five wrong codes lock it; a stranger's guesses made its unknown browsers wait.
    let login = LoginName::parse("sato").unwrap();
    let now = OffsetDateTime::now_utc();
    let account = {
        let store = SqliteStore::open(&data.join("zaitaku.sqlite3"))
            .await
            .unwrap();
        let account = store.staff_by_login(&login).await.unwrap().unwrap();
        let policy = ThrottlePolicy {
            free_attempts: 5,
            first_delay: Duration::minutes(1),
            max_delay: Duration::hours(1),
        };
        for _ in 0..5 {
            store
                .claim_login_attempt(&AttemptKey::Account(account.id), now, &policy)
                .await
                .unwrap();
        }
        for _ in 0..5 {
            let attempt = LoginRecord {
                at: now,
                login_name: "sato".into(),
                staff_id: Some(account.id),
                institution_id: Some(account.institution_id),
                outcome: LoginOutcome::WrongCode,
            };
            let lockout = Lockout {
                max_failures: 5,
                duration: Duration::minutes(15),
            };
            store
                .record_login_failure(&attempt, &lockout)
                .await
                .unwrap();
        }
        store.close().await;
        account
    };
    let list = admin(data, "staff", &["list", "--institution", CODE]);
    ok(&list);
    assert!(String::from_utf8_lossy(&list.stdout).contains("\tlocked"));

    let unlocked = ok(&admin(data, "staff", &["unlock", "--login", "sato"]));
    assert!(unlocked.contains("unlocked sato"), "{unlocked}");
    let list = admin(data, "staff", &["list", "--institution", CODE]);
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listed.contains("\tenrolment-pending"), "{listed}");

    let store = SqliteStore::open(&data.join("zaitaku.sqlite3"))
        .await
        .unwrap();
    let key = AttemptKey::Account(account.id);
    assert_eq!(store.login_attempts(&key).await.unwrap(), None);
    let after = store.staff_by_login(&login).await.unwrap().unwrap();
    assert_eq!(after.totp_secret, account.totp_secret, "credentials kept");
    let policy = ThrottlePolicy {
        free_attempts: 5,
        first_delay: Duration::minutes(1),
        max_delay: Duration::hours(1),
    };
    assert_eq!(
        store.claim_login_attempt(&key, now, &policy).await.unwrap(),
        AttemptClaim::Counted(1)
    );
    store.close().await;

    let unknown = admin(data, "staff", &["unlock", "--login", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no staff account"));
}
