//! The personal data's lifecycle on SQLite: the retention purge, one person's
//! data read for export, and a person's deletion. The rules are `lifecycle.rs`'s.

use super::SqliteStore;
use super::audit;
use super::codec::{self, Columns};
use crate::codec::date;
use crate::error::StoreError;
use crate::lifecycle::{
    self, CertificateLink, Cutoff, PERSON_KEPT, PERSON_REMOVED, PURGE_BATCH, PersonDeletion,
    PurgeCutoffs, PurgeRule, STANDING_CONSENTS, TableCount, tally,
};
use crate::rows::{
    self, access_log_columns, certificate_link_columns, check_columns, consent_columns,
};
use crate::store::DataLifecycle;
use crate::{AccessLogLine, QualificationCheck};
use async_trait::async_trait;
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, ToSql, TransactionBehavior, params};
use time::Date;
use zaitaku_domain::{Consent, InstitutionId, PersonId};

impl ToSql for Cutoff {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Cutoff::Instant(secs) => secs.to_sql(),
            Cutoff::Day(day) => day.to_sql(),
        }
    }
}

/// The expired rules in one transaction (`BEGIN IMMEDIATE`: no flow gains a
/// challenge between the two deletes). Rows deleted per table.
pub fn purge_expired(
    conn: &mut Connection,
    cutoffs: &PurgeCutoffs,
) -> Result<Vec<TableCount>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut counts = Vec::new();
    for rule in lifecycle::EXPIRED {
        let rows = tx
            .prepare_cached(&rule.delete_sql())?
            .execute([rule.cutoff(cutoffs)])?;
        tally(&mut counts, rule.table, rows as u64);
    }
    tx.commit()?;
    Ok(counts)
}

fn count(conn: &Connection, rule: &PurgeRule, cutoffs: &PurgeCutoffs) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(&rule.count_sql())?
        .query_row([rule.cutoff(cutoffs)], |r| r.get(0))?;
    Ok(n as u64)
}

/// One batch of `rule` in its own transaction: the rows deleted.
fn purge_batch(
    conn: &mut Connection,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
) -> Result<u64, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let rows = tx
        .prepare_cached(&rule.delete_batch_sql())?
        .execute(params![rule.cutoff(cutoffs), PURGE_BATCH])?;
    tx.commit()?;
    Ok(rows as u64)
}

fn delete_person(
    conn: &mut Connection,
    person: PersonId,
    today: Date,
) -> Result<Option<PersonDeletion>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists = tx
        .prepare_cached("SELECT count(*) FROM insured_persons WHERE id = ?1")?
        .query_row([person.0], |r| r.get::<_, i64>(0))?
        > 0;
    if !exists {
        return Ok(None);
    }
    let mut standing = tx.prepare_cached(STANDING_CONSENTS)?;
    let institutions = codec::all(&mut standing, params![person.0, date(today)], |row| {
        Ok(InstitutionId(row.get(0)?))
    })?;
    drop(standing);
    if !institutions.is_empty() {
        return Ok(Some(PersonDeletion::ConsentStands(institutions)));
    }
    let mut removed = Vec::new();
    for (table, condition) in PERSON_REMOVED {
        let rows = tx
            .prepare_cached(&format!("DELETE FROM {table} WHERE {condition}"))?
            .execute([person.0])?;
        tally(&mut removed, table, rows as u64);
    }
    let mut kept = Vec::new();
    for (table, condition) in PERSON_KEPT {
        let rows: i64 = tx
            .prepare_cached(&format!("SELECT count(*) FROM {table} WHERE {condition}"))?
            .query_row([person.0], |r| r.get(0))?;
        tally(&mut kept, table, rows as u64);
    }
    let person_removed = kept.iter().all(|c| c.rows == 0);
    if person_removed {
        tx.prepare_cached("DELETE FROM insured_persons WHERE id = ?1")?
            .execute([person.0])?;
    }
    tally(&mut removed, "insured_persons", u64::from(person_removed));
    tx.commit()?;
    Ok(Some(PersonDeletion::Done {
        removed,
        kept,
        person_removed,
    }))
}

#[async_trait]
impl DataLifecycle for SqliteStore {
    async fn purge(
        &self,
        cutoffs: &PurgeCutoffs,
        dry_run: bool,
    ) -> Result<Vec<TableCount>, StoreError> {
        let mut counts = Vec::new();
        if dry_run {
            let cutoffs = cutoffs.clone();
            return self
                .read(move |c| {
                    for rule in lifecycle::EXPIRED.iter().chain(lifecycle::RETAINED) {
                        let rows = match rule.chained() {
                            // A read-only connection: the count writes nothing (no head row).
                            Some(_) => audit::count_chained(c, rule, &cutoffs)?,
                            None => count(c, rule, &cutoffs)?,
                        };
                        tally(&mut counts, rule.table, rows);
                    }
                    Ok(counts)
                })
                .await;
        }
        let expired = cutoffs.clone();
        // Bookkeeping durability, as every purge: what is purged is gone for
        // good anyway, and a purge lost to a power cut is done again next time.
        counts = self.write(move |c| purge_expired(c, &expired)).await?;
        for rule in lifecycle::RETAINED {
            if rule.chained().is_some() {
                let batch = cutoffs.clone();
                let rows = self
                    .write(move |c| audit::purge_chained(c, rule, &batch))
                    .await?;
                tally(&mut counts, rule.table, rows);
                continue;
            }
            loop {
                let batch = cutoffs.clone();
                let rows = self.write(move |c| purge_batch(c, rule, &batch)).await?;
                tally(&mut counts, rule.table, rows);
                if rows < PURGE_BATCH as u64 {
                    break;
                }
            }
        }
        Ok(counts)
    }

    async fn certificate_links(
        &self,
        person: PersonId,
    ) -> Result<Vec<CertificateLink>, StoreError> {
        self.read(move |c| {
            let mut statement = c.prepare_cached(concat!(
                "SELECT ",
                certificate_link_columns!(),
                " FROM certificate_links WHERE person_id = ?1 ORDER BY linked_at, issuer, serial"
            ))?;
            codec::all(&mut statement, [person.0], |row| {
                rows::certificate_link(&mut Columns::new(row))
            })
        })
        .await
    }

    async fn consents_of_person(&self, person: PersonId) -> Result<Vec<Consent>, StoreError> {
        self.read(move |c| {
            let mut statement = c.prepare_cached(concat!(
                "SELECT ",
                consent_columns!(),
                " FROM consents WHERE person_id = ?1 ORDER BY id"
            ))?;
            codec::all(&mut statement, [person.0], |row| {
                rows::consent(&mut Columns::new(row))
            })
        })
        .await
    }

    async fn qualification_checks_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<(InstitutionId, QualificationCheck)>, StoreError> {
        self.read(move |c| {
            let mut statement = c.prepare_cached(concat!(
                "SELECT institution_id, ",
                check_columns!(),
                " FROM qualification_checks WHERE person_id = ?1 ORDER BY id"
            ))?;
            codec::all(&mut statement, [person.0], |row| {
                rows::institution_check(&mut Columns::new(row))
            })
        })
        .await
    }

    async fn access_log_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<AccessLogLine>, StoreError> {
        self.read(move |c| {
            let mut statement = c.prepare_cached(concat!(
                "SELECT ",
                access_log_columns!(),
                " FROM access_log a LEFT JOIN insured_persons p ON p.id = a.person_id \
                 WHERE a.person_id = ?1 ORDER BY a.id"
            ))?;
            codec::all(&mut statement, [person.0], |row| {
                rows::access_log_line(&mut Columns::new(row))
            })
        })
        .await
    }

    async fn delete_person(
        &self,
        person: PersonId,
        today: Date,
    ) -> Result<Option<PersonDeletion>, StoreError> {
        // Durable: a deletion a person asked for must not come back after a crash.
        self.write_durable(move |c| delete_person(c, person, today))
            .await
    }
}
