//! 医療機関コード / 薬局コード: 10 digits = 都道府県 (2) + 点数表 (1) + 郡市区 (2) +
//! 番号 (4) + check digit over the first nine.

use crate::check_digit::has_valid_check_digit;
use std::fmt;

/// The 点数表 digit: which fee schedule, and so which kind of institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScoreTable {
    /// 1: 医科 (hospital or clinic).
    Medical,
    /// 3: 歯科 (dental).
    Dental,
    /// 4: 調剤 (pharmacy).
    Pharmacy,
    /// 6: 訪問看護 (visiting nursing). Sources say 6; domain notes mark it open.
    VisitingNursing,
}

impl ScoreTable {
    fn from_digit(d: u8) -> Option<Self> {
        match d {
            b'1' => Some(ScoreTable::Medical),
            b'3' => Some(ScoreTable::Dental),
            b'4' => Some(ScoreTable::Pharmacy),
            b'6' => Some(ScoreTable::VisitingNursing),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstitutionCode([u8; 10]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstitutionCodeError {
    #[error("an institution code has 10 half-width digits")]
    Format,
    #[error("the prefecture digits must be 01 to 47")]
    Prefecture,
    #[error("the 5th digit (fee schedule) must be 1 (医科), 3 (歯科), 4 (薬局) or 6 (訪問看護)")]
    ScoreTable,
    #[error("the check digit (10th digit) does not match; please check the code for typing errors")]
    CheckDigit,
}

impl InstitutionCode {
    pub fn parse(text: &str) -> Result<Self, InstitutionCodeError> {
        let bytes: [u8; 10] = text
            .as_bytes()
            .try_into()
            .map_err(|_| InstitutionCodeError::Format)?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(InstitutionCodeError::Format);
        }
        let prefecture = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
        if !(1..=47).contains(&prefecture) {
            return Err(InstitutionCodeError::Prefecture);
        }
        ScoreTable::from_digit(bytes[2]).ok_or(InstitutionCodeError::ScoreTable)?;
        if !has_valid_check_digit(&bytes) {
            return Err(InstitutionCodeError::CheckDigit);
        }
        Ok(InstitutionCode(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn prefecture(&self) -> u8 {
        (self.0[0] - b'0') * 10 + (self.0[1] - b'0')
    }

    pub fn score_table(&self) -> ScoreTable {
        // Checked at parse time.
        ScoreTable::from_digit(self.0[2]).unwrap_or(ScoreTable::Medical)
    }
}

impl fmt::Display for InstitutionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for InstitutionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstitutionCode({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_codes_and_reads_their_parts() {
        let code = InstitutionCode::parse("3410712362").unwrap();
        assert_eq!(code.prefecture(), 34);
        assert_eq!(code.score_table(), ScoreTable::Medical);
        assert_eq!(code.to_string(), "3410712362");
        assert_eq!(
            InstitutionCode::parse("0110113719").unwrap().score_table(),
            ScoreTable::Medical
        );
    }

    #[test]
    fn each_fault_has_its_own_error() {
        use InstitutionCodeError::*;
        assert_eq!(InstitutionCode::parse("341071236"), Err(Format));
        assert_eq!(InstitutionCode::parse("34107123621"), Err(Format));
        assert_eq!(InstitutionCode::parse("３４１０７１２３６２"), Err(Format));
        assert_eq!(InstitutionCode::parse("34107a2362"), Err(Format));
        assert_eq!(InstitutionCode::parse("4810712362"), Err(Prefecture));
        assert_eq!(InstitutionCode::parse("0010712362"), Err(Prefecture));
        assert_eq!(InstitutionCode::parse("3420712362"), Err(ScoreTable));
        assert_eq!(InstitutionCode::parse("3410712363"), Err(CheckDigit));
    }
}
