use super::SqliteStore;
use super::codec::{self, Columns};
use crate::codec::{date, instant};
use crate::error::StoreError;
use crate::records::{PersonKey, UpsertCounts};
use crate::rows::{self, person_columns};
use crate::store::PersonStore;
use async_trait::async_trait;
use rusqlite::{Connection, Row, TransactionBehavior, params};
use time::OffsetDateTime;
use zaitaku_domain::{InsuredPerson, PersonId, Qualification};

/// The 25 values of a record, in the order of `columns!` after `id`, then `$extra`.
macro_rules! record_params {
    ($q:ident $(, $extra:expr)*) => {
        params![
            $q.insurer_number.as_str(),
            $q.insurer_name,
            $q.symbol,
            $q.number,
            $q.branch,
            $q.relationship.code(),
            $q.name,
            $q.name_kana,
            $q.sex.code(),
            date($q.birth_date),
            $q.address,
            $q.postal_code,
            date($q.acquired_on),
            $q.lost_on.map(date),
            $q.loss_reason,
            $q.valid_from.map(date),
            $q.valid_until.map(date),
            $q.burden_ratio.map(|r| r.code()),
            $q.elderly.as_ref().map(|e| date(e.valid_from)),
            $q.elderly.as_ref().and_then(|e| e.valid_until.map(date)),
            $q.elderly.as_ref().map(|e| e.burden_ratio.code()),
            $q.limit.as_ref().map(|l| l.category.as_str()),
            $q.limit.as_ref().map(|l| l.applied_category.as_str()),
            $q.specific_disease,
            $q.validity.code(),
            $($extra,)*
        ]
    };
}

pub fn insert(conn: &Connection, q: &Qualification) -> Result<PersonId, StoreError> {
    conn.prepare_cached(
        "INSERT INTO insured_persons (insurer_number, insurer_name, symbol, number, branch, \
         relationship, name, name_kana, sex, birth_date, address, postal_code, acquired_on, \
         lost_on, loss_reason, valid_from, valid_until, burden_ratio, elderly_valid_from, \
         elderly_valid_until, elderly_burden_ratio, limit_category, limit_applied_category, \
         specific_disease, validity) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(record_params!(q))
    .map_err(|e| {
        if codec::is_unique_violation(&e) {
            StoreError::Duplicate {
                what: "insured person (insurer number, symbol, number, branch)",
            }
        } else {
            e.into()
        }
    })?;
    Ok(PersonId(conn.last_insert_rowid()))
}

fn update(conn: &Connection, id: PersonId, q: &Qualification) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE insured_persons SET insurer_number = ?, insurer_name = ?, symbol = ?, \
         number = ?, branch = ?, relationship = ?, name = ?, name_kana = ?, sex = ?, \
         birth_date = ?, address = ?, postal_code = ?, acquired_on = ?, lost_on = ?, \
         loss_reason = ?, valid_from = ?, valid_until = ?, burden_ratio = ?, \
         elderly_valid_from = ?, elderly_valid_until = ?, elderly_burden_ratio = ?, \
         limit_category = ?, limit_applied_category = ?, specific_disease = ?, validity = ? \
         WHERE id = ?",
    )?
    .execute(record_params!(q, id.0))?;
    Ok(())
}

/// Insert or update every record by its key, in one transaction.
pub fn upsert(conn: &mut Connection, batch: &[Qualification]) -> Result<UpsertCounts, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut counts = UpsertCounts::default();
    for q in batch {
        match by_key_parts(
            &tx,
            q.insurer_number.as_str(),
            &q.symbol,
            &q.number,
            &q.branch,
        )? {
            None => {
                insert(&tx, q)?;
                counts.inserted += 1;
            }
            Some(known) if known.qualification == *q => counts.unchanged += 1,
            Some(known) => {
                update(&tx, known.id, q)?;
                counts.updated += 1;
            }
        }
    }
    tx.commit()?;
    Ok(counts)
}

pub fn by_key(conn: &Connection, key: &PersonKey) -> Result<Option<InsuredPerson>, StoreError> {
    by_key_parts(
        conn,
        key.insurer_number.as_str(),
        &key.symbol,
        &key.number,
        &key.branch,
    )
}

/// The id of the person `key` names, without reading the record.
pub fn id_by_key(conn: &Connection, key: &PersonKey) -> Result<Option<PersonId>, StoreError> {
    // The expressions of the unique index insured_persons_by_key (0004).
    let mut statement = conn.prepare_cached(
        "SELECT id FROM insured_persons WHERE insurer_number = ? AND coalesce(symbol, '') = ? \
         AND number = ? AND coalesce(branch, '') = ?",
    )?;
    codec::optional(
        &mut statement,
        params![
            key.insurer_number.as_str(),
            key.symbol.as_deref().unwrap_or(""),
            key.number,
            key.branch.as_deref().unwrap_or("")
        ],
        |row| Ok(PersonId(row.get(0)?)),
    )
}

fn by_key_parts(
    conn: &Connection,
    insurer_number: &str,
    symbol: &Option<String>,
    number: &str,
    branch: &Option<String>,
) -> Result<Option<InsuredPerson>, StoreError> {
    // The expressions of the unique index insured_persons_by_key (0004).
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        person_columns!(),
        " FROM insured_persons WHERE insurer_number = ? AND coalesce(symbol, '') = ? \
         AND number = ? AND coalesce(branch, '') = ?"
    ))?;
    codec::optional(
        &mut statement,
        params![
            insurer_number,
            symbol.as_deref().unwrap_or(""),
            number,
            branch.as_deref().unwrap_or("")
        ],
        from_row,
    )
}

pub fn by_id(conn: &Connection, id: PersonId) -> Result<Option<InsuredPerson>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        person_columns!(),
        " FROM insured_persons WHERE id = ?"
    ))?;
    codec::optional(&mut statement, [id.0], from_row)
}

pub fn link_certificate(
    conn: &Connection,
    issuer: &str,
    serial: &str,
    person: PersonId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    // A renewed link replaces the old one: a certificate belongs to one person.
    conn.prepare_cached(
        "INSERT INTO certificate_links (issuer, serial, person_id, linked_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (issuer, serial) DO UPDATE SET person_id = excluded.person_id, \
         linked_at = excluded.linked_at",
    )?
    .execute(params![issuer, serial, person.0, instant(at)])?;
    Ok(())
}

pub fn unlink_certificate(
    conn: &Connection,
    issuer: &str,
    serial: &str,
) -> Result<bool, StoreError> {
    let removed = conn
        .prepare_cached("DELETE FROM certificate_links WHERE issuer = ? AND serial = ?")?
        .execute([issuer, serial])?;
    Ok(removed > 0)
}

pub fn by_certificate(
    conn: &Connection,
    issuer: &str,
    serial: &str,
) -> Result<Option<InsuredPerson>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        person_columns!(),
        " FROM insured_persons WHERE id = \
         (SELECT person_id FROM certificate_links WHERE issuer = ? AND serial = ?)"
    ))?;
    codec::optional(&mut statement, [issuer, serial], from_row)
}

fn from_row(row: &Row<'_>) -> Result<InsuredPerson, StoreError> {
    rows::person(&mut Columns::new(row))
}

#[async_trait]
impl PersonStore for SqliteStore {
    async fn person(&self, id: PersonId) -> Result<Option<InsuredPerson>, StoreError> {
        self.read(move |c| by_id(c, id)).await
    }

    async fn person_by_key(&self, key: &PersonKey) -> Result<Option<InsuredPerson>, StoreError> {
        let key = key.clone();
        self.read(move |c| by_key(c, &key)).await
    }

    async fn upsert_persons(&self, batch: &[Qualification]) -> Result<UpsertCounts, StoreError> {
        let batch = batch.to_vec();
        self.write_durable(move |c| upsert(c, &batch)).await
    }

    async fn link_certificate(
        &self,
        issuer: &str,
        serial: &str,
        person: PersonId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (issuer, serial) = (issuer.to_owned(), serial.to_owned());
        self.write_durable(move |c| link_certificate(c, &issuer, &serial, person, at))
            .await
    }

    async fn unlink_certificate(&self, issuer: &str, serial: &str) -> Result<bool, StoreError> {
        let (issuer, serial) = (issuer.to_owned(), serial.to_owned());
        self.write_durable(move |c| unlink_certificate(c, &issuer, &serial))
            .await
    }

    async fn person_by_certificate(
        &self,
        issuer: &str,
        serial: &str,
    ) -> Result<Option<InsuredPerson>, StoreError> {
        let (issuer, serial) = (issuer.to_owned(), serial.to_owned());
        self.read(move |c| by_certificate(c, &issuer, &serial))
            .await
    }
}
