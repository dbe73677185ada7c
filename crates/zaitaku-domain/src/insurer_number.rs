//! 保険者番号: 8 digits = 法別番号 (2) + 都道府県 (2) + 保険者別番号 (3) + check digit,
//! or 6 digits for 国民健康保険 = 都道府県 (2) + 保険者別番号 (3) + check digit.

use crate::check_digit::has_valid_check_digit;
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InsurerNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsurerNumberError {
    #[error("an insurer number has 8 half-width digits (6 for National Health Insurance)")]
    Format,
    #[error("the prefecture digits must be 01 to 47, or 51 to 97")]
    Prefecture,
    #[error(
        "the check digit (last digit) does not match; please check the number for typing errors"
    )]
    CheckDigit,
}

impl InsurerNumber {
    pub fn parse(text: &str) -> Result<Self, InsurerNumberError> {
        let bytes = text.as_bytes();
        if !(bytes.len() == 8 || bytes.len() == 6) || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(InsurerNumberError::Format);
        }
        let p = if bytes.len() == 8 { 2 } else { 0 };
        let prefecture = (bytes[p] - b'0') * 10 + (bytes[p + 1] - b'0');
        if !((1..=47).contains(&prefecture) || (51..=97).contains(&prefecture)) {
            return Err(InsurerNumberError::Prefecture);
        }
        if !has_valid_check_digit(bytes) {
            return Err(InsurerNumberError::CheckDigit);
        }
        Ok(InsurerNumber(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 国民健康保険 (6-digit numbers).
    pub fn is_national_health_insurance(&self) -> bool {
        self.0.len() == 6
    }
}

impl fmt::Display for InsurerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for InsurerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InsurerNumber({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_digit::check_digit;

    #[test]
    fn accepts_the_ministrys_example_and_six_digit_numbers() {
        let n = InsurerNumber::parse("06130488").unwrap();
        assert!(!n.is_national_health_insurance());
        let body = "13800";
        let six = format!("{body}{}", check_digit(body.as_bytes()));
        assert!(
            InsurerNumber::parse(&six)
                .unwrap()
                .is_national_health_insurance()
        );
    }

    #[test]
    fn each_fault_has_its_own_error() {
        use InsurerNumberError::*;
        assert_eq!(InsurerNumber::parse("0613048"), Err(Format));
        assert_eq!(InsurerNumber::parse("061304880"), Err(Format));
        assert_eq!(InsurerNumber::parse("0613O488"), Err(Format));
        assert_eq!(InsurerNumber::parse("06130487"), Err(CheckDigit));
        let body = "0600048"; // prefecture 00
        let bad = format!("{body}{}", check_digit(body.as_bytes()));
        assert_eq!(InsurerNumber::parse(&bad), Err(Prefecture));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::check_digit::check_digit;
    use proptest::prelude::*;

    proptest! {
        /// Any single changed digit is caught by the check digit or the range checks.
        #[test]
        fn one_wrong_digit_is_always_caught(body in "(0[1-9]|[1-3][0-9]|4[0-7])[0-9]{5}", pos in 0usize..8, delta in 1u8..10) {
            let mut code = format!("{body}{}", check_digit(body.as_bytes())).into_bytes();
            prop_assume!(InsurerNumber::parse(std::str::from_utf8(&code).unwrap()).is_ok());
            code[pos] = b'0' + (code[pos] - b'0' + delta) % 10;
            prop_assert!(InsurerNumber::parse(std::str::from_utf8(&code).unwrap()).is_err());
        }
    }
}
