//! The modulus-10 check digit of insurer numbers (保険者番号) and medical institution
//! codes (医療機関コード): from the rightmost body digit, weights 2, 1, 2, 1, …;
//! the digits of each product are added (16 → 1 + 6); check = (10 − sum mod 10) mod 10.

/// The check digit for `body`, which must be ASCII digits (callers check that first).
pub fn check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &b)| {
            let product = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            product / 10 + product % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Whether `code` (ASCII digits) ends in the right check digit for the rest.
pub fn has_valid_check_digit(code: &[u8]) -> bool {
    match code.split_last() {
        Some((&last, body)) if !body.is_empty() => check_digit(body) == last - b'0',
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ministrys_examples() {
        assert_eq!(check_digit(b"0613048"), 8); // 保険者番号 06130488
        assert_eq!(check_digit(b"341071236"), 2); // 医療機関コード 3410712362
        assert_eq!(check_digit(b"011011371"), 9); // 0110113719
        assert!(has_valid_check_digit(b"06130488"));
        assert!(!has_valid_check_digit(b"06130487"));
    }
}
