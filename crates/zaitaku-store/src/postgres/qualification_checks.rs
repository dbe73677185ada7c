//! Qualification checks: a copy of the person's record as an institution saw it,
//! made at registration (with the consent, in `consents`) and at each 再照会
//! (in `console`). Both write and read them through here.

use super::columns::Columns;
use crate::console_records::{CheckSource, QualificationCheck};
use crate::error::StoreError;
use crate::rows::{self, check_columns, qualification_columns};
use sqlx::postgres::{PgConnection, PgRow};
use zaitaku_domain::{InstitutionId, PersonId};

/// Copy the person's current record as a check made by `institution`, and
/// return it (`None` if there is no such person).
pub(super) async fn record_check(
    conn: &mut PgConnection,
    institution: InstitutionId,
    person: PersonId,
    at: i64,
    source: CheckSource,
) -> Result<Option<QualificationCheck>, StoreError> {
    sqlx::query(concat!(
        "INSERT INTO qualification_checks (institution_id, person_id, checked_at, source, ",
        qualification_columns!(),
        ") SELECT $1, id, $2, $3, ",
        qualification_columns!(),
        " FROM insured_persons WHERE id = $4 RETURNING ",
        check_columns!()
    ))
    .bind(institution.0)
    .bind(at)
    .bind(source.code())
    .bind(person.0)
    .fetch_optional(conn)
    .await?
    .map(|row| check_from_row(&row))
    .transpose()
}

pub(super) fn check_from_row(row: &PgRow) -> Result<QualificationCheck, StoreError> {
    rows::check(&mut Columns::new(row))
}
