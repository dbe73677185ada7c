//! The authentication wire protocol's JSON (docs/auth-protocol.md), typed once:
//! the server (`zaitaku-web`) writes these, the authenticators
//! (`zaitaku-auth-client`) read them. The token itself is Web eID's
//! ([`crate::WebEidToken`]).
//!
//! Fields are declared in the order the server has always written them
//! (alphabetical), so the bytes on the wire are the same as before they were
//! typed. What an authenticator may receive from a server it does not control
//! is read leniently (a missing `message` is empty) and checked by the reader.

use serde::{Deserialize, Serialize};

/// The protocol's name and version, the challenge's `protocol` field.
pub const PROTOCOL: &str = "zaitaku-auth:1";

/// The authenticator sends its claim back in `Authorization: Bearer <claim>`
/// (RFC 6750's syntax), never in the URL: URLs end up in proxies' and servers'
/// access logs and in histories, while intermediaries treat `Authorization` as
/// a credential (shared caches do not store answers to it, RFC 9111 §3.5; log
/// formats leave it out), and a standard header passes proxies that strip
/// unknown ones. The server refuses a claim in the query string.
pub const CLAIM_SCHEME: &str = "Bearer";

/// The `Authorization` header's value that carries `claim`.
pub fn claim_authorization(claim: &str) -> String {
    format!("{CLAIM_SCHEME} {claim}")
}

/// The claim an `Authorization` header's value carries, if it is
/// `Bearer <claim>` (the scheme's case does not matter, RFC 9110 §11.1).
pub fn claim_from_authorization(value: &str) -> Option<&str> {
    let (scheme, claim) = value.trim().split_once(' ')?;
    let claim = claim.trim_start();
    (scheme.eq_ignore_ascii_case(CLAIM_SCHEME) && !claim.is_empty() && !claim.contains(' '))
        .then_some(claim)
}

/// `GET /auth/{ref}` (JSON): what the authenticator shows before the PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeAnswer {
    /// This authenticator's alone (base64url); later calls send it back in
    /// the `Authorization` header ([`claim_authorization`]).
    pub claim: String,
    /// RFC 3339.
    pub expires_at: String,
    pub institution: Institution,
    /// Shown by the authenticator and by the page: the staff compare them.
    pub matching_code: String,
    /// The challenge nonce (base64, 32 bytes).
    pub nonce: String,
    /// The server's origin; the authenticator signs with the link's, and
    /// refuses when the two differ.
    pub origin: String,
    /// [`PROTOCOL`].
    pub protocol: String,
    /// `register`, `view`, `update` or `revoke`.
    pub purpose: String,
    /// The purpose in the page's words (同意登録 …).
    pub purpose_label: String,
}

/// The institution a challenge is for, and which of its enrolled devices asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    pub code: String,
    /// The enrolled device that started the flow (「訪問用タブレット1」), when one
    /// did; absent for flows started at an institution open to any browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    pub name: String,
}

impl Institution {
    /// Who asks, as both the authenticator and the staff's page show it:
    /// 「在宅ひまわりクリニック・訪問用タブレット1」, or the institution alone.
    pub fn requester(&self) -> String {
        requester(&self.name, self.device.as_deref())
    }
}

/// The one way an institution and its device are named together.
pub fn requester(institution: &str, device: Option<&str>) -> String {
    match device {
        Some(device) => format!("{institution}・{device}"),
        None => institution.to_owned(),
    }
}

/// `POST /auth/{ref}`: the server's verdict on a token (`200` accepted, `422`
/// rejected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAnswer {
    /// The rejection's code (`not_registered`, a validator code, …); absent
    /// when accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub message: String,
    pub result: TokenResult,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenResult {
    /// The card was valid and the flow has gone on.
    Accepted,
    /// Checked and refused; the challenge is used up.
    Rejected,
}

impl TokenAnswer {
    pub fn accepted(message: impl Into<String>) -> Self {
        TokenAnswer {
            error: None,
            message: message.into(),
            result: TokenResult::Accepted,
        }
    }

    pub fn rejected(error: impl Into<String>, message: impl Into<String>) -> Self {
        TokenAnswer {
            error: Some(error.into()),
            message: message.into(),
            result: TokenResult::Rejected,
        }
    }
}

/// Every error answer: `{"error": code, "message": …}`, and for `bad_token`
/// the token's own error code in `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorAnswer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub error: String,
    #[serde(default)]
    pub message: String,
}

impl ErrorAnswer {
    pub fn new(error: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorAnswer {
            detail: None,
            error: error.into(),
            message: message.into(),
        }
    }
}

/// `POST /auth/{ref}/error`'s body: why no token will come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorReport {
    /// [`PIN_BLOCKED`] or [`CANCELLED`].
    pub code: String,
}

/// The card's PIN is blocked: settles the challenge.
pub const PIN_BLOCKED: &str = "pin_blocked";
/// The user gave up: the challenge stays open until it expires.
pub const CANCELLED: &str = "cancelled";

/// `POST /auth/{ref}/error`'s answer: `{"result": "recorded"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportAnswer {
    pub result: String,
}

impl ReportAnswer {
    pub fn recorded() -> Self {
        ReportAnswer {
            result: "recorded".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_travels_as_a_bearer_credential() {
        let value = claim_authorization("Zm9vYmFy-_claim");
        assert_eq!(value, "Bearer Zm9vYmFy-_claim");
        assert_eq!(claim_from_authorization(&value), Some("Zm9vYmFy-_claim"));
        assert_eq!(claim_from_authorization("bearer  abc"), Some("abc"));
        for refused in ["", "Bearer", "Bearer ", "Basic abc", "abc", "Bearer a b"] {
            assert_eq!(claim_from_authorization(refused), None, "{refused:?}");
        }
    }
    use serde::de::DeserializeOwned;

    /// `value` serializes to exactly `expected` (the bytes the server's untyped
    /// answers had: keys in alphabetical order) and reads back as itself.
    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
        value: &T,
        expected: &str,
    ) {
        let bytes = serde_json::to_string(value).unwrap();
        assert_eq!(bytes, expected);
        assert_eq!(&serde_json::from_str::<T>(&bytes).unwrap(), value);
    }

    #[test]
    fn the_challenge_answer_keeps_its_wire_form() {
        let answer = ChallengeAnswer {
            claim: "Zm9vYmFy-_claim".into(),
            expires_at: "2026-11-24T09:00:00Z".into(),
            institution: Institution {
                code: "1310123450".into(),
                device: None,
                name: "在宅ひまわりクリニック".into(),
            },
            matching_code: "0427".into(),
            nonce: "bm9uY2U=".into(),
            origin: "https://zaitaku.example.jp".into(),
            protocol: PROTOCOL.into(),
            purpose: "register".into(),
            purpose_label: "同意登録".into(),
        };
        round_trip(
            &answer,
            concat!(
                r#"{"claim":"Zm9vYmFy-_claim","expiresAt":"2026-11-24T09:00:00Z","#,
                r#""institution":{"code":"1310123450","name":"在宅ひまわりクリニック"},"#,
                r#""matchingCode":"0427","nonce":"bm9uY2U=","#,
                r#""origin":"https://zaitaku.example.jp","protocol":"zaitaku-auth:1","#,
                r#""purpose":"register","purposeLabel":"同意登録"}"#
            ),
        );
    }

    #[test]
    fn the_asking_device_is_named_after_its_institution() {
        let mut institution = Institution {
            code: "1310123450".into(),
            device: Some("訪問用タブレット1".into()),
            name: "在宅ひまわりクリニック".into(),
        };
        round_trip(
            &institution,
            r#"{"code":"1310123450","device":"訪問用タブレット1","name":"在宅ひまわりクリニック"}"#,
        );
        assert_eq!(
            institution.requester(),
            "在宅ひまわりクリニック・訪問用タブレット1"
        );
        institution.device = None;
        assert_eq!(institution.requester(), "在宅ひまわりクリニック");
    }

    #[test]
    fn token_answers_keep_their_wire_form() {
        round_trip(
            &TokenAnswer::accepted("moved on"),
            r#"{"message":"moved on","result":"accepted"}"#,
        );
        round_trip(
            &TokenAnswer::rejected("not_registered", "no link"),
            r#"{"error":"not_registered","message":"no link","result":"rejected"}"#,
        );
        // An unknown verdict is not read as either.
        assert!(serde_json::from_str::<TokenAnswer>(r#"{"result":"maybe"}"#).is_err());
    }

    #[test]
    fn error_answers_and_reports_keep_their_wire_form() {
        round_trip(
            &ErrorAnswer::new("expired", "start again"),
            r#"{"error":"expired","message":"start again"}"#,
        );
        round_trip(
            &ErrorAnswer {
                detail: Some("bad_json".into()),
                ..ErrorAnswer::new("bad_token", "not a token")
            },
            r#"{"detail":"bad_json","error":"bad_token","message":"not a token"}"#,
        );
        round_trip(
            &ErrorReport {
                code: PIN_BLOCKED.into(),
            },
            r#"{"code":"pin_blocked"}"#,
        );
        assert!(serde_json::from_str::<ErrorReport>(r#"{"code":"x","more":1}"#).is_err());
        round_trip(&ReportAnswer::recorded(), r#"{"result":"recorded"}"#);
    }
}
