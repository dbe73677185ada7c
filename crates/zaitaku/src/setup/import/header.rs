//! The header row of an import file: which named column is where. Shared by
//! `admin insured import` and `admin records import`, whose columns may come in
//! any order and whose optional columns may be left out.

use super::pipeline::Problem;
use csv::StringRecord;

/// Where each of `N` known columns is in the file's records.
#[derive(Debug)]
pub struct ColumnPositions<const N: usize> {
    position: [Option<usize>; N],
    width: usize,
}

impl<const N: usize> ColumnPositions<N> {
    /// Read the header row against `columns` (name, required): every name must
    /// be known and named once, every required column present.
    pub fn parse(record: &StringRecord, columns: &[(&str, bool); N]) -> Result<Self, String> {
        let mut position = [None; N];
        for (i, name) in record.iter().enumerate() {
            let name = name.trim_start_matches('\u{feff}').trim();
            let Some(column) = columns.iter().position(|(c, _)| *c == name) else {
                let known: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
                return Err(format!(
                    "unknown column {name:?} in the header row (the first line names the \
                     columns: {})",
                    known.join(", ")
                ));
            };
            if position[column].replace(i).is_some() {
                return Err(format!("column {name} is named twice in the header row"));
            }
        }
        let missing: Vec<&str> = columns
            .iter()
            .zip(&position)
            .filter(|((_, required), at)| *required && at.is_none())
            .map(|((name, _), _)| *name)
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the header row lacks the required column(s) {}",
                missing.join(", ")
            ));
        }
        Ok(ColumnPositions {
            position,
            width: record.len(),
        })
    }

    /// The problem of a line whose number of fields is not the header's.
    pub fn width_problem(&self, record: &StringRecord) -> Option<Problem> {
        (record.len() != self.width).then(|| Problem {
            column: "",
            reason: format!(
                "{} fields where the header has {} columns",
                record.len(),
                self.width
            ),
        })
    }

    /// The column's value in `record`; empty where the file has no such column.
    pub fn value<'r>(&self, record: &'r StringRecord, column: usize) -> &'r str {
        self.position[column]
            .and_then(|i| record.get(i))
            .unwrap_or("")
    }
}
