//! PostgreSQL: console.

#![allow(unused_imports)]

use super::*;

pub async fn patients(
    pool: &PgPool,
    query: &PatientQuery,
) -> Result<Vec<PatientSummary>, StoreError> {
    todo!("patients")
}

pub async fn qualification_checks(
    pool: &PgPool,
    institution: InstitutionId,
    person: PersonId,
    limit: u32,
) -> Result<Vec<QualificationCheck>, StoreError> {
    todo!("qualification_checks")
}

pub async fn requery_qualification(
    pool: &PgPool,
    institution: InstitutionId,
    person: PersonId,
    today: time::Date,
    at: OffsetDateTime,
) -> Result<Option<QualificationCheck>, StoreError> {
    todo!("requery_qualification")
}

pub async fn record_access(pool: &PgPool, entry: &AccessEntry) -> Result<(), StoreError> {
    todo!("record_access")
}

pub async fn access_log(
    pool: &PgPool,
    institution: InstitutionId,
    limit: u32,
) -> Result<Vec<AccessLogLine>, StoreError> {
    todo!("access_log")
}
