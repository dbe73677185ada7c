//! Patient flows as state machines: which step a flow is on, what may happen next,
//! and how it can end. The web layer renders steps; the store persists them.

use crate::consent::ConsentChoices;

/// What a card authentication is for; a challenge made for one purpose is never
/// accepted for another (domain notes §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    Register,
    View,
    Update,
    Revoke,
}

impl Purpose {
    pub fn code(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::View => "view",
            Purpose::Update => "update",
            Purpose::Revoke => "revoke",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            Purpose::Register,
            Purpose::View,
            Purpose::Update,
            Purpose::Revoke,
        ]
        .into_iter()
        .find(|p| p.code() == code)
    }

    /// Shown by authenticators before the PIN is typed.
    pub fn label(self) -> &'static str {
        match self {
            Purpose::Register => "同意登録",
            Purpose::View => "同意内容の照会",
            Purpose::Update => "同意内容の更新",
            Purpose::Revoke => "すべての同意の取消し",
        }
    }
}

/// Why a flow ended without its result; each has its own screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// The card's certificate has no insurance-use link (健康保険証利用の登録).
    NotRegistered,
    QualificationLost,
    QualificationNotFound,
    CertificateExpired,
    CertificateRevoked,
    /// Not from a trusted JPKI root, wrong profile or policy, bad signature.
    CertificateUntrusted,
    PinBlocked,
    /// Revocation asked, but this person has no standing consent here.
    NothingRegistered,
}

impl FailureReason {
    pub const ALL: [FailureReason; 8] = [
        FailureReason::NotRegistered,
        FailureReason::QualificationLost,
        FailureReason::QualificationNotFound,
        FailureReason::CertificateExpired,
        FailureReason::CertificateRevoked,
        FailureReason::CertificateUntrusted,
        FailureReason::PinBlocked,
        FailureReason::NothingRegistered,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FailureReason::NotRegistered => "not_registered",
            FailureReason::QualificationLost => "qualification_lost",
            FailureReason::QualificationNotFound => "qualification_not_found",
            FailureReason::CertificateExpired => "certificate_expired",
            FailureReason::CertificateRevoked => "certificate_revoked",
            FailureReason::CertificateUntrusted => "certificate_untrusted",
            FailureReason::PinBlocked => "pin_blocked",
            FailureReason::NothingRegistered => "nothing_registered",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The steps of the patient flows. Flow A: selection and confirmation may be
/// revisited until the card has signed. Flow C: a confirmation, then the card.
/// Once settled, a flow only shows its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowStep {
    Select,
    Confirm(ConsentChoices),
    Authenticate(ConsentChoices),
    /// Flow C: 「すべての同意を取消す」 not yet confirmed.
    RevokeConfirm,
    /// Flow C: confirmed, waiting for the card.
    RevokeAuthenticate,
    Done,
    Failed(FailureReason),
}

impl FlowStep {
    pub fn code(&self) -> &'static str {
        match self {
            FlowStep::Select => "select",
            FlowStep::Confirm(_) => "confirm",
            FlowStep::Authenticate(_) => "authenticate",
            FlowStep::RevokeConfirm => "revoke_confirm",
            FlowStep::RevokeAuthenticate => "revoke_authenticate",
            FlowStep::Done => "done",
            FlowStep::Failed(_) => "failed",
        }
    }

    pub fn is_settled(&self) -> bool {
        matches!(self, FlowStep::Done | FlowStep::Failed(_))
    }

    /// The choices made so far, kept for 「選択内容を修正する」.
    pub fn choices(&self) -> Option<&ConsentChoices> {
        match self {
            FlowStep::Confirm(c) | FlowStep::Authenticate(c) => Some(c),
            _ => None,
        }
    }
}

/// A step was asked for that the flow cannot take from where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the flow is at {from} and cannot go to {to}")]
pub struct StepError {
    pub from: &'static str,
    pub to: &'static str,
}

impl FlowStep {
    /// Whether the flow is waiting for a card (either flow's authentication step).
    pub fn is_authenticating(&self) -> bool {
        matches!(
            self,
            FlowStep::Authenticate(_) | FlowStep::RevokeAuthenticate
        )
    }

    /// Choices submitted on the selection screen: allowed until the card signs.
    pub fn choose(&self, choices: ConsentChoices) -> Result<FlowStep, StepError> {
        match self {
            FlowStep::Select | FlowStep::Confirm(_) | FlowStep::Authenticate(_) => {
                Ok(FlowStep::Confirm(choices))
            }
            _ => Err(self.refuse("confirm")),
        }
    }

    /// 「すべての同意を取消す」 on flow C's confirmation screen.
    pub fn confirm_revocation(&self) -> Result<FlowStep, StepError> {
        match self {
            FlowStep::RevokeConfirm | FlowStep::RevokeAuthenticate => {
                Ok(FlowStep::RevokeAuthenticate)
            }
            _ => Err(self.refuse("revoke_authenticate")),
        }
    }

    /// 「同意内容を登録する」 on the confirmation screen.
    pub fn confirm(&self) -> Result<FlowStep, StepError> {
        match self {
            FlowStep::Confirm(c) | FlowStep::Authenticate(c) => {
                Ok(FlowStep::Authenticate(c.clone()))
            }
            _ => Err(self.refuse("authenticate")),
        }
    }

    fn refuse(&self, to: &'static str) -> StepError {
        StepError {
            from: self.code(),
            to,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ConsentItem;

    #[test]
    fn flow_a_goes_forward_and_back_until_the_card_signs() {
        let choices = ConsentChoices::none_of(&[ConsentItem::Medication]);
        let step = FlowStep::Select;
        assert!(step.confirm().is_err(), "nothing chosen yet");
        let step = step.choose(choices.clone()).unwrap();
        let step = step.confirm().unwrap();
        assert_eq!(step.choices(), Some(&choices));
        // Back to the selection from the authentication step is allowed.
        assert!(step.choose(choices.clone()).is_ok());
        assert!(FlowStep::Done.choose(choices.clone()).is_err());
        assert!(
            FlowStep::Failed(FailureReason::PinBlocked)
                .confirm()
                .is_err()
        );
    }

    #[test]
    fn codes_round_trip() {
        for r in FailureReason::ALL {
            assert_eq!(FailureReason::parse(r.code()), Some(r));
        }
        assert_eq!(Purpose::parse("update"), Some(Purpose::Update));
        assert_eq!(Purpose::parse("x"), None);
    }
}
