//! A PostgreSQL row read column after column, for the decoders shared with
//! SQLite (`crate::rows`).

use crate::error::StoreError;
use crate::rows::Cursor;
use sqlx::Row;
use sqlx::postgres::PgRow;

pub struct Columns<'r> {
    row: &'r PgRow,
    next: usize,
}

impl<'r> Columns<'r> {
    pub fn new(row: &'r PgRow) -> Self {
        Columns { row, next: 0 }
    }
}

impl Cursor for Columns<'_> {
    fn int(&mut self) -> Result<i64, StoreError> {
        self.next += 1;
        Ok(self.row.try_get(self.next - 1)?)
    }

    fn text(&mut self) -> Result<String, StoreError> {
        self.next += 1;
        Ok(self.row.try_get(self.next - 1)?)
    }

    fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        self.next += 1;
        Ok(self.row.try_get(self.next - 1)?)
    }
}
