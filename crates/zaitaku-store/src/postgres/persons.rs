//! PostgreSQL: persons.

#![allow(unused_imports)]

use super::*;

pub async fn insert_person(
    pool: &PgPool,
    qualification: &Qualification,
) -> Result<PersonId, StoreError> {
    todo!("insert_person")
}

pub async fn person(pool: &PgPool, id: PersonId) -> Result<Option<InsuredPerson>, StoreError> {
    todo!("person")
}

pub async fn person_by_key(
    pool: &PgPool,
    key: &PersonKey,
) -> Result<Option<InsuredPerson>, StoreError> {
    todo!("person_by_key")
}

pub async fn upsert_persons(
    pool: &PgPool,
    batch: &[Qualification],
) -> Result<UpsertCounts, StoreError> {
    todo!("upsert_persons")
}

pub async fn link_certificate(
    pool: &PgPool,
    issuer: &str,
    serial: &str,
    person: PersonId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    todo!("link_certificate")
}

pub async fn unlink_certificate(
    pool: &PgPool,
    issuer: &str,
    serial: &str,
) -> Result<bool, StoreError> {
    todo!("unlink_certificate")
}

pub async fn person_by_certificate(
    pool: &PgPool,
    issuer: &str,
    serial: &str,
) -> Result<Option<InsuredPerson>, StoreError> {
    todo!("person_by_certificate")
}
