//! The CSV form of qualification records (domain notes §4) for
//! `zaitaku admin insured import`: a header row naming the columns, then one
//! record per line. Every field goes through the domain's own parsers; a line
//! is taken whole or rejected with every reason found.

use super::header::ColumnPositions;
use super::pipeline::Problem;
use csv::StringRecord;
use time::{Date, Month};
use zaitaku_domain::{
    BurdenRatio, ElderlyCertificate, InsurerNumber, LimitCertificate, Qualification,
    QualificationValidity, Relationship, Sex,
};

/// The columns, in the order the README lists them; `true` where a value is required.
pub const COLUMNS: [(&str, bool); 25] = [
    ("insurer_number", true),
    ("insurer_name", true),
    ("symbol", false),
    ("number", true),
    ("branch", false),
    ("relationship", true),
    ("name", true),
    ("name_kana", true),
    ("sex", true),
    ("birth_date", true),
    ("address", true),
    ("postal_code", true),
    ("acquired_on", true),
    ("lost_on", false),
    ("loss_reason", false),
    ("valid_from", false),
    ("valid_until", false),
    ("burden_ratio", false),
    ("elderly_valid_from", false),
    ("elderly_valid_until", false),
    ("elderly_burden_ratio", false),
    ("limit_category", false),
    ("limit_applied_category", false),
    ("specific_disease", false),
    ("validity", true),
];

// Indexes into COLUMNS.
const INSURER_NUMBER: usize = 0;
const INSURER_NAME: usize = 1;
const SYMBOL: usize = 2;
const NUMBER: usize = 3;
const BRANCH: usize = 4;
const RELATIONSHIP: usize = 5;
const NAME: usize = 6;
const NAME_KANA: usize = 7;
const SEX: usize = 8;
const BIRTH_DATE: usize = 9;
const ADDRESS: usize = 10;
const POSTAL_CODE: usize = 11;
const ACQUIRED_ON: usize = 12;
const LOST_ON: usize = 13;
const LOSS_REASON: usize = 14;
const VALID_FROM: usize = 15;
const VALID_UNTIL: usize = 16;
const BURDEN_RATIO: usize = 17;
const ELDERLY_VALID_FROM: usize = 18;
const ELDERLY_VALID_UNTIL: usize = 19;
const ELDERLY_BURDEN_RATIO: usize = 20;
const LIMIT_CATEGORY: usize = 21;
const LIMIT_APPLIED_CATEGORY: usize = 22;
const SPECIFIC_DISEASE: usize = 23;
const VALIDITY: usize = 24;

/// Where each column is in the file's records. Columns of optional values may
/// be left out of the file altogether.
#[derive(Debug)]
pub struct Header {
    columns: ColumnPositions<{ COLUMNS.len() }>,
}

impl Header {
    pub fn parse(record: &StringRecord) -> Result<Header, String> {
        ColumnPositions::parse(record, &COLUMNS).map(|columns| Header { columns })
    }

    /// The record of one line, or every reason it cannot be taken.
    pub fn parse_record(&self, record: &StringRecord) -> Result<Qualification, Vec<Problem>> {
        if let Some(problem) = self.columns.width_problem(record) {
            return Err(vec![problem]);
        }
        let mut f = Fields {
            header: self,
            record,
            problems: Vec::new(),
        };
        let insurer_number = f.required(INSURER_NUMBER, |t| {
            InsurerNumber::parse(t).map_err(|e| e.to_string())
        });
        let insurer_name = f.required(INSURER_NAME, |t| text(t, 100));
        let symbol = f.optional(SYMBOL, |t| text(t, 20));
        let number = f.required(NUMBER, |t| text(t, 20));
        let branch = f.optional(BRANCH, branch);
        let relationship = f.required(RELATIONSHIP, |t| {
            Relationship::parse(t).map_err(|_| "unknown code (1 本人, 2 家族)".to_owned())
        });
        let name = f.required(NAME, |t| text(t, 100));
        let name_kana = f.required(NAME_KANA, kana);
        let sex = f.required(SEX, |t| {
            Sex::parse(t).map_err(|_| "unknown code (1 男, 2 女, 3 未設定)".to_owned())
        });
        let birth_date = f.required(BIRTH_DATE, date);
        let address = f.required(ADDRESS, |t| text(t, 200));
        let postal_code = f.required(POSTAL_CODE, postal_code);
        let acquired_on = f.required(ACQUIRED_ON, date);
        let lost_on = f.optional(LOST_ON, date);
        let loss_reason = f.optional(LOSS_REASON, |t| text(t, 100));
        let valid_from = f.optional(VALID_FROM, date);
        let valid_until = f.optional(VALID_UNTIL, date);
        let burden_ratio = f.optional(BURDEN_RATIO, ratio);
        let elderly_from = f.optional(ELDERLY_VALID_FROM, date);
        let elderly_until = f.optional(ELDERLY_VALID_UNTIL, date);
        let elderly_ratio = f.optional(ELDERLY_BURDEN_RATIO, ratio);
        let limit_category = f.optional(LIMIT_CATEGORY, |t| text(t, 20));
        let limit_applied = f.optional(LIMIT_APPLIED_CATEGORY, |t| text(t, 20));
        let specific_disease = f.optional(SPECIFIC_DISEASE, |t| text(t, 100));
        let validity = f.required(VALIDITY, |t| {
            QualificationValidity::parse(t).map_err(|_| {
                "unknown code (1 有効, 2 無効, 3 無効(新しい資格あり), 4 該当資格なし)".to_owned()
            })
        });

        // Fields that only make sense together.
        if let (Some(birth), Some(acquired)) = (birth_date, acquired_on)
            && acquired < birth
        {
            f.problem(ACQUIRED_ON, "before the birth date");
        }
        if let (Some(acquired), Some(Some(lost))) = (acquired_on, lost_on)
            && lost < acquired
        {
            f.problem(LOST_ON, "before the acquisition date");
        }
        if matches!(loss_reason, Some(Some(_))) && matches!(lost_on, Some(None)) {
            f.problem(LOSS_REASON, "given without lost_on");
        }
        if let (Some(Some(from)), Some(Some(until))) = (valid_from, valid_until)
            && until < from
        {
            f.problem(VALID_UNTIL, "before valid_from");
        }
        let elderly = match (elderly_from, elderly_until, elderly_ratio) {
            (Some(Some(valid_from)), Some(valid_until), Some(Some(burden_ratio))) => {
                if valid_until.is_some_and(|u| u < valid_from) {
                    f.problem(ELDERLY_VALID_UNTIL, "before elderly_valid_from");
                }
                Some(Some(ElderlyCertificate {
                    valid_from,
                    valid_until,
                    burden_ratio,
                }))
            }
            (Some(None), Some(None), Some(None)) => Some(None),
            (Some(from), Some(_), Some(ratio)) => {
                if from.is_none() {
                    f.problem(
                        ELDERLY_VALID_FROM,
                        "required when the elderly certificate has other fields",
                    );
                }
                if ratio.is_none() {
                    f.problem(
                        ELDERLY_BURDEN_RATIO,
                        "required when the elderly certificate has other fields",
                    );
                }
                None
            }
            _ => None,
        };
        let limit = match (limit_category, limit_applied) {
            (Some(Some(category)), Some(Some(applied_category))) => Some(Some(LimitCertificate {
                category,
                applied_category,
            })),
            (Some(None), Some(None)) => Some(None),
            (Some(None), Some(Some(_))) => {
                f.problem(LIMIT_CATEGORY, "required with limit_applied_category");
                None
            }
            (Some(Some(_)), Some(None)) => {
                f.problem(LIMIT_APPLIED_CATEGORY, "required with limit_category");
                None
            }
            _ => None,
        };

        if !f.problems.is_empty() {
            return Err(f.problems);
        }
        // No problem was found, so every field parsed.
        let parsed = || -> Option<Qualification> {
            Some(Qualification {
                insurer_number: insurer_number?,
                insurer_name: insurer_name?,
                symbol: symbol?,
                number: number?,
                branch: branch?,
                relationship: relationship?,
                name: name?,
                name_kana: name_kana?,
                sex: sex?,
                birth_date: birth_date?,
                address: address?,
                postal_code: postal_code?,
                acquired_on: acquired_on?,
                lost_on: lost_on?,
                loss_reason: loss_reason?,
                valid_from: valid_from?,
                valid_until: valid_until?,
                burden_ratio: burden_ratio?,
                elderly: elderly?,
                limit: limit?,
                specific_disease: specific_disease?,
                validity: validity?,
            })
        };
        parsed().ok_or_else(|| {
            vec![Problem {
                column: "",
                reason: "internal error: a field was neither parsed nor rejected".to_owned(),
            }]
        })
    }
}

/// One line's fields, and the problems found in them so far.
struct Fields<'a> {
    header: &'a Header,
    record: &'a StringRecord,
    problems: Vec<Problem>,
}

impl Fields<'_> {
    /// The column's value; empty where the file has no such column.
    fn value(&self, column: usize) -> &str {
        self.header.columns.value(self.record, column)
    }

    fn problem(&mut self, column: usize, reason: impl Into<String>) {
        self.problems.push(Problem {
            column: COLUMNS[column].0,
            reason: reason.into(),
        });
    }

    /// A value that must be present; `None` if it is missing or does not parse.
    fn required<T>(
        &mut self,
        column: usize,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.value(column);
        if value.is_empty() {
            self.problem(column, "required");
            return None;
        }
        parse(value).map_err(|e| self.problem(column, e)).ok()
    }

    /// `Some(None)` for an empty value, `None` if it does not parse.
    fn optional<T>(
        &mut self,
        column: usize,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        let value = self.value(column);
        if value.is_empty() {
            return Some(None);
        }
        parse(value)
            .map(Some)
            .map_err(|e| self.problem(column, e))
            .ok()
    }
}

/// Printable text of at most `max` characters.
pub(super) fn text(value: &str, max: usize) -> Result<String, String> {
    if value.chars().any(char::is_control) {
        return Err("contains a control character (a line break or tab)".to_owned());
    }
    if value.chars().count() > max {
        return Err(format!("longer than {max} characters"));
    }
    Ok(value.to_owned())
}

/// Full-width katakana, with the long-vowel mark, middle dot and spaces.
fn kana(value: &str) -> Result<String, String> {
    let ok = |c: char| matches!(c, '\u{30A1}'..='\u{30FC}' | ' ' | '\u{3000}');
    if !value.chars().all(ok) {
        return Err("not full-width katakana".to_owned());
    }
    text(value, 100)
}

/// 枝番: two digits.
pub(super) fn branch(value: &str) -> Result<String, String> {
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err("a branch number is two half-width digits".to_owned())
    }
}

/// NNN-NNNN.
fn postal_code(value: &str) -> Result<String, String> {
    let b = value.as_bytes();
    let ok = b.len() == 8
        && b[3] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 3 || c.is_ascii_digit());
    if ok {
        Ok(value.to_owned())
    } else {
        Err("a postal code is written NNN-NNNN".to_owned())
    }
}

/// YYYY-MM-DD, a day of the calendar.
pub(super) fn date(value: &str) -> Result<Date, String> {
    let b = value.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err("a date is written YYYY-MM-DD".to_owned());
    }
    let number =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| format!("no month {month} in {value}"))?;
    if year < 1868 {
        return Err(format!("year {year} is out of range"));
    }
    Date::from_calendar_date(year as i32, month, day as u8)
        .map_err(|_| format!("{value} is not a day of the calendar"))
}

/// 一部負担金割合: three digits, "030" = 3割.
fn ratio(value: &str) -> Result<BurdenRatio, String> {
    BurdenRatio::parse(value).map_err(|_| "a burden ratio is three digits, 000 to 100".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        let names: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
        Header::parse(&StringRecord::from(names)).unwrap()
    }

    fn good() -> Vec<&'static str> {
        vec![
            "06130488",
            "全国健康保険協会東京支部",
            "1234",
            "5678",
            "00",
            "1",
            "山田 太郎",
            "ヤマダ タロウ",
            "1",
            "1950-04-01",
            "東京都千代田区",
            "100-0001",
            "2020-04-01",
            "",
            "",
            "2020-04-01",
            "",
            "030",
            "",
            "",
            "",
            "",
            "",
            "",
            "1",
        ]
    }

    fn problems(changes: &[(usize, &'static str)]) -> Vec<(&'static str, String)> {
        let mut fields = good();
        for &(i, v) in changes {
            fields[i] = v;
        }
        header()
            .parse_record(&StringRecord::from(fields))
            .unwrap_err()
            .into_iter()
            .map(|p| (p.column, p.reason))
            .collect()
    }

    #[test]
    fn a_good_record_parses_into_the_domain_type() {
        let q = header().parse_record(&StringRecord::from(good())).unwrap();
        assert_eq!(q.insurer_number.as_str(), "06130488");
        assert_eq!(q.branch.as_deref(), Some("00"));
        assert_eq!(q.lost_on, None);
        assert_eq!(q.burden_ratio.unwrap().code(), "030");
        assert_eq!(q.validity, QualificationValidity::Valid);
    }

    #[test]
    fn every_bad_field_of_a_line_is_reported() {
        let found = problems(&[
            (INSURER_NUMBER, "06130487"),
            (BIRTH_DATE, "1950-02-30"),
            (SEX, "9"),
            (NAME, ""),
            (POSTAL_CODE, "1000001"),
        ]);
        let columns: Vec<&str> = found.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            columns,
            ["insurer_number", "name", "sex", "birth_date", "postal_code"]
        );
        assert!(found[0].1.contains("check digit"));
        assert_eq!(found[1].1, "required");
    }

    #[test]
    fn fields_that_belong_together_are_checked_together() {
        assert_eq!(
            problems(&[(LOSS_REASON, "退職")]),
            [("loss_reason", "given without lost_on".to_owned())]
        );
        assert_eq!(problems(&[(LOST_ON, "2019-01-01")])[0].0, "lost_on");
        assert_eq!(
            problems(&[(ELDERLY_VALID_FROM, "2025-01-01")])[0].0,
            "elderly_burden_ratio"
        );
        assert_eq!(
            problems(&[(LIMIT_CATEGORY, "ア")])[0].0,
            "limit_applied_category"
        );
    }

    #[test]
    fn dates_are_strict() {
        assert!(date("2026-01-05").is_ok());
        for bad in [
            "2026-1-5",
            "2026/01/05",
            "2026-13-01",
            "2026-02-29",
            "0000-01-01",
            "+2026-01-0",
        ] {
            assert!(date(bad).is_err(), "{bad}");
        }
        assert!(date("2024-02-29").is_ok());
    }

    #[test]
    fn headers_name_known_columns_once_and_every_required_one() {
        let parse = |names: &[&str]| Header::parse(&StringRecord::from(names.to_vec()));
        assert!(
            parse(&["insurer_number", "bogus"])
                .unwrap_err()
                .contains("bogus")
        );
        assert!(parse(&["name", "name"]).unwrap_err().contains("twice"));
        let err = parse(&["insurer_number"]).unwrap_err();
        assert!(
            err.contains("insurer_name") && !err.contains("symbol"),
            "{err}"
        );
    }
}
