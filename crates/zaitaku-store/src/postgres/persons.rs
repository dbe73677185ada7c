//! PostgreSQL: insured persons and the certificates linked to them. Batches are
//! set-based: a few statements over arrays, whatever the batch's size.

use super::PostgresStore;
use super::columns::Columns;
use crate::codec::{date, instant};
use crate::error::StoreError;
use crate::records::{PersonKey, UpsertCounts};
use crate::rows::{self, person_columns, qualification_columns};
use crate::store::PersonStore;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use std::collections::HashMap;
use time::OffsetDateTime;
use zaitaku_domain::{InsuredPerson, PersonId, Qualification};

/// `$1` … `$25`, the arguments of `unnest` that make each a column of
/// `qualification_columns!`: one text array per column, one element per record.
macro_rules! record_arrays {
    () => {
        "$1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], \
         $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], \
         $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::text[], \
         $25::text[]"
    };
}

/// The expressions of the unique index insured_persons_by_key (0001), equal to
/// `$1` … `$4` (a missing symbol or branch is '').
macro_rules! by_key {
    () => {
        "insurer_number = $1 AND coalesce(symbol, '') = $2 \
         AND number = $3 AND coalesce(branch, '') = $4"
    };
}

/// A record's 25 values, in the order of `qualification_columns!`.
fn values(q: &Qualification) -> [Option<String>; 25] {
    [
        Some(q.insurer_number.as_str().to_owned()),
        Some(q.insurer_name.clone()),
        q.symbol.clone(),
        Some(q.number.clone()),
        q.branch.clone(),
        Some(q.relationship.code().to_owned()),
        Some(q.name.clone()),
        Some(q.name_kana.clone()),
        Some(q.sex.code().to_owned()),
        Some(date(q.birth_date)),
        Some(q.address.clone()),
        Some(q.postal_code.clone()),
        Some(date(q.acquired_on)),
        q.lost_on.map(date),
        q.loss_reason.clone(),
        q.valid_from.map(date),
        q.valid_until.map(date),
        q.burden_ratio.map(|r| r.code().to_owned()),
        q.elderly.as_ref().map(|e| date(e.valid_from)),
        q.elderly.as_ref().and_then(|e| e.valid_until.map(date)),
        q.elderly.as_ref().map(|e| e.burden_ratio.code().to_owned()),
        q.limit.as_ref().map(|l| l.category.clone()),
        q.limit.as_ref().map(|l| l.applied_category.clone()),
        q.specific_disease.clone(),
        Some(q.validity.code().to_owned()),
    ]
}

/// The records' values as 25 columns, one array per column.
fn columns_of<'a>(records: impl Iterator<Item = &'a Qualification>) -> Vec<Vec<Option<String>>> {
    let mut columns = vec![Vec::new(); 25];
    for q in records {
        for (column, value) in columns.iter_mut().zip(values(q)) {
            column.push(value);
        }
    }
    columns
}

#[cfg(feature = "testing")]
pub(super) async fn insert_person(
    pool: &sqlx::PgPool,
    qualification: &Qualification,
) -> Result<PersonId, StoreError> {
    let mut query = sqlx::query_scalar(concat!(
        "INSERT INTO insured_persons (",
        qualification_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, $20, $21, $22, $23, $24, $25) RETURNING id"
    ));
    for value in values(qualification) {
        query = query.bind(value);
    }
    match query.fetch_one(pool).await {
        Ok(id) => Ok(PersonId(id)),
        Err(e) if super::is_unique_violation(&e) => Err(StoreError::Duplicate {
            what: "insured person (insurer number, symbol, number, branch)",
        }),
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl PersonStore for PostgresStore {
    async fn person(&self, id: PersonId) -> Result<Option<InsuredPerson>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            person_columns!(),
            " FROM insured_persons WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .map(|row| from_row(&row))
        .transpose()
    }

    async fn person_by_key(&self, key: &PersonKey) -> Result<Option<InsuredPerson>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            person_columns!(),
            " FROM insured_persons WHERE ",
            by_key!()
        ))
        .bind(key.insurer_number.as_str())
        .bind(key.symbol.as_deref().unwrap_or(""))
        .bind(&key.number)
        .bind(key.branch.as_deref().unwrap_or(""))
        .fetch_optional(pool)
        .await?
        .map(|row| from_row(&row))
        .transpose()
    }

    /// Insert or update every record by its key, in one transaction: one look-up
    /// of the known persons, one insert and one update, each over arrays, however
    /// large the batch. Counted as if the records were written one after another.
    async fn upsert_persons(&self, batch: &[Qualification]) -> Result<UpsertCounts, StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(UPSERT_LOCK)
            .execute(&mut *tx)
            .await?;
        let mut stored = known_persons(&mut tx, batch).await?;
        let mut counts = UpsertCounts::default();
        // Per key, in order of first appearance: the stored person, if any, and
        // the batch's latest record (a later record overwrites an earlier one).
        let mut latest: HashMap<IndexKey, usize> = HashMap::new();
        let mut writes: Vec<(Option<InsuredPerson>, &Qualification)> = Vec::new();
        for q in batch {
            let key = index_key(q);
            if let Some(&at) = latest.get(&key) {
                let previous = &mut writes[at].1;
                if *previous == q {
                    counts.unchanged += 1;
                } else {
                    counts.updated += 1;
                }
                *previous = q;
                continue;
            }
            let known = stored.remove(&key);
            match &known {
                None => counts.inserted += 1,
                Some(person) if person.qualification == *q => counts.unchanged += 1,
                Some(_) => counts.updated += 1,
            }
            latest.insert(key, writes.len());
            writes.push((known, q));
        }
        let inserts: Vec<&Qualification> = writes
            .iter()
            .filter(|(known, _)| known.is_none())
            .map(|(_, q)| *q)
            .collect();
        // A record equal to the stored one writes nothing.
        let updates: Vec<(PersonId, &Qualification)> = writes
            .iter()
            .filter_map(|(known, q)| match known {
                Some(person) if person.qualification != **q => Some((person.id, *q)),
                _ => None,
            })
            .collect();
        if !inserts.is_empty() {
            // In batch order, so ids grow as on SQLite.
            let mut query = sqlx::query(concat!(
                "INSERT INTO insured_persons (",
                qualification_columns!(),
                ") SELECT ",
                qualification_columns!(),
                " FROM unnest(",
                record_arrays!(),
                ") WITH ORDINALITY AS r (",
                qualification_columns!(),
                ", ord) ORDER BY ord"
            ));
            for column in columns_of(inserts.into_iter()) {
                query = query.bind(column);
            }
            query.execute(&mut *tx).await?;
        }
        if !updates.is_empty() {
            let ids: Vec<i64> = updates.iter().map(|(id, _)| id.0).collect();
            let mut query = sqlx::query(concat!(
                "UPDATE insured_persons AS p SET (",
                qualification_columns!(),
                ") = (r.insurer_number, r.insurer_name, r.symbol, r.number, r.branch, \
                 r.relationship, r.name, r.name_kana, r.sex, r.birth_date, r.address, \
                 r.postal_code, r.acquired_on, r.lost_on, r.loss_reason, r.valid_from, \
                 r.valid_until, r.burden_ratio, r.elderly_valid_from, r.elderly_valid_until, \
                 r.elderly_burden_ratio, r.limit_category, r.limit_applied_category, \
                 r.specific_disease, r.validity) FROM unnest(",
                record_arrays!(),
                ", $26::bigint[]) AS r (",
                qualification_columns!(),
                ", id) WHERE p.id = r.id"
            ));
            for column in columns_of(updates.iter().map(|(_, q)| *q)) {
                query = query.bind(column);
            }
            query.bind(ids).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(counts)
    }

    async fn link_certificate(
        &self,
        issuer: &str,
        serial: &str,
        person: PersonId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pool = &self.pool;
        // A renewed link replaces the old one: a certificate belongs to one person.
        sqlx::query(
            "INSERT INTO certificate_links (issuer, serial, person_id, linked_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (issuer, serial) DO UPDATE SET person_id = excluded.person_id, \
             linked_at = excluded.linked_at",
        )
        .bind(issuer)
        .bind(serial)
        .bind(person.0)
        .bind(instant(at))
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn unlink_certificate(&self, issuer: &str, serial: &str) -> Result<bool, StoreError> {
        let pool = &self.pool;
        let removed =
            sqlx::query("DELETE FROM certificate_links WHERE issuer = $1 AND serial = $2")
                .bind(issuer)
                .bind(serial)
                .execute(pool)
                .await?
                .rows_affected();
        Ok(removed > 0)
    }

    async fn person_by_certificate(
        &self,
        issuer: &str,
        serial: &str,
    ) -> Result<Option<InsuredPerson>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            person_columns!(),
            " FROM insured_persons WHERE id = \
             (SELECT person_id FROM certificate_links WHERE issuer = $1 AND serial = $2)"
        ))
        .bind(issuer)
        .bind(serial)
        .fetch_optional(pool)
        .await?
        .map(|row| from_row(&row))
        .transpose()
    }
}

/// A key as the unique index sees it: a missing symbol or branch is ''.
type IndexKey = (String, String, String, String);

fn index_key(q: &Qualification) -> IndexKey {
    (
        q.insurer_number.as_str().to_owned(),
        q.symbol.clone().unwrap_or_default(),
        q.number.clone(),
        q.branch.clone().unwrap_or_default(),
    )
}

/// An arbitrary key for `pg_advisory_xact_lock`: upserts of insured persons
/// take turns across processes, as SQLite's single writer has them do, so a
/// key looked up as unknown is still unknown when it is inserted.
const UPSERT_LOCK: i64 = 0x7a61_6974_616b_7570;

/// The stored persons the batch's keys name, by key; one statement.
async fn known_persons(
    conn: &mut PgConnection,
    batch: &[Qualification],
) -> Result<HashMap<IndexKey, InsuredPerson>, StoreError> {
    let mut parts: [Vec<String>; 4] = Default::default();
    for q in batch {
        let (insurer, symbol, number, branch) = index_key(q);
        parts[0].push(insurer);
        parts[1].push(symbol);
        parts[2].push(number);
        parts[3].push(branch);
    }
    let [insurers, symbols, numbers, branches] = parts;
    let rows = sqlx::query(concat!(
        "SELECT ",
        person_columns!(),
        " FROM insured_persons WHERE \
         (insurer_number, coalesce(symbol, ''), number, coalesce(branch, '')) IN \
         (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))"
    ))
    .bind(insurers)
    .bind(symbols)
    .bind(numbers)
    .bind(branches)
    .fetch_all(conn)
    .await?;
    let mut known = HashMap::with_capacity(rows.len());
    for row in rows {
        let person = from_row(&row)?;
        known.insert(index_key(&person.qualification), person);
    }
    Ok(known)
}

/// The ids of the persons `keys` name, by position in `keys`; unknown keys are
/// missing. One statement, for the medical records import.
pub(super) async fn ids_by_key(
    conn: &mut PgConnection,
    keys: &[&PersonKey],
) -> Result<HashMap<usize, PersonId>, StoreError> {
    let mut parts: [Vec<&str>; 4] = Default::default();
    for key in keys {
        parts[0].push(key.insurer_number.as_str());
        parts[1].push(key.symbol.as_deref().unwrap_or(""));
        parts[2].push(&key.number);
        parts[3].push(key.branch.as_deref().unwrap_or(""));
    }
    let [insurers, symbols, numbers, branches] = parts;
    let rows = sqlx::query(
        "SELECT k.ord, p.id FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
         WITH ORDINALITY AS k (insurer_number, symbol, number, branch, ord) \
         JOIN insured_persons AS p ON p.insurer_number = k.insurer_number \
         AND coalesce(p.symbol, '') = k.symbol AND p.number = k.number \
         AND coalesce(p.branch, '') = k.branch",
    )
    .bind(insurers)
    .bind(symbols)
    .bind(numbers)
    .bind(branches)
    .fetch_all(conn)
    .await?;
    let mut ids = HashMap::with_capacity(rows.len());
    for row in rows {
        let ord: i64 = row.try_get(0)?;
        let index = usize::try_from(ord - 1).map_err(|_| StoreError::Corrupt {
            what: "person look-up",
        })?;
        ids.insert(index, PersonId(row.try_get(1)?));
    }
    Ok(ids)
}

/// A person from the columns of `person_columns!`, in order.
fn from_row(row: &PgRow) -> Result<InsuredPerson, StoreError> {
    rows::person(&mut Columns::new(row))
}
