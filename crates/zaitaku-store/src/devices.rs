//! Institutions' enrolled devices and the one-time activation codes that enrol
//! them: the records, the statements both backends run (`$1`, `$2` are
//! positional in SQLite too, numbered by first appearance: each statement
//! names them in order), and the one rule of what a typed code comes to.

use time::{Duration, OffsetDateTime};
use zaitaku_domain::{DeviceId, DeviceName, InstitutionId, StaffId};

/// Who enrolled or revoked a device, or issued a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceActor {
    /// A staff member in the console; the login is copied, as the logs do.
    Staff { id: StaffId, login: String },
    /// An operator on the command line (`zaitaku admin device …`).
    AdminCli,
    /// The demo index, enrolling the browser that opens it (demo mode only).
    Demo,
}

impl DeviceActor {
    /// What the rows keep besides the account: the login, or `admin CLI`.
    pub fn label(&self) -> &str {
        match self {
            DeviceActor::Staff { login, .. } => login,
            DeviceActor::AdminCli => "admin CLI",
            DeviceActor::Demo => "demo",
        }
    }

    pub fn staff_id(&self) -> Option<i64> {
        match self {
            DeviceActor::Staff { id, .. } => Some(id.0),
            DeviceActor::AdminCli | DeviceActor::Demo => None,
        }
    }
}

/// A browser to enrol as one institution's device.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub institution_id: InstitutionId,
    pub name: DeviceName,
    /// SHA-256 (hex) of the browser's device secret; the secret is never stored.
    pub credential_hash: String,
    pub enrolled_by: DeviceActor,
    pub at: OffsetDateTime,
}

/// An enrolled device, live or revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub institution_id: InstitutionId,
    pub name: DeviceName,
    pub enrolled_by_staff: Option<StaffId>,
    /// The login of whoever enrolled it (copied at the time), or `admin CLI`.
    pub enrolled_by: String,
    pub enrolled_at: OffsetDateTime,
    pub last_seen_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<String>,
}

/// `last_seen_at` is written at most this often per device.
pub const LAST_SEEN_EVERY: Duration = Duration::minutes(1);

impl DeviceRecord {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// Whether a request at `now` should write `last_seen_at` (once a minute at most).
    pub fn due_for_last_seen(&self, now: OffsetDateTime) -> bool {
        self.last_seen_at
            .is_none_or(|seen| now - seen >= LAST_SEEN_EVERY)
    }
}

/// What enrolling a browser came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolled {
    New(DeviceRecord),
    /// This browser already is a live device of the institution: nothing written.
    Existing(DeviceRecord),
}

impl Enrolled {
    pub fn device(&self) -> &DeviceRecord {
        match self {
            Enrolled::New(d) | Enrolled::Existing(d) => d,
        }
    }
}

/// A one-time activation code to store (its SHA-256 only).
#[derive(Debug, Clone)]
pub struct NewActivationCode {
    pub code_hash: String,
    pub institution_id: InstitutionId,
    pub device_name: DeviceName,
    pub created_by: DeviceActor,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// How long an activation code is good for.
pub const ACTIVATION_CODE_LIFETIME: Duration = Duration::minutes(10);

/// What typing a code at `/device` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activation {
    /// The browser is now the institution's device; the code is used.
    Enrolled(DeviceRecord),
    /// The browser already was a live device of the code's institution: the
    /// code is left unused, nothing written.
    AlreadyEnrolled(DeviceRecord),
    /// No such code.
    Unknown,
    Used,
    Expired,
}

/// A stored code, as the activation reads it (columns of [`CODE_BY_HASH`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub institution_id: InstitutionId,
    pub device_name: DeviceName,
    pub created_by_staff: Option<i64>,
    pub created_by: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// What a typed code comes to, before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    /// Enrol the browser with this code.
    Enrol(StoredCode),
    /// Write nothing; tell the browser this.
    Refuse(Activation),
}

/// The one rule of a typed code: whether it may enrol now, or what the
/// browser is told. `existing` is the browser's live device at the code's
/// institution, if any.
pub fn judge_code(
    code: Option<StoredCode>,
    existing: Option<DeviceRecord>,
    now: OffsetDateTime,
) -> Judged {
    let Some(code) = code else {
        return Judged::Refuse(Activation::Unknown);
    };
    if code.used_at.is_some() {
        return Judged::Refuse(Activation::Used);
    }
    if code.expires_at <= now.unix_timestamp() {
        return Judged::Refuse(Activation::Expired);
    }
    match existing {
        Some(device) => Judged::Refuse(Activation::AlreadyEnrolled(device)),
        None => Judged::Enrol(code),
    }
}

/// The columns `rows::device` reads, in its order.
macro_rules! device_columns {
    () => {
        "id, institution_id, name, enrolled_by_staff, enrolled_by, enrolled_at, last_seen_at, \
         revoked_at, revoked_by"
    };
}

/// The browser `$1`'s live device at institution `$2` (the gate's one indexed read).
pub const LIVE_DEVICE: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM institution_devices WHERE credential_hash = $1 AND institution_id = $2 \
     AND revoked_at IS NULL"
);

/// The live device as which session `$1` was admitted to institution `$2` by an
/// invitation it opened after `$3` (`invitations::ADMISSION_LIFETIME` ago).
pub const ADMITTED_DEVICE: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM institution_devices WHERE revoked_at IS NULL AND id = (SELECT device_id \
     FROM invitations WHERE session_hash = $1 AND institution_id = $2 AND used_at > $3 \
     ORDER BY used_at DESC LIMIT 1)"
);

/// A new device: institution, name, credential, enrolled-by staff and label, at.
pub const INSERT_DEVICE: &str = concat!(
    "INSERT INTO institution_devices (institution_id, name, credential_hash, enrolled_by_staff, \
     enrolled_by, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
    device_columns!()
);

/// `last_seen_at = $1` for device `$2`, unless written less than `$3` seconds before.
pub const TOUCH_DEVICE: &str = "UPDATE institution_devices SET last_seen_at = $1 \
     WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at <= $1 - $3)";

/// Every device of institution `$1` (`NULL`: of every institution), newest first.
pub const DEVICES: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM institution_devices WHERE ($1 IS NULL OR institution_id = $1) \
     ORDER BY institution_id, id DESC"
);

/// Revoke live device `$4` at `$1` by staff `$2` (label `$3`), within
/// institution `$5` (`NULL`: any): the device as it now stands, or no row.
pub const REVOKE_DEVICE: &str = concat!(
    "UPDATE institution_devices SET revoked_at = $1, revoked_by_staff = $2, revoked_by = $3 \
     WHERE id = $4 AND revoked_at IS NULL AND ($5 IS NULL OR institution_id = $5) RETURNING ",
    device_columns!()
);

/// What a revocation ends in its own transaction: the pending challenges of
/// the flows device `$2` started (its invited phones' included) at `$1`, so
/// that a card being read when the device is revoked settles nothing. The
/// flows themselves stop at their next request (`devices::gate::flow_device`).
pub const CANCEL_CHALLENGES_ON_REVOCATION: &str = "UPDATE challenges SET state = 'cancelled', \
     settled_at = $1 WHERE state = 'pending' \
     AND flow_id IN (SELECT id FROM flows WHERE device_id = $2)";

/// Device `$1` within institution `$2` (`NULL`: any).
pub const DEVICE_BY_ID: &str = concat!(
    "SELECT ",
    device_columns!(),
    " FROM institution_devices WHERE id = $1 AND ($2 IS NULL OR institution_id = $2)"
);

/// A new code: hash, institution, name, created-by staff and label, created, expires.
pub const INSERT_CODE: &str = "INSERT INTO device_activation_codes (code_hash, institution_id, \
     device_name, created_by_staff, created_by, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

macro_rules! code_by_hash {
    () => {
        "SELECT institution_id, device_name, created_by_staff, created_by, expires_at, used_at \
         FROM device_activation_codes WHERE code_hash = $1"
    };
}

/// The code with hash `$1`, as [`StoredCode`] reads it.
pub const CODE_BY_HASH: &str = code_by_hash!();

/// The same, locking the code's row until the transaction ends (PostgreSQL).
pub const CODE_BY_HASH_FOR_UPDATE: &str = concat!(code_by_hash!(), " FOR UPDATE");

/// Use code `$3` at `$1` for device `$2`, if still unused and unexpired: one row, or none.
pub const USE_CODE: &str = "UPDATE device_activation_codes SET used_at = $1, device_id = $2 \
     WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $1";

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(expires_at: i64, used_at: Option<i64>) -> StoredCode {
        StoredCode {
            institution_id: InstitutionId(1),
            device_name: DeviceName::parse("tablet").unwrap(),
            created_by_staff: None,
            created_by: "admin CLI".into(),
            expires_at,
            used_at,
        }
    }

    #[test]
    fn a_code_enrols_once_and_only_in_time() {
        let now = OffsetDateTime::from_unix_timestamp(1_000).unwrap();
        assert_eq!(
            judge_code(None, None, now),
            Judged::Refuse(Activation::Unknown)
        );
        assert!(matches!(
            judge_code(Some(stored(1_001, None)), None, now),
            Judged::Enrol(_)
        ));
        assert_eq!(
            judge_code(Some(stored(1_000, None)), None, now),
            Judged::Refuse(Activation::Expired)
        );
        assert_eq!(
            judge_code(Some(stored(2_000, Some(900))), None, now),
            Judged::Refuse(Activation::Used)
        );
    }

    #[test]
    fn last_seen_is_written_once_a_minute() {
        let at = OffsetDateTime::from_unix_timestamp(1_000).unwrap();
        let mut device = DeviceRecord {
            id: DeviceId(1),
            institution_id: InstitutionId(1),
            name: DeviceName::parse("tablet").unwrap(),
            enrolled_by_staff: None,
            enrolled_by: "admin CLI".into(),
            enrolled_at: at,
            last_seen_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        assert!(device.due_for_last_seen(at));
        device.last_seen_at = Some(at);
        assert!(!device.due_for_last_seen(at + Duration::seconds(59)));
        assert!(device.due_for_last_seen(at + Duration::seconds(60)));
    }
}
