//! Medical records, one per line, for insured persons named by their key: what
//! `admin records import` and the demo write. A record is the whole of its
//! fields, so importing the same file again adds nothing.

use super::pipeline::{Importer, Problem, Written};
use super::records_csv::Header;
use std::sync::Arc;
use time::Date;
use zaitaku_store::{NewRecord, Store, StoreError};

/// The day in Japan now: records dated after it are refused.
pub fn today() -> Date {
    zaitaku_domain::today_in_japan()
}

/// Medical records, one per line, for persons named by their key.
pub struct RecordsImport {
    header: Header,
    today: Date,
}

impl RecordsImport {
    /// Check the header row: known columns, each once, every required one.
    pub fn new(header: &csv::StringRecord, today: Date) -> Result<Self, String> {
        Ok(RecordsImport {
            header: Header::parse(header)?,
            today,
        })
    }
}

impl Importer for RecordsImport {
    type Row = NewRecord;

    fn parse(&self, record: &csv::StringRecord) -> Result<NewRecord, Vec<Problem>> {
        self.header.parse_record(record, self.today)
    }

    /// Every field, as one string (fields cannot hold control characters).
    fn key(&self, new: &NewRecord) -> String {
        let (p, r) = (&new.person, &new.record);
        [
            p.insurer_number.as_str(),
            p.symbol.as_deref().unwrap_or(""),
            &p.number,
            p.branch.as_deref().unwrap_or(""),
            r.kind().code(),
            &r.date().to_string(),
            r.provider(),
            r.name(),
            r.detail().unwrap_or(""),
        ]
        .join("\u{1f}")
    }

    fn repeated(&self, first: u64) -> String {
        format!("the same record as line {first}")
    }

    async fn write(store: Arc<dyn Store>, batch: Vec<NewRecord>) -> Result<Written, StoreError> {
        let counts = store.import_records(&batch).await?;
        let unknown = || Problem {
            column: "",
            reason: "no insured person has this insurer_number, symbol, number and branch \
                     (import them with `zaitaku admin insured import` first)"
                .to_owned(),
        };
        Ok(Written {
            inserted: counts.inserted,
            updated: 0,
            unchanged: counts.unchanged,
            refused: counts
                .unknown_persons
                .into_iter()
                .map(|i| (i, unknown()))
                .collect(),
        })
    }
}
