//! What the institution console reads and writes besides the domain's own types:
//! the patient list, qualification checks (再照会), revocation by the staff, and
//! the access log.

use time::{Date, OffsetDateTime};
use zaitaku_domain::{Consent, InstitutionId, PersonId, Qualification, StaffId};

/// The staff member who acted, as the log keeps them: names are copied, so the
/// record stays true after an account is renamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffActor {
    pub id: StaffId,
    pub login: String,
    pub name: String,
}

/// Which consents the patient list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentFilter {
    /// Active, and not expired on the query's `today`.
    Standing,
    /// Active, but its expiry day has passed.
    Expired,
    Revoked,
}

/// The console's patient list: one institution's consents, newest registration
/// first, narrowed by the filters given.
#[derive(Debug, Clone)]
pub struct PatientQuery {
    pub institution: InstitutionId,
    /// Part of 氏名 or 氏名カナ; spaces are ignored on both sides.
    pub name: Option<String>,
    pub registered_from: Option<OffsetDateTime>,
    pub registered_before: Option<OffsetDateTime>,
    pub state: Option<ConsentFilter>,
    /// The day that decides whether a consent has expired.
    pub today: Date,
    pub limit: u32,
    pub offset: u32,
}

/// One row of the patient list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientSummary {
    pub person_id: PersonId,
    pub name: String,
    pub name_kana: String,
    pub birth_date: Date,
    pub consent: Consent,
}

/// What started a qualification check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckSource {
    /// The card authentication of a registration (flow A).
    Registration,
    /// A re-query from the console, without the card.
    Requery,
}

impl CheckSource {
    pub fn code(self) -> &'static str {
        match self {
            CheckSource::Registration => "registration",
            CheckSource::Requery => "requery",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "registration" => Some(CheckSource::Registration),
            "requery" => Some(CheckSource::Requery),
            _ => None,
        }
    }
}

/// The qualification record as one check found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualificationCheck {
    pub id: i64,
    pub checked_at: OffsetDateTime,
    pub source: CheckSource,
    pub qualification: Qualification,
}

/// The staff revoke a patient's consent from the console (reason 1, 医療機関等による取消し).
#[derive(Debug, Clone)]
pub struct StaffRevocation {
    pub institution: InstitutionId,
    pub person: PersonId,
    /// The consent's version on the confirmation screen: a change since then wins.
    pub expected_version: i64,
    pub actor: StaffActor,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRevocationOutcome {
    Revoked,
    /// No active consent to revoke (never registered, already revoked).
    NotStanding,
    /// The consent changed after the confirmation screen; nothing written.
    Conflict,
}

/// What was done, as the access log records it: every console action that
/// reads or changes personal data or settings, and the CLI's person export and
/// deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessAction {
    /// Opened the patient's page: qualification, consent and consented records.
    View,
    /// Searched the patient list; the detail holds the filter (never the results).
    Search,
    Requery,
    /// A 再照会 refused; the detail says why.
    RequeryRefused,
    Revoke,
    /// Changed the institution's settings; the detail says what changed.
    SettingsChange,
    /// Added, changed or removed a staff account; the detail says which and how.
    StaffChange,
    /// Exported personal data (the detail says what).
    Export,
    /// `admin person export` (the actor is the CLI).
    PersonExport,
    /// `admin person delete` (the actor is the CLI).
    PersonDelete,
    /// Enrolled a device (the detail names it).
    DeviceEnrol,
    /// Revoked a device (the detail names it).
    DeviceRevoke,
}

impl AccessAction {
    pub const ALL: [AccessAction; 12] = [
        AccessAction::View,
        AccessAction::Search,
        AccessAction::Requery,
        AccessAction::RequeryRefused,
        AccessAction::Revoke,
        AccessAction::SettingsChange,
        AccessAction::StaffChange,
        AccessAction::Export,
        AccessAction::PersonExport,
        AccessAction::PersonDelete,
        AccessAction::DeviceEnrol,
        AccessAction::DeviceRevoke,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AccessAction::View => "view",
            AccessAction::Search => "search",
            AccessAction::Requery => "requery",
            AccessAction::RequeryRefused => "requery_refused",
            AccessAction::Revoke => "revoke",
            AccessAction::SettingsChange => "settings",
            AccessAction::StaffChange => "staff",
            AccessAction::Export => "export",
            AccessAction::PersonExport => "person_export",
            AccessAction::PersonDelete => "person_delete",
            AccessAction::DeviceEnrol => "device_enrol",
            AccessAction::DeviceRevoke => "device_revoke",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        AccessAction::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// Who acted: a staff member in the console, or an operator at the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessActor {
    Staff(StaffActor),
    /// `zaitaku admin …`: stored without a staff id, as the login `cli`.
    Cli,
}

/// One line of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub at: OffsetDateTime,
    /// `None` only for the CLI's entries about a person no institution holds.
    pub institution: Option<InstitutionId>,
    pub actor: AccessActor,
    /// `None` for actions about no one patient (a search, a settings change).
    pub person: Option<PersonId>,
    pub action: AccessAction,
    /// The device the request came from, its name copied as staff names are.
    pub device_name: Option<String>,
    /// The filter of a search, what a change changed, why a 再照会 was refused:
    /// never a secret.
    pub detail: Option<String>,
}

/// A line of the access log as the administrator reads it, with the patient's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogLine {
    pub entry: AccessEntry,
    /// The patient's name, when the entry is about one.
    pub person_name: Option<String>,
}
