//! PostgreSQL: enrolled devices and activation codes (statements and rules in
//! `crate::devices`). An activation locks its code's row (`FOR UPDATE`), so of
//! two processes typing the same code one enrols and the other finds it used;
//! the unique index on live devices settles two enrolments of one browser.

use super::PostgresStore;
use super::columns::Columns;
use super::is_unique_violation;
use crate::codec::instant;
use crate::devices::{
    self, Activation, DeviceActor, DeviceRecord, Enrolled, Judged, LAST_SEEN_EVERY,
    NewActivationCode, NewDevice, StoredCode,
};
use crate::error::StoreError;
use crate::rows;
use crate::store::DeviceStore;
use async_trait::async_trait;
use sqlx::PgExecutor;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use zaitaku_domain::{DeviceId, DeviceName, InstitutionId};

fn from_row(row: &PgRow) -> Result<DeviceRecord, StoreError> {
    rows::device(&mut Columns::new(row))
}

async fn live(
    db: impl PgExecutor<'_>,
    credential_hash: &str,
    institution: InstitutionId,
) -> Result<Option<DeviceRecord>, StoreError> {
    sqlx::query(devices::LIVE_DEVICE)
        .bind(credential_hash)
        .bind(institution.0)
        .fetch_optional(db)
        .await?
        .map(|row| from_row(&row))
        .transpose()
}

async fn insert(
    db: impl PgExecutor<'_>,
    institution: InstitutionId,
    name: &DeviceName,
    credential_hash: &str,
    by_staff: Option<i64>,
    by: &str,
    at: OffsetDateTime,
) -> Result<DeviceRecord, StoreError> {
    let result = sqlx::query(devices::INSERT_DEVICE)
        .bind(institution.0)
        .bind(name.as_str())
        .bind(credential_hash)
        .bind(by_staff)
        .bind(by)
        .bind(instant(at))
        .fetch_one(db)
        .await;
    match result {
        Ok(row) => from_row(&row),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate {
            what: "a live device of this browser at this institution",
        }),
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl DeviceStore for PostgresStore {
    async fn enrol_device(&self, new: &NewDevice) -> Result<Enrolled, StoreError> {
        if let Some(existing) = live(&self.pool, &new.credential_hash, new.institution_id).await? {
            return Ok(Enrolled::Existing(existing));
        }
        let inserted = insert(
            &self.pool,
            new.institution_id,
            &new.name,
            &new.credential_hash,
            new.enrolled_by.staff_id(),
            new.enrolled_by.label(),
            new.at,
        )
        .await;
        match inserted {
            Ok(device) => Ok(Enrolled::New(device)),
            // Another process enrolled this browser a moment before.
            Err(StoreError::Duplicate { what }) => {
                match live(&self.pool, &new.credential_hash, new.institution_id).await? {
                    Some(existing) => Ok(Enrolled::Existing(existing)),
                    None => Err(StoreError::Duplicate { what }),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn live_device(
        &self,
        credential_hash: &str,
        institution: InstitutionId,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        live(&self.pool, credential_hash, institution).await
    }

    async fn touch_device(&self, id: DeviceId, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(devices::TOUCH_DEVICE)
            .bind(instant(at))
            .bind(id.0)
            .bind(LAST_SEEN_EVERY.whole_seconds())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn devices(
        &self,
        institution: Option<InstitutionId>,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        sqlx::query(devices::DEVICES)
            .bind(institution.map(|i| i.0))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    async fn device(
        &self,
        id: DeviceId,
        institution: Option<InstitutionId>,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        sqlx::query(devices::DEVICE_BY_ID)
            .bind(id.0)
            .bind(institution.map(|i| i.0))
            .fetch_optional(&self.pool)
            .await?
            .map(|row| from_row(&row))
            .transpose()
    }

    async fn revoke_device(
        &self,
        id: DeviceId,
        institution: Option<InstitutionId>,
        by: &DeviceActor,
        at: OffsetDateTime,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let revoked = sqlx::query(devices::REVOKE_DEVICE)
            .bind(instant(at))
            .bind(by.staff_id())
            .bind(by.label())
            .bind(id.0)
            .bind(institution.map(|i| i.0))
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| from_row(&row))
            .transpose()?;
        if revoked.is_some() {
            sqlx::query(devices::CANCEL_CHALLENGES_ON_REVOCATION)
                .bind(instant(at))
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    async fn issue_activation_code(&self, code: &NewActivationCode) -> Result<(), StoreError> {
        let result = sqlx::query(devices::INSERT_CODE)
            .bind(&code.code_hash)
            .bind(code.institution_id.0)
            .bind(code.device_name.as_str())
            .bind(code.created_by.staff_id())
            .bind(code.created_by.label())
            .bind(instant(code.created_at))
            .bind(instant(code.expires_at))
            .execute(&self.pool)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate {
                what: "an activation code with this hash",
            }),
            Err(e) => Err(e.into()),
        }
    }

    async fn activate_device(
        &self,
        code_hash: &str,
        credential_hash: &str,
        at: OffsetDateTime,
    ) -> Result<Activation, StoreError> {
        let mut tx = self.pool.begin().await?;
        let code: Option<StoredCode> = sqlx::query(devices::CODE_BY_HASH_FOR_UPDATE)
            .bind(code_hash)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| rows::stored_code(&mut Columns::new(&row)))
            .transpose()?;
        let existing = match &code {
            Some(code) => live(&mut *tx, credential_hash, code.institution_id).await?,
            None => None,
        };
        let code = match devices::judge_code(code, existing, at) {
            Judged::Enrol(code) => code,
            Judged::Refuse(refused) => return Ok(refused),
        };
        let device = insert(
            &mut *tx,
            code.institution_id,
            &code.device_name,
            credential_hash,
            code.created_by_staff,
            &code.created_by,
            at,
        )
        .await?;
        let used = sqlx::query(devices::USE_CODE)
            .bind(instant(at))
            .bind(device.id.0)
            .bind(code_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if used != 1 {
            return Ok(Activation::Used); // dropping the transaction rolls it back
        }
        tx.commit().await?;
        Ok(Activation::Enrolled(device))
    }
}
