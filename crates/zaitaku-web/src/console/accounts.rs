//! Making and resetting staff accounts: used by `zaitaku admin staff`, the demo
//! and the test kit alike. A new or reset account gets a one-time enrolment link
//! (256 random bits; the store keeps its SHA-256) valid for 72 hours. The
//! enrolment page shows and enrols a secret of its own (`enrol.rs`); the
//! account's secret from here is only what an enrolment without the page keeps.

use super::password;
use super::totp::TotpSecret;
use crate::random;
use crate::session::hash_id;
use time::{Duration, OffsetDateTime};
use zaitaku_domain::{InstitutionId, LoginName, NewPassword, StaffRole};
use zaitaku_store::{Enrolment, EnrolmentWrite, NewStaff, StaffAccount, Store, StoreError};

pub const ENROLMENT_LIFETIME: Duration = Duration::hours(72);

/// A one-time enrolment link's token. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentToken(String);

impl EnrolmentToken {
    fn generate() -> (EnrolmentToken, Enrolment) {
        let token = random::secret256();
        let enrolment = Enrolment {
            token_hash: hash_id(&token),
            expires_at: OffsetDateTime::now_utc() + ENROLMENT_LIFETIME,
        };
        (EnrolmentToken(token), enrolment)
    }

    /// The link's path, to put after the service's public origin.
    pub fn path(&self) -> String {
        format!("/console/enrol/{}", self.0)
    }
}

impl std::fmt::Debug for EnrolmentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrolmentToken(…)")
    }
}

/// Add an account awaiting enrolment, with `secret` as its TOTP secret (a new
/// one if `None`) should it be enrolled without the page (`enrol_without_code`).
/// `StoreError::Duplicate` if the login name is taken.
pub async fn add_staff(
    store: &dyn Store,
    institution: InstitutionId,
    login: LoginName,
    display_name: String,
    role: StaffRole,
    secret: Option<TotpSecret>,
) -> Result<(StaffAccount, EnrolmentToken), StoreError> {
    let (token, enrolment) = EnrolmentToken::generate();
    let account = store
        .insert_staff(&NewStaff {
            institution_id: institution,
            login_name: login,
            display_name,
            role,
            totp_secret: secret.unwrap_or_else(TotpSecret::generate).base32(),
            enrolment,
            created_at: OffsetDateTime::now_utc(),
        })
        .await?;
    Ok((account, token))
}

/// Clear the account's password and second factor, unlock it, end its sessions,
/// and give it a new enrolment link and TOTP secret. `None` if no account has `login`.
pub async fn reset_staff(
    store: &dyn Store,
    login: &LoginName,
) -> Result<Option<(StaffAccount, EnrolmentToken)>, StoreError> {
    let (token, enrolment) = EnrolmentToken::generate();
    let secret = TotpSecret::generate().base32();
    let Some(account) = store.reset_staff(login, &secret, &enrolment).await? else {
        return Ok(None);
    };
    // The password-attempt waits go too: the new password starts afresh.
    let account = store.unlock_staff(login).await?.unwrap_or(account);
    Ok(Some((account, token)))
}

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("the enrolment link is unknown, used or expired")]
    LinkDead,
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Finish an enrolment without a code from an authenticator app: for the demo
/// and tests, which know the secret themselves. The web page requires the code.
pub async fn enrol_without_code(
    store: &dyn Store,
    token: &EnrolmentToken,
    password: &NewPassword,
) -> Result<StaffAccount, EnrolError> {
    let now = OffsetDateTime::now_utc();
    let token_hash = hash_id(&token.0);
    let account = store
        .staff_by_enrolment(&token_hash, now)
        .await?
        .ok_or(EnrolError::LinkDead)?;
    let password_hash = password::hash(password).await?;
    let done = store
        .complete_enrolment(&EnrolmentWrite {
            staff_id: account.id,
            token_hash,
            password_hash,
            totp_step: None,
            shown: None,
            replaces: None,
            session: None,
            at: now,
        })
        .await?;
    if !done {
        return Err(EnrolError::LinkDead);
    }
    store
        .staff(account.id)
        .await?
        .ok_or(EnrolError::Store(StoreError::Corrupt {
            what: "enrolled staff account",
        }))
}
