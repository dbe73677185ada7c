//! The tamper-evident chains: the consent history, the access log and the
//! staff's login log are each hash-chained per institution (login-log rows
//! without an institution form a chain of their own). Every entry stores its
//! sequence number in its chain (`chain_seq`) and `chain_hash`, the SHA-256 of
//! the previous entry's hash and of every column of the entry in one canonical
//! encoding ([`entry_hash`]), which both backends use to append and
//! [`verify_chain`] uses to check. `audit_chains` holds each chain's head (the
//! last sequence and hash: the row an append locks) and its checkpoint (the
//! sequence and the hash the remaining chain starts from, moved by the
//! retention purge when it deletes the oldest entries).

use crate::error::StoreError;
use crate::rows::Cursor;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use time::OffsetDateTime;
use zaitaku_domain::InstitutionId;

/// The schema version that adds the chains: its migration chains the rows
/// already there, in id order, in its own transaction.
pub const CHAINS_FROM_VERSION: i64 = 17;

/// The hash a chain's first entry chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One of the three chained tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chain {
    ConsentHistory,
    AccessLog,
    StaffLogins,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    Text,
}

impl Chain {
    /// In declaration order: `ALL[chain as usize] == chain` (the per-chain SQL relies on it).
    pub const ALL: [Chain; 3] = [Chain::ConsentHistory, Chain::AccessLog, Chain::StaffLogins];

    /// The table, which is also the chain's name in `audit_chains` and in the
    /// output of `admin audit`.
    pub fn table(self) -> &'static str {
        match self {
            Chain::ConsentHistory => "consent_history",
            Chain::AccessLog => "access_log",
            Chain::StaffLogins => "staff_logins",
        }
    }

    pub fn parse(name: &str) -> Option<Chain> {
        Chain::ALL.into_iter().find(|c| c.table() == name)
    }

    /// Every column but `id`, `chain_seq` and `chain_hash`, in the canonical
    /// order the hash takes them.
    fn columns(self) -> &'static [(&'static str, Kind)] {
        use Kind::{Int, Text};
        match self {
            Chain::ConsentHistory => &[
                ("consent_id", Int),
                ("institution_id", Int),
                ("at", Int),
                ("actor", Text),
                ("channel", Text),
                ("auth_issuer", Text),
                ("auth_serial", Text),
                ("auth_revocation", Text),
                ("old_choices", Text),
                ("old_status", Text),
                ("new_choices", Text),
                ("new_status", Text),
                ("flow_id", Text),
                ("device_name", Text),
            ],
            Chain::AccessLog => &[
                ("at", Int),
                ("institution_id", Int),
                ("staff_id", Int),
                ("staff_login", Text),
                ("staff_name", Text),
                ("person_id", Int),
                ("action", Text),
                ("device_name", Text),
                ("detail", Text),
            ],
            Chain::StaffLogins => &[
                ("at", Int),
                ("login_name", Text),
                ("staff_id", Int),
                ("institution_id", Int),
                ("outcome", Text),
            ],
        }
    }

    /// `id, chain_seq, chain_hash` then [`Chain::columns`]: what
    /// [`ChainEntry::read`] reads.
    fn select_list(self) -> String {
        let mut list = String::from("id, chain_seq, chain_hash");
        for (name, _) in self.columns() {
            list.push_str(", ");
            list.push_str(name);
        }
        list
    }

    /// One entry by id (`$1`), as [`ChainEntry::read`] reads it. Every
    /// append runs it: built once per chain, not per call.
    pub fn entry_sql(self) -> &'static str {
        static SQL: LazyLock<[String; 3]> = LazyLock::new(|| {
            Chain::ALL.map(|chain| {
                format!(
                    "SELECT {} FROM {} WHERE id = $1",
                    chain.select_list(),
                    chain.table()
                )
            })
        });
        &SQL[self as usize]
    }

    /// Every entry of the chain of scope `$1`, in chain order (entries never
    /// chained come last).
    pub fn entries_sql(self) -> String {
        format!(
            "SELECT {} FROM {} WHERE {SCOPE} = $1 ORDER BY chain_seq IS NULL, chain_seq, id",
            self.select_list(),
            self.table()
        )
    }

    /// The scopes that have entries.
    pub fn scopes_sql(self) -> String {
        format!("SELECT DISTINCT {SCOPE} FROM {}", self.table())
    }

    /// Set an entry's place in its chain: `$1` seq, `$2` hash, `$3` id (every
    /// append; built once per chain).
    pub fn seal_sql(self) -> &'static str {
        static SQL: LazyLock<[String; 3]> = LazyLock::new(|| {
            Chain::ALL.map(|chain| {
                format!(
                    "UPDATE {} SET chain_seq = $1, chain_hash = $2 WHERE id = $3",
                    chain.table()
                )
            })
        });
        &SQL[self as usize]
    }

    /// Entries not chained yet (rows from before the chains), oldest first:
    /// `id` and scope.
    pub fn unchained_sql(self) -> String {
        format!(
            "SELECT id, {SCOPE} FROM {} WHERE chain_seq IS NULL ORDER BY id LIMIT 1000",
            self.table()
        )
    }

    /// The first sequence of scope `$2` the retention `condition` (on `$1`)
    /// keeps: the retention purge deletes only entries before it.
    pub fn first_kept_sql(self, condition: &str) -> String {
        format!(
            "SELECT min(chain_seq) FROM {} WHERE NOT ({condition}) AND {SCOPE} = $2 \
             AND chain_seq IS NOT NULL",
            self.table()
        )
    }

    /// The hash of the entry of scope `$1` at sequence `$2`.
    pub fn hash_at_sql(self) -> String {
        format!(
            "SELECT chain_hash FROM {} WHERE {SCOPE} = $1 AND chain_seq = $2",
            self.table()
        )
    }

    /// Delete the entries of scope `$1` before sequence `$2`.
    pub fn delete_before_sql(self) -> String {
        format!(
            "DELETE FROM {} WHERE {SCOPE} = $1 AND chain_seq < $2",
            self.table()
        )
    }
}

/// An entry's chain: its institution's id, 0 for entries without one.
const SCOPE: &str = "COALESCE(institution_id, 0)";

/// The scope of an institution (or of none).
pub fn scope(institution: Option<InstitutionId>) -> i64 {
    institution.map_or(0, |i| i.0)
}

/// Make sure the chain `$1` of scope `$2` has its head row (`$3`: [`GENESIS`]).
pub const HEAD_ENSURE: &str = "INSERT INTO audit_chains (chain, scope, head_seq, head_hash, \
     start_seq, start_hash) VALUES ($1, $2, 0, $3, 1, $3) ON CONFLICT (chain, scope) DO NOTHING";

/// The head and checkpoint of chain `$1`, scope `$2`: `head_seq, head_hash,
/// start_seq, start_hash`. PostgreSQL appends ` FOR UPDATE`: the lock every
/// append and purge of the chain takes (SQLite's one writer already is).
macro_rules! head_read {
    () => {
        "SELECT head_seq, head_hash, start_seq, start_hash \
         FROM audit_chains WHERE chain = $1 AND scope = $2"
    };
}
pub const HEAD_READ: &str = head_read!();

/// [`HEAD_READ`], locking the head row until the transaction ends (PostgreSQL).
pub const HEAD_READ_FOR_UPDATE: &str = concat!(head_read!(), " FOR UPDATE");

/// The scopes of chain `$1` that have a head row.
pub const CHAIN_SCOPES: &str = "SELECT scope FROM audit_chains WHERE chain = $1 ORDER BY scope";

/// Every chain's head row: `chain, scope, head_seq, head_hash, start_seq, start_hash`.
pub const HEADS_READ: &str = "SELECT chain, scope, head_seq, head_hash, start_seq, start_hash \
     FROM audit_chains ORDER BY scope, chain";

/// Advance the head of chain `$3`, scope `$4` to sequence `$1`, hash `$2`.
pub const HEAD_ADVANCE: &str =
    "UPDATE audit_chains SET head_seq = $1, head_hash = $2 WHERE chain = $3 AND scope = $4";

/// Move the checkpoint of chain `$3`, scope `$4` to sequence `$1`, hash `$2`.
pub const CHECKPOINT_MOVE: &str =
    "UPDATE audit_chains SET start_seq = $1, start_hash = $2 WHERE chain = $3 AND scope = $4";

/// Record a verification: `at, institution_id, intact, chains, findings`.
pub const VERIFICATION_INSERT: &str = "INSERT INTO audit_verifications \
     (at, institution_id, intact, chains, findings) VALUES ($1, $2, $3, $4, $5)";

/// The newest verification that covered institution `$1` (its own, or of every chain).
pub const VERIFICATION_LAST: &str = "SELECT at, institution_id, intact, chains, findings \
     FROM audit_verifications WHERE institution_id = $1 OR institution_id IS NULL \
     ORDER BY at DESC, id DESC LIMIT 1";

/// The chains to read for `institution` (all when `None`), once each, by
/// institution then chain.
pub fn keep_scopes(scopes: &mut Vec<(Chain, i64)>, institution: Option<InstitutionId>) {
    if let Some(institution) = institution {
        scopes.retain(|(_, s)| *s == institution.0);
    }
    scopes.sort_by_key(|(c, s)| (*s, *c));
    scopes.dedup();
}

/// The snapshot of `chain` in `scope` (0: no institution) from its entries and
/// the head rows read in the same transaction.
pub fn snapshot_of(
    chain: Chain,
    scope: i64,
    entries: Vec<ChainEntry>,
    heads: &[(Chain, i64, ChainHead)],
) -> ChainSnapshot {
    ChainSnapshot {
        chain,
        institution: (scope != 0).then_some(InstitutionId(scope)),
        head: heads
            .iter()
            .find(|(c, s, _)| *c == chain && *s == scope)
            .map(|(_, _, h)| h.clone()),
        entries,
    }
}

/// Where the chain left by one purge batch starts: the first entry the rule
/// keeps (the head's next sequence when it keeps none), but at most
/// [`crate::lifecycle::PURGE_BATCH`] entries past the checkpoint unless `whole`.
pub fn purge_end(head: &ChainHead, first_kept: Option<i64>, whole: bool) -> i64 {
    let keep_from = first_kept.unwrap_or(head.head_seq + 1);
    if whole {
        keep_from
    } else {
        keep_from.min(head.start_seq + crate::lifecycle::PURGE_BATCH)
    }
}

/// A chain's head row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The last entry's sequence (0 before the first).
    pub head_seq: i64,
    pub head_hash: String,
    /// The checkpoint: the first sequence still kept and the hash it chains from.
    pub start_seq: i64,
    pub start_hash: String,
}

impl ChainHead {
    /// From `head_seq, head_hash, start_seq, start_hash`.
    pub fn read(c: &mut impl Cursor) -> Result<ChainHead, StoreError> {
        Ok(ChainHead {
            head_seq: c.int()?,
            head_hash: c.text()?,
            start_seq: c.int()?,
            start_hash: c.text()?,
        })
    }
}

/// A column's value as the hash encodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

/// One stored entry of a chain, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    pub id: i64,
    /// `None`: never chained (a row written outside Zaitaku, or from before
    /// the chains and not yet chained).
    pub seq: Option<i64>,
    pub hash: Option<String>,
    pub values: Vec<Value>,
}

impl ChainEntry {
    /// From the columns of [`Chain::entry_sql`] / [`Chain::entries_sql`].
    pub fn read(chain: Chain, c: &mut impl Cursor) -> Result<ChainEntry, StoreError> {
        let id = c.int()?;
        let seq = c.opt_int()?;
        let hash = c.opt_text()?;
        let mut values = Vec::new();
        for (_, kind) in chain.columns() {
            values.push(match kind {
                Kind::Int => c.opt_int()?.map_or(Value::Null, Value::Int),
                Kind::Text => c.opt_text()?.map_or(Value::Null, Value::Text),
            });
        }
        Ok(ChainEntry {
            id,
            seq,
            hash,
            values,
        })
    }

    /// The hash this entry has at `seq` after `prev`.
    pub fn hash_at(&self, chain: Chain, prev: &str, seq: i64) -> String {
        entry_hash(chain, prev, seq, self.id, &self.values)
    }
}

/// The canonical encoding, hashed: a version tag, the chain's name, the
/// previous hash, the sequence, the id, then each column in
/// [`Chain::columns`]' order as a tag byte (0 NULL, 1 integer, 2 text) and,
/// for an integer, its 8 bytes big-endian, for a text its length (4 bytes
/// big-endian) and UTF-8 bytes. Lowercase hex.
pub fn entry_hash(chain: Chain, prev: &str, seq: i64, id: i64, values: &[Value]) -> String {
    let mut h = Sha256::new();
    h.update(b"zaitaku-audit-v1\0");
    let text = |h: &mut Sha256, s: &str| {
        h.update((s.len() as u32).to_be_bytes());
        h.update(s.as_bytes());
    };
    text(&mut h, chain.table());
    text(&mut h, prev);
    h.update(seq.to_be_bytes());
    h.update(id.to_be_bytes());
    h.update((values.len() as u32).to_be_bytes());
    for value in values {
        match value {
            Value::Null => h.update([0u8]),
            Value::Int(n) => {
                h.update([1u8]);
                h.update(n.to_be_bytes());
            }
            Value::Text(s) => {
                h.update([2u8]);
                text(&mut h, s);
            }
        }
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

/// One chain as read in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSnapshot {
    pub chain: Chain,
    pub institution: Option<InstitutionId>,
    /// `None`: entries exist but no head row does.
    pub head: Option<ChainHead>,
    pub entries: Vec<ChainEntry>,
}

/// A head an operator saved (`admin audit head`), to verify against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedHead {
    pub chain: Chain,
    pub institution: Option<InstitutionId>,
    pub seq: i64,
    pub hash: String,
}

/// What verifying one chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Every entry from the checkpoint to the head chains; `entries` counted.
    Intact { entries: usize, head_seq: i64 },
    /// The entry's columns (or its place) no longer give its hash.
    Edited { id: i64, seq: i64 },
    /// A sequence number is missing: the entry there was deleted. `after`:
    /// the id of the entry before the gap (`None`: at the chain's start).
    Deleted { seq: i64, after: Option<i64> },
    /// The entry stands before one written earlier than itself.
    Reordered { id: i64, seq: i64, before: i64 },
    /// The entries from `seq` to the recorded head are gone.
    TailMissing {
        seq: i64,
        head_seq: i64,
        after: Option<i64>,
    },
    /// The head record no longer matches the last entry.
    HeadMismatch { head_seq: i64 },
    /// A row without a place in the chain (inserted outside Zaitaku), or with
    /// a place past the head.
    Inserted { id: i64 },
    /// The saved head is no longer in the chain as saved.
    AnchorMismatch { seq: i64 },
    /// A saved head's chain is gone entirely.
    ChainMissing,
}

impl Finding {
    pub fn intact(&self) -> bool {
        matches!(self, Finding::Intact { .. })
    }

    /// Plain English, no personal data (ids and sequence numbers only).
    pub fn describe(&self) -> String {
        match self {
            Finding::Intact { entries, head_seq } => {
                format!("intact: {entries} entries, head at sequence {head_seq}")
            }
            Finding::Edited { id, seq } => format!(
                "TAMPERED: entry id {id} (sequence {seq}) was edited: its columns no longer give its hash"
            ),
            Finding::Deleted { seq, after } => match after {
                Some(after) => format!(
                    "TAMPERED: sequence {seq} is missing after entry id {after}: an entry was deleted"
                ),
                None => format!(
                    "TAMPERED: sequence {seq} is missing at the start of the chain: an entry was deleted"
                ),
            },
            Finding::Reordered { id, seq, before } => format!(
                "TAMPERED: entry id {id} (sequence {seq}) was reordered: it stands before entry id {before}, written earlier"
            ),
            Finding::TailMissing {
                seq,
                head_seq,
                after,
            } => format!(
                "TAMPERED: sequences {seq} to {head_seq} are missing{}: the end of the chain was deleted",
                after
                    .map(|a| format!(" after entry id {a}"))
                    .unwrap_or_default()
            ),
            Finding::HeadMismatch { head_seq } => format!(
                "TAMPERED: the recorded head (sequence {head_seq}) does not match the last entry"
            ),
            Finding::Inserted { id } => {
                format!("TAMPERED: entry id {id} was inserted outside the chain")
            }
            Finding::AnchorMismatch { seq } => format!(
                "TAMPERED: the saved head at sequence {seq} is no longer in the chain as saved"
            ),
            Finding::ChainMissing => {
                "TAMPERED: the chain of the saved head has no entries and no head".to_owned()
            }
        }
    }
}

/// Check one chain from its checkpoint to its head: the first problem found,
/// or [`Finding::Intact`]. With `saved`, also that the saved head is still in
/// the chain (catching a deleted tail, head row and all).
pub fn verify_chain(snapshot: &ChainSnapshot, saved: Option<&SavedHead>) -> Finding {
    let chain = snapshot.chain;
    let (chained, loose): (Vec<&ChainEntry>, Vec<&ChainEntry>) =
        snapshot.entries.iter().partition(|e| e.seq.is_some());
    let Some(head) = &snapshot.head else {
        return match snapshot.entries.first() {
            Some(e) => Finding::Inserted { id: e.id },
            None => Finding::ChainMissing,
        };
    };
    let mut expected = head.start_seq;
    let mut prev = head.start_hash.clone();
    let mut prev_id: Option<i64> = None;
    for (i, e) in chained.iter().enumerate() {
        let seq = e.seq.unwrap_or_default();
        if seq > head.head_seq {
            return Finding::Inserted { id: e.id };
        }
        if seq > expected {
            return Finding::Deleted {
                seq: expected,
                after: prev_id,
            };
        }
        if seq < expected {
            // A second entry at one place (or one before the checkpoint).
            return match prev_id {
                Some(before) if e.id < before => Finding::Reordered {
                    id: before,
                    seq: expected - 1,
                    before: e.id,
                },
                _ => Finding::Edited { id: e.id, seq },
            };
        }
        if let Some(before) = prev_id.filter(|p| e.id < *p) {
            return Finding::Reordered {
                id: before,
                seq: seq - 1,
                before: e.id,
            };
        }
        let hash = e.hash_at(chain, &prev, seq);
        if e.hash.as_deref() != Some(hash.as_str()) {
            return match chained.get(i + 1) {
                Some(next) if next.id < e.id => Finding::Reordered {
                    id: e.id,
                    seq,
                    before: next.id,
                },
                _ => Finding::Edited { id: e.id, seq },
            };
        }
        prev = hash;
        prev_id = Some(e.id);
        expected = seq + 1;
    }
    if let Some(e) = loose.first() {
        return Finding::Inserted { id: e.id };
    }
    if expected <= head.head_seq {
        return Finding::TailMissing {
            seq: expected,
            head_seq: head.head_seq,
            after: prev_id,
        };
    }
    if prev != head.head_hash {
        return Finding::HeadMismatch {
            head_seq: head.head_seq,
        };
    }
    if let Some(saved) = saved {
        let found = if saved.seq == head.start_seq - 1 {
            Some(head.start_hash.as_str())
        } else {
            chained
                .iter()
                .find(|e| e.seq == Some(saved.seq))
                .and_then(|e| e.hash.as_deref())
        };
        // A saved head older than the checkpoint was purged: nothing to compare.
        let purged = saved.seq < head.start_seq - 1;
        if !purged && found != Some(saved.hash.as_str()) {
            return Finding::AnchorMismatch { seq: saved.seq };
        }
    }
    Finding::Intact {
        entries: chained.len(),
        head_seq: head.head_seq,
    }
}

/// A verification run as stored (`admin audit verify`), for the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    pub at: OffsetDateTime,
    /// `None`: every chain was checked.
    pub institution: Option<InstitutionId>,
    pub intact: bool,
    /// Chains checked.
    pub chains: i64,
    /// The lines of the chains found tampered (empty when intact).
    pub findings: String,
}

impl AuditVerification {
    /// From `at, institution_id, intact, chains, findings`.
    pub fn read(c: &mut impl Cursor) -> Result<AuditVerification, StoreError> {
        Ok(AuditVerification {
            at: crate::codec::to_instant(c.int()?, "audit verification")?,
            institution: c.opt_int()?.map(InstitutionId),
            intact: c.int()? != 0,
            chains: c.int()?,
            findings: c.text()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_chain_gets_its_own_tables_statements() {
        for (i, chain) in Chain::ALL.into_iter().enumerate() {
            assert_eq!(chain as usize, i);
            let from = format!(" FROM {} WHERE id = $1", chain.table());
            assert!(chain.entry_sql().ends_with(&from), "{}", chain.entry_sql());
            let update = format!("UPDATE {} SET", chain.table());
            assert!(
                chain.seal_sql().starts_with(&update),
                "{}",
                chain.seal_sql()
            );
        }
    }

    fn entry(id: i64, seq: i64, prev: &str, at: i64) -> ChainEntry {
        let values = vec![
            Value::Int(at),
            Value::Text("alice".into()),
            Value::Int(1),
            Value::Null,
            Value::Text("success".into()),
        ];
        let hash = entry_hash(Chain::StaffLogins, prev, seq, id, &values);
        ChainEntry {
            id,
            seq: Some(seq),
            hash: Some(hash),
            values,
        }
    }

    fn chain(n: i64) -> ChainSnapshot {
        let mut prev = GENESIS.to_owned();
        let mut entries = Vec::new();
        for i in 1..=n {
            let e = entry(i * 10, i, &prev, 1000 + i);
            prev = e.hash.clone().unwrap();
            entries.push(e);
        }
        ChainSnapshot {
            chain: Chain::StaffLogins,
            institution: None,
            head: Some(ChainHead {
                head_seq: n,
                head_hash: prev,
                start_seq: 1,
                start_hash: GENESIS.to_owned(),
            }),
            entries,
        }
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(
            verify_chain(&chain(4), None),
            Finding::Intact {
                entries: 4,
                head_seq: 4
            }
        );
    }

    #[test]
    fn an_edit_a_deletion_and_a_swap_are_named() {
        let mut edited = chain(4);
        edited.entries[1].values[1] = Value::Text("mallory".into());
        assert_eq!(
            verify_chain(&edited, None),
            Finding::Edited { id: 20, seq: 2 }
        );
        let mut deleted = chain(4);
        deleted.entries.remove(2);
        assert_eq!(
            verify_chain(&deleted, None),
            Finding::Deleted {
                seq: 3,
                after: Some(20)
            }
        );
        let mut swapped = chain(4);
        swapped.entries[1].seq = Some(3);
        swapped.entries[2].seq = Some(2);
        swapped.entries.swap(1, 2);
        assert_eq!(
            verify_chain(&swapped, None),
            Finding::Reordered {
                id: 30,
                seq: 2,
                before: 20
            }
        );
    }

    #[test]
    fn a_cut_tail_is_caught_by_the_head_row_or_by_a_saved_head() {
        let mut cut = chain(4);
        cut.entries.pop();
        assert!(matches!(
            verify_chain(&cut, None),
            Finding::TailMissing { seq: 4, .. }
        ));
        let saved = SavedHead {
            chain: Chain::StaffLogins,
            institution: None,
            seq: 4,
            hash: chain(4).head.unwrap().head_hash,
        };
        // The head row rewound too: only the saved head tells.
        let last = cut.entries.last().unwrap().clone();
        cut.head = Some(ChainHead {
            head_seq: 3,
            head_hash: last.hash.unwrap(),
            start_seq: 1,
            start_hash: GENESIS.to_owned(),
        });
        assert!(verify_chain(&cut, None).intact());
        assert_eq!(
            verify_chain(&cut, Some(&saved)),
            Finding::AnchorMismatch { seq: 4 }
        );
    }

    #[test]
    fn a_checkpoint_lets_the_oldest_entries_go_and_nothing_else() {
        let mut purged = chain(4);
        let removed: Vec<_> = purged.entries.drain(..2).collect();
        let head = purged.head.as_mut().unwrap();
        head.start_seq = 3;
        head.start_hash = removed[1].hash.clone().unwrap();
        assert!(verify_chain(&purged, None).intact());
        purged.entries.remove(0);
        assert_eq!(
            verify_chain(&purged, None),
            Finding::Deleted {
                seq: 3,
                after: None
            }
        );
    }
}
