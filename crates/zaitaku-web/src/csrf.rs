//! Every form, on the patient screens and in the console, carries its session's
//! CSRF token; this is the one comparison all of them use.

use subtle::ConstantTimeEq;

/// Whether the submitted token is the session's, compared in constant time so
/// response timing tells nothing about the expected value.
pub fn token_matches(expected: &str, submitted: &str) -> bool {
    expected.as_bytes().ct_eq(submitted.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abc", "abd"));
        assert!(!token_matches("abc", "ab"));
        assert!(!token_matches("abc", ""));
    }
}
