//! 同意取得済み患者一覧: the patients who registered at this institution, newest
//! first, filtered by name, registration date and consent state.

use super::access_record::{self, RequestDevice};
use super::frame::ConsoleFrame;
use super::staff_user::StaffUser;
use super::views::{PatientListPage, PatientRow};
use crate::error::PageError;
use crate::i18n::Text;
use crate::state::AppState;
use crate::views::date_ja;
use axum::extract::{Query, State};
use serde::Deserialize;
use time::format_description::well_known::Iso8601;
use time::{Date, OffsetDateTime, Time};
use zaitaku_domain::ConsentStatus;
use zaitaku_domain::JST;
use zaitaku_store::{AccessAction, ConsentFilter, PatientQuery, PatientSummary};

/// Rows per page.
const PAGE_SIZE: u32 = 50;
/// Longer names than this are no real name: refuse rather than search.
const NAME_MAX_CHARS: usize = 50;

/// The filter form, as typed: every field may be empty.
#[derive(Debug, Default, Deserialize)]
pub struct ListFilter {
    #[serde(default)]
    name: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    page: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    Query(filter): Query<ListFilter>,
) -> Result<PatientListPage, PageError> {
    let frame = ConsoleFrame::of(&state, &user).await?;
    let now = OffsetDateTime::now_utc();
    let today = zaitaku_domain::day_in_japan(now);
    let page = filter.page.unwrap_or(1).max(1);
    let (query, errors) = parse_filter(&filter, &user, today, page);
    let rows = match &query {
        Some(query) => {
            // The filter goes to the access log, never the results.
            let detail = search_detail(&filter, page);
            access_record::record(
                &state,
                &user,
                device.0,
                AccessAction::Search,
                None,
                Some(detail),
            )
            .await?;
            state.store.patients(query).await?
        }
        None => Vec::new(),
    };
    let has_next = rows.len() as u32 == PAGE_SIZE;
    Ok(PatientListPage {
        t: Text,
        frame,
        name: filter.name.clone(),
        from: filter.from.clone(),
        to: filter.to.clone(),
        state: filter.state.clone(),
        errors,
        filtered: [&filter.name, &filter.from, &filter.to, &filter.state]
            .iter()
            .any(|value| !value.trim().is_empty()),
        rows: rows.iter().map(|r| row(r, today)).collect(),
        previous_href: (page > 1).then(|| page_href(&filter, page - 1)),
        next_href: has_next.then(|| page_href(&filter, page + 1)),
    })
}

/// The filter as the access log keeps it, in Japanese: each field given, and
/// the page past the first.
fn search_detail(filter: &ListFilter, page: u32) -> String {
    let t = Text;
    let mut parts = Vec::new();
    let name = filter.name.trim();
    if !name.is_empty() {
        parts.push(t.with("console-access-filter-name", "value", name));
    }
    let (from, to) = (filter.from.trim(), filter.to.trim());
    if !from.is_empty() || !to.is_empty() {
        parts.push(format!(
            "{}{from}〜{to}",
            t.get("console-access-filter-registered")
        ));
    }
    let state = match filter.state.as_str() {
        "standing" => Some("console-filter-state-standing"),
        "expired" => Some("console-filter-state-expired"),
        "revoked" => Some("console-filter-state-revoked"),
        _ => None,
    };
    if let Some(key) = state {
        parts.push(t.with("console-access-filter-state", "value", t.get(key)));
    }
    if page > 1 {
        parts.push(t.with("console-access-filter-page", "page", page));
    }
    if parts.is_empty() {
        t.get("console-access-filter-none")
    } else {
        parts.join("、")
    }
}

/// The store query, or the messages saying what to correct.
fn parse_filter(
    filter: &ListFilter,
    user: &StaffUser,
    today: Date,
    page: u32,
) -> (Option<PatientQuery>, Vec<String>) {
    let t = Text;
    let mut errors = Vec::new();
    let name = filter.name.trim();
    if name.chars().count() > NAME_MAX_CHARS {
        errors.push(t.get("console-filter-name-too-long"));
    }
    let mut day = |text: &str, key: &str| -> Option<Date> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = Date::parse(text, &Iso8601::DATE).ok();
        if parsed.is_none() {
            errors.push(t.get(key));
        }
        parsed
    };
    let from = day(&filter.from, "console-filter-from-invalid");
    let to = day(&filter.to, "console-filter-to-invalid");
    let state = match filter.state.as_str() {
        "" => None,
        "standing" => Some(ConsentFilter::Standing),
        "expired" => Some(ConsentFilter::Expired),
        "revoked" => Some(ConsentFilter::Revoked),
        _ => {
            errors.push(t.get("console-filter-state-invalid"));
            None
        }
    };
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        errors.push(t.get("console-filter-range-reversed"));
    }
    if !errors.is_empty() {
        return (None, errors);
    }
    // Days are Japanese days: from 00:00 JST of `from` to the end of `to`.
    let start_of = |d: Date| d.with_time(Time::MIDNIGHT).assume_offset(JST);
    let query = PatientQuery {
        institution: user.institution_id,
        name: (!name.is_empty()).then(|| name.to_owned()),
        registered_from: from.map(start_of),
        registered_before: to.and_then(|d| d.next_day()).map(start_of),
        state,
        today,
        limit: PAGE_SIZE,
        offset: (page - 1).saturating_mul(PAGE_SIZE),
    };
    (Some(query), errors)
}

fn row(summary: &PatientSummary, today: Date) -> PatientRow {
    let consent = &summary.consent;
    PatientRow {
        href: format!("/console/patients/{}", summary.person_id.0),
        name: summary.name.clone(),
        name_kana: summary.name_kana.clone(),
        birth_date: date_ja(summary.birth_date),
        state: state_label(consent.status, consent.expires_on, today),
        standing: consent.status == ConsentStatus::Active && consent.expires_on >= today,
        expires_on: date_ja(consent.expires_on),
        registered_at: super::views::jst(consent.registered_at),
    }
}

/// 同意あり / 同意有効期限切れ / the revocation's reason.
pub fn state_label(status: ConsentStatus, expires_on: Date, today: Date) -> String {
    match status {
        ConsentStatus::Active if expires_on >= today => Text.get("console-state-standing"),
        ConsentStatus::Active => Text.get("console-state-expired"),
        ConsentStatus::Revoked(reason) => {
            Text.with("console-state-revoked", "reason", reason.label())
        }
    }
}

fn page_href(filter: &ListFilter, page: u32) -> String {
    let mut query = form_urlencoded(&[
        ("name", filter.name.as_str()),
        ("from", filter.from.as_str()),
        ("to", filter.to.as_str()),
        ("state", filter.state.as_str()),
    ]);
    query.push_str(&format!("&page={page}"));
    format!("/console/patients?{query}")
}

/// `k=v&…` with every byte outside the unreserved set percent-encoded.
fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_filter_and_encode_it() {
        let filter = ListFilter {
            name: "山田 太郎".into(),
            state: "standing".into(),
            ..ListFilter::default()
        };
        let href = page_href(&filter, 2);
        assert_eq!(
            href,
            "/console/patients?name=%E5%B1%B1%E7%94%B0%20%E5%A4%AA%E9%83%8E&from=&to=&state=standing&page=2"
        );
    }
}
