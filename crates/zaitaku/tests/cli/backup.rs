//! `zaitaku admin backup` and `admin restore`: a backup taken while flows run
//! holds every consent acknowledged before it began and restores to a sound
//! database; restore waits for the service to stop and keeps the old file.

use crate::kit::{Browser, admin, card_auth, refused, start_demo_in, stdout, until_authentication};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The row count `admin backup`/`restore` printed for `table`.
fn rows(printed: &str, table: &str) -> i64 {
    printed
        .lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(table)).then(|| words.next().unwrap().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no {table} in {printed}"))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_backup_taken_under_load_restores_every_consent_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let demo = start_demo_in(&data);
    let database = data.join("zaitaku.sqlite3");

    let first = dir.path().join("first.sqlite3");
    let out = admin(&data, &["backup", "--to", first.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before_load = rows(&stdout(&out), "consent_history");
    assert_eq!(mode(&first), 0o600);

    // A bounded load: registrations, one after another, on another thread.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let load = {
        let acknowledged = Arc::clone(&acknowledged);
        let base = demo.base.clone();
        let institutions = demo.institutions.clone();
        let cards = demo.cards.clone();
        std::thread::spawn(move || {
            let mut browser = Browser::demo_device(&base);
            for round in 0..8 {
                let (card, pin) = [("yamada.card", "1234"), ("nakamura.card", "9012")][round % 2];
                let (flow, link) =
                    until_authentication(&mut browser, &institutions[(round / 2) % 2]);
                let out = card_auth(&cards.join(card), pin, &link);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let done = browser.get(&format!("{flow}/complete")).body;
                assert!(done.contains("資格確認・登録完了"), "{done}");
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while acknowledged.load(Ordering::SeqCst) < 3 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let acknowledged_before = acknowledged.load(Ordering::SeqCst);
    let taken = dir.path().join("taken.sqlite3");
    let out = admin(&data, &["backup", "--to", taken.to_str().unwrap()]);
    let printed = stdout(&out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.contains(&format!(
            "integrity ok, schema version {}",
            zaitaku_store::SCHEMA_VERSION
        )),
        "{printed}"
    );
    load.join().unwrap();
    let in_backup = rows(&printed, "consent_history");
    assert!(
        in_backup >= before_load + acknowledged_before as i64,
        "{in_backup} history rows, {before_load} before the load + {acknowledged_before} acknowledged"
    );
    assert_eq!(mode(&taken), 0o600);

    // Never over an existing file, unless told to.
    let out = admin(&data, &["backup", "--to", taken.to_str().unwrap()]);
    refused(&out, 2, "exists: give another file, or --force");
    let replaced = dir.path().join("replaced.sqlite3");
    std::fs::write(&replaced, "an older backup").unwrap();
    let out = admin(
        &data,
        &["backup", "--force", "--to", replaced.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&replaced), 0o600);
    assert_ne!(std::fs::read(&replaced).unwrap(), b"an older backup");

    // While the service runs, restore refuses and leaves the database alone.
    let out = admin(&data, &["restore", taken.to_str().unwrap()]);
    refused(&out, 2, "in use by a running `zaitaku serve`");
    assert!(database.exists());

    drop(demo);
    let out = admin(&data, &["restore", taken.to_str().unwrap()]);
    let printed = stdout(&out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows(&printed, "consent_history"), in_backup);
    assert_eq!(mode(&database), 0o600);
    let kept: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("zaitaku.sqlite3.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(printed.contains(&kept[0]), "{printed}");
    assert!(!data.join("zaitaku.sqlite3-wal").exists());
    // The previous database, all of it (the load's last registrations too).
    let check = dir.path().join("check.sqlite3");
    let out = crate::kit::zaitaku()
        .args(["admin", "backup", "--to"])
        .arg(&check)
        .arg("--database-url")
        .arg(format!("sqlite:{}", data.join(&kept[0]).display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        rows(&stdout(&out), "consent_history"),
        before_load + 8,
        "the kept database holds the whole load"
    );

    // The restored database is the service's again.
    let demo = start_demo_in(&data);
    let mut browser = Browser::demo_device(&demo.base);
    let (flow, link) = until_authentication(&mut browser, &demo.institutions[0]);
    let out = card_auth(&demo.cards.join("yamada.card"), "1234", &link);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        browser
            .get(&format!("{flow}/complete"))
            .body
            .contains("資格確認・登録完了")
    );
}

#[test]
fn restore_refuses_a_file_that_is_not_a_sound_zaitaku_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let junk = dir.path().join("junk.sqlite3");
    std::fs::write(&junk, vec![7u8; 8192]).unwrap();
    let out = admin(&data, &["restore", junk.to_str().unwrap()]);
    refused(&out, 2, "cannot be restored");
    assert!(!data.join("zaitaku.sqlite3").exists(), "nothing installed");
    let out = admin(
        &data,
        &["restore", dir.path().join("missing").to_str().unwrap()],
    );
    refused(&out, 2, "no backup file at");
}

#[test]
fn backup_of_a_postgresql_database_gives_the_pg_dump_command_instead() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::kit::zaitaku()
        .args(["admin", "backup", "--to"])
        .arg(dir.path().join("z.dump"))
        .args([
            "--database-url",
            "postgres://zaitaku:s3cret@db.example.jp/zaitaku",
        ])
        .output()
        .unwrap();
    refused(&out, 2, "pg_dump --format=custom");
    let said = crate::kit::stderr(&out);
    assert!(
        said.contains("'postgres://zaitaku@db.example.jp/zaitaku'"),
        "{said}"
    );
    assert!(said.contains("--exclude-table-data=sessions"), "{said}");
    assert!(!said.contains("s3cret"), "{said}");
    assert!(!dir.path().join("z.dump").exists());
}
