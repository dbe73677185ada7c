//! Invitations: at an institution that only its devices may use, the patient's
//! own phone gets in through a 2D code an enrolled device shows (the 二次元コード
//! screen). The code is `{origin}/v/{secret}`: single use, ten minutes, tied to
//! the institution and the device. The first browser to open it is admitted
//! for half an hour as that device (`gate::Admission::Invited`), so the
//! authenticator names the device that asked; a photographed or forwarded
//! code opens nothing once used or expired.

use crate::error::PageError;
use crate::random;
use crate::session::{Session, hash_id};
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Redirect;
use time::OffsetDateTime;
use zaitaku_domain::Institution;
use zaitaku_store::invitations::INVITATION_LIFETIME;
use zaitaku_store::{DeviceRecord, InvitationUse, NewInvitation, StoreError};

/// An invitation just made: the URL its code carries, and until when it opens.
pub struct Invitation {
    pub url: String,
    pub expires_at: OffsetDateTime,
}

/// A fresh invitation to `institution`, shown by its enrolled `device`.
pub async fn issue(
    state: &AppState,
    institution: &Institution,
    device: &DeviceRecord,
) -> Result<Invitation, PageError> {
    let now = OffsetDateTime::now_utc();
    let expires_at = now + INVITATION_LIFETIME;
    let mut attempts = 0;
    loop {
        let secret = random::secret256();
        let invitation = NewInvitation {
            token_hash: hash_id(&secret),
            institution_id: institution.id,
            device_id: device.id,
            created_at: now,
            expires_at,
        };
        match state.store.issue_invitation(&invitation).await {
            Ok(true) => {
                return Ok(Invitation {
                    url: format!("{}/v/{secret}", state.origin.as_str()),
                    expires_at,
                });
            }
            // The device reloaded the page more than staff ever would.
            Ok(false) => return Err(PageError::TooManyOpen),
            // 256 random bits do not repeat; a retry costs nothing if they did.
            Err(StoreError::Duplicate { .. }) if attempts < 1 => attempts += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// `GET /v/{secret}`: the phone's camera opens the code. The first opening in
/// time admits this browser session (stored now, with the opening) and goes
/// on to the institution's page; any other says why not and writes nothing.
pub async fn open(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(secret): Path<String>,
) -> Result<Redirect, PageError> {
    if !random::is_id(&secret) {
        return Err(PageError::InvitationUnknown);
    }
    let now = OffsetDateTime::now_utc();
    let new_session = session.record(session.auth_method, now, state.lifetimes.session);
    let opened = state
        .store
        .open_invitation(
            &hash_id(&secret),
            &session.id_hash,
            new_session.as_ref(),
            now,
        )
        .await?;
    let institution_id = match opened {
        InvitationUse::Admitted { institution_id, .. } => institution_id,
        InvitationUse::Used => return Err(PageError::InvitationUsed),
        InvitationUse::Expired => return Err(PageError::InvitationExpired),
        InvitationUse::Unknown => return Err(PageError::InvitationUnknown),
    };
    let institution = state
        .store
        .institution(institution_id)
        .await?
        .ok_or(PageError::InvitationUnknown)?;
    if !institution.is_active() {
        return Err(PageError::InstitutionClosed);
    }
    Ok(Redirect::to(&format!(
        "/i/{}",
        institution.url_token.as_str()
    )))
}
