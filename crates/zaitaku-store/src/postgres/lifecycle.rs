//! The personal data's lifecycle on PostgreSQL: the retention purge, one
//! person's data read for export, and a person's deletion. The rules are
//! `lifecycle.rs`'s, the same SQL as SQLite's.

use super::PostgresStore;
use super::audit;
use super::columns::Columns;
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
use sqlx::postgres::{PgArguments, PgConnection};
use sqlx::query::{Query, QueryScalar};
use sqlx::{AssertSqlSafe, Postgres};
use time::Date;
use zaitaku_domain::{Consent, InstitutionId, PersonId};

fn bind<'q>(
    query: Query<'q, Postgres, PgArguments>,
    cutoff: Cutoff,
) -> Query<'q, Postgres, PgArguments> {
    match cutoff {
        Cutoff::Instant(secs) => query.bind(secs),
        Cutoff::Day(day) => query.bind(day),
    }
}

fn bind_scalar<'q>(
    query: QueryScalar<'q, Postgres, i64, PgArguments>,
    cutoff: Cutoff,
) -> QueryScalar<'q, Postgres, i64, PgArguments> {
    match cutoff {
        Cutoff::Instant(secs) => query.bind(secs),
        Cutoff::Day(day) => query.bind(day),
    }
}

/// The expired rules in one transaction, as SQLite's. Rows deleted per table.
pub async fn purge_expired(
    conn: &mut PgConnection,
    cutoffs: &PurgeCutoffs,
) -> Result<Vec<TableCount>, StoreError> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    // Lock the expired flows first: a challenge another process would add to
    // one now waits for this purge (and then finds its flow gone), rather than
    // slipping in between the two deletes.
    let flows = lifecycle::EXPIRED.iter().find(|r| r.table == "flows");
    if let Some(flows) = flows {
        let sql = format!("SELECT id FROM flows WHERE {} FOR UPDATE", flows.condition);
        bind(sqlx::query(AssertSqlSafe(sql)), flows.cutoff(cutoffs))
            .execute(&mut *tx)
            .await?;
    }
    let mut counts = Vec::new();
    for rule in lifecycle::EXPIRED {
        let sql = rule.delete_sql();
        let rows = bind(sqlx::query(AssertSqlSafe(sql)), rule.cutoff(cutoffs))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tally(&mut counts, rule.table, rows);
    }
    tx.commit().await?;
    Ok(counts)
}

async fn count(
    store: &PostgresStore,
    rule: &PurgeRule,
    cutoffs: &PurgeCutoffs,
) -> Result<u64, StoreError> {
    let n = bind_scalar(
        sqlx::query_scalar(AssertSqlSafe(rule.count_sql())),
        rule.cutoff(cutoffs),
    )
    .fetch_one(&store.pool)
    .await?;
    Ok(n as u64)
}

#[async_trait]
impl DataLifecycle for PostgresStore {
    async fn purge(
        &self,
        cutoffs: &PurgeCutoffs,
        dry_run: bool,
    ) -> Result<Vec<TableCount>, StoreError> {
        let mut counts = Vec::new();
        if dry_run {
            let mut conn = self.pool.acquire().await?;
            for rule in lifecycle::EXPIRED.iter().chain(lifecycle::RETAINED) {
                let rows = match rule.chained() {
                    Some(_) => audit::count_chained(&mut conn, rule, cutoffs).await?,
                    None => count(self, rule, cutoffs).await?,
                };
                tally(&mut counts, rule.table, rows);
            }
            return Ok(counts);
        }
        let mut conn = self.pool.acquire().await?;
        counts = purge_expired(&mut conn, cutoffs).await?;
        for rule in lifecycle::RETAINED {
            if rule.chained().is_some() {
                let rows = audit::purge_chained(&mut conn, rule, cutoffs).await?;
                tally(&mut counts, rule.table, rows);
                continue;
            }
            loop {
                // One statement, its own transaction: a batch.
                let rows = bind(
                    sqlx::query(AssertSqlSafe(rule.delete_batch_sql())),
                    rule.cutoff(cutoffs),
                )
                .bind(PURGE_BATCH)
                .execute(&mut *conn)
                .await?
                .rows_affected();
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
        sqlx::query(concat!(
            "SELECT ",
            certificate_link_columns!(),
            " FROM certificate_links WHERE person_id = $1 ORDER BY linked_at, issuer, serial"
        ))
        .bind(person.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| rows::certificate_link(&mut Columns::new(row)))
        .collect()
    }

    async fn consents_of_person(&self, person: PersonId) -> Result<Vec<Consent>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            consent_columns!(),
            " FROM consents WHERE person_id = $1 ORDER BY id"
        ))
        .bind(person.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| rows::consent(&mut Columns::new(row)))
        .collect()
    }

    async fn qualification_checks_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<(InstitutionId, QualificationCheck)>, StoreError> {
        sqlx::query(concat!(
            "SELECT institution_id, ",
            check_columns!(),
            " FROM qualification_checks WHERE person_id = $1 ORDER BY id"
        ))
        .bind(person.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| rows::institution_check(&mut Columns::new(row)))
        .collect()
    }

    async fn access_log_of_person(
        &self,
        person: PersonId,
    ) -> Result<Vec<AccessLogLine>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            access_log_columns!(),
            " FROM access_log a LEFT JOIN insured_persons p ON p.id = a.person_id \
             WHERE a.person_id = $1 ORDER BY a.id"
        ))
        .bind(person.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| rows::access_log_line(&mut Columns::new(row)))
        .collect()
    }

    async fn delete_person(
        &self,
        person: PersonId,
        today: Date,
    ) -> Result<Option<PersonDeletion>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The person's row locked: a consent, flow, link or check that would
        // name them now waits for this deletion (each takes a key-share lock).
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM insured_persons WHERE id = $1 FOR UPDATE")
                .bind(person.0)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Ok(None);
        }
        let institutions: Vec<i64> = sqlx::query_scalar(STANDING_CONSENTS)
            .bind(person.0)
            .bind(date(today))
            .fetch_all(&mut *tx)
            .await?;
        if !institutions.is_empty() {
            return Ok(Some(PersonDeletion::ConsentStands(
                institutions.into_iter().map(InstitutionId).collect(),
            )));
        }
        let mut removed = Vec::new();
        for (table, condition) in PERSON_REMOVED {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE {condition}"
            )))
            .bind(person.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tally(&mut removed, table, rows);
        }
        let mut kept = Vec::new();
        for (table, condition) in PERSON_KEPT {
            let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT count(*) FROM {table} WHERE {condition}"
            )))
            .bind(person.0)
            .fetch_one(&mut *tx)
            .await?;
            tally(&mut kept, table, rows as u64);
        }
        let person_removed = kept.iter().all(|c| c.rows == 0);
        if person_removed {
            sqlx::query("DELETE FROM insured_persons WHERE id = $1")
                .bind(person.0)
                .execute(&mut *tx)
                .await?;
        }
        tally(&mut removed, "insured_persons", u64::from(person_removed));
        tx.commit().await?;
        Ok(Some(PersonDeletion::Done {
            removed,
            kept,
            person_removed,
        }))
    }
}
