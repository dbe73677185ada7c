//! Between stored values and domain types, the same on both backends: instants
//! as unix seconds, dates as ISO text, codes as their wire codes. A stored value
//! that no longer parses is reported as corrupt, never guessed at.

use crate::error::StoreError;
use time::{Date, OffsetDateTime, format_description::well_known::Iso8601};

pub fn instant(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub fn to_instant(secs: i64, what: &'static str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| StoreError::Corrupt { what })
}

pub fn to_opt_instant(
    secs: Option<i64>,
    what: &'static str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    secs.map(|s| to_instant(s, what)).transpose()
}

pub fn date(d: Date) -> String {
    // The calendar date part of ISO 8601: YYYY-MM-DD.
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn to_date(text: &str, what: &'static str) -> Result<Date, StoreError> {
    Date::parse(text, &Iso8601::DATE).map_err(|_| StoreError::Corrupt { what })
}

pub fn to_opt_date(text: Option<String>, what: &'static str) -> Result<Option<Date>, StoreError> {
    text.map(|t| to_date(&t, what)).transpose()
}

/// Parse a stored code with the domain's parser, or call it corrupt.
pub fn code<T, E>(
    text: &str,
    what: &'static str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    parse(text).map_err(|_| StoreError::Corrupt { what })
}

pub fn some_code<T>(
    text: &str,
    what: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text).ok_or(StoreError::Corrupt { what })
}

/// `%part%` for LIKE, with spaces removed and LIKE's own characters escaped.
pub fn like_pattern(part: &str) -> String {
    let mut pattern = String::from("%");
    for ch in part.chars().filter(|c| !c.is_whitespace()) {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_round_trip_as_iso_text() {
        let d = date!(2026 - 01 - 05);
        assert_eq!(date(d), "2026-01-05");
        assert_eq!(to_date("2026-01-05", "x").unwrap(), d);
        assert!(to_date("2026-13-01", "x").is_err());
    }
}
