//! Enrolled devices' and activation codes' rows, the same on both backends.

use super::Cursor;
use crate::codec::{code, to_instant, to_opt_instant};
use crate::devices::{DeviceRecord, StoredCode};
use crate::error::StoreError;
use crate::invitations::StoredInvitation;
use zaitaku_domain::{DeviceId, DeviceName, InstitutionId, StaffId};

/// A device from the columns of `devices::device_columns!`.
pub fn device(c: &mut impl Cursor) -> Result<DeviceRecord, StoreError> {
    Ok(DeviceRecord {
        id: DeviceId(c.int()?),
        institution_id: InstitutionId(c.int()?),
        name: code(&c.text()?, "device name", DeviceName::parse)?,
        enrolled_by_staff: c.opt_int()?.map(StaffId),
        enrolled_by: c.text()?,
        enrolled_at: to_instant(c.int()?, "device enrolment")?,
        last_seen_at: to_opt_instant(c.opt_int()?, "device last seen")?,
        revoked_at: to_opt_instant(c.opt_int()?, "device revocation")?,
        revoked_by: c.opt_text()?,
    })
}

/// An activation code from the columns of `devices::CODE_BY_HASH`.
pub fn stored_code(c: &mut impl Cursor) -> Result<StoredCode, StoreError> {
    Ok(StoredCode {
        institution_id: InstitutionId(c.int()?),
        device_name: code(&c.text()?, "device name", DeviceName::parse)?,
        created_by_staff: c.opt_int()?,
        created_by: c.text()?,
        expires_at: c.int()?,
        used_at: c.opt_int()?,
    })
}

/// An invitation from the columns of `invitations::INVITATION_BY_HASH`.
pub fn stored_invitation(c: &mut impl Cursor) -> Result<StoredInvitation, StoreError> {
    Ok(StoredInvitation {
        institution_id: InstitutionId(c.int()?),
        device_id: DeviceId(c.int()?),
        expires_at: c.int()?,
        used_at: c.opt_int()?,
        device_live: c.int()? == 1,
    })
}
