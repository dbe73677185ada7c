//! Between SQLite values and domain types: instants as unix seconds, dates as
//! ISO text, codes as their wire codes. A stored value that no longer parses is
//! reported as corrupt, never guessed at. And the few helpers every query uses.

use crate::error::StoreError;
use rusqlite::types::FromSql;
use rusqlite::{OptionalExtension, Params, Row, Statement, ffi};
use time::{Date, OffsetDateTime, format_description::well_known::Iso8601};

pub fn instant(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub fn to_instant(secs: i64, what: &'static str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| StoreError::Corrupt { what })
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

/// A row's columns, read one after another in the order the query selects them.
pub struct Columns<'a, 'stmt> {
    row: &'a Row<'stmt>,
    next: usize,
}

impl<'a, 'stmt> Columns<'a, 'stmt> {
    pub fn new(row: &'a Row<'stmt>) -> Self {
        Columns { row, next: 0 }
    }

    /// The next column's value.
    pub fn read<T: FromSql>(&mut self) -> Result<T, StoreError> {
        let value = self.row.get(self.next)?;
        self.next += 1;
        Ok(value)
    }
}

/// The first row `statement` yields, if any, through `from_row`.
pub fn optional<T>(
    statement: &mut Statement<'_>,
    params: impl Params,
    from_row: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    statement
        .query_row(params, |row| Ok(from_row(row)))
        .optional()?
        .transpose()
}

/// Every row `statement` yields, through `from_row`.
pub fn all<T>(
    statement: &mut Statement<'_>,
    params: impl Params,
    mut from_row: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut rows = statement.query(params)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(from_row(row)?);
    }
    Ok(found)
}

pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error(),
        Some(ffi::Error {
            extended_code: ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
            ..
        })
    )
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
