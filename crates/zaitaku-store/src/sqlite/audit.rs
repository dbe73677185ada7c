//! The tamper-evident chains on SQLite (the rules, the encoding and the SQL
//! are `crate::audit`'s). The one writer is the chain's lock: every append
//! runs inside the writer's transaction that inserts the entry.

use super::SqliteStore;
use super::codec::{self, Columns};
use crate::audit::{
    self, AuditVerification, CHECKPOINT_MOVE, Chain, ChainEntry, ChainHead, ChainSnapshot, GENESIS,
    HEAD_ADVANCE, HEAD_ENSURE, HEAD_READ, HEADS_READ, VERIFICATION_INSERT, VERIFICATION_LAST,
};
use crate::codec::instant;
use crate::error::StoreError;
use crate::lifecycle::{PurgeCutoffs, PurgeRule};
use crate::store::AuditStore;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use zaitaku_domain::InstitutionId;

fn read_head(conn: &Connection, chain: Chain, scope: i64) -> Result<Option<ChainHead>, StoreError> {
    let mut statement = conn.prepare_cached(HEAD_READ)?;
    codec::optional(&mut statement, params![chain.table(), scope], |row| {
        ChainHead::read(&mut Columns::new(row))
    })
}

/// The chain's head, its row made only when the chain has none yet.
fn head(conn: &Connection, chain: Chain, scope: i64) -> Result<ChainHead, StoreError> {
    if let Some(head) = read_head(conn, chain, scope)? {
        return Ok(head);
    }
    conn.prepare_cached(HEAD_ENSURE)?
        .execute(params![chain.table(), scope, GENESIS])?;
    read_head(conn, chain, scope)?
        .ok_or_else(|| StoreError::Database("a chain's head row is missing".to_owned()))
}

/// Give the entry `id` (just inserted, in the caller's transaction) the next
/// place in its chain of `scope`.
pub fn append(conn: &Connection, chain: Chain, scope: i64, id: i64) -> Result<(), StoreError> {
    let head = head(conn, chain, scope)?;
    let seq = head.head_seq + 1;
    let mut statement = conn.prepare_cached(chain.entry_sql())?;
    let entry = codec::optional(&mut statement, [id], |row| {
        ChainEntry::read(chain, &mut Columns::new(row))
    })?
    .ok_or_else(|| StoreError::Database("a chained entry vanished".to_owned()))?;
    drop(statement);
    let hash = entry.hash_at(chain, &head.head_hash, seq);
    conn.prepare_cached(chain.seal_sql())?
        .execute(params![seq, hash, id])?;
    conn.prepare_cached(HEAD_ADVANCE)?
        .execute(params![seq, hash, chain.table(), scope])?;
    Ok(())
}

/// Chain the rows written before the chains existed, oldest first: run once,
/// in the transaction of the migration that adds the chains. A row without a
/// place found later was written outside Zaitaku, and verification says so.
pub fn chain_pending(tx: &Connection) -> Result<(), StoreError> {
    for chain in Chain::ALL {
        loop {
            let pending = {
                let mut statement = tx.prepare_cached(&chain.unchained_sql())?;
                codec::all(&mut statement, [], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
                })?
            };
            if pending.is_empty() {
                break;
            }
            for (id, scope) in &pending {
                append(tx, chain, *scope, *id)?;
            }
        }
    }
    Ok(())
}

/// Every chain (of one institution, or all), read in one transaction: one
/// snapshot, which WAL lets writers go on beside.
pub(super) fn snapshot(
    conn: &Connection,
    institution: Option<InstitutionId>,
) -> Result<Vec<ChainSnapshot>, StoreError> {
    conn.execute_batch("BEGIN")?;
    let result = read_chains(conn, institution);
    conn.execute_batch("COMMIT")?;
    result
}

fn read_chains(
    conn: &Connection,
    institution: Option<InstitutionId>,
) -> Result<Vec<ChainSnapshot>, StoreError> {
    let mut heads = Vec::new();
    {
        let mut statement = conn.prepare_cached(HEADS_READ)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let mut columns = Columns::new(row);
            let name: String = columns.read()?;
            let scope: i64 = columns.read()?;
            let head = ChainHead::read(&mut columns)?;
            if let Some(chain) = Chain::parse(&name) {
                heads.push((chain, scope, head));
            }
        }
    }
    let mut scopes: Vec<(Chain, i64)> = heads.iter().map(|(c, s, _)| (*c, *s)).collect();
    for chain in Chain::ALL {
        let mut statement = conn.prepare_cached(&chain.scopes_sql())?;
        for scope in codec::all(&mut statement, [], |row| Ok(row.get::<_, i64>(0)?))? {
            scopes.push((chain, scope));
        }
    }
    audit::keep_scopes(&mut scopes, institution);
    let mut snapshots = Vec::new();
    for (chain, scope) in scopes {
        let mut statement = conn.prepare_cached(&chain.entries_sql())?;
        let entries = codec::all(&mut statement, [scope], |row| {
            ChainEntry::read(chain, &mut Columns::new(row))
        })?;
        snapshots.push(audit::snapshot_of(chain, scope, entries, &heads));
    }
    Ok(snapshots)
}

/// Where the oldest entries the rule lets go end in the chain of `scope`: the
/// chain's head row and the first sequence kept.
fn purge_bounds(
    conn: &Connection,
    chain: Chain,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
    scope: i64,
) -> Result<Option<(ChainHead, Option<i64>)>, StoreError> {
    let Some(head) = read_head(conn, chain, scope)? else {
        return Ok(None);
    };
    let first_kept: Option<i64> = conn
        .prepare_cached(&chain.first_kept_sql(rule.condition))?
        .query_row(params![rule.cutoff(cutoffs), scope], |r| r.get(0))?;
    Ok(Some((head, first_kept)))
}

fn chain_scopes(conn: &Connection, chain: Chain) -> Result<Vec<i64>, StoreError> {
    let mut statement = conn.prepare_cached(audit::CHAIN_SCOPES)?;
    codec::all(&mut statement, [chain.table()], |row| {
        Ok(row.get::<_, i64>(0)?)
    })
}

fn chain_of(rule: &PurgeRule) -> Result<Chain, StoreError> {
    rule.chained()
        .ok_or_else(|| StoreError::Database(format!("{} is not a chained table", rule.table)))
}

/// What the retention purge of a chained table would delete now.
pub fn count_chained(
    conn: &Connection,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
) -> Result<u64, StoreError> {
    let chain = chain_of(rule)?;
    let mut rows = 0;
    for scope in chain_scopes(conn, chain)? {
        if let Some((head, first_kept)) = purge_bounds(conn, chain, rule, cutoffs, scope)? {
            rows += (audit::purge_end(&head, first_kept, true) - head.start_seq).max(0) as u64;
        }
    }
    Ok(rows)
}

/// One batch of the retention purge of a chained table: in each chain, the
/// oldest entries the rule lets go, up to the first it keeps, at most
/// `PURGE_BATCH`; the checkpoint moves to where the rest starts, in the same
/// transaction. Entries deleted.
fn purge_chain_batch(
    conn: &mut Connection,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
) -> Result<u64, StoreError> {
    let chain = chain_of(rule)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut deleted = 0;
    for scope in chain_scopes(&tx, chain)? {
        let Some((head, first_kept)) = purge_bounds(&tx, chain, rule, cutoffs, scope)? else {
            continue;
        };
        let end = audit::purge_end(&head, first_kept, false);
        if end <= head.start_seq {
            continue;
        }
        let hash: String = tx
            .prepare_cached(&chain.hash_at_sql())?
            .query_row(params![scope, end - 1], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                StoreError::Database("the chain has a gap where the purge would cut it".to_owned())
            })?;
        let rows = tx
            .prepare_cached(&chain.delete_before_sql())?
            .execute(params![scope, end])?;
        tx.prepare_cached(CHECKPOINT_MOVE)?
            .execute(params![end, hash, chain.table(), scope])?;
        deleted += rows as u64;
    }
    tx.commit()?;
    Ok(deleted)
}

/// The retention purge of a chained table, batch after batch: entries deleted.
pub fn purge_chained(
    conn: &mut Connection,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let rows = purge_chain_batch(conn, rule, cutoffs)?;
        total += rows;
        if rows == 0 {
            return Ok(total);
        }
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn audit_snapshot(
        &self,
        institution: Option<InstitutionId>,
    ) -> Result<Vec<ChainSnapshot>, StoreError> {
        self.read(move |c| snapshot(c, institution)).await
    }

    async fn record_audit_verification(&self, v: &AuditVerification) -> Result<(), StoreError> {
        let v = v.clone();
        self.write_durable(move |c| {
            c.prepare_cached(VERIFICATION_INSERT)?.execute(params![
                instant(v.at),
                v.institution.map(|i| i.0),
                i64::from(v.intact),
                v.chains,
                v.findings,
            ])?;
            Ok(())
        })
        .await
    }

    async fn last_audit_verification(
        &self,
        institution: InstitutionId,
    ) -> Result<Option<AuditVerification>, StoreError> {
        self.read(move |c| {
            let mut statement = c.prepare_cached(VERIFICATION_LAST)?;
            codec::optional(&mut statement, [institution.0], |row| {
                AuditVerification::read(&mut Columns::new(row))
            })
        })
        .await
    }
}
