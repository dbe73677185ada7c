//! Schema migrations: SQL files compiled into the binary, applied in order, each
//! in its own transaction together with its row in `schema_migrations`. A file
//! once released is never edited; a change is a new file.

use crate::codec::instant;
use crate::error::StoreError;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "flow_b",
        sql: include_str!("../../migrations/sqlite/0002_flow_b.sql"),
    },
    Migration {
        version: 3,
        name: "handoff",
        sql: include_str!("../../migrations/sqlite/0003_handoff.sql"),
    },
    Migration {
        version: 4,
        name: "person_key",
        sql: include_str!("../../migrations/sqlite/0004_person_key.sql"),
    },
    Migration {
        version: 5,
        name: "staff",
        sql: include_str!("../../migrations/sqlite/0005_staff.sql"),
    },
    Migration {
        version: 6,
        name: "records",
        sql: include_str!("../../migrations/sqlite/0006_records.sql"),
    },
    Migration {
        version: 7,
        name: "trust",
        sql: include_str!("../../migrations/sqlite/0007_trust.sql"),
    },
    Migration {
        version: 8,
        name: "console",
        sql: include_str!("../../migrations/sqlite/0008_console.sql"),
    },
    Migration {
        version: 9,
        name: "revocation",
        sql: include_str!("../../migrations/sqlite/0009_revocation.sql"),
    },
    Migration {
        version: 10,
        name: "login_throttle",
        sql: include_str!("../../migrations/sqlite/0010_login_throttle.sql"),
    },
    Migration {
        version: 11,
        name: "enrolment_secret",
        sql: include_str!("../../migrations/sqlite/0011_enrolment_secret.sql"),
    },
    Migration {
        version: 12,
        name: "lifecycle",
        sql: include_str!("../../migrations/sqlite/0012_lifecycle.sql"),
    },
    Migration {
        version: 13,
        name: "caps",
        sql: include_str!("../../migrations/sqlite/0013_caps.sql"),
    },
    Migration {
        version: 14,
        name: "retention",
        sql: include_str!("../../migrations/sqlite/0014_retention.sql"),
    },
    Migration {
        version: 15,
        name: "challenge_institution",
        sql: include_str!("../../migrations/sqlite/0015_challenge_institution.sql"),
    },
    Migration {
        version: 16,
        name: "devices",
        sql: include_str!("../../migrations/sqlite/0016_devices.sql"),
    },
    Migration {
        version: 17,
        name: "audit_chain",
        sql: include_str!("../../migrations/sqlite/0017_audit_chain.sql"),
    },
    Migration {
        version: 18,
        name: "flow_origin_and_result",
        sql: include_str!("../../migrations/sqlite/0018_flow_origin_and_result.sql"),
    },
    Migration {
        version: 19,
        name: "invitations",
        sql: include_str!("../../migrations/sqlite/0019_invitations.sql"),
    },
];

/// The logical schema version (`crate::SCHEMA_VERSION`) a stored version
/// stands for: on SQLite, the same number.
pub fn logical_version(stored: i64) -> i64 {
    stored
}

/// Bring the schema up to date. Refuses a database migrated by a newer Zaitaku.
pub fn run(conn: &mut Connection) -> Result<(), StoreError> {
    prepare(conn).map_err(|e| StoreError::Migration(e.to_string()))?;
    let newest = conn
        .query_row("SELECT max(version) FROM schema_migrations", [], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newest) = newest.filter(|&v| v > known) {
        return Err(StoreError::Migration(format!(
            "the database is at schema version {}, newer than this program's {}",
            logical_version(newest),
            logical_version(known),
        )));
    }
    for migration in MIGRATIONS {
        apply(conn, migration).map_err(|e| {
            StoreError::Migration(format!("{:04}_{}: {e}", migration.version, migration.name))
        })?;
    }
    Ok(())
}

fn prepare(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            applied_at INTEGER NOT NULL
        )",
    )?;
    // Databases made before this runner were migrated by sqlx, from the same
    // files: take over its record of what was applied.
    let fresh = tx
        .query_row("SELECT 1 FROM schema_migrations LIMIT 1", [], |_| Ok(()))
        .optional()?
        .is_none();
    let from_sqlx = tx
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if fresh && from_sqlx {
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) \
             SELECT version, ? FROM _sqlx_migrations WHERE success",
            [instant(OffsetDateTime::now_utc())],
        )?;
    }
    tx.commit()
}

fn apply(conn: &mut Connection, migration: &Migration) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let applied = tx
        .query_row(
            "SELECT 1 FROM schema_migrations WHERE version = ?",
            [migration.version],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !applied {
        tx.execute_batch(migration.sql)?;
        if migration.version == crate::audit::CHAINS_FROM_VERSION {
            // The rows written before the chains join them, in the migration's transaction.
            super::audit::chain_pending(&tx)?;
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
            [migration.version, instant(OffsetDateTime::now_utc())],
        )?;
    }
    Ok(tx.commit()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_last_migration_is_the_logical_schema_version() {
        let last = super::MIGRATIONS.last().unwrap().version;
        assert_eq!(super::logical_version(last), crate::SCHEMA_VERSION);
    }

    use super::*;

    fn versions(conn: &Connection) -> Vec<i64> {
        let mut statement = conn
            .prepare("SELECT version FROM schema_migrations ORDER BY version")
            .unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn institutions_from_before_devices_keep_anyone() {
        let mut conn = Connection::open_in_memory().unwrap();
        prepare(&mut conn).unwrap();
        for migration in MIGRATIONS.iter().filter(|m| m.version < 16) {
            apply(&mut conn, migration).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO institutions (code, name, offered_items, e_prescription, \
             consent_validity_days, url_token, created_at) \
             VALUES ('1310123458', 'x', 'YZK', '0', 365, 't', 0)",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let flows_from: String = conn
            .query_row("SELECT flows_from FROM institutions", [], |row| row.get(0))
            .unwrap();
        assert_eq!(flows_from, "anyone");
    }

    #[test]
    fn applies_each_migration_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        run(&mut conn).unwrap();
        assert_eq!(
            versions(&conn),
            [
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
            ]
        );
        conn.execute_batch("SELECT id FROM consent_history")
            .unwrap();
    }

    #[test]
    fn the_chains_migration_chains_the_rows_already_there_in_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        prepare(&mut conn).unwrap();
        for m in MIGRATIONS
            .iter()
            .filter(|m| m.version < crate::audit::CHAINS_FROM_VERSION)
        {
            apply(&mut conn, m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO staff_logins (at, login_name, outcome) VALUES (1, 'a', 'unknown_login');
             INSERT INTO staff_logins (at, login_name, outcome) VALUES (2, 'b', 'unknown_login');",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let chains = super::super::audit::snapshot(&conn, None).unwrap();
        assert_eq!(chains.len(), 1);
        let seqs: Vec<_> = chains[0].entries.iter().map(|e| (e.id, e.seq)).collect();
        assert_eq!(seqs, [(1, Some(1)), (2, Some(2))]);
        assert!(crate::audit::verify_chain(&chains[0], None).intact());
        // A row written later without a place is not chained by a later start.
        conn.execute_batch(
            "INSERT INTO staff_logins (at, login_name, outcome) VALUES (3, 'c', 'unknown_login')",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let chains = super::super::audit::snapshot(&conn, None).unwrap();
        assert_eq!(
            crate::audit::verify_chain(&chains[0], None),
            crate::audit::Finding::Inserted { id: 3 }
        );
    }

    #[test]
    fn takes_over_a_database_sqlx_migrated() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        // The table sqlx 0.9 keeps.
        conn.execute_batch(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL);
             INSERT INTO _sqlx_migrations VALUES (1, 'initial', CURRENT_TIMESTAMP, TRUE, x'00', 1);",
        )
        .unwrap();
        run(&mut conn).unwrap();
        assert_eq!(
            versions(&conn),
            [
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
            ]
        );
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)",
            [],
        )
        .unwrap();
        assert!(matches!(run(&mut conn), Err(StoreError::Migration(_))));
    }
}
