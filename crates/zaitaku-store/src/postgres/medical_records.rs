//! PostgreSQL: medical records.

#![allow(unused_imports)]

use super::*;

pub async fn import_records(
    pool: &PgPool,
    batch: &[NewRecord],
) -> Result<RecordImportCounts, StoreError> {
    todo!("import_records")
}

pub async fn records_of(
    pool: &PgPool,
    person: PersonId,
    kinds: &[RecordKind],
) -> Result<Vec<MedicalRecord>, StoreError> {
    todo!("records_of")
}
