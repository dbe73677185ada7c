//! The tamper-evident chains on PostgreSQL (the rules, the encoding and the
//! SQL are `crate::audit`'s). An append locks its chain's head row
//! (`SELECT … FOR UPDATE`) before it inserts, in the transaction that
//! inserts: two processes appending at once take turns, so the chain never
//! forks, and ids rise with the sequence.

use super::PostgresStore;
use super::columns::Columns;
use crate::audit::{
    self, AuditVerification, CHAIN_SCOPES, CHECKPOINT_MOVE, Chain, ChainEntry, ChainHead,
    ChainSnapshot, GENESIS, HEAD_ADVANCE, HEAD_ENSURE, HEAD_READ, HEAD_READ_FOR_UPDATE, HEADS_READ,
    VERIFICATION_INSERT, VERIFICATION_LAST,
};
use crate::codec::instant;
use crate::error::StoreError;
use crate::lifecycle::{Cutoff, PurgeCutoffs, PurgeRule};
use crate::rows::Cursor;
use crate::store::AuditStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};
use zaitaku_domain::InstitutionId;

/// The head of the chain of `scope`, locked until the transaction ends. The
/// head row is made (idempotently, so two first appends meet on its lock)
/// only when the chain has none yet: no write before an ordinary append.
pub async fn lock(
    conn: &mut PgConnection,
    chain: Chain,
    scope: i64,
) -> Result<ChainHead, StoreError> {
    if let Some(head) = read_head(conn, chain, scope, true).await? {
        return Ok(head);
    }
    sqlx::query(HEAD_ENSURE)
        .bind(chain.table())
        .bind(scope)
        .bind(GENESIS)
        .execute(&mut *conn)
        .await?;
    read_head(conn, chain, scope, true)
        .await?
        .ok_or_else(|| StoreError::Database("a chain's head row is missing".to_owned()))
}

async fn read_head(
    conn: &mut PgConnection,
    chain: Chain,
    scope: i64,
    for_update: bool,
) -> Result<Option<ChainHead>, StoreError> {
    let sql = if for_update {
        HEAD_READ_FOR_UPDATE
    } else {
        HEAD_READ
    };
    sqlx::query(sql)
        .bind(chain.table())
        .bind(scope)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(|row| ChainHead::read(&mut Columns::new(row)))
        .transpose()
}

/// Give the entry `id`, inserted after [`lock`] in the same transaction, the
/// next place in its chain.
pub async fn seal(
    conn: &mut PgConnection,
    chain: Chain,
    scope: i64,
    head: &ChainHead,
    id: i64,
) -> Result<(), StoreError> {
    let seq = head.head_seq + 1;
    let row = sqlx::query(AssertSqlSafe(chain.entry_sql()))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let entry = ChainEntry::read(chain, &mut Columns::new(&row))?;
    let hash = entry.hash_at(chain, &head.head_hash, seq);
    sqlx::query(AssertSqlSafe(chain.seal_sql()))
        .bind(seq)
        .bind(&hash)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(HEAD_ADVANCE)
        .bind(seq)
        .bind(&hash)
        .bind(chain.table())
        .bind(scope)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Chain the rows written before the chains existed, oldest first: run once,
/// in the transaction of the migration that adds the chains (processes
/// starting together take turns on the migrations' lock). A row without a
/// place found later was written outside Zaitaku, and verification says so.
pub async fn chain_pending(conn: &mut PgConnection) -> Result<(), StoreError> {
    for chain in Chain::ALL {
        loop {
            let pending: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(chain.unchained_sql()))
                .fetch_all(&mut *conn)
                .await?;
            if pending.is_empty() {
                break;
            }
            for (id, scope) in &pending {
                let head = lock(conn, chain, *scope).await?;
                seal(conn, chain, *scope, &head, *id).await?;
            }
        }
    }
    Ok(())
}

async fn read_chains(
    conn: &mut PgConnection,
    institution: Option<InstitutionId>,
) -> Result<Vec<ChainSnapshot>, StoreError> {
    let mut heads = Vec::new();
    for row in sqlx::query(HEADS_READ).fetch_all(&mut *conn).await? {
        let mut columns = Columns::new(&row);
        let name = columns.text()?;
        let scope = columns.int()?;
        let head = ChainHead::read(&mut columns)?;
        if let Some(chain) = Chain::parse(&name) {
            heads.push((chain, scope, head));
        }
    }
    let mut scopes: Vec<(Chain, i64)> = heads.iter().map(|(c, s, _)| (*c, *s)).collect();
    for chain in Chain::ALL {
        let found: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(chain.scopes_sql()))
            .fetch_all(&mut *conn)
            .await?;
        scopes.extend(found.into_iter().map(|s| (chain, s)));
    }
    audit::keep_scopes(&mut scopes, institution);
    let mut snapshots = Vec::new();
    for (chain, scope) in scopes {
        let entries = sqlx::query(AssertSqlSafe(chain.entries_sql()))
            .bind(scope)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| ChainEntry::read(chain, &mut Columns::new(row)))
            .collect::<Result<Vec<_>, _>>()?;
        snapshots.push(audit::snapshot_of(chain, scope, entries, &heads));
    }
    Ok(snapshots)
}

async fn purge_bounds(
    conn: &mut PgConnection,
    chain: Chain,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
    scope: i64,
    for_update: bool,
) -> Result<Option<(ChainHead, Option<i64>)>, StoreError> {
    let Some(head) = read_head(conn, chain, scope, for_update).await? else {
        return Ok(None);
    };
    let query = sqlx::query_scalar(AssertSqlSafe(chain.first_kept_sql(rule.condition)));
    let query = match rule.cutoff(cutoffs) {
        Cutoff::Instant(secs) => query.bind(secs),
        Cutoff::Day(day) => query.bind(day),
    };
    let first_kept: Option<i64> = query.bind(scope).fetch_one(&mut *conn).await?;
    Ok(Some((head, first_kept)))
}

async fn chain_scopes(conn: &mut PgConnection, chain: Chain) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(CHAIN_SCOPES)
        .bind(chain.table())
        .fetch_all(&mut *conn)
        .await?)
}

fn chain_of(rule: &PurgeRule) -> Result<Chain, StoreError> {
    rule.chained()
        .ok_or_else(|| StoreError::Database(format!("{} is not a chained table", rule.table)))
}

/// What the retention purge of a chained table would delete now.
pub async fn count_chained(
    conn: &mut PgConnection,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
) -> Result<u64, StoreError> {
    let chain = chain_of(rule)?;
    let mut rows = 0;
    for scope in chain_scopes(conn, chain).await? {
        if let Some((head, first_kept)) =
            purge_bounds(conn, chain, rule, cutoffs, scope, false).await?
        {
            rows += (audit::purge_end(&head, first_kept, true) - head.start_seq).max(0) as u64;
        }
    }
    Ok(rows)
}

/// One batch, as SQLite's: per chain, under its lock, the oldest entries the
/// rule lets go (at most `PURGE_BATCH`), and the checkpoint moved.
async fn purge_chain_batch(
    conn: &mut PgConnection,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
) -> Result<u64, StoreError> {
    let chain = chain_of(rule)?;
    let mut tx = conn.begin().await?;
    let mut deleted = 0;
    for scope in chain_scopes(&mut tx, chain).await? {
        let Some((head, first_kept)) =
            purge_bounds(&mut tx, chain, rule, cutoffs, scope, true).await?
        else {
            continue;
        };
        let end = audit::purge_end(&head, first_kept, false);
        if end <= head.start_seq {
            continue;
        }
        let hash: String = sqlx::query_scalar(AssertSqlSafe(chain.hash_at_sql()))
            .bind(scope)
            .bind(end - 1)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                StoreError::Database("the chain has a gap where the purge would cut it".to_owned())
            })?;
        deleted += sqlx::query(AssertSqlSafe(chain.delete_before_sql()))
            .bind(scope)
            .bind(end)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(CHECKPOINT_MOVE)
            .bind(end)
            .bind(&hash)
            .bind(chain.table())
            .bind(scope)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(deleted)
}

/// The retention purge of a chained table, batch after batch: entries deleted.
pub async fn purge_chained(
    conn: &mut PgConnection,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let rows = purge_chain_batch(conn, rule, cutoffs).await?;
        total += rows;
        if rows == 0 {
            return Ok(total);
        }
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn audit_snapshot(
        &self,
        institution: Option<InstitutionId>,
    ) -> Result<Vec<ChainSnapshot>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin().await?;
        // One snapshot for every read, beside the writers.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let snapshots = read_chains(&mut tx, institution).await?;
        tx.commit().await?;
        Ok(snapshots)
    }

    async fn record_audit_verification(&self, v: &AuditVerification) -> Result<(), StoreError> {
        sqlx::query(VERIFICATION_INSERT)
            .bind(instant(v.at))
            .bind(v.institution.map(|i| i.0))
            .bind(i64::from(v.intact))
            .bind(v.chains)
            .bind(&v.findings)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn last_audit_verification(
        &self,
        institution: InstitutionId,
    ) -> Result<Option<AuditVerification>, StoreError> {
        sqlx::query(VERIFICATION_LAST)
            .bind(institution.0)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(|row| AuditVerification::read(&mut Columns::new(row)))
            .transpose()
    }
}
