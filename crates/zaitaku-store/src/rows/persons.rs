//! Insured persons' rows (and the qualification a check recorded), the same on
//! both backends.

use super::Cursor;
use crate::codec::{code, to_date, to_opt_date};
use crate::error::StoreError;
use zaitaku_domain::{
    BurdenRatio, ElderlyCertificate, InsuredPerson, InsurerNumber, LimitCertificate, PersonId,
    Qualification, QualificationValidity, Relationship, Sex,
};

/// A qualification record's 25 columns, in the order of `Qualification`'s fields;
/// `qualification_checks` has them too.
macro_rules! qualification_columns {
    () => {
        "insurer_number, insurer_name, symbol, number, branch, relationship, name, \
         name_kana, sex, birth_date, address, postal_code, acquired_on, lost_on, loss_reason, \
         valid_from, valid_until, burden_ratio, elderly_valid_from, elderly_valid_until, \
         elderly_burden_ratio, limit_category, limit_applied_category, specific_disease, validity"
    };
}
pub(crate) use qualification_columns;

/// The columns [`person`] reads, in its order.
macro_rules! person_columns {
    () => {
        concat!("id, ", $crate::rows::qualification_columns!())
    };
}
pub(crate) use person_columns;

/// A person from the columns `id` (or `person_id`) then `qualification_columns!`.
pub fn person(c: &mut impl Cursor) -> Result<InsuredPerson, StoreError> {
    let id = PersonId(c.int()?);
    Ok(InsuredPerson {
        id,
        qualification: qualification(c)?,
    })
}

/// A qualification from the columns of `qualification_columns!`.
pub fn qualification(c: &mut impl Cursor) -> Result<Qualification, StoreError> {
    // A struct expression evaluates its fields in the order written: this reads
    // the columns in the order of `qualification_columns!`.
    Ok(Qualification {
        insurer_number: code(&c.text()?, "insurer number", InsurerNumber::parse)?,
        insurer_name: c.text()?,
        symbol: c.opt_text()?,
        number: c.text()?,
        branch: c.opt_text()?,
        relationship: code(&c.text()?, "relationship", Relationship::parse)?,
        name: c.text()?,
        name_kana: c.text()?,
        sex: code(&c.text()?, "sex", Sex::parse)?,
        birth_date: to_date(&c.text()?, "birth date")?,
        address: c.text()?,
        postal_code: c.text()?,
        acquired_on: to_date(&c.text()?, "acquisition date")?,
        lost_on: to_opt_date(c.opt_text()?, "loss date")?,
        loss_reason: c.opt_text()?,
        valid_from: to_opt_date(c.opt_text()?, "validity start")?,
        valid_until: to_opt_date(c.opt_text()?, "validity end")?,
        burden_ratio: ratio(c.opt_text()?)?,
        elderly: elderly(c)?,
        limit: limit(c)?,
        specific_disease: c.opt_text()?,
        validity: code(&c.text()?, "validity", QualificationValidity::parse)?,
    })
}

fn ratio(value: Option<String>) -> Result<Option<BurdenRatio>, StoreError> {
    value
        .map(|v| code(&v, "burden ratio", BurdenRatio::parse))
        .transpose()
}

/// Columns elderly_valid_from, elderly_valid_until, elderly_burden_ratio.
fn elderly(c: &mut impl Cursor) -> Result<Option<ElderlyCertificate>, StoreError> {
    let from = c.opt_text()?;
    let until = c.opt_text()?;
    let burden = c.opt_text()?;
    let Some(from) = from else { return Ok(None) };
    Ok(Some(ElderlyCertificate {
        valid_from: to_date(&from, "elderly certificate")?,
        valid_until: to_opt_date(until, "elderly certificate")?,
        burden_ratio: ratio(burden)?.ok_or(StoreError::Corrupt {
            what: "elderly certificate",
        })?,
    }))
}

/// Columns limit_category, limit_applied_category.
fn limit(c: &mut impl Cursor) -> Result<Option<LimitCertificate>, StoreError> {
    match (c.opt_text()?, c.opt_text()?) {
        (Some(category), Some(applied_category)) => Ok(Some(LimitCertificate {
            category,
            applied_category,
        })),
        _ => Ok(None),
    }
}

/// The columns [`certificate_link`] reads, in its order.
macro_rules! certificate_link_columns {
    () => {
        "issuer, serial, linked_at"
    };
}
pub(crate) use certificate_link_columns;

/// A certificate link from the columns of `certificate_link_columns!`.
pub fn certificate_link(
    c: &mut impl Cursor,
) -> Result<crate::lifecycle::CertificateLink, StoreError> {
    Ok(crate::lifecycle::CertificateLink {
        issuer: c.text()?,
        serial: c.text()?,
        linked_at: crate::codec::to_instant(c.int()?, "certificate link")?,
    })
}
