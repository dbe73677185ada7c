//! PostgreSQL: institutions, by id, code and URL token.

use super::PostgresStore;
use super::columns::Columns;
use super::is_unique_violation;
use crate::codec::instant;
use crate::error::StoreError;
use crate::records::{InstitutionChanges, NewInstitution};
use crate::rows::{self, institution_columns};
use crate::store::InstitutionStore;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use zaitaku_domain::{Institution, InstitutionCode, InstitutionId, InstitutionKind, UrlToken};

#[async_trait]
impl InstitutionStore for PostgresStore {
    async fn insert_institution(&self, new: &NewInstitution) -> Result<Institution, StoreError> {
        let pool = &self.pool;
        let items: Vec<&str> = new.offered_items.iter().map(|i| i.code()).collect();
        let result = sqlx::query_scalar(
            "INSERT INTO institutions (code, name, offered_items, e_prescription, \
             consent_validity_days, url_token, created_at, flows_from) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.code.as_str())
        .bind(&new.name)
        .bind(items.join(","))
        .bind(new.e_prescription.code())
        .bind(i64::from(new.consent_validity_days))
        .bind(new.url_token.as_str())
        .bind(instant(OffsetDateTime::now_utc()))
        .bind(new.flows_from.code())
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
            deactivated_at: None,
            flows_from: new.flows_from,
        })
    }

    async fn institution(&self, id: InstitutionId) -> Result<Option<Institution>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            institution_columns!(),
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
            institution_columns!(),
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
            institution_columns!(),
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
            institution_columns!(),
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
             consent_validity_days = coalesce($4, consent_validity_days), \
             flows_from = coalesce($5, flows_from) \
             WHERE code = $6 RETURNING ",
            institution_columns!()
        ))
        .bind(changes.name.as_deref())
        .bind(items)
        .bind(changes.e_prescription.map(|u| u.code()))
        .bind(changes.consent_validity_days.map(i64::from))
        .bind(changes.flows_from.map(|f| f.code()))
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
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(concat!(
            "UPDATE institutions SET url_token = $1 WHERE code = $2 RETURNING ",
            institution_columns!()
        ))
        .bind(token.as_str())
        .bind(code.as_str())
        .fetch_optional(&mut *tx)
        .await;
        let row = match result {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate {
                    what: "an institution with this URL token",
                });
            }
            result => result?,
        };
        let Some(institution) = row.map(|row| from_row(&row)).transpose()? else {
            return Ok(None);
        };
        // The old URL's card answers in flight settle nothing after this.
        sqlx::query(crate::records::CANCEL_CHALLENGES_ON_ROTATION_SQL)
            .bind(instant(OffsetDateTime::now_utc()))
            .bind(institution.id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(institution))
    }

    async fn deactivate_institution(
        &self,
        code: &InstitutionCode,
        at: OffsetDateTime,
    ) -> Result<Option<Institution>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query(concat!(
            "UPDATE institutions SET deactivated_at = coalesce(deactivated_at, $1) \
             WHERE code = $2 RETURNING ",
            institution_columns!()
        ))
        .bind(instant(at))
        .bind(code.as_str())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let institution = from_row(&row)?;
        // Lock order of the flows module: flow, then challenge.
        sqlx::query(
            "UPDATE flows SET expires_at = $1 WHERE institution_id = $2 AND expires_at > $1",
        )
        .bind(instant(at))
        .bind(institution.id.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE challenges SET state = 'cancelled', settled_at = $1 WHERE state = 'pending' \
             AND flow_id IN (SELECT id FROM flows WHERE institution_id = $2)",
        )
        .bind(instant(at))
        .bind(institution.id.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(institution))
    }

    async fn reactivate_institution(
        &self,
        code: &InstitutionCode,
    ) -> Result<Option<Institution>, StoreError> {
        sqlx::query(concat!(
            "UPDATE institutions SET deactivated_at = NULL WHERE code = $1 RETURNING ",
            institution_columns!()
        ))
        .bind(code.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| from_row(&row))
        .transpose()
    }
}

/// An institution from the columns of `institution_columns!`, in order.
fn from_row(row: &PgRow) -> Result<Institution, StoreError> {
    rows::institution(&mut Columns::new(row))
}
