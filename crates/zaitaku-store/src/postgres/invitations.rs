//! PostgreSQL: invitations to a patient's phone (statements and rule in
//! `crate::invitations`). Issuing locks the device's row, so its cap holds
//! under concurrent issues; opening locks the invitation's row (`FOR UPDATE`),
//! so of two processes opening the same code one admits and the other finds
//! it used.

use super::PostgresStore;
use super::columns::Columns;
use super::is_unique_violation;
use super::sessions;
use crate::codec::instant;
use crate::devices::{self, DeviceRecord};
use crate::error::StoreError;
use crate::invitations::{self, InvitationUse, NewInvitation, StoredInvitation};
use crate::records::SessionRecord;
use crate::rows;
use crate::store::InvitationStore;
use async_trait::async_trait;
use time::OffsetDateTime;
use zaitaku_domain::InstitutionId;

#[async_trait]
impl InvitationStore for PostgresStore {
    async fn issue_invitation(&self, i: &NewInvitation) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(invitations::LOCK_ISSUING_DEVICE)
            .bind(i.device_id.0)
            .fetch_optional(&mut *tx)
            .await?;
        let result = sqlx::query(invitations::INSERT_INVITATION)
            .bind(&i.token_hash)
            .bind(i.institution_id.0)
            .bind(i.device_id.0)
            .bind(instant(i.created_at))
            .bind(instant(i.expires_at))
            .bind(invitations::OPEN_INVITATIONS_PER_DEVICE)
            .execute(&mut *tx)
            .await;
        match result {
            Ok(done) => {
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate {
                what: "an invitation with this hash",
            }),
            Err(e) => Err(e.into()),
        }
    }

    async fn open_invitation(
        &self,
        token_hash: &str,
        session_hash: &str,
        new_session: Option<&SessionRecord>,
        at: OffsetDateTime,
    ) -> Result<InvitationUse, StoreError> {
        let mut tx = self.pool.begin().await?;
        let stored: Option<StoredInvitation> =
            sqlx::query(invitations::INVITATION_BY_HASH_FOR_UPDATE)
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| rows::stored_invitation(&mut Columns::new(&row)))
                .transpose()?;
        let invitation = match invitations::judge_invitation(stored, at) {
            Ok(invitation) => invitation,
            Err(refused) => return Ok(refused),
        };
        let used = sqlx::query(invitations::USE_INVITATION)
            .bind(instant(at))
            .bind(session_hash)
            .bind(token_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if used != 1 {
            return Ok(InvitationUse::Used); // dropping the transaction rolls it back
        }
        if let Some(session) = new_session {
            sessions::insert_or_renew(&mut tx, session).await?;
        }
        tx.commit().await?;
        Ok(InvitationUse::Admitted {
            institution_id: invitation.institution_id,
            device_id: invitation.device_id,
        })
    }

    async fn admitted_device(
        &self,
        session_hash: &str,
        institution: InstitutionId,
        now: OffsetDateTime,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        sqlx::query(devices::ADMITTED_DEVICE)
            .bind(session_hash)
            .bind(institution.0)
            .bind(instant(now - invitations::ADMISSION_LIFETIME))
            .fetch_optional(&self.pool)
            .await?
            .map(|row| rows::device(&mut Columns::new(&row)))
            .transpose()
    }
}
