//! Insured persons' qualification records, one person per line, upserted by
//! the person's key (insurer number, symbol, number and branch): what
//! `admin insured import` and the demo write.

use super::insured_csv::Header;
use super::pipeline::{Importer, Problem, Written};
use std::sync::Arc;
use zaitaku_domain::Qualification;
use zaitaku_store::{Store, StoreError};

/// Qualification records, one person per line, upserted by the person's key.
pub struct InsuredImport {
    header: Header,
}

impl InsuredImport {
    /// Check the header row: known columns, each once, every required one.
    pub fn new(header: &csv::StringRecord) -> Result<Self, String> {
        Ok(InsuredImport {
            header: Header::parse(header)?,
        })
    }
}

impl Importer for InsuredImport {
    type Row = Qualification;

    fn parse(&self, record: &csv::StringRecord) -> Result<Qualification, Vec<Problem>> {
        self.header.parse_record(record)
    }

    /// The person's key as one string (fields cannot hold control characters).
    fn key(&self, q: &Qualification) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            q.insurer_number,
            q.symbol.as_deref().unwrap_or(""),
            q.number,
            q.branch.as_deref().unwrap_or("")
        )
    }

    fn repeated(&self, first: u64) -> String {
        format!("the same person (insurer_number, symbol, number, branch) as line {first}")
    }

    async fn write(
        store: Arc<dyn Store>,
        batch: Vec<Qualification>,
    ) -> Result<Written, StoreError> {
        let counts = store.upsert_persons(&batch).await?;
        Ok(Written {
            inserted: counts.inserted,
            updated: counts.updated,
            unchanged: counts.unchanged,
            refused: Vec::new(),
        })
    }
}
