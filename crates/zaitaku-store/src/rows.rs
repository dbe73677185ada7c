//! Row decoders the same for both backends: each backend reads its own rows
//! through a [`Cursor`] (the columns in the order its query selects them), and
//! these turn the values into domain types, calling a value that no longer
//! parses corrupt.

mod console;
mod devices;
mod flows;
mod institutions;
mod persons;
mod records;
mod staff;
mod trust;

pub use console::{
    ACCESS_INSERT, access_actor_columns, access_log_line, check, institution_check, patient_summary,
};
pub(crate) use console::{access_log_columns, check_columns};
pub use devices::{device, stored_code, stored_invitation};
pub(crate) use flows::challenge_columns;
pub use flows::{StepColumns, challenge, challenge_state_columns, flow};
pub use institutions::institution;
pub(crate) use institutions::institution_columns;
pub use persons::{certificate_link, person};
pub(crate) use persons::{certificate_link_columns, person_columns, qualification_columns};
pub use records::{medical_record, session};
pub use staff::{account, login, staff_session};
pub(crate) use staff::{account_columns, login_columns, staff_session_columns};
pub use trust::{anchor, coverage, crl, crl_state};
pub(crate) use trust::{anchor_columns, crl_columns, crl_state_columns};

use crate::codec::{code, some_code, to_date, to_instant};
use crate::error::StoreError;
use zaitaku_domain::{
    CardAuthentication, Channel, Consent, ConsentChange, ConsentChoices, ConsentId, ConsentStatus,
    InstitutionId, PersonId,
};

/// A row's columns, read one after another.
pub trait Cursor {
    fn int(&mut self) -> Result<i64, StoreError>;
    fn text(&mut self) -> Result<String, StoreError>;
    fn opt_text(&mut self) -> Result<Option<String>, StoreError>;
    fn opt_int(&mut self) -> Result<Option<i64>, StoreError>;
    fn bytes(&mut self) -> Result<Vec<u8>, StoreError>;
}

/// The columns [`consent`] reads, in its order.
macro_rules! consent_columns {
    () => {
        "id, institution_id, person_id, choices, status, expires_on, registered_at, \
         updated_at, version"
    };
}
pub(crate) use consent_columns;

/// The columns [`consent_change`] reads, in its order.
macro_rules! consent_change_columns {
    () => {
        "consent_id, at, actor, channel, auth_issuer, auth_serial, auth_revocation, \
         old_choices, old_status, new_choices, new_status, device_name"
    };
}
pub(crate) use consent_change_columns;

/// A consent from the columns of `consent_columns!`.
pub fn consent(c: &mut impl Cursor) -> Result<Consent, StoreError> {
    // A struct expression evaluates its fields in the order written: this reads
    // the columns in the order of `consent_columns!`.
    Ok(Consent {
        id: ConsentId(c.int()?),
        institution_id: InstitutionId(c.int()?),
        person_id: PersonId(c.int()?),
        choices: choices(&c.text()?)?,
        status: status(&c.text()?)?,
        expires_on: to_date(&c.text()?, "consent expiry")?,
        registered_at: to_instant(c.int()?, "consent")?,
        updated_at: to_instant(c.int()?, "consent")?,
        version: c.int()?,
    })
}

/// A consent history row from the columns of `consent_change_columns!`.
pub fn consent_change(c: &mut impl Cursor) -> Result<ConsentChange, StoreError> {
    Ok(ConsentChange {
        consent_id: ConsentId(c.int()?),
        at: to_instant(c.int()?, "consent history")?,
        actor: c.text()?,
        channel: some_code(&c.text()?, "channel", Channel::parse)?,
        authentication: authentication(c)?,
        old: old(c)?,
        new: (choices(&c.text()?)?, status(&c.text()?)?),
        device: c.opt_text()?,
    })
}

fn status(text: &str) -> Result<ConsentStatus, StoreError> {
    some_code(text, "consent status", ConsentStatus::parse)
}

fn choices(text: &str) -> Result<ConsentChoices, StoreError> {
    code(text, "consent choices", ConsentChoices::decode)
}

/// Columns auth_issuer, auth_serial, auth_revocation.
fn authentication(c: &mut impl Cursor) -> Result<Option<CardAuthentication>, StoreError> {
    let issuer = c.opt_text()?;
    let serial = c.opt_text()?;
    let revocation = c.opt_text()?;
    let Some(certificate_issuer) = issuer else {
        return Ok(None);
    };
    let corrupt = || StoreError::Corrupt {
        what: "consent history authentication",
    };
    Ok(Some(CardAuthentication {
        certificate_issuer,
        certificate_serial: serial.ok_or_else(corrupt)?,
        revocation: revocation.ok_or_else(corrupt)?,
    }))
}

/// Columns old_choices, old_status.
fn old(c: &mut impl Cursor) -> Result<Option<(ConsentChoices, ConsentStatus)>, StoreError> {
    match (c.opt_text()?, c.opt_text()?) {
        (Some(old_choices), Some(old_status)) => {
            Ok(Some((choices(&old_choices)?, status(&old_status)?)))
        }
        _ => Ok(None),
    }
}
