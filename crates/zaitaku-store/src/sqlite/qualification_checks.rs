//! Qualification checks: a copy of the person's record as an institution saw it,
//! made at registration (with the consent, in `consents`) and at each 再照会
//! (in `console`). Both write through here.

use crate::console_records::CheckSource;
use crate::error::StoreError;
use crate::rows::qualification_columns;
use rusqlite::{Connection, params};
use zaitaku_domain::{InstitutionId, PersonId};

/// Copy the person's current record as a check made by `institution`.
pub fn record_check(
    tx: &Connection,
    institution: InstitutionId,
    person: PersonId,
    at: i64,
    source: CheckSource,
) -> Result<i64, StoreError> {
    tx.prepare_cached(concat!(
        "INSERT INTO qualification_checks (institution_id, person_id, checked_at, source, ",
        qualification_columns!(),
        ") SELECT ?, id, ?, ?, ",
        qualification_columns!(),
        " FROM insured_persons WHERE id = ?"
    ))?
    .execute(params![institution.0, at, source.code(), person.0])?;
    Ok(tx.last_insert_rowid())
}
