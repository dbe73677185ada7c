//! The CSV form of medical records for `zaitaku admin records import`: a header
//! row naming the columns, then one record per line, for the insured person the
//! line's key names. The key's fields are checked as `admin insured import`
//! checks them, the record's by the domain's own `MedicalRecord::new`.

use super::header::ColumnPositions;
use super::insured_csv::{branch, date, text};
use super::pipeline::Problem;
use csv::StringRecord;
use time::Date;
use zaitaku_domain::{InsurerNumber, MedicalRecord, RecordField, RecordKind};
use zaitaku_store::{NewRecord, PersonKey};

/// The columns, in the order the README lists them; `true` where a value is required.
pub const COLUMNS: [(&str, bool); 9] = [
    ("insurer_number", true),
    ("symbol", false),
    ("number", true),
    ("branch", false),
    ("kind", true),
    ("date", true),
    ("provider", true),
    ("name", true),
    ("detail", false),
];

// Indexes into COLUMNS.
const INSURER_NUMBER: usize = 0;
const SYMBOL: usize = 1;
const NUMBER: usize = 2;
const BRANCH: usize = 3;
const KIND: usize = 4;
const DATE: usize = 5;
const PROVIDER: usize = 6;
const NAME: usize = 7;
const DETAIL: usize = 8;

/// Where each column is in the file's records; optional columns may be left out.
#[derive(Debug)]
pub struct Header {
    columns: ColumnPositions<{ COLUMNS.len() }>,
}

impl Header {
    pub fn parse(record: &StringRecord) -> Result<Header, String> {
        ColumnPositions::parse(record, &COLUMNS).map(|columns| Header { columns })
    }

    /// The record of one line, or every reason it cannot be taken. `today` is
    /// the day of the import: no record may be dated after it.
    pub fn parse_record(
        &self,
        record: &StringRecord,
        today: Date,
    ) -> Result<NewRecord, Vec<Problem>> {
        if let Some(problem) = self.columns.width_problem(record) {
            return Err(vec![problem]);
        }
        let value = |column: usize| self.columns.value(record, column);
        let mut problems = Vec::new();
        let mut problem = |column: usize, reason: String| {
            problems.push(Problem {
                column: COLUMNS[column].0,
                reason,
            })
        };
        let mut required = |column: usize| {
            let v = value(column);
            if v.is_empty() {
                problem(column, "required".to_owned());
            }
            v
        };
        let insurer_number = required(INSURER_NUMBER);
        let number = required(NUMBER);
        let kind = required(KIND);
        let day = required(DATE);
        // Provider and name are required too; MedicalRecord::new says so.
        let insurer_number = (!insurer_number.is_empty())
            .then(|| InsurerNumber::parse(insurer_number).map_err(|e| e.to_string()))
            .transpose()
            .unwrap_or_else(|e| {
                problem(INSURER_NUMBER, e);
                None
            });
        let symbol = optional(value(SYMBOL), |t| text(t, 20)).unwrap_or_else(|e| {
            problem(SYMBOL, e);
            None
        });
        let number = (!number.is_empty())
            .then(|| text(number, 20))
            .transpose()
            .unwrap_or_else(|e| {
                problem(NUMBER, e);
                None
            });
        let branch = optional(value(BRANCH), branch).unwrap_or_else(|e| {
            problem(BRANCH, e);
            None
        });
        let kind = (!kind.is_empty())
            .then(|| {
                RecordKind::parse(kind).map_err(|_| {
                    "unknown code (YZK 薬剤情報, SRJ 診療情報, TKK 特定健診情報, SHJ 手術情報)"
                        .to_owned()
                })
            })
            .transpose()
            .unwrap_or_else(|e| {
                problem(KIND, e);
                None
            });
        let day = (!day.is_empty())
            .then(|| date(day))
            .transpose()
            .unwrap_or_else(|e| {
                problem(DATE, e);
                None
            });
        // The record's own checks need a kind and a date to run; without
        // them, the text fields are still checked, with placeholders.
        let checked = MedicalRecord::new(
            kind.unwrap_or(RecordKind::Medication),
            day.unwrap_or(today),
            value(PROVIDER),
            value(NAME),
            value(DETAIL),
            today,
        );
        let record = match checked {
            Ok(r) => Some(r),
            Err(errors) => {
                for e in errors {
                    problem(column_of(e.field), e.reason);
                }
                None
            }
        };
        problems.sort_by_key(|p| COLUMNS.iter().position(|(c, _)| *c == p.column));
        match (insurer_number, number, kind, day, record) {
            (Some(insurer_number), Some(number), Some(_), Some(_), Some(record))
                if problems.is_empty() =>
            {
                Ok(NewRecord {
                    person: PersonKey {
                        insurer_number,
                        symbol,
                        number,
                        branch,
                    },
                    record,
                })
            }
            _ => Err(problems),
        }
    }
}

fn column_of(field: RecordField) -> usize {
    match field {
        RecordField::Date => DATE,
        RecordField::Provider => PROVIDER,
        RecordField::Name => NAME,
        RecordField::Detail => DETAIL,
    }
}

/// `None` for an empty value.
fn optional<T>(
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 24);

    fn header() -> Header {
        let names: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
        Header::parse(&StringRecord::from(names)).unwrap()
    }

    fn good() -> Vec<&'static str> {
        vec![
            "06130488",
            "1234",
            "5678",
            "00",
            "YZK",
            "2026-10-01",
            "さくら薬局",
            "アムロジピン錠5mg",
            "1日1回朝食後 28日分",
        ]
    }

    fn problems(changes: &[(usize, &'static str)]) -> Vec<(&'static str, String)> {
        let mut fields = good();
        for &(i, v) in changes {
            fields[i] = v;
        }
        header()
            .parse_record(&StringRecord::from(fields), TODAY)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.column, p.reason))
            .collect()
    }

    #[test]
    fn a_good_line_names_its_person_and_record() {
        let new = header()
            .parse_record(&StringRecord::from(good()), TODAY)
            .unwrap();
        assert_eq!(new.person.insurer_number.as_str(), "06130488");
        assert_eq!(new.person.symbol.as_deref(), Some("1234"));
        assert_eq!(new.person.branch.as_deref(), Some("00"));
        assert_eq!(new.record.kind(), RecordKind::Medication);
        assert_eq!(new.record.date(), date!(2026 - 10 - 01));
        assert_eq!(new.record.detail(), Some("1日1回朝食後 28日分"));
    }

    #[test]
    fn every_bad_field_is_reported_in_column_order() {
        let found = problems(&[
            (INSURER_NUMBER, "06130487"),
            (BRANCH, "1"),
            (KIND, "TSR"),
            (DATE, "2026-02-30"),
            (PROVIDER, ""),
            (DETAIL, "a\tb"),
        ]);
        let columns: Vec<&str> = found.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            columns,
            [
                "insurer_number",
                "branch",
                "kind",
                "date",
                "provider",
                "detail"
            ]
        );
        assert!(found[0].1.contains("check digit"), "{found:?}");
        assert!(found[2].1.starts_with("unknown code"), "{found:?}");
        assert_eq!(found[4].1, "required");
        assert_eq!(
            problems(&[(DATE, "2026-11-25")]),
            [("date", "2026-11-25 is in the future".to_owned())]
        );
        assert_eq!(
            problems(&[(NUMBER, ""), (NAME, "")]),
            [
                ("number", "required".to_owned()),
                ("name", "required".to_owned())
            ]
        );
    }

    #[test]
    fn headers_name_known_columns_once_and_every_required_one() {
        let parse = |names: &[&str]| Header::parse(&StringRecord::from(names.to_vec()));
        assert!(parse(&["kind", "bogus"]).unwrap_err().contains("bogus"));
        assert!(parse(&["kind", "kind"]).unwrap_err().contains("twice"));
        let err = parse(&["insurer_number", "number", "kind"]).unwrap_err();
        assert!(
            err.contains("date, provider, name") && !err.contains("detail"),
            "{err}"
        );
    }
}
