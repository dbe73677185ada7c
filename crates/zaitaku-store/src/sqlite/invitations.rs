//! Invitations to a patient's phone (statements and rule in `crate::invitations`).

use super::SqliteStore;
use super::codec::{self, Columns, is_unique_violation};
use super::sessions;
use crate::codec::instant;
use crate::devices::{self, DeviceRecord};
use crate::error::StoreError;
use crate::invitations::{self, InvitationUse, NewInvitation, StoredInvitation};
use crate::records::SessionRecord;
use crate::rows;
use crate::store::InvitationStore;
use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior, params};
use time::OffsetDateTime;
use zaitaku_domain::InstitutionId;

fn open(
    conn: &mut Connection,
    token_hash: &str,
    session_hash: &str,
    new_session: Option<&SessionRecord>,
    at: OffsetDateTime,
) -> Result<InvitationUse, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut statement = tx.prepare_cached(invitations::INVITATION_BY_HASH)?;
    let stored: Option<StoredInvitation> = codec::optional(&mut statement, [token_hash], |row| {
        rows::stored_invitation(&mut Columns::new(row))
    })?;
    drop(statement);
    let invitation = match invitations::judge_invitation(stored, at) {
        Ok(invitation) => invitation,
        Err(refused) => return Ok(refused),
    };
    let used = tx
        .prepare_cached(invitations::USE_INVITATION)?
        .execute(params![instant(at), session_hash, token_hash])?;
    if used != 1 {
        return Ok(InvitationUse::Used); // dropping the transaction rolls it back
    }
    if let Some(session) = new_session {
        sessions::insert_or_renew(&tx, session)?;
    }
    tx.commit()?;
    Ok(InvitationUse::Admitted {
        institution_id: invitation.institution_id,
        device_id: invitation.device_id,
    })
}

#[async_trait]
impl InvitationStore for SqliteStore {
    async fn issue_invitation(&self, invitation: &NewInvitation) -> Result<bool, StoreError> {
        let i = invitation.clone();
        self.write_durable(move |c| {
            let result = c
                .prepare_cached(invitations::INSERT_INVITATION)?
                .execute(params![
                    i.token_hash,
                    i.institution_id.0,
                    i.device_id.0,
                    instant(i.created_at),
                    instant(i.expires_at),
                    invitations::OPEN_INVITATIONS_PER_DEVICE,
                ]);
            match result {
                Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate {
                    what: "an invitation with this hash",
                }),
                result => Ok(result? == 1),
            }
        })
        .await
    }

    async fn open_invitation(
        &self,
        token_hash: &str,
        session_hash: &str,
        new_session: Option<&SessionRecord>,
        at: OffsetDateTime,
    ) -> Result<InvitationUse, StoreError> {
        let (token_hash, session_hash) = (token_hash.to_owned(), session_hash.to_owned());
        let new_session = new_session.cloned();
        self.write_durable(move |c| open(c, &token_hash, &session_hash, new_session.as_ref(), at))
            .await
    }

    async fn admitted_device(
        &self,
        session_hash: &str,
        institution: InstitutionId,
        now: OffsetDateTime,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        let session_hash = session_hash.to_owned();
        let since = instant(now - invitations::ADMISSION_LIFETIME);
        self.read(move |c| {
            let mut statement = c.prepare_cached(devices::ADMITTED_DEVICE)?;
            codec::optional(
                &mut statement,
                params![session_hash, institution.0, since],
                |row| rows::device(&mut Columns::new(row)),
            )
        })
        .await
    }
}
