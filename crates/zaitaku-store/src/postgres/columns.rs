//! A PostgreSQL row read column after column, for the decoders shared with
//! SQLite (`crate::rows`).

use crate::error::StoreError;
use crate::rows::Cursor;
use sqlx::postgres::{PgRow, Postgres};
use sqlx::{Decode, Row, Type};

pub struct Columns<'r> {
    row: &'r PgRow,
    next: usize,
}

impl<'r> Columns<'r> {
    pub fn new(row: &'r PgRow) -> Self {
        Columns::at(row, 0)
    }

    /// From column `first` on (a statement that selects two records' columns).
    pub fn at(row: &'r PgRow, first: usize) -> Self {
        Columns { row, next: first }
    }
}

impl<'r> Columns<'r> {
    fn next<T: Decode<'r, Postgres> + Type<Postgres>>(&mut self) -> Result<T, StoreError> {
        let value = self.row.try_get(self.next)?;
        self.next += 1;
        Ok(value)
    }
}

impl Cursor for Columns<'_> {
    fn int(&mut self) -> Result<i64, StoreError> {
        self.next()
    }

    fn text(&mut self) -> Result<String, StoreError> {
        self.next()
    }

    fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        self.next()
    }

    fn opt_int(&mut self) -> Result<Option<i64>, StoreError> {
        self.next()
    }

    fn bytes(&mut self) -> Result<Vec<u8>, StoreError> {
        self.next()
    }
}
