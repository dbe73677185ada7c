//! Institutions' rows, the same on both backends.

use super::Cursor;
use crate::codec::{code, some_code, to_opt_instant};
use crate::error::StoreError;
use zaitaku_domain::{
    ConsentItem, EPrescriptionUsage, FlowsFrom, Institution, InstitutionCode, InstitutionId,
    InstitutionKind, UrlToken,
};

/// The columns [`institution`] reads, in its order.
macro_rules! institution_columns {
    () => {
        "id, code, name, offered_items, e_prescription, consent_validity_days, url_token, deactivated_at, \
         flows_from"
    };
}
pub(crate) use institution_columns;

/// An institution from the columns of `institution_columns!`.
pub fn institution(c: &mut impl Cursor) -> Result<Institution, StoreError> {
    let id = InstitutionId(c.int()?);
    let institution_code = code(&c.text()?, "institution code", InstitutionCode::parse)?;
    let name = c.text()?;
    let offered_items = c
        .text()?
        .split(',')
        .map(|item| code(item, "offered items", ConsentItem::parse))
        .collect::<Result<Vec<_>, _>>()?;
    let e_prescription = code(
        &c.text()?,
        "e-prescription usage",
        EPrescriptionUsage::parse,
    )?;
    let consent_validity_days = u32::try_from(c.int()?).map_err(|_| StoreError::Corrupt {
        what: "consent validity",
    })?;
    let url_token = code(&c.text()?, "URL token", UrlToken::parse)?;
    let deactivated_at = to_opt_instant(c.opt_int()?, "institution deactivation")?;
    let flows_from = some_code(&c.text()?, "flows from", FlowsFrom::parse)?;
    Ok(Institution {
        id,
        code: institution_code,
        kind: InstitutionKind::of(&institution_code),
        name,
        offered_items,
        e_prescription,
        consent_validity_days,
        url_token,
        deactivated_at,
        flows_from,
    })
}
