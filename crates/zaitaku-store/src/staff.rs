//! What the store keeps of the console's staff: accounts, console sessions, the
//! login log, and the shape of the writes that must happen together.

use std::fmt;
use time::{Duration, OffsetDateTime};
use zaitaku_domain::{InstitutionId, LoginName, LoginOutcome, StaffId, StaffRole, StaffStatus};

/// A new account, waiting for its holder to enrol through the one-time link.
#[derive(Clone)]
pub struct NewStaff {
    pub institution_id: InstitutionId,
    pub login_name: LoginName,
    pub display_name: String,
    pub role: StaffRole,
    /// The TOTP secret (base32) an enrolment without the page keeps (the demo,
    /// tests); the enrolment page shows and enrols a fresh one of its own.
    pub totp_secret: String,
    pub enrolment: Enrolment,
    pub created_at: OffsetDateTime,
}

/// A one-time enrolment link: the store keeps the SHA-256 (hex) of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub token_hash: String,
    pub expires_at: OffsetDateTime,
}

#[derive(Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub id: StaffId,
    pub institution_id: InstitutionId,
    pub login_name: LoginName,
    pub display_name: String,
    pub role: StaffRole,
    /// argon2id PHC string; `None` until enrolled (and after a reset).
    pub password_hash: Option<String>,
    pub totp_secret: String,
    /// The last TOTP time step accepted; a code of this step or earlier is refused.
    pub totp_last_step: Option<i64>,
    /// Wrong passwords and codes in a row since the last success or lock.
    pub failed_attempts: u32,
    pub locked_until: Option<OffsetDateTime>,
    /// When the pending enrolment link dies; `None` when there is none.
    pub enrolment_expires_at: Option<OffsetDateTime>,
    /// The secret the enrolment page showed last, and to whom: the only one a
    /// confirmation can enrol. `None` before the first visit and once enrolled.
    pub enrolment_secret: Option<ShownSecret>,
    pub created_at: OffsetDateTime,
    pub status: StaffStatus,
}

impl StaffAccount {
    pub fn is_enrolled(&self) -> bool {
        self.password_hash.is_some()
    }

    /// Enrolled and neither disabled nor removed: the login and every console
    /// request ask this of the account as it is stored now.
    pub fn may_log_in(&self) -> bool {
        self.is_enrolled() && self.status == StaffStatus::Active
    }

    /// An administrator who can log in: an institution keeps one when the console asks it to.
    pub fn is_working_administrator(&self) -> bool {
        self.may_log_in() && self.role == StaffRole::Administrator
    }

    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

// Secrets stay out of logs even when an account is printed for debugging.
impl fmt::Debug for StaffAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffAccount")
            .field("id", &self.id)
            .field("institution_id", &self.institution_id)
            .field("login_name", &self.login_name)
            .field("role", &self.role)
            .field("status", &self.status)
            .field("enrolled", &self.is_enrolled())
            .field("failed_attempts", &self.failed_attempts)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewStaff")
            .field("institution_id", &self.institution_id)
            .field("login_name", &self.login_name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A TOTP secret the enrolment page showed (base32), and the console session it
/// was shown to (the SHA-256 of its cookie).
#[derive(Clone, PartialEq, Eq)]
pub struct ShownSecret {
    pub secret: String,
    pub session_hash: String,
}

impl fmt::Debug for ShownSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShownSecret(…)")
    }
}

/// How far a console session has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffSessionStage {
    /// The login or enrolment form was shown: a CSRF token, no staff member yet.
    Login,
    /// The password was right; the second factor is still to come.
    PasswordOk,
    /// Logged in.
    Complete,
}

impl StaffSessionStage {
    pub fn code(self) -> &'static str {
        match self {
            StaffSessionStage::Login => "login",
            StaffSessionStage::PasswordOk => "password_ok",
            StaffSessionStage::Complete => "complete",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            StaffSessionStage::Login,
            StaffSessionStage::PasswordOk,
            StaffSessionStage::Complete,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSessionRecord {
    /// SHA-256 of the cookie value, hex; the cookie itself is never stored.
    pub id_hash: String,
    /// `None` only at the `Login` stage.
    pub staff_id: Option<StaffId>,
    pub csrf_token: String,
    pub stage: StaffSessionStage,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// The sooner of the idle and the absolute timeout.
    pub expires_at: OffsetDateTime,
}

/// One line of the login log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    pub at: OffsetDateTime,
    /// As typed (cut to 64 characters): an unknown name is logged too.
    pub login_name: String,
    pub staff_id: Option<StaffId>,
    pub institution_id: Option<InstitutionId>,
    pub outcome: LoginOutcome,
}

/// After `max_failures` wrong passwords or codes in a row, the account is locked for `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub max_failures: u32,
    pub duration: Duration,
}

/// Enrolment finished: the account's password and second factor, in one write.
#[derive(Clone)]
pub struct EnrolmentWrite {
    pub staff_id: StaffId,
    /// The token of the link used; it must still be the account's, and unexpired at `at`.
    pub token_hash: String,
    pub password_hash: String,
    /// The TOTP step of the code entered, marked used; `None` when enrolled
    /// programmatically (the demo, tests) without a code.
    pub totp_step: Option<i64>,
    /// The secret the confirmed page showed: it must still be the link's last
    /// shown secret, shown to that session, and becomes the account's. `None`
    /// when enrolled programmatically: the account keeps the secret it was made with.
    pub shown: Option<ShownSecret>,
    /// The form's session, replaced by `session` (a logged-in one) if given.
    pub replaces: Option<String>,
    pub session: Option<StaffSessionRecord>,
    pub at: OffsetDateTime,
}

impl fmt::Debug for EnrolmentWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrolmentWrite")
            .field("staff_id", &self.staff_id)
            .field("totp_step", &self.totp_step)
            .finish_non_exhaustive()
    }
}

/// The second factor was right: the password-only session becomes a logged-in
/// one under a new id.
#[derive(Debug, Clone)]
pub struct LoginCompletion {
    pub staff_id: StaffId,
    pub totp_step: i64,
    /// The password-only session, deleted.
    pub replaces: String,
    /// The new, `Complete` session.
    pub session: StaffSessionRecord,
    pub at: OffsetDateTime,
}

/// What `admin staff disable|enable|remove|set` and the console's staff page do to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffAction {
    /// Cannot log in; its sessions end. Everything else is kept.
    Disable,
    /// A disabled account can log in again.
    Enable,
    /// For good: sessions, password, second factor, enrolment link, attempt
    /// counters and remembered devices go; the row stays as a tombstone.
    Remove,
    /// A new role, read by the account's next console request.
    SetRole(StaffRole),
}

/// One change to one account, made in one transaction.
#[derive(Debug, Clone)]
pub struct StaffChange {
    pub login: LoginName,
    pub action: StaffAction,
    /// Only an account of this institution (the console's 管理者 acts on their own).
    pub institution: Option<InstitutionId>,
    /// Refuse a change that would leave the institution without a working
    /// administrator (the console sets this; the operator's CLI may need to
    /// go through such a state, and is told).
    pub keep_an_administrator: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffChangeOutcome {
    /// Written; the account as it now stands, and whether its institution
    /// still has a working administrator.
    Changed {
        /// Boxed: the account is large beside the refusals.
        account: Box<StaffAccount>,
        administrator_remains: bool,
    },
    /// No account has the login (in the institution asked for).
    NotFound,
    /// The account is removed: nothing more can be done to it.
    Removed,
    /// Nothing written: the institution would be left without a working administrator.
    LastAdministrator,
}

/// Why a change was not made (each an answer of [`StaffChangeOutcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRefusal {
    NotFound,
    Removed,
    LastAdministrator,
}

impl From<StaffRefusal> for StaffChangeOutcome {
    fn from(refusal: StaffRefusal) -> Self {
        match refusal {
            StaffRefusal::NotFound => StaffChangeOutcome::NotFound,
            StaffRefusal::Removed => StaffChangeOutcome::Removed,
            StaffRefusal::LastAdministrator => StaffChangeOutcome::LastAdministrator,
        }
    }
}

impl StaffAction {
    /// The account's status and role after this action, or why not: the rule
    /// both backends apply inside their transaction.
    pub fn apply(self, account: &StaffAccount) -> Result<(StaffStatus, StaffRole), StaffRefusal> {
        if account.status == StaffStatus::Removed {
            return Err(StaffRefusal::Removed);
        }
        Ok(match self {
            StaffAction::Disable => (StaffStatus::Disabled, account.role),
            StaffAction::Enable => (StaffStatus::Active, account.role),
            StaffAction::Remove => (StaffStatus::Removed, account.role),
            StaffAction::SetRole(role) => (account.status, role),
        })
    }
}

/// Decide a change against the institution's accounts as the transaction read
/// them: the outcome to answer with, or the account's new status and role and
/// whether a working administrator remains.
pub fn plan_change(
    change: &StaffChange,
    colleagues: &[StaffAccount],
) -> Result<(StaffAccount, bool), StaffRefusal> {
    let account = colleagues
        .iter()
        .find(|a| a.login_name == change.login)
        .ok_or(StaffRefusal::NotFound)?;
    let (status, role) = change.action.apply(account)?;
    let mut after = account.clone();
    after.status = status;
    after.role = role;
    if change.action == StaffAction::Remove {
        after.password_hash = None;
        after.totp_secret = String::new();
        after.totp_last_step = None;
        after.failed_attempts = 0;
        after.locked_until = None;
        after.enrolment_expires_at = None;
    }
    let administrator_remains = colleagues
        .iter()
        .map(|a| if a.id == after.id { &after } else { a })
        .any(StaffAccount::is_working_administrator);
    let had_one = colleagues
        .iter()
        .any(StaffAccount::is_working_administrator);
    if change.keep_an_administrator && had_one && !administrator_remains {
        return Err(StaffRefusal::LastAdministrator);
    }
    Ok((after, administrator_remains))
}

/// Log a login attempt: `$1` at, `$2` the name typed, `$3` staff, `$4`
/// institution, `$5` outcome; returns `id` for its chain (`crate::audit`).
pub const LOGIN_INSERT: &str = "INSERT INTO staff_logins (at, login_name, staff_id, \
     institution_id, outcome) VALUES ($1, $2, $3, $4, $5) RETURNING id";

/// Log an account's own event: `$1` at, `$2` outcome, `$3` the account (its
/// login name and institution copied); returns `id`.
pub const LOGIN_INSERT_FOR_ACCOUNT: &str = "INSERT INTO staff_logins (at, login_name, staff_id, \
     institution_id, outcome) SELECT $1, login_name, id, institution_id, $2 FROM staff \
     WHERE id = $3 RETURNING id";

/// The institution of account `$1`: the chain its login-log entries join.
pub const ACCOUNT_INSTITUTION: &str = "SELECT institution_id FROM staff WHERE id = $1";
