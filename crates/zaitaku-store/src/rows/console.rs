//! The console's rows (the patient list, qualification checks, the access
//! log), the same on both backends.

use super::Cursor;
use crate::codec::{some_code, to_date, to_instant};
use crate::console_records::{
    AccessAction, AccessEntry, AccessLogLine, CheckSource, PatientSummary, QualificationCheck,
    StaffActor,
};
use crate::error::StoreError;
use zaitaku_domain::{InstitutionId, PersonId, StaffId};

/// The columns [`check`] reads, in its order.
macro_rules! check_columns {
    () => {
        concat!(
            "id, checked_at, source, person_id, ",
            $crate::rows::qualification_columns!()
        )
    };
}
pub(crate) use check_columns;

/// The columns [`access_log_line`] reads, in its order (`a`: the access log,
/// `p`: the person).
macro_rules! access_log_columns {
    () => {
        "a.at, a.institution_id, a.staff_id, a.staff_login, a.staff_name, a.person_id, \
         a.action, p.name"
    };
}
pub(crate) use access_log_columns;

/// A line of the patient list from the columns of `consent_columns!`, then the
/// person's name, name_kana and birth_date.
pub fn patient_summary(c: &mut impl Cursor) -> Result<PatientSummary, StoreError> {
    let consent = super::consent(c)?;
    Ok(PatientSummary {
        person_id: consent.person_id,
        name: c.text()?,
        name_kana: c.text()?,
        birth_date: to_date(&c.text()?, "birth date")?,
        consent,
    })
}

/// A qualification check from the columns of `check_columns!`.
pub fn check(c: &mut impl Cursor) -> Result<QualificationCheck, StoreError> {
    Ok(QualificationCheck {
        id: c.int()?,
        checked_at: to_instant(c.int()?, "qualification check")?,
        source: some_code(&c.text()?, "check source", CheckSource::parse)?,
        // `person_id` then the record: the columns the persons reader reads.
        qualification: super::person(c)?.qualification,
    })
}

/// A line of the access log from the columns of `access_log_columns!`.
pub fn access_log_line(c: &mut impl Cursor) -> Result<AccessLogLine, StoreError> {
    Ok(AccessLogLine {
        entry: AccessEntry {
            at: to_instant(c.int()?, "access log")?,
            institution: InstitutionId(c.int()?),
            staff: StaffActor {
                id: StaffId(c.int()?),
                login: c.text()?,
                name: c.text()?,
            },
            person: PersonId(c.int()?),
            action: some_code(&c.text()?, "access action", AccessAction::parse)?,
        },
        person_name: c.text()?,
    })
}

/// A qualification check and its institution from `institution_id` then the
/// columns of `check_columns!`.
pub fn institution_check(
    c: &mut impl Cursor,
) -> Result<(InstitutionId, QualificationCheck), StoreError> {
    Ok((InstitutionId(c.int()?), check(c)?))
}
