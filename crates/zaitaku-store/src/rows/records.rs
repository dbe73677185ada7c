//! Patients' browser sessions' and imported medical records' rows, the same on
//! both backends.

use super::Cursor;
use crate::codec::{code, some_code, to_date, to_instant};
use crate::error::StoreError;
use crate::records::SessionRecord;
use time::Date;
use zaitaku_domain::{AuthMethod, MedicalRecord, RecordKind};

/// A session from the columns id_hash, csrf_token, created_at, expires_at,
/// auth_method.
pub fn session(c: &mut impl Cursor) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id_hash: c.text()?,
        csrf_token: c.text()?,
        created_at: to_instant(c.int()?, "session")?,
        expires_at: to_instant(c.int()?, "session")?,
        auth_method: c
            .opt_text()?
            .map(|code| some_code(&code, "session auth method", AuthMethod::parse))
            .transpose()?,
    })
}

/// A medical record from the columns kind, date, provider, name, detail.
pub fn medical_record(c: &mut impl Cursor) -> Result<MedicalRecord, StoreError> {
    let kind = code(&c.text()?, "record kind", RecordKind::parse)?;
    let day = to_date(&c.text()?, "record date")?;
    let provider = c.text()?;
    let name = c.text()?;
    let detail = c.text()?;
    // The date was checked against the day of its import; reading it later
    // does not move that day, so no upper bound applies here.
    MedicalRecord::new(kind, day, &provider, &name, &detail, Date::MAX).map_err(|_| {
        StoreError::Corrupt {
            what: "medical record",
        }
    })
}
