//! PostgreSQL: institutions.

#![allow(unused_imports)]

use super::*;

pub async fn insert_institution(
    pool: &PgPool,
    new: &NewInstitution,
) -> Result<Institution, StoreError> {
    todo!("insert_institution")
}

pub async fn institution(
    pool: &PgPool,
    id: InstitutionId,
) -> Result<Option<Institution>, StoreError> {
    todo!("institution")
}

pub async fn institution_by_url_token(
    pool: &PgPool,
    token: &UrlToken,
) -> Result<Option<Institution>, StoreError> {
    todo!("institution_by_url_token")
}

pub async fn institutions(pool: &PgPool) -> Result<Vec<Institution>, StoreError> {
    todo!("institutions")
}

pub async fn institution_by_code(
    pool: &PgPool,
    code: &InstitutionCode,
) -> Result<Option<Institution>, StoreError> {
    todo!("institution_by_code")
}

pub async fn update_institution(
    pool: &PgPool,
    code: &InstitutionCode,
    changes: &InstitutionChanges,
) -> Result<Option<Institution>, StoreError> {
    todo!("update_institution")
}

pub async fn set_url_token(
    pool: &PgPool,
    code: &InstitutionCode,
    token: &UrlToken,
) -> Result<Option<Institution>, StoreError> {
    todo!("set_url_token")
}
