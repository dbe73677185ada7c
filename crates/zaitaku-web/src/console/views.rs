//! The console's template structs: the login screens (on the patient screens'
//! layout, since no one is logged in yet) and the login history.

use super::ConsoleFrame;
use crate::i18n::Text;
use askama::Template;
use askama_web::WebTemplate;
use time::OffsetDateTime;

#[derive(Template, WebTemplate)]
#[template(path = "console_login.html")]
pub struct LoginPage {
    pub t: Text,
    pub demo: bool,
    pub csrf: String,
    /// What was typed, kept after a failure (never the password).
    pub login: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_login_code.html")]
pub struct CodePage {
    pub t: Text,
    pub demo: bool,
    pub csrf: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_enrol.html")]
pub struct EnrolPage {
    pub t: Text,
    pub demo: bool,
    pub csrf: String,
    pub action: String,
    pub institution_name: String,
    pub login_name: String,
    pub display_name: String,
    pub role: &'static str,
    /// Base32, in groups of four for reading aloud or typing.
    pub secret: String,
    pub image_src: String,
    pub error: Option<String>,
}

pub struct LoginRow {
    pub at: String,
    pub login_name: String,
    pub outcome: &'static str,
    pub success: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_logins.html")]
pub struct LoginsPage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub rows: Vec<LoginRow>,
}

/// Japan Standard Time, to the second: `2026-04-01 09:30:05`.
pub fn jst(at: OffsetDateTime) -> String {
    let t = at.to_offset(zaitaku_domain::JST);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `ABCD EFGH …`: a secret typed by hand is easier in groups.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_show_in_japan_and_secrets_in_groups() {
        assert_eq!(
            jst(datetime!(2026-03-31 15:30:05 UTC)),
            "2026-04-01 00:30:05"
        );
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}

// The patient list and page, revocation, settings and the access log.

pub struct PatientRow {
    pub href: String,
    pub name: String,
    pub name_kana: String,
    pub birth_date: String,
    pub state: String,
    pub standing: bool,
    pub expires_on: String,
    pub registered_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_patients.html")]
pub struct PatientListPage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub name: String,
    pub from: String,
    pub to: String,
    pub state: String,
    pub errors: Vec<String>,
    /// Any filter given: an empty list then means "none match", not "none yet".
    pub filtered: bool,
    pub rows: Vec<PatientRow>,
    pub previous_href: Option<String>,
    pub next_href: Option<String>,
}

pub struct QualificationView {
    /// When the shown record was fetched; empty for records older than checks.
    pub checked_at: String,
    pub source: String,
    pub rows: Vec<(String, String)>,
    /// After a re-query: what differs from the check before it.
    pub changes: Option<Vec<ChangeRow>>,
}

pub struct ChangeRow {
    pub label: String,
    pub before: String,
    pub after: String,
}

pub struct RecordSection {
    pub label: String,
    pub consented: bool,
    /// Column headings: date, provider, name, detail, in the kind's own words.
    pub headings: [&'static str; 4],
    pub rows: Vec<RecordRow>,
}

pub struct RecordRow {
    pub date: String,
    pub provider: String,
    pub name: String,
    pub detail: String,
}

pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub channel: String,
    pub before: String,
    pub after: String,
    /// Proven with the My Number card.
    pub card: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_patient.html")]
pub struct PatientPage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub name: String,
    pub name_kana: String,
    pub birth_date: String,
    pub state_label: String,
    /// Active and not expired: qualification and records may be shown.
    pub standing: bool,
    /// Active (perhaps expired): it can still be revoked.
    pub active: bool,
    pub expires_on: String,
    pub registered_at: String,
    pub updated_at: String,
    pub notice: Option<String>,
    pub consent_rows: Vec<(String, String)>,
    pub qualification: Option<QualificationView>,
    pub records: Vec<RecordSection>,
    pub history: Vec<HistoryRow>,
    pub requery_action: String,
    pub revoke_href: String,
    pub csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_revoke.html")]
pub struct RevokePage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub name: String,
    pub birth_date: String,
    pub consent_rows: Vec<(String, String)>,
    pub action: String,
    pub back_href: String,
    pub version: i64,
    pub csrf: String,
}

pub struct ItemChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct UsageChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_settings.html")]
pub struct SettingsPage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub code: String,
    pub kind: String,
    pub institution_name: String,
    pub items: Vec<ItemChoice>,
    pub usages: Vec<UsageChoice>,
    pub validity_days: String,
    /// Who may start flows at the URL: the two choices, the stored one selected.
    pub flows_from: Vec<UsageChoice>,
    pub url: String,
    pub errors: Vec<String>,
    pub invalid: bool,
    pub notice: Option<String>,
    pub csrf: String,
}

/// One enrolled device, as the 端末 page lists it.
pub struct DeviceRow {
    pub name: String,
    pub enrolled_by: String,
    pub enrolled_at: String,
    pub last_seen: Option<String>,
    /// When and by whom, once revoked.
    pub revoked: Option<String>,
    pub revoke_action: String,
    pub is_this_browser: bool,
}

/// An activation code just issued: shown once.
pub struct IssuedCode {
    pub code: String,
    pub device_name: String,
    pub expires_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_devices.html")]
pub struct DevicesPage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub rows: Vec<DeviceRow>,
    pub is_administrator: bool,
    /// This browser's name, if it is a live device of the institution.
    pub this_browser: Option<String>,
    pub notice: Option<String>,
    pub refusal: Option<String>,
    pub issued: Option<IssuedCode>,
    pub name: String,
    pub csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_rotate.html")]
pub struct RotatePage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub url: String,
    pub csrf: String,
}

pub struct AccessRow {
    pub at: String,
    /// 「氏名（ログイン名）」, or the command line.
    pub staff: String,
    /// The device's name, or 「—」.
    pub device: String,
    /// The patient's name and page, when the entry is about one.
    pub patient: Option<(String, String)>,
    pub action: String,
    /// The filter, what changed, why refused; empty when none.
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_access_log.html")]
pub struct AccessLogPage {
    pub t: Text,
    pub frame: ConsoleFrame,
    /// When the chains were last verified and what was found, in one sentence.
    pub verified: String,
    /// The last verification found tampering.
    pub tampered: bool,
    pub rows: Vec<AccessRow>,
}

pub struct StaffRow {
    pub login_name: String,
    pub display_name: String,
    pub role: &'static str,
    /// The role the change button offers.
    pub other_role: zaitaku_domain::StaffRole,
    pub status: &'static str,
    /// Locked, or waiting for enrolment.
    pub note: Option<String>,
    pub active: bool,
    pub is_self: bool,
    /// Where the row's forms post.
    pub action: String,
    pub remove_href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_staff.html")]
pub struct StaffPage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub rows: Vec<StaffRow>,
    pub notice: Option<String>,
    pub refusal: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_staff_remove.html")]
pub struct StaffRemovePage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub action: String,
    pub login_name: String,
    pub display_name: String,
    pub role: &'static str,
    pub csrf: String,
}

/// `/console/status`: the metrics' numbers for the 管理者.
#[derive(Template, WebTemplate)]
#[template(path = "console_status.html")]
pub struct StatusPage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub flows_started: Vec<CountRow>,
    pub flows_finished: Vec<CountRow>,
    pub token_checks: Vec<CountRow>,
    pub requests: Vec<RequestRow>,
    pub crls: Vec<CrlRow>,
    pub pool_open: u32,
    pub pool_in_use: u32,
    pub pool_max: u32,
    /// Resident memory in MiB, one decimal; `None` without `/proc`.
    pub memory_mib: Option<String>,
}

/// A count under what it counts (a flow's purpose or outcome, a token's result)
/// and, for flows, the institution kind.
#[derive(Debug, Clone)]
pub struct CountRow {
    pub what: String,
    pub kind: String,
    pub count: u64,
}

#[derive(Debug, Clone)]
pub struct RequestRow {
    pub route: String,
    pub method: &'static str,
    pub status: u16,
    pub count: u64,
    /// Mean answer time in milliseconds, one decimal.
    pub mean_ms: String,
}

#[derive(Debug, Clone)]
pub struct CrlRow {
    pub issuer: String,
    pub partition: String,
    /// Hours since its thisUpdate.
    pub age_hours: u64,
    pub stale: bool,
}
