//! The challenge an authenticator fetches, checked before anything is shown.

use crate::link::AuthLink;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zaitaku_card::ChallengeNonce;
use zaitaku_card::protocol::ChallengeAnswer;
pub use zaitaku_card::protocol::{Institution, PROTOCOL};

/// Longest server-supplied text shown to the user.
pub const MAX_SHOWN_CHARS: usize = 120;

/// A challenge that passed our checks; its origin is the link's.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub institution: Institution,
    /// `register`, `view`, `update` or `revoke`.
    pub purpose: String,
    /// The purpose in the page's words (同意登録 …).
    pub purpose_label: String,
    pub nonce: ChallengeNonce,
    /// Shown here and on the page: the staff check they are the same.
    pub matching_code: String,
    /// Handed out to this authenticator alone; later calls prove it by it.
    pub(crate) claim: String,
    pub expires_at: OffsetDateTime,
}

impl Challenge {
    pub fn from_answer(body: &[u8], link: &AuthLink) -> Result<Self, String> {
        let answer: ChallengeAnswer = serde_json::from_slice(body)
            .map_err(|e| format!("the server's challenge is not of the expected form: {e}"))?;
        if answer.protocol != PROTOCOL {
            return Err(format!(
                "the server speaks protocol {:?}, not {PROTOCOL:?}; update zaitaku",
                shown(&answer.protocol)
            ));
        }
        // A challenge fetched through one site but issued for another is a relay.
        if answer.origin != link.origin().as_str() {
            return Err(format!(
                "the challenge is for {:?} but the link is on {}; refusing to sign (possible relay)",
                shown(&answer.origin),
                link.origin()
            ));
        }
        let nonce = ChallengeNonce::parse(&answer.nonce)
            .map_err(|e| format!("the server's challenge is unusable: {e}"))?;
        let expires_at = OffsetDateTime::parse(&answer.expires_at, &Rfc3339)
            .map_err(|_| "the server's challenge has no valid expiry time".to_owned())?;
        if answer.institution.name.trim().is_empty() {
            return Err("the server's challenge names no institution".to_owned());
        }
        let url_safe = |text: &str| {
            !text.is_empty()
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !url_safe(&answer.claim) || !answer.matching_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err("the server's challenge has no usable claim or matching code".to_owned());
        }
        Ok(Challenge {
            institution: answer.institution,
            purpose: answer.purpose,
            purpose_label: answer.purpose_label,
            nonce,
            matching_code: answer.matching_code,
            claim: answer.claim,
            expires_at,
        })
    }
}

/// Server text made safe to show: no control or bidi-override characters that
/// could redraw or reorder what the user reads, and not too long.
pub fn shown(text: &str) -> String {
    let is_bidi = |c: char| matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    text.chars()
        .filter(|&c| !c.is_control() && !is_bidi(c))
        .take(MAX_SHOWN_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        assert_eq!(
            shown("在宅\u{1b}[2J\u{202E}クリニック\n"),
            "在宅[2Jクリニック"
        );
        assert_eq!(shown(&"あ".repeat(500)).chars().count(), MAX_SHOWN_CHARS);
    }

    fn challenge_json(origin: &str) -> String {
        json!({
            "protocol": PROTOCOL,
            "origin": origin,
            "institution": { "name": "在宅ひまわりクリニック", "code": "1310123450" },
            "purpose": "register",
            "purposeLabel": "同意登録",
            "nonce": ChallengeNonce::generate().unwrap().as_str(),
            "matchingCode": "0427",
            "claim": "Zm9vYmFy-_claim",
            "expiresAt": "2026-11-24T09:00:00Z",
        })
        .to_string()
    }

    #[test]
    fn challenges_must_name_the_links_origin() {
        let link = AuthLink::parse("https://zaitaku.example.jp/auth/x").unwrap();
        let ok = Challenge::from_answer(
            challenge_json("https://zaitaku.example.jp").as_bytes(),
            &link,
        )
        .unwrap();
        assert_eq!(ok.purpose, "register");
        let err = Challenge::from_answer(challenge_json("https://evil.example").as_bytes(), &link)
            .err()
            .unwrap();
        assert!(err.contains("refusing to sign"), "{err}");
        let slash = challenge_json("https://zaitaku.example.jp/");
        assert!(Challenge::from_answer(slash.as_bytes(), &link).is_err());
    }
}
