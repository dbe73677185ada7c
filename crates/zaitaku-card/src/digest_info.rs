//! The DER DigestInfo the host sends to the card.
//!
//! The card applies PKCS#1 v1.5 padding to exactly the bytes it receives, so
//! the host must wrap the hash in a DigestInfo itself.

/// DER prefix of a SHA-256 DigestInfo (RFC 8017, section 9.2, note 1).
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Length of a SHA-256 DigestInfo: the prefix and the 32-byte hash.
pub const SHA256_DIGEST_INFO_LEN: usize = 51;

/// Wraps a SHA-256 hash in a DigestInfo.
pub fn sha256_digest_info(digest: &[u8; 32]) -> [u8; SHA256_DIGEST_INFO_LEN] {
    let mut digest_info = [0u8; SHA256_DIGEST_INFO_LEN];
    digest_info[..SHA256_DIGEST_INFO_PREFIX.len()].copy_from_slice(&SHA256_DIGEST_INFO_PREFIX);
    digest_info[SHA256_DIGEST_INFO_PREFIX.len()..].copy_from_slice(digest);
    digest_info
}

/// Whether `bytes` has the shape of a SHA-256 DigestInfo.
pub fn is_sha256_digest_info(bytes: &[u8]) -> bool {
    bytes.len() == SHA256_DIGEST_INFO_LEN && bytes.starts_with(&SHA256_DIGEST_INFO_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn prefix_matches_the_rfc_8017_hex() {
        let expected = "3031300d060960864801650304020105000420";
        let actual: String = SHA256_DIGEST_INFO_PREFIX
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn digest_info_is_prefix_then_hash() {
        let hash: [u8; 32] = Sha256::digest(b"zaitaku").into();
        let digest_info = sha256_digest_info(&hash);
        assert_eq!(&digest_info[..19], &SHA256_DIGEST_INFO_PREFIX);
        assert_eq!(&digest_info[19..], &hash);
        assert!(is_sha256_digest_info(&digest_info));
        assert!(!is_sha256_digest_info(&digest_info[..50]));
    }
}
