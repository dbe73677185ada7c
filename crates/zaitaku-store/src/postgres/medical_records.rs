//! PostgreSQL: medical records, imported in batches for persons named by their
//! key (set-based: one look-up, one insert), read per person and kind.

use super::PostgresStore;
use super::columns::Columns;
use super::persons;
use crate::codec::date;
use crate::error::StoreError;
use crate::records::{NewRecord, PersonKey, RecordImportCounts};
use crate::rows;
use crate::store::MedicalRecordStore;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use std::collections::HashMap;
use zaitaku_domain::{MedicalRecord, PersonId, RecordKind};

#[async_trait]
impl MedicalRecordStore for PostgresStore {
    /// Insert every record whose person is known, in one transaction.
    async fn import_records(&self, batch: &[NewRecord]) -> Result<RecordImportCounts, StoreError> {
        let pool = &self.pool;
        let mut counts = RecordImportCounts::default();
        // A file lists many records per person: look each person up once.
        let mut keys: Vec<&PersonKey> = Vec::new();
        let mut positions: HashMap<&PersonKey, usize> = HashMap::new();
        let of_record: Vec<usize> = batch
            .iter()
            .map(|new| {
                *positions.entry(&new.person).or_insert_with(|| {
                    keys.push(&new.person);
                    keys.len() - 1
                })
            })
            .collect();
        let mut tx = pool.begin().await?;
        let ids = persons::ids_by_key(&mut tx, &keys).await?;
        let mut person_ids: Vec<i64> = Vec::new();
        let mut kinds: Vec<&str> = Vec::new();
        let mut dates: Vec<String> = Vec::new();
        let mut providers: Vec<&str> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let mut details: Vec<&str> = Vec::new();
        for (i, (new, key)) in batch.iter().zip(of_record).enumerate() {
            let Some(person) = ids.get(&key) else {
                counts.unknown_persons.push(i);
                continue;
            };
            let r = &new.record;
            person_ids.push(person.0);
            kinds.push(r.kind().code());
            dates.push(date(r.date()));
            providers.push(r.provider());
            names.push(r.name());
            details.push(r.detail().unwrap_or(""));
        }
        let known = person_ids.len() as u64;
        if known > 0 {
            // In batch order, so a day's records keep their import order; a record
            // met twice (stored before, or earlier in the batch) is left alone.
            let added = sqlx::query(
                "INSERT INTO medical_records (person_id, kind, date, provider, name, detail) \
                 SELECT person_id, kind, date, provider, name, detail \
                 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
                 $6::text[]) WITH ORDINALITY AS r (person_id, kind, date, provider, name, detail, \
                 ord) ORDER BY ord \
                 ON CONFLICT (person_id, kind, date, provider, name, detail) DO NOTHING",
            )
            .bind(person_ids)
            .bind(kinds)
            .bind(dates)
            .bind(providers)
            .bind(names)
            .bind(details)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            counts.inserted = added;
            counts.unchanged = known - added;
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// The person's records of `kinds`, newest first, a day's in import order.
    async fn records_of(
        &self,
        person: PersonId,
        kinds: &[RecordKind],
    ) -> Result<Vec<MedicalRecord>, StoreError> {
        let pool = &self.pool;
        let codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query(
            "SELECT kind, date, provider, name, detail FROM medical_records \
             WHERE person_id = $1 AND kind = ANY($2) ORDER BY date DESC, id",
        )
        .bind(person.0)
        .bind(codes)
        .fetch_all(pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }
}

fn from_row(row: &PgRow) -> Result<MedicalRecord, StoreError> {
    rows::medical_record(&mut Columns::new(row))
}
