//! Invitations: how a patient's own phone reaches an institution that only
//! its enrolled devices may use. A device shows a 2D code carrying a random
//! secret (the store keeps its SHA-256); the first browser to open it within
//! [`INVITATION_LIFETIME`] is admitted to that institution for
//! [`ADMISSION_LIFETIME`], as the device that showed it; nobody else ever is.
//! The statements both backends run and the one rule of what opening comes to.

use time::{Duration, OffsetDateTime};
use zaitaku_domain::{DeviceId, InstitutionId};

/// How long a shown code can be opened: long enough to hand the tablet over
/// and scan, short enough that a photograph of it is soon worth nothing.
pub const INVITATION_LIFETIME: Duration = Duration::minutes(10);

/// How long an opened invitation lets its browser start flows: one sitting
/// (a registration, a look at the consent, a revocation), not a standing pass.
pub const ADMISSION_LIFETIME: Duration = Duration::minutes(30);

/// An invitation to store (its hash only).
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub token_hash: String,
    pub institution_id: InstitutionId,
    /// The enrolled device that shows the code.
    pub device_id: DeviceId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A stored invitation, as opening reads it (columns of [`INVITATION_BY_HASH`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInvitation {
    pub institution_id: InstitutionId,
    pub device_id: DeviceId,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// Whether the device that showed it is still enrolled.
    pub device_live: bool,
}

/// What opening an invitation came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationUse {
    /// The browser session may start flows at the institution, as the device.
    Admitted {
        institution_id: InstitutionId,
        device_id: DeviceId,
    },
    /// No such invitation, or its device was revoked since.
    Unknown,
    /// Someone opened it already.
    Used,
    Expired,
}

/// The one rule of opening: `Ok` if the invitation admits now, else what the
/// browser is told.
pub fn judge_invitation(
    invitation: Option<StoredInvitation>,
    now: OffsetDateTime,
) -> Result<StoredInvitation, InvitationUse> {
    let Some(invitation) = invitation.filter(|i| i.device_live) else {
        return Err(InvitationUse::Unknown);
    };
    if invitation.used_at.is_some() {
        return Err(InvitationUse::Used);
    }
    if invitation.expires_at <= now.unix_timestamp() {
        return Err(InvitationUse::Expired);
    }
    Ok(invitation)
}

/// How many unexpired invitations one device may have at once: far more than
/// staff show in ten minutes, and a bound on what a device that reloads the
/// 2D-code page in a loop can make us store.
pub const OPEN_INVITATIONS_PER_DEVICE: i64 = 20;

/// A new invitation: hash, institution, device, created, expires; stored only
/// while device `$3` has fewer than `$6` unexpired ones at `$4` (one row, or none).
/// On PostgreSQL the count and the insert are one statement but not one
/// instant: two transactions can both count 19. It runs after
/// [`LOCK_ISSUING_DEVICE`], which makes one device's issues take turns.
pub const INSERT_INVITATION: &str = "INSERT INTO invitations (token_hash, institution_id, \
     device_id, created_at, expires_at) SELECT $1, $2, $3, $4, $5 \
     WHERE (SELECT count(*) FROM invitations WHERE device_id = $3 AND expires_at > $4) < $6";

/// Lock device `$1`'s row until the transaction ends (PostgreSQL), so the
/// count in [`INSERT_INVITATION`] sees every invitation issued before it.
/// SQLite needs none: its writes already take turns.
pub const LOCK_ISSUING_DEVICE: &str = "SELECT id FROM institution_devices WHERE id = $1 FOR UPDATE";

macro_rules! invitation_by_hash {
    () => {
        "SELECT i.institution_id, i.device_id, i.expires_at, i.used_at, \
         CAST(CASE WHEN d.revoked_at IS NULL THEN 1 ELSE 0 END AS BIGINT) \
         FROM invitations i JOIN institution_devices d ON d.id = i.device_id \
         WHERE i.token_hash = $1"
    };
}

/// The invitation with hash `$1`, as [`StoredInvitation`] reads it.
pub const INVITATION_BY_HASH: &str = invitation_by_hash!();

/// The same, locking the invitation's row until the transaction ends (PostgreSQL).
pub const INVITATION_BY_HASH_FOR_UPDATE: &str = concat!(invitation_by_hash!(), " FOR UPDATE OF i");

/// Open invitation `$3` at `$1` for session `$2`, if still unused and
/// unexpired: one row, or none.
pub const USE_INVITATION: &str = "UPDATE invitations SET used_at = $1, session_hash = $2 \
     WHERE token_hash = $3 AND used_at IS NULL AND expires_at > $1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_keeps_an_invitation_while_it_can_admit() {
        assert_eq!(
            ADMISSION_LIFETIME.whole_seconds(),
            1800,
            "lifecycle::EXPIRED says 1800"
        );
    }

    fn stored(expires_at: i64, used_at: Option<i64>, device_live: bool) -> StoredInvitation {
        StoredInvitation {
            institution_id: InstitutionId(1),
            device_id: DeviceId(2),
            expires_at,
            used_at,
            device_live,
        }
    }

    #[test]
    fn an_invitation_opens_once_in_time_while_its_device_is_enrolled() {
        let now = OffsetDateTime::from_unix_timestamp(1_000).unwrap();
        assert_eq!(judge_invitation(None, now), Err(InvitationUse::Unknown));
        assert!(judge_invitation(Some(stored(1_001, None, true)), now).is_ok());
        assert_eq!(
            judge_invitation(Some(stored(1_000, None, true)), now),
            Err(InvitationUse::Expired)
        );
        assert_eq!(
            judge_invitation(Some(stored(2_000, Some(990), true)), now),
            Err(InvitationUse::Used)
        );
        assert_eq!(
            judge_invitation(Some(stored(2_000, None, false)), now),
            Err(InvitationUse::Unknown)
        );
    }
}
