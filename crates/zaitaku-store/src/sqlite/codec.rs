//! The few helpers every SQLite query uses: reading a row's columns in order,
//! one or every row, telling a unique violation. Values are encoded by
//! [`crate::codec`], the same for both backends.

use crate::error::StoreError;
use rusqlite::types::FromSql;
use rusqlite::{OptionalExtension, Params, Row, Statement, ffi};

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

impl crate::rows::Cursor for Columns<'_, '_> {
    fn int(&mut self) -> Result<i64, StoreError> {
        self.read()
    }

    fn text(&mut self) -> Result<String, StoreError> {
        self.read()
    }

    fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        self.read()
    }

    fn opt_int(&mut self) -> Result<Option<i64>, StoreError> {
        self.read()
    }

    fn bytes(&mut self) -> Result<Vec<u8>, StoreError> {
        self.read()
    }
}
