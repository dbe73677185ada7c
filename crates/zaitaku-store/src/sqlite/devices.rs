//! Enrolled devices and activation codes (statements and rules in
//! `crate::devices`). Enrolments, codes and revocations are durable writes;
//! the last-seen time is bookkeeping.

use super::SqliteStore;
use super::codec::{self, Columns, is_unique_violation};
use crate::codec::instant;
use crate::devices::{
    self, Activation, DeviceActor, DeviceRecord, Enrolled, Judged, LAST_SEEN_EVERY,
    NewActivationCode, NewDevice, StoredCode,
};
use crate::error::StoreError;
use crate::rows;
use crate::store::DeviceStore;
use async_trait::async_trait;
use rusqlite::{Connection, Row, TransactionBehavior, params};
use time::OffsetDateTime;
use zaitaku_domain::{DeviceId, DeviceName, InstitutionId};

fn from_row(row: &Row<'_>) -> Result<DeviceRecord, StoreError> {
    rows::device(&mut Columns::new(row))
}

/// Device `id` within institution `institution` (`None`: any).
pub(super) fn by_id(
    conn: &Connection,
    id: DeviceId,
    institution: Option<InstitutionId>,
) -> Result<Option<DeviceRecord>, StoreError> {
    let mut statement = conn.prepare_cached(devices::DEVICE_BY_ID)?;
    codec::optional(
        &mut statement,
        params![id.0, institution.map(|i| i.0)],
        from_row,
    )
}

fn live(
    conn: &Connection,
    credential_hash: &str,
    institution: InstitutionId,
) -> Result<Option<DeviceRecord>, StoreError> {
    let mut statement = conn.prepare_cached(devices::LIVE_DEVICE)?;
    codec::optional(
        &mut statement,
        params![credential_hash, institution.0],
        from_row,
    )
}

fn insert(
    conn: &Connection,
    institution: InstitutionId,
    name: &DeviceName,
    credential_hash: &str,
    by_staff: Option<i64>,
    by: &str,
    at: OffsetDateTime,
) -> Result<DeviceRecord, StoreError> {
    let mut statement = conn.prepare_cached(devices::INSERT_DEVICE)?;
    let result = statement.query_row(
        params![
            institution.0,
            name.as_str(),
            credential_hash,
            by_staff,
            by,
            instant(at)
        ],
        |row| Ok(from_row(row)),
    );
    match result {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate {
            what: "a live device of this browser at this institution",
        }),
        result => result?,
    }
}

fn enrol(conn: &mut Connection, new: &NewDevice) -> Result<Enrolled, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(existing) = live(&tx, &new.credential_hash, new.institution_id)? {
        return Ok(Enrolled::Existing(existing));
    }
    let device = insert(
        &tx,
        new.institution_id,
        &new.name,
        &new.credential_hash,
        new.enrolled_by.staff_id(),
        new.enrolled_by.label(),
        new.at,
    )?;
    tx.commit()?;
    Ok(Enrolled::New(device))
}

fn activate(
    conn: &mut Connection,
    code_hash: &str,
    credential_hash: &str,
    at: OffsetDateTime,
) -> Result<Activation, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut statement = tx.prepare_cached(devices::CODE_BY_HASH)?;
    let code: Option<StoredCode> = codec::optional(&mut statement, [code_hash], |row| {
        rows::stored_code(&mut Columns::new(row))
    })?;
    drop(statement);
    let existing = match &code {
        Some(code) => live(&tx, credential_hash, code.institution_id)?,
        None => None,
    };
    let code = match devices::judge_code(code, existing, at) {
        Judged::Enrol(code) => code,
        Judged::Refuse(refused) => return Ok(refused),
    };
    let device = insert(
        &tx,
        code.institution_id,
        &code.device_name,
        credential_hash,
        code.created_by_staff,
        &code.created_by,
        at,
    )?;
    let used = tx.prepare_cached(devices::USE_CODE)?.execute(params![
        instant(at),
        device.id.0,
        code_hash
    ])?;
    if used != 1 {
        return Ok(Activation::Used); // dropping the transaction rolls it back
    }
    tx.commit()?;
    Ok(Activation::Enrolled(device))
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn enrol_device(&self, new: &NewDevice) -> Result<Enrolled, StoreError> {
        let new = new.clone();
        self.write_durable(move |c| enrol(c, &new)).await
    }

    async fn live_device(
        &self,
        credential_hash: &str,
        institution: InstitutionId,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        let credential_hash = credential_hash.to_owned();
        self.read(move |c| live(c, &credential_hash, institution))
            .await
    }

    async fn touch_device(&self, id: DeviceId, at: OffsetDateTime) -> Result<(), StoreError> {
        self.write(move |c| {
            c.prepare_cached(devices::TOUCH_DEVICE)?.execute(params![
                instant(at),
                id.0,
                LAST_SEEN_EVERY.whole_seconds()
            ])?;
            Ok(())
        })
        .await
    }

    async fn devices(
        &self,
        institution: Option<InstitutionId>,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        self.read(move |c| {
            let mut statement = c.prepare_cached(devices::DEVICES)?;
            codec::all(&mut statement, [institution.map(|i| i.0)], from_row)
        })
        .await
    }

    async fn device(
        &self,
        id: DeviceId,
        institution: Option<InstitutionId>,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        self.read(move |c| by_id(c, id, institution)).await
    }

    async fn revoke_device(
        &self,
        id: DeviceId,
        institution: Option<InstitutionId>,
        by: &DeviceActor,
        at: OffsetDateTime,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        let by = by.clone();
        self.write_durable(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let revoked = codec::optional(
                &mut *tx.prepare_cached(devices::REVOKE_DEVICE)?,
                params![
                    instant(at),
                    by.staff_id(),
                    by.label(),
                    id.0,
                    institution.map(|i| i.0)
                ],
                from_row,
            )?;
            if revoked.is_some() {
                tx.prepare_cached(devices::CANCEL_CHALLENGES_ON_REVOCATION)?
                    .execute(params![instant(at), id.0])?;
            }
            tx.commit()?;
            Ok(revoked)
        })
        .await
    }

    async fn issue_activation_code(&self, code: &NewActivationCode) -> Result<(), StoreError> {
        let code = code.clone();
        self.write_durable(move |c| {
            let result = c.prepare_cached(devices::INSERT_CODE)?.execute(params![
                code.code_hash,
                code.institution_id.0,
                code.device_name.as_str(),
                code.created_by.staff_id(),
                code.created_by.label(),
                instant(code.created_at),
                instant(code.expires_at),
            ]);
            match result {
                Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate {
                    what: "an activation code with this hash",
                }),
                result => result.map(|_| ()).map_err(StoreError::from),
            }
        })
        .await
    }

    async fn activate_device(
        &self,
        code_hash: &str,
        credential_hash: &str,
        at: OffsetDateTime,
    ) -> Result<Activation, StoreError> {
        let (code_hash, credential_hash) = (code_hash.to_owned(), credential_hash.to_owned());
        self.write_durable(move |c| activate(c, &code_hash, &credential_hash, at))
            .await
    }
}
