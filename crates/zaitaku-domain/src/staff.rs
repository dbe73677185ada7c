//! The institution's staff who use the console: who they are (login name, role),
//! what a login attempt came to, and the rules a new password must meet.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StaffId(pub i64);

impl fmt::Display for StaffId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a staff member may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// Settings, the access log and the login history of the institution, besides patients.
    Administrator,
    /// Patients' consents and records.
    Staff,
}

impl StaffRole {
    pub const ALL: [StaffRole; 2] = [StaffRole::Administrator, StaffRole::Staff];

    pub fn code(self) -> &'static str {
        match self {
            StaffRole::Administrator => "administrator",
            StaffRole::Staff => "staff",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StaffRole::Administrator => "管理者",
            StaffRole::Staff => "職員",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// Whether an account may be used. A disabled account keeps everything and
/// can be enabled again; a removed one is a tombstone whose login name stays
/// taken, so the login and access logs keep naming one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffStatus {
    Active,
    Disabled,
    Removed,
}

impl StaffStatus {
    pub const ALL: [StaffStatus; 3] = [
        StaffStatus::Active,
        StaffStatus::Disabled,
        StaffStatus::Removed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            StaffStatus::Active => "active",
            StaffStatus::Disabled => "disabled",
            StaffStatus::Removed => "removed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StaffStatus::Active => "有効",
            StaffStatus::Disabled => "無効",
            StaffStatus::Removed => "削除済み",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// A console login name: 3 to 32 of `a-z 0-9 . _ -`. Lower case only, so two
/// accounts never differ by case alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginNameError {
    #[error("a login name has 3 to 32 characters, not {0}")]
    Length(usize),
    #[error("a login name may hold only a-z, 0-9, '.', '_' and '-' (lower case)")]
    Character,
}

impl LoginName {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    pub fn parse(text: &str) -> Result<Self, LoginNameError> {
        let length = text.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&length) {
            return Err(LoginNameError::Length(length));
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        {
            return Err(LoginNameError::Character);
        }
        Ok(LoginName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What one login attempt came to, as the login log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginOutcome {
    /// Password and code both right: a console session began.
    Success,
    WrongPassword,
    /// A wrong, malformed or already used confirmation code.
    WrongCode,
    /// The account was locked; nothing was checked against it.
    Locked,
    /// No enrolled account has the login name tried.
    UnknownLogin,
    /// The account's enrolment was completed (password and second factor set).
    Enrolment,
}

impl LoginOutcome {
    pub const ALL: [LoginOutcome; 6] = [
        LoginOutcome::Success,
        LoginOutcome::WrongPassword,
        LoginOutcome::WrongCode,
        LoginOutcome::Locked,
        LoginOutcome::UnknownLogin,
        LoginOutcome::Enrolment,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LoginOutcome::Success => "success",
            LoginOutcome::WrongPassword => "wrong_password",
            LoginOutcome::WrongCode => "wrong_code",
            LoginOutcome::Locked => "locked",
            LoginOutcome::UnknownLogin => "unknown_login",
            LoginOutcome::Enrolment => "enrolment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LoginOutcome::Success => "ログイン成功",
            LoginOutcome::WrongPassword => "パスワード誤り",
            LoginOutcome::WrongCode => "確認コード誤り",
            LoginOutcome::Locked => "ロック中",
            LoginOutcome::UnknownLogin => "不明なログインID",
            LoginOutcome::Enrolment => "初回登録",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.code() == code)
    }
}

/// A password a staff member chose, checked against the rules: at least 12
/// characters (length is what makes a password strong; no composition rules, as
/// NIST SP 800-63B advises), at most 128 (argon2's work stays bounded), no control
/// characters, and not the login name. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password needs at least 12 characters")]
    TooShort,
    #[error("a password may have at most 128 characters")]
    TooLong,
    #[error("a password may not contain control characters")]
    ControlCharacter,
    #[error("a password may not be the login name")]
    IsLoginName,
}

impl NewPassword {
    pub const MIN: usize = 12;
    pub const MAX: usize = 128;

    pub fn parse(text: &str, login: &LoginName) -> Result<Self, PasswordError> {
        let length = text.chars().count();
        if length < Self::MIN {
            return Err(PasswordError::TooShort);
        }
        if length > Self::MAX {
            return Err(PasswordError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(PasswordError::ControlCharacter);
        }
        if text.to_lowercase().contains(login.as_str()) {
            return Err(PasswordError::IsLoginName);
        }
        Ok(NewPassword(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_are_short_lower_case_ascii() {
        assert_eq!(
            LoginName::parse("sato.k-01_a").unwrap().as_str(),
            "sato.k-01_a"
        );
        assert_eq!(LoginName::parse("abc").unwrap().to_string(), "abc");
        assert!(LoginName::parse(&"a".repeat(32)).is_ok());
        assert_eq!(LoginName::parse("ab"), Err(LoginNameError::Length(2)));
        assert_eq!(
            LoginName::parse(&"a".repeat(33)),
            Err(LoginNameError::Length(33))
        );
        for bad in ["Sato", "sa to", "さとう", "sato@x", "a/b"] {
            assert!(LoginName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_and_outcomes_round_trip() {
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.code()), Some(r));
        }
        assert_eq!(StaffRole::Administrator.label(), "管理者");
        assert_eq!(StaffRole::parse("admin"), None);
        for s in StaffStatus::ALL {
            assert_eq!(StaffStatus::parse(s.code()), Some(s));
        }
        assert_eq!(StaffStatus::parse("deleted"), None);
        for o in LoginOutcome::ALL {
            assert_eq!(LoginOutcome::parse(o.code()), Some(o));
        }
        assert_eq!(LoginOutcome::parse("ok"), None);
    }

    #[test]
    fn passwords_are_long_enough_and_not_the_login_name() {
        let login = LoginName::parse("yamada").unwrap();
        assert!(NewPassword::parse("correct horse", &login).is_ok());
        assert!(NewPassword::parse("ひらがなだけのながいパスワード", &login).is_ok());
        assert_eq!(
            NewPassword::parse("short", &login),
            Err(PasswordError::TooShort)
        );
        assert_eq!(
            NewPassword::parse(&"x".repeat(129), &login),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            NewPassword::parse("Yamada-2026-04", &login),
            Err(PasswordError::IsLoginName)
        );
        assert_eq!(
            NewPassword::parse("line\nbreak password", &login),
            Err(PasswordError::ControlCharacter)
        );
        let p = NewPassword::parse("correct horse", &login).unwrap();
        assert_eq!(format!("{p:?}"), "NewPassword(…)");
    }
}
