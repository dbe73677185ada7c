//! PostgreSQL: consents.

#![allow(unused_imports)]

use super::*;

pub async fn settle_registration(
    pool: &PgPool,
    write: &RegistrationWrite,
) -> Result<ConsentId, SettleError> {
    todo!("settle_registration")
}

pub async fn settle_revocation(
    pool: &PgPool,
    write: &RevocationWrite,
) -> Result<Option<ConsentId>, SettleError> {
    todo!("settle_revocation")
}

pub async fn settle_view(pool: &PgPool, write: &ViewWrite) -> Result<Option<Consent>, SettleError> {
    todo!("settle_view")
}

pub async fn settle_update(
    pool: &PgPool,
    write: &UpdateWrite,
) -> Result<UpdateOutcome, SettleError> {
    todo!("settle_update")
}

pub async fn consent(
    pool: &PgPool,
    institution: InstitutionId,
    person: PersonId,
) -> Result<Option<Consent>, StoreError> {
    todo!("consent")
}

pub async fn consent_by_id(pool: &PgPool, id: ConsentId) -> Result<Option<Consent>, StoreError> {
    todo!("consent_by_id")
}

pub async fn consent_history(
    pool: &PgPool,
    id: ConsentId,
) -> Result<Vec<ConsentChange>, StoreError> {
    todo!("consent_history")
}

pub async fn revoke_by_staff(
    pool: &PgPool,
    revocation: &StaffRevocation,
) -> Result<StaffRevocationOutcome, StoreError> {
    todo!("revoke_by_staff")
}
