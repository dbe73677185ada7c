//! PostgreSQL: staff.

#![allow(unused_imports)]

use super::*;

pub async fn insert_staff(pool: &PgPool, new: &NewStaff) -> Result<StaffAccount, StoreError> {
    todo!("insert_staff")
}

pub async fn staff(pool: &PgPool, id: StaffId) -> Result<Option<StaffAccount>, StoreError> {
    todo!("staff")
}

pub async fn staff_by_login(
    pool: &PgPool,
    login: &LoginName,
) -> Result<Option<StaffAccount>, StoreError> {
    todo!("staff_by_login")
}

pub async fn staff_of_institution(
    pool: &PgPool,
    institution: InstitutionId,
) -> Result<Vec<StaffAccount>, StoreError> {
    todo!("staff_of_institution")
}

pub async fn staff_by_enrolment(
    pool: &PgPool,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<StaffAccount>, StoreError> {
    todo!("staff_by_enrolment")
}

pub async fn complete_enrolment(pool: &PgPool, write: &EnrolmentWrite) -> Result<bool, StoreError> {
    todo!("complete_enrolment")
}

pub async fn reset_staff(
    pool: &PgPool,
    login: &LoginName,
    totp_secret: &str,
    enrolment: &Enrolment,
) -> Result<Option<StaffAccount>, StoreError> {
    todo!("reset_staff")
}

pub async fn record_login(pool: &PgPool, attempt: &LoginRecord) -> Result<(), StoreError> {
    todo!("record_login")
}

pub async fn record_login_failure(
    pool: &PgPool,
    attempt: &LoginRecord,
    lockout: &Lockout,
) -> Result<bool, StoreError> {
    todo!("record_login_failure")
}

pub async fn complete_login(pool: &PgPool, write: &LoginCompletion) -> Result<bool, StoreError> {
    todo!("complete_login")
}

pub async fn insert_staff_session(
    pool: &PgPool,
    session: &StaffSessionRecord,
) -> Result<(), StoreError> {
    todo!("insert_staff_session")
}

pub async fn replace_staff_session(
    pool: &PgPool,
    old_hash: &str,
    new: &StaffSessionRecord,
) -> Result<(), StoreError> {
    todo!("replace_staff_session")
}

pub async fn staff_session(
    pool: &PgPool,
    id_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<StaffSessionRecord>, StoreError> {
    todo!("staff_session")
}

pub async fn touch_staff_session(
    pool: &PgPool,
    id_hash: &str,
    at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    todo!("touch_staff_session")
}

pub async fn delete_staff_session(pool: &PgPool, id_hash: &str) -> Result<(), StoreError> {
    todo!("delete_staff_session")
}

pub async fn staff_logins(
    pool: &PgPool,
    institution: InstitutionId,
    limit: u32,
) -> Result<Vec<LoginRecord>, StoreError> {
    todo!("staff_logins")
}
