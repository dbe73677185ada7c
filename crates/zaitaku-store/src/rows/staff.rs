//! Staff accounts', console sessions' and the login log's rows, the same on
//! both backends.

use super::Cursor;
use crate::codec::{code, some_code, to_instant, to_opt_instant};
use crate::error::StoreError;
use crate::staff::{LoginRecord, ShownSecret, StaffAccount, StaffSessionRecord, StaffSessionStage};
use zaitaku_domain::{InstitutionId, LoginName, LoginOutcome, StaffId, StaffRole, StaffStatus};

/// The columns [`account`] reads, in its order.
macro_rules! account_columns {
    () => {
        "id, institution_id, login_name, display_name, role, password_hash, totp_secret, \
         totp_last_step, failed_attempts, locked_until, enrolment_expires_at, created_at, status, \
         enrolment_secret, enrolment_secret_session"
    };
}
pub(crate) use account_columns;

/// The columns [`staff_session`] reads, in its order.
macro_rules! staff_session_columns {
    () => {
        "id_hash, staff_id, csrf_token, stage, created_at, last_seen_at, expires_at"
    };
}
pub(crate) use staff_session_columns;

/// The columns [`login`] reads, in its order.
macro_rules! login_columns {
    () => {
        "at, login_name, staff_id, institution_id, outcome"
    };
}
pub(crate) use login_columns;

/// A staff account from the columns of `account_columns!`.
pub fn account(c: &mut impl Cursor) -> Result<StaffAccount, StoreError> {
    Ok(StaffAccount {
        id: StaffId(c.int()?),
        institution_id: InstitutionId(c.int()?),
        login_name: code(&c.text()?, "staff login name", LoginName::parse)?,
        display_name: c.text()?,
        role: some_code(&c.text()?, "staff role", StaffRole::parse)?,
        password_hash: c.opt_text()?,
        totp_secret: c.text()?,
        totp_last_step: c.opt_int()?,
        failed_attempts: u32::try_from(c.int()?).map_err(|_| StoreError::Corrupt {
            what: "staff failure count",
        })?,
        locked_until: to_opt_instant(c.opt_int()?, "staff lock")?,
        enrolment_expires_at: to_opt_instant(c.opt_int()?, "staff enrolment")?,
        created_at: to_instant(c.int()?, "staff")?,
        status: some_code(&c.text()?, "staff status", StaffStatus::parse)?,
        enrolment_secret: match (c.opt_text()?, c.opt_text()?) {
            (Some(secret), Some(session_hash)) => Some(ShownSecret {
                secret,
                session_hash,
            }),
            (None, None) => None,
            _ => {
                return Err(StoreError::Corrupt {
                    what: "staff enrolment secret",
                });
            }
        },
    })
}

/// A console session from the columns of `staff_session_columns!`.
pub fn staff_session(c: &mut impl Cursor) -> Result<StaffSessionRecord, StoreError> {
    Ok(StaffSessionRecord {
        id_hash: c.text()?,
        staff_id: c.opt_int()?.map(StaffId),
        csrf_token: c.text()?,
        stage: some_code(
            &c.text()?,
            "console session stage",
            StaffSessionStage::parse,
        )?,
        created_at: to_instant(c.int()?, "console session")?,
        last_seen_at: to_instant(c.int()?, "console session")?,
        expires_at: to_instant(c.int()?, "console session")?,
    })
}

/// A line of the login log from the columns of `login_columns!`.
pub fn login(c: &mut impl Cursor) -> Result<LoginRecord, StoreError> {
    Ok(LoginRecord {
        at: to_instant(c.int()?, "login log")?,
        login_name: c.text()?,
        staff_id: c.opt_int()?.map(StaffId),
        institution_id: c.opt_int()?.map(InstitutionId),
        outcome: some_code(&c.text()?, "login outcome", LoginOutcome::parse)?,
    })
}
