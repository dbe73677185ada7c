use super::SqliteStore;
use super::codec::{self, Columns, is_unique_violation};
use crate::codec::instant;
use crate::error::StoreError;
use crate::records::{InstitutionChanges, NewInstitution};
use crate::rows::{self, institution_columns};
use crate::store::InstitutionStore;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;
use zaitaku_domain::{Institution, InstitutionCode, InstitutionId, InstitutionKind, UrlToken};

pub fn insert(conn: &Connection, new: &NewInstitution) -> Result<Institution, StoreError> {
    let items: Vec<&str> = new.offered_items.iter().map(|i| i.code()).collect();
    let result = conn
        .prepare_cached(
            "INSERT INTO institutions (code, name, offered_items, e_prescription, \
             consent_validity_days, url_token, created_at, flows_from) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![
            new.code.as_str(),
            new.name,
            items.join(","),
            new.e_prescription.code(),
            i64::from(new.consent_validity_days),
            new.url_token.as_str(),
            instant(OffsetDateTime::now_utc()),
            new.flows_from.code(),
        ]);
    match result {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Duplicate {
                what: "an institution with this code or URL token",
            });
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Institution {
        id: InstitutionId(conn.last_insert_rowid()),
        code: new.code,
        kind: InstitutionKind::of(&new.code),
        name: new.name.clone(),
        offered_items: new.offered_items.clone(),
        e_prescription: new.e_prescription,
        consent_validity_days: new.consent_validity_days,
        url_token: new.url_token.clone(),
        deactivated_at: None,
        flows_from: new.flows_from,
    })
}

pub fn by_id(conn: &Connection, id: InstitutionId) -> Result<Option<Institution>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        institution_columns!(),
        " FROM institutions WHERE id = ?"
    ))?;
    codec::optional(&mut statement, [id.0], from_row)
}

pub fn by_url_token(
    conn: &Connection,
    token: &UrlToken,
) -> Result<Option<Institution>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        institution_columns!(),
        " FROM institutions WHERE url_token = ?"
    ))?;
    codec::optional(&mut statement, [token.as_str()], from_row)
}

pub fn by_code(
    conn: &Connection,
    code: &InstitutionCode,
) -> Result<Option<Institution>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        institution_columns!(),
        " FROM institutions WHERE code = ?"
    ))?;
    codec::optional(&mut statement, [code.as_str()], from_row)
}

/// One statement: a setting left `NULL` keeps its stored value.
pub fn update(
    conn: &Connection,
    code: &InstitutionCode,
    changes: &InstitutionChanges,
) -> Result<Option<Institution>, StoreError> {
    let items = changes
        .offered_items
        .as_ref()
        .map(|items| items.iter().map(|i| i.code()).collect::<Vec<_>>().join(","));
    let mut statement = conn.prepare_cached(concat!(
        "UPDATE institutions SET name = coalesce(?, name), \
         offered_items = coalesce(?, offered_items), \
         e_prescription = coalesce(?, e_prescription), \
         consent_validity_days = coalesce(?, consent_validity_days), \
         flows_from = coalesce(?, flows_from) \
         WHERE code = ? RETURNING ",
        institution_columns!()
    ))?;
    codec::optional(
        &mut statement,
        params![
            changes.name,
            items,
            changes.e_prescription.map(|u| u.code()),
            changes.consent_validity_days.map(i64::from),
            changes.flows_from.map(|f| f.code()),
            code.as_str(),
        ],
        from_row,
    )
}

/// The new token, and the pending challenges of the old URL's flows cancelled,
/// in one transaction.
pub fn set_url_token(
    conn: &mut Connection,
    code: &InstitutionCode,
    token: &UrlToken,
    at: OffsetDateTime,
) -> Result<Option<Institution>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let result = tx
        .prepare_cached(concat!(
            "UPDATE institutions SET url_token = ? WHERE code = ? RETURNING ",
            institution_columns!()
        ))?
        .query_row([token.as_str(), code.as_str()], |row| Ok(from_row(row)))
        .optional();
    let institution = match result {
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Duplicate {
                what: "an institution with this URL token",
            });
        }
        result => result?.transpose()?,
    };
    let Some(institution) = institution else {
        return Ok(None);
    };
    tx.prepare_cached(crate::records::CANCEL_CHALLENGES_ON_ROTATION_SQL)?
        .execute(params![instant(at), institution.id.0])?;
    tx.commit()?;
    Ok(Some(institution))
}

/// Mark the institution, then end its running flows and their pending challenges.
pub fn deactivate(
    conn: &mut Connection,
    code: &InstitutionCode,
    at: OffsetDateTime,
) -> Result<Option<Institution>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(institution) = tx
        .prepare_cached(concat!(
            "UPDATE institutions SET deactivated_at = coalesce(deactivated_at, ?) \
             WHERE code = ? RETURNING ",
            institution_columns!()
        ))?
        .query_row(params![instant(at), code.as_str()], |row| Ok(from_row(row)))
        .optional()?
        .transpose()?
    else {
        return Ok(None);
    };
    tx.prepare_cached(
        "UPDATE challenges SET state = 'cancelled', settled_at = ? WHERE state = 'pending' \
         AND flow_id IN (SELECT id FROM flows WHERE institution_id = ?)",
    )?
    .execute(params![instant(at), institution.id.0])?;
    tx.prepare_cached(
        "UPDATE flows SET expires_at = ? WHERE institution_id = ? AND expires_at > ?",
    )?
    .execute(params![instant(at), institution.id.0, instant(at)])?;
    tx.commit()?;
    Ok(Some(institution))
}

pub fn reactivate(
    conn: &Connection,
    code: &InstitutionCode,
) -> Result<Option<Institution>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "UPDATE institutions SET deactivated_at = NULL WHERE code = ? RETURNING ",
        institution_columns!()
    ))?;
    codec::optional(&mut statement, [code.as_str()], from_row)
}

pub fn all(conn: &Connection) -> Result<Vec<Institution>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        institution_columns!(),
        " FROM institutions ORDER BY id"
    ))?;
    codec::all(&mut statement, [], from_row)
}

/// An institution from the columns of `institution_columns!`, in order.
fn from_row(row: &Row<'_>) -> Result<Institution, StoreError> {
    rows::institution(&mut Columns::new(row))
}

#[async_trait]
impl InstitutionStore for SqliteStore {
    async fn insert_institution(&self, new: &NewInstitution) -> Result<Institution, StoreError> {
        let new = new.clone();
        self.write_durable(move |c| insert(c, &new)).await
    }

    async fn institution(&self, id: InstitutionId) -> Result<Option<Institution>, StoreError> {
        self.read(move |c| by_id(c, id)).await
    }

    async fn institution_by_url_token(
        &self,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError> {
        let token = token.clone();
        self.read(move |c| by_url_token(c, &token)).await
    }

    async fn institutions(&self) -> Result<Vec<Institution>, StoreError> {
        self.read(all).await
    }

    async fn institution_by_code(
        &self,
        code: &InstitutionCode,
    ) -> Result<Option<Institution>, StoreError> {
        let code = *code;
        self.read(move |c| by_code(c, &code)).await
    }

    async fn update_institution(
        &self,
        code: &InstitutionCode,
        changes: &InstitutionChanges,
    ) -> Result<Option<Institution>, StoreError> {
        let (code, changes) = (*code, changes.clone());
        self.write_durable(move |c| update(c, &code, &changes))
            .await
    }

    async fn set_url_token(
        &self,
        code: &InstitutionCode,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError> {
        let (code, token) = (*code, token.clone());
        let now = OffsetDateTime::now_utc();
        self.write_durable(move |c| set_url_token(c, &code, &token, now))
            .await
    }

    async fn deactivate_institution(
        &self,
        code: &InstitutionCode,
        at: OffsetDateTime,
    ) -> Result<Option<Institution>, StoreError> {
        let code = *code;
        self.write_durable(move |c| deactivate(c, &code, at)).await
    }

    async fn reactivate_institution(
        &self,
        code: &InstitutionCode,
    ) -> Result<Option<Institution>, StoreError> {
        let code = *code;
        self.write_durable(move |c| reactivate(c, &code)).await
    }
}
