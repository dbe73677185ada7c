//! Medical records: imported in batches for persons named by their key, read
//! per person and kind.

use super::SqliteStore;
use super::codec::{self, Columns};
use super::persons;
use crate::codec::date;
use crate::error::StoreError;
use crate::records::{NewRecord, PersonKey, RecordImportCounts};
use crate::rows;
use crate::store::MedicalRecordStore;
use async_trait::async_trait;
use rusqlite::{Connection, Row, TransactionBehavior, params, params_from_iter};
use std::collections::HashMap;
use zaitaku_domain::{MedicalRecord, PersonId, RecordKind};

/// Insert every record whose person is known, in one transaction.
pub fn import(
    conn: &mut Connection,
    batch: &[NewRecord],
) -> Result<RecordImportCounts, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut counts = RecordImportCounts::default();
    // A file lists many records per person: look each person up once.
    let mut ids: HashMap<&PersonKey, Option<PersonId>> = HashMap::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO medical_records (person_id, kind, date, provider, name, detail) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (person_id, kind, date, provider, name, detail) DO NOTHING",
        )?;
        for (i, new) in batch.iter().enumerate() {
            let id = match ids.get(&new.person) {
                Some(&id) => id,
                None => {
                    let id = persons::id_by_key(&tx, &new.person)?;
                    ids.insert(&new.person, id);
                    id
                }
            };
            let Some(person) = id else {
                counts.unknown_persons.push(i);
                continue;
            };
            let r = &new.record;
            let added = insert.execute(params![
                person.0,
                r.kind().code(),
                date(r.date()),
                r.provider(),
                r.name(),
                r.detail().unwrap_or(""),
            ])?;
            if added == 1 {
                counts.inserted += 1;
            } else {
                counts.unchanged += 1;
            }
        }
    }
    tx.commit()?;
    Ok(counts)
}

/// The person's records of `kinds`, newest first, a day's in import order.
pub fn of_person(
    conn: &Connection,
    person: PersonId,
    kinds: &[RecordKind],
) -> Result<Vec<MedicalRecord>, StoreError> {
    let mut codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    // One statement per number of kinds (at most four), each cached.
    let marks = vec!["?"; codes.len()].join(", ");
    let mut statement = conn.prepare_cached(&format!(
        "SELECT kind, date, provider, name, detail FROM medical_records \
         WHERE person_id = ? AND kind IN ({marks}) ORDER BY date DESC, id"
    ))?;
    let values = std::iter::once(rusqlite::types::Value::Integer(person.0)).chain(
        codes
            .iter()
            .map(|c| rusqlite::types::Value::Text((*c).to_owned())),
    );
    codec::all(&mut statement, params_from_iter(values), from_row)
}

fn from_row(row: &Row<'_>) -> Result<MedicalRecord, StoreError> {
    rows::medical_record(&mut Columns::new(row))
}

#[async_trait]
impl MedicalRecordStore for SqliteStore {
    async fn import_records(&self, batch: &[NewRecord]) -> Result<RecordImportCounts, StoreError> {
        let batch = batch.to_vec();
        self.write_durable(move |c| import(c, &batch)).await
    }

    async fn records_of(
        &self,
        person: PersonId,
        kinds: &[RecordKind],
    ) -> Result<Vec<MedicalRecord>, StoreError> {
        let kinds = kinds.to_vec();
        self.read(move |c| of_person(c, person, &kinds)).await
    }
}
