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
    /// No fresh CRL could say whether the certificate is revoked (fail closed).
    RevocationUnknown,
    /// Not from a trusted JPKI root, wrong profile or policy, bad signature.
    CertificateUntrusted,
    PinBlocked,
    /// Revocation or inquiry asked, but this person has no standing consent here.
    NothingRegistered,
    /// Flow B: the card that saves an update is not the one that viewed the consent.
    DifferentPerson,
    /// Flow B: the consent changed (another tab or device) after it was viewed.
    UpdateConflict,
}

impl FailureReason {
    pub const ALL: [FailureReason; 11] = [
        FailureReason::NotRegistered,
        FailureReason::QualificationLost,
        FailureReason::QualificationNotFound,
        FailureReason::CertificateExpired,
        FailureReason::CertificateRevoked,
        FailureReason::RevocationUnknown,
        FailureReason::CertificateUntrusted,
        FailureReason::PinBlocked,
        FailureReason::NothingRegistered,
        FailureReason::DifferentPerson,
        FailureReason::UpdateConflict,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FailureReason::NotRegistered => "not_registered",
            FailureReason::QualificationLost => "qualification_lost",
            FailureReason::QualificationNotFound => "qualification_not_found",
            FailureReason::CertificateExpired => "certificate_expired",
            FailureReason::CertificateRevoked => "certificate_revoked",
            FailureReason::RevocationUnknown => "revocation_unknown",
            FailureReason::CertificateUntrusted => "certificate_untrusted",
            FailureReason::PinBlocked => "pin_blocked",
            FailureReason::NothingRegistered => "nothing_registered",
            FailureReason::DifferentPerson => "different_person",
            FailureReason::UpdateConflict => "update_conflict",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// Flow B: the consent as the first card authentication showed it. The update
/// is written only if the consent is still at this version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewed {
    pub choices: ConsentChoices,
    pub version: i64,
}

/// The steps of the patient flows. Flow A: selection and confirmation may be
/// revisited until the card has signed. Flow B: the card to view, then the same
/// edit-and-confirm loop over the viewed consent, then the card again to save.
/// Flow C: a confirmation, then the card. Once settled, a flow only shows its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowStep {
    Select,
    Confirm(ConsentChoices),
    Authenticate(ConsentChoices),
    /// Flow B: waiting for the card that shows the current consent.
    ViewAuthenticate,
    /// Flow B: the viewed consent, and the answers as edited so far.
    UpdateSelect {
        viewed: Viewed,
        draft: ConsentChoices,
    },
    UpdateConfirm {
        viewed: Viewed,
        draft: ConsentChoices,
    },
    /// Flow B: confirmed, waiting for the same person's card to save.
    UpdateAuthenticate {
        viewed: Viewed,
        draft: ConsentChoices,
    },
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
            FlowStep::ViewAuthenticate => "view_authenticate",
            FlowStep::UpdateSelect { .. } => "update_select",
            FlowStep::UpdateConfirm { .. } => "update_confirm",
            FlowStep::UpdateAuthenticate { .. } => "update_authenticate",
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
            FlowStep::UpdateSelect { draft, .. }
            | FlowStep::UpdateConfirm { draft, .. }
            | FlowStep::UpdateAuthenticate { draft, .. } => Some(draft),
            _ => None,
        }
    }

    /// Flow B: the consent as it was viewed, while the update is being made.
    pub fn viewed(&self) -> Option<&Viewed> {
        match self {
            FlowStep::UpdateSelect { viewed, .. }
            | FlowStep::UpdateConfirm { viewed, .. }
            | FlowStep::UpdateAuthenticate { viewed, .. } => Some(viewed),
            _ => None,
        }
    }
}

/// Why flow B's edited answers cannot go to the confirmation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviseError {
    #[error(transparent)]
    Step(StepError),
    #[error("the answers are the same as the viewed consent")]
    Unchanged,
}

/// A step was asked for that the flow cannot take from where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the flow is at {from} and cannot go to {to}")]
pub struct StepError {
    pub from: &'static str,
    pub to: &'static str,
}

impl FlowStep {
    /// Whether the flow is waiting for a card (any flow's authentication step).
    pub fn is_authenticating(&self) -> bool {
        self.authentication_purpose().is_some()
    }

    /// What the card is asked to prove at this step; a challenge is bound to it.
    pub fn authentication_purpose(&self) -> Option<Purpose> {
        match self {
            FlowStep::Authenticate(_) => Some(Purpose::Register),
            FlowStep::ViewAuthenticate => Some(Purpose::View),
            FlowStep::UpdateAuthenticate { .. } => Some(Purpose::Update),
            FlowStep::RevokeAuthenticate => Some(Purpose::Revoke),
            _ => None,
        }
    }

    /// Flow B, 「更新内容を確認する」: the edited answers go to the confirmation.
    /// Answers equal to the viewed consent change nothing and are refused.
    pub fn revise(&self, draft: ConsentChoices) -> Result<FlowStep, ReviseError> {
        let viewed = self
            .viewed()
            .ok_or(ReviseError::Step(self.refuse("update_confirm")))?;
        if viewed.choices == draft {
            return Err(ReviseError::Unchanged);
        }
        Ok(FlowStep::UpdateConfirm {
            viewed: viewed.clone(),
            draft,
        })
    }

    /// Flow B, 「同意内容を更新する」 on the confirmation screen.
    pub fn confirm_update(&self) -> Result<FlowStep, StepError> {
        match self {
            FlowStep::UpdateConfirm { viewed, draft }
            | FlowStep::UpdateAuthenticate { viewed, draft } => Ok(FlowStep::UpdateAuthenticate {
                viewed: viewed.clone(),
                draft: draft.clone(),
            }),
            _ => Err(self.refuse("update_authenticate")),
        }
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
    fn flow_b_refuses_unchanged_answers_and_keeps_the_viewed_version() {
        let offered = [ConsentItem::Medication, ConsentItem::Clinical];
        let viewed = Viewed {
            choices: ConsentChoices::none_of(&offered),
            version: 3,
        };
        let step = FlowStep::UpdateSelect {
            viewed: viewed.clone(),
            draft: viewed.choices.clone(),
        };
        assert_eq!(step.choices(), Some(&viewed.choices), "pre-selected");
        assert_eq!(
            step.revise(viewed.choices.clone()),
            Err(ReviseError::Unchanged)
        );
        let changed = ConsentChoices::decode("YZK=1,SRJ=0").unwrap();
        let step = step.revise(changed.clone()).unwrap();
        assert!(
            step.confirm().is_err(),
            "flow A's confirmation is not flow B's"
        );
        let step = step.confirm_update().unwrap();
        assert_eq!(step.authentication_purpose(), Some(Purpose::Update));
        assert_eq!(step.viewed(), Some(&viewed));
        assert_eq!(step.choices(), Some(&changed));
        // 「選択内容を修正する」 from the card step goes back to the confirmation.
        assert!(
            step.revise(ConsentChoices::decode("YZK=1,SRJ=1").unwrap())
                .is_ok()
        );
        assert!(FlowStep::ViewAuthenticate.revise(changed).is_err());
        assert_eq!(
            FlowStep::ViewAuthenticate.authentication_purpose(),
            Some(Purpose::View)
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
