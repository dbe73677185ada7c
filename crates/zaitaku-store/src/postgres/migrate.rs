//! Schema migrations for PostgreSQL: SQL files compiled into the binary, applied
//! in order, each in its own transaction with its row in `schema_migrations`.
//! Processes starting together take turns (a transaction-scoped advisory lock).

use crate::error::StoreError;
use sqlx::PgPool;
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
        sql: include_str!("../../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 9,
        name: "revocation",
        sql: include_str!("../../migrations/postgres/0009_revocation.sql"),
    },
    Migration {
        version: 10,
        name: "login_throttle",
        sql: include_str!("../../migrations/postgres/0010_login_throttle.sql"),
    },
    Migration {
        version: 11,
        name: "enrolment_secret",
        sql: include_str!("../../migrations/postgres/0011_enrolment_secret.sql"),
    },
    Migration {
        version: 12,
        name: "lifecycle",
        sql: include_str!("../../migrations/postgres/0012_lifecycle.sql"),
    },
    Migration {
        version: 13,
        name: "caps",
        sql: include_str!("../../migrations/postgres/0013_caps.sql"),
    },
    Migration {
        version: 14,
        name: "retention",
        sql: include_str!("../../migrations/postgres/0014_retention.sql"),
    },
    Migration {
        version: 15,
        name: "challenge_institution",
        sql: include_str!("../../migrations/postgres/0015_challenge_institution.sql"),
    },
    Migration {
        version: 16,
        name: "devices",
        sql: include_str!("../../migrations/postgres/0016_devices.sql"),
    },
    Migration {
        version: 17,
        name: "audit_chain",
        sql: include_str!("../../migrations/postgres/0017_audit_chain.sql"),
    },
    Migration {
        version: 18,
        name: "flow_origin_and_result",
        sql: include_str!("../../migrations/postgres/0018_flow_origin_and_result.sql"),
    },
    Migration {
        version: 19,
        name: "invitations",
        sql: include_str!("../../migrations/postgres/0019_invitations.sql"),
    },
];

/// PostgreSQL's first migration stands for SQLite's 0001–0008 (logical
/// versions 1 to 8); from 0009 on, both backends number alike (see
/// `migrations/README.md`).
const BASELINE: (i64, i64) = (1, 8);

/// The logical schema version (`crate::SCHEMA_VERSION`) a stored version stands for.
pub fn logical_version(stored: i64) -> i64 {
    if stored == BASELINE.0 {
        BASELINE.1
    } else {
        stored
    }
}

/// An arbitrary key for `pg_advisory_xact_lock`: Zaitaku's migrations.
const MIGRATION_LOCK: i64 = 0x7a61_6974_616b_7531;

pub async fn run(pool: &PgPool) -> Result<(), StoreError> {
    let fail = |e: sqlx::Error| StoreError::Migration(e.to_string());
    let mut tx = pool.begin().await.map_err(fail)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    // Created only when missing: `IF NOT EXISTS` would make the server send a
    // notice, which every admin command would print.
    let exists: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('schema_migrations')::text")
            .fetch_one(&mut *tx)
            .await
            .map_err(fail)?;
    if exists.is_none() {
        sqlx::query(
            "CREATE TABLE schema_migrations (
                 version BIGINT PRIMARY KEY,
                 applied_at BIGINT NOT NULL
             )",
        )
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    }
    let newest: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM schema_migrations")
        .fetch_one(&mut *tx)
        .await
        .map_err(fail)?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newest) = newest.filter(|&v| v > known) {
        return Err(StoreError::Migration(format!(
            "the database is at schema version {}, newer than this program's {}",
            logical_version(newest),
            logical_version(known),
        )));
    }
    for migration in MIGRATIONS {
        if newest.is_some_and(|v| v >= migration.version) {
            continue;
        }
        let name = format!("{:04}_{}", migration.version, migration.name);
        sqlx::raw_sql(migration.sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::Migration(format!("{name}: {e}")))?;
        if migration.version == crate::audit::CHAINS_FROM_VERSION {
            // The rows written before the chains join them, in this transaction.
            super::audit::chain_pending(&mut tx)
                .await
                .map_err(|e| StoreError::Migration(format!("{name}: {e}")))?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(migration.version)
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
    }
    tx.commit().await.map_err(fail)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_last_migration_is_the_logical_schema_version() {
        let last = super::MIGRATIONS.last().unwrap().version;
        assert_eq!(super::logical_version(last), crate::SCHEMA_VERSION);
    }

    #[test]
    fn numbers_after_the_baseline_are_sqlites() {
        assert_eq!(super::logical_version(9), 9);
    }
}
