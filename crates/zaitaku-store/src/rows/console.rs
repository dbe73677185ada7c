//! The console's rows (the patient list, qualification checks, the access
//! log), the same on both backends.

use super::Cursor;
use crate::codec::{some_code, to_date, to_instant};
use crate::console_records::{
    AccessAction, AccessActor, AccessEntry, AccessLogLine, CheckSource, PatientSummary,
    QualificationCheck, StaffActor,
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
/// `p`: the person, LEFT JOINed: entries about no one have none).
macro_rules! access_log_columns {
    () => {
        "a.at, a.institution_id, a.staff_id, a.staff_login, a.staff_name, a.person_id, \
         a.action, a.device_name, a.detail, p.name"
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
    let at = to_instant(c.int()?, "access log")?;
    let institution = c.opt_int()?.map(InstitutionId);
    let staff_id = c.opt_int()?;
    let login = c.text()?;
    let name = c.text()?;
    let actor = match staff_id {
        Some(id) => AccessActor::Staff(StaffActor {
            id: StaffId(id),
            login,
            name,
        }),
        None => AccessActor::Cli,
    };
    Ok(AccessLogLine {
        entry: AccessEntry {
            at,
            institution,
            actor,
            person: c.opt_int()?.map(PersonId),
            action: some_code(&c.text()?, "access action", AccessAction::parse)?,
            device_name: c.opt_text()?,
            detail: c.opt_text()?,
        },
        person_name: c.opt_text()?,
    })
}

/// Append an access-log entry: `$1` at … `$9` detail, as [`access_actor_columns`]
/// splits the actor; the new id returned (the chain seals it next).
pub const ACCESS_INSERT: &str = "INSERT INTO access_log (at, institution_id, staff_id, \
     staff_login, staff_name, person_id, action, device_name, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";

/// The staff columns of an access-log entry: `staff_id, staff_login, staff_name`.
pub fn access_actor_columns(actor: &AccessActor) -> (Option<i64>, &str, &str) {
    match actor {
        AccessActor::Staff(s) => (Some(s.id.0), s.login.as_str(), s.name.as_str()),
        AccessActor::Cli => (None, "cli", ""),
    }
}

/// A qualification check and its institution from `institution_id` then the
/// columns of `check_columns!`.
pub fn institution_check(
    c: &mut impl Cursor,
) -> Result<(InstitutionId, QualificationCheck), StoreError> {
    Ok((InstitutionId(c.int()?), check(c)?))
}
