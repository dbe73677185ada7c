//! Institutions: who the patient consents to, and how their screens are worded.

use crate::codes::{ConsentItem, EPrescriptionUsage};
use crate::institution_code::{InstitutionCode, ScoreTable};
use std::fmt;

/// The three kinds the manual distinguishes; pharmacies and visiting-nursing
/// stations share one wording, hospitals and clinics (医科/歯科) another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstitutionKind {
    /// 病院・診療所 (医科 or 歯科).
    Clinic,
    /// 薬局.
    Pharmacy,
    /// 訪問看護ステーション.
    VisitingNursing,
}

impl InstitutionKind {
    pub fn of(code: &InstitutionCode) -> Self {
        match code.score_table() {
            ScoreTable::Medical | ScoreTable::Dental => InstitutionKind::Clinic,
            ScoreTable::Pharmacy => InstitutionKind::Pharmacy,
            ScoreTable::VisitingNursing => InstitutionKind::VisitingNursing,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InstitutionKind::Clinic => "病院・診療所",
            InstitutionKind::Pharmacy => "薬局",
            InstitutionKind::VisitingNursing => "訪問看護ステーション",
        }
    }

    /// Whether the manual's 医療機関 pages apply (otherwise its 薬局・訪問看護 pages).
    pub fn is_clinic(self) -> bool {
        self == InstitutionKind::Clinic
    }
}

/// The unguessable part of an institution's URL: 32 random bytes, base64url
/// without padding (43 characters), well over the 128 bits asked for.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UrlToken(String);

pub const URL_TOKEN_LEN: usize = 43;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an institution URL token is 43 base64url characters")]
pub struct UrlTokenError;

impl UrlToken {
    pub fn parse(text: &str) -> Result<Self, UrlTokenError> {
        let ok = text.len() == URL_TOKEN_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(UrlToken(text.to_owned()))
        } else {
            Err(UrlTokenError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// The token is a credential of sorts: keep it out of debug output and logs.
impl fmt::Debug for UrlToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UrlToken(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstitutionId(pub i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    pub id: InstitutionId,
    pub code: InstitutionCode,
    pub kind: InstitutionKind,
    pub name: String,
    /// Items offered for consent, in display order; never empty.
    pub offered_items: Vec<ConsentItem>,
    pub e_prescription: EPrescriptionUsage,
    /// How long a consent lasts unless revoked (domain notes §3: a setting).
    pub consent_validity_days: u32,
    pub url_token: UrlToken,
    /// When it stopped accepting patients (`zaitaku admin institution
    /// deactivate`); `None` while it accepts.
    pub deactivated_at: Option<time::OffsetDateTime>,
    /// Who may start flows at its URL.
    pub flows_from: crate::device::FlowsFrom,
}

impl Institution {
    /// Whether its URL starts flows and its console opens: the one rule both follow.
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }

    /// Only clinics where the patient really has a choice are asked it (§5).
    pub fn asks_prescription_form(&self) -> bool {
        self.kind.is_clinic() && self.e_prescription == EPrescriptionUsage::Both
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_follows_the_score_table_digit() {
        let kind = |c: &str| InstitutionKind::of(&InstitutionCode::parse(c).unwrap());
        assert_eq!(kind("3410712362"), InstitutionKind::Clinic);
        assert_eq!(kind("0110113719"), InstitutionKind::Clinic);
    }

    #[test]
    fn url_tokens_are_43_base64url_characters() {
        let good = "a".repeat(43);
        assert!(UrlToken::parse(&good).is_ok());
        assert!(UrlToken::parse(&"a".repeat(42)).is_err());
        assert!(UrlToken::parse(&format!("{}+", "a".repeat(42))).is_err());
        assert_eq!(
            format!("{:?}", UrlToken::parse(&good).unwrap()),
            "UrlToken(..)"
        );
    }
}
