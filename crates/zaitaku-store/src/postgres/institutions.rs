//! PostgreSQL: institutions, by id, code and URL token.

use super::PostgresStore;
use super::is_unique_violation;
use crate::codec::{code, instant};
use crate::error::StoreError;
use crate::records::{InstitutionChanges, NewInstitution};
use crate::store::InstitutionStore;
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use zaitaku_domain::{
    ConsentItem, EPrescriptionUsage, Institution, InstitutionCode, InstitutionId, InstitutionKind,
    UrlToken,
};

/// The columns `from_row` reads, in its order.
macro_rules! columns {
    () => {
        "id, code, name, offered_items, e_prescription, consent_validity_days, url_token"
    };
}

#[async_trait]
impl InstitutionStore for PostgresStore {
    async fn insert_institution(&self, new: &NewInstitution) -> Result<Institution, StoreError> {
        let pool = &self.pool;
        let items: Vec<&str> = new.offered_items.iter().map(|i| i.code()).collect();
        let result = sqlx::query_scalar(
            "INSERT INTO institutions (code, name, offered_items, e_prescription, \
             consent_validity_days, url_token, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id",
        )
        .bind(new.code.as_str())
        .bind(&new.name)
        .bind(items.join(","))
        .bind(new.e_prescription.code())
        .bind(i64::from(new.consent_validity_days))
        .bind(new.url_token.as_str())
        .bind(instant(OffsetDateTime::now_utc()))
        .fetch_one(pool)
        .await;
        let id = match result {
            Ok(id) => InstitutionId(id),
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate {
                    what: "an institution with this code or URL token",
                });
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Institution {
            id,
            code: new.code,
            kind: InstitutionKind::of(&new.code),
            name: new.name.clone(),
            offered_items: new.offered_items.clone(),
            e_prescription: new.e_prescription,
            consent_validity_days: new.consent_validity_days,
            url_token: new.url_token.clone(),
        })
    }

    async fn institution(&self, id: InstitutionId) -> Result<Option<Institution>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM institutions WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .map(|row| from_row(&row))
        .transpose()
    }

    async fn institution_by_url_token(
        &self,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM institutions WHERE url_token = $1"
        ))
        .bind(token.as_str())
        .fetch_optional(pool)
        .await?
        .map(|row| from_row(&row))
        .transpose()
    }

    async fn institutions(&self) -> Result<Vec<Institution>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM institutions ORDER BY id"
        ))
        .fetch_all(pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    async fn institution_by_code(
        &self,
        code: &InstitutionCode,
    ) -> Result<Option<Institution>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM institutions WHERE code = $1"
        ))
        .bind(code.as_str())
        .fetch_optional(pool)
        .await?
        .map(|row| from_row(&row))
        .transpose()
    }

    /// One statement: a setting left `NULL` keeps its stored value.
    async fn update_institution(
        &self,
        code: &InstitutionCode,
        changes: &InstitutionChanges,
    ) -> Result<Option<Institution>, StoreError> {
        let pool = &self.pool;
        let items = changes
            .offered_items
            .as_ref()
            .map(|items| items.iter().map(|i| i.code()).collect::<Vec<_>>().join(","));
        sqlx::query(concat!(
            "UPDATE institutions SET name = coalesce($1, name), \
             offered_items = coalesce($2, offered_items), \
             e_prescription = coalesce($3, e_prescription), \
             consent_validity_days = coalesce($4, consent_validity_days) \
             WHERE code = $5 RETURNING ",
            columns!()
        ))
        .bind(changes.name.as_deref())
        .bind(items)
        .bind(changes.e_prescription.map(|u| u.code()))
        .bind(changes.consent_validity_days.map(i64::from))
        .bind(code.as_str())
        .fetch_optional(pool)
        .await?
        .map(|row| from_row(&row))
        .transpose()
    }

    async fn set_url_token(
        &self,
        code: &InstitutionCode,
        token: &UrlToken,
    ) -> Result<Option<Institution>, StoreError> {
        let pool = &self.pool;
        let result = sqlx::query(concat!(
            "UPDATE institutions SET url_token = $1 WHERE code = $2 RETURNING ",
            columns!()
        ))
        .bind(token.as_str())
        .bind(code.as_str())
        .fetch_optional(pool)
        .await;
        match result {
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate {
                what: "an institution with this URL token",
            }),
            result => result?.map(|row| from_row(&row)).transpose(),
        }
    }
}

/// An institution from the columns of `columns!`, in order.
fn from_row(row: &PgRow) -> Result<Institution, StoreError> {
    read(row, 0)
}

/// An institution from the columns of `columns!`, starting at column `first`
/// (a flow's page reads its flow and institution in one statement).
pub(super) fn read(row: &PgRow, first: usize) -> Result<Institution, StoreError> {
    let at = |n: usize| first + n;
    let id = InstitutionId(row.try_get(at(0))?);
    let institution_code = code(
        &row.try_get::<String, _>(at(1))?,
        "institution code",
        InstitutionCode::parse,
    )?;
    let name = row.try_get(at(2))?;
    let offered_items = row
        .try_get::<String, _>(at(3))?
        .split(',')
        .map(|item| code(item, "offered items", ConsentItem::parse))
        .collect::<Result<Vec<_>, _>>()?;
    let e_prescription = code(
        &row.try_get::<String, _>(at(4))?,
        "e-prescription usage",
        EPrescriptionUsage::parse,
    )?;
    let days: i64 = row.try_get(at(5))?;
    let consent_validity_days = u32::try_from(days).map_err(|_| StoreError::Corrupt {
        what: "consent validity",
    })?;
    let url_token = code(
        &row.try_get::<String, _>(at(6))?,
        "URL token",
        UrlToken::parse,
    )?;
    Ok(Institution {
        id,
        code: institution_code,
        kind: InstitutionKind::of(&institution_code),
        name,
        offered_items,
        e_prescription,
        consent_validity_days,
        url_token,
    })
}
