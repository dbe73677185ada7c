use crate::i18n::Text;
use zaitaku_domain::{ConsentItem, FailureReason, Institution};

/// Screen wording for one institution: the manual has 医療機関 pages, and
/// separate 薬局・訪問看護ステーション pages where selection and confirmation
/// share one step and the selection button reads 「同意内容を登録する」.
#[derive(Debug, Clone, Copy)]
pub struct Wording {
    clinic: bool,
    asks_form: bool,
}

#[derive(Debug, Clone)]
pub struct StepView {
    /// ① ② …
    pub number: char,
    pub label: String,
    pub done: bool,
    pub current: bool,
}

/// Where a screen sits in the manual's step list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Access,
    /// Flow B's first card authentication, to view the consent.
    Inquiry,
    Select,
    Confirm,
    Authenticate,
    Complete,
}

impl Wording {
    pub fn of(institution: &Institution) -> Self {
        Wording {
            clinic: institution.kind.is_clinic(),
            asks_form: institution.asks_prescription_form(),
        }
    }

    pub fn steps(self, stage: Stage) -> Vec<StepView> {
        let t = Text;
        let labels: Vec<(String, &[Stage])> = if self.clinic {
            vec![
                (t.get("step-access"), &[Stage::Access]),
                (
                    if self.asks_form {
                        t.get("step-select-clinic")
                    } else {
                        t.get("select-title-clinic")
                    },
                    &[Stage::Select],
                ),
                (t.get("step-confirm-clinic"), &[Stage::Confirm]),
                (t.get("step-auth"), &[Stage::Authenticate]),
                (t.get("step-complete-clinic"), &[Stage::Complete]),
            ]
        } else {
            vec![
                (t.get("step-access"), &[Stage::Access]),
                (
                    t.get("step-select-pharmacy"),
                    &[Stage::Select, Stage::Confirm],
                ),
                (t.get("step-auth"), &[Stage::Authenticate]),
                (t.get("step-complete-pharmacy"), &[Stage::Complete]),
            ]
        };
        let current = labels
            .iter()
            .position(|(_, stages)| stages.contains(&stage))
            .unwrap_or(0);
        numbered(labels.into_iter().map(|(label, _)| label), current)
    }

    /// Flow C's steps, as the manual's C pages name them.
    pub fn revoke_steps(self, stage: Stage) -> Vec<StepView> {
        let t = Text;
        let (confirm, complete) = if self.clinic {
            (
                t.get("step-revoke-confirm-clinic"),
                t.get("step-revoke-complete-clinic"),
            )
        } else {
            (
                t.get("step-revoke-confirm-pharmacy"),
                t.get("step-revoke-complete-pharmacy"),
            )
        };
        let labels = [
            (t.get("step-access"), Stage::Access),
            (confirm, Stage::Confirm),
            (t.get("step-auth"), Stage::Authenticate),
            (complete, Stage::Complete),
        ];
        let current = labels.iter().position(|(_, s)| *s == stage).unwrap_or(0);
        numbered(labels.into_iter().map(|(label, _)| label), current)
    }

    /// Flow B's steps, as the manual's B pages name them.
    pub fn update_steps(self, stage: Stage) -> Vec<StepView> {
        let t = Text;
        let labels = [
            (t.get("step-access"), &[Stage::Access][..]),
            (t.get("step-auth"), &[Stage::Inquiry]),
            (
                self.pick("step-update-select-clinic", "step-update-select-pharmacy"),
                &[Stage::Select, Stage::Confirm],
            ),
            (t.get("step-auth"), &[Stage::Authenticate]),
            (
                self.pick(
                    "step-update-complete-clinic",
                    "step-update-complete-pharmacy",
                ),
                &[Stage::Complete],
            ),
        ];
        let current = labels
            .iter()
            .position(|(_, stages)| stages.contains(&stage))
            .unwrap_or(0);
        numbered(labels.into_iter().map(|(label, _)| label), current)
    }

    pub fn update_select_lead(self) -> String {
        self.pick("update-select-lead-clinic", "update-select-lead-pharmacy")
    }

    pub fn update_confirm_heading(self) -> String {
        self.pick(
            "update-confirm-title-clinic",
            "update-confirm-title-pharmacy",
        )
    }

    pub fn updated_heading(self) -> String {
        self.pick(
            "step-update-complete-clinic",
            "step-update-complete-pharmacy",
        )
    }

    pub fn updated_message(self) -> String {
        self.pick("updated-done-clinic", "updated-done-pharmacy")
    }

    /// The clinic page's text, or the pharmacy/nursing page's.
    fn pick(self, clinic: &str, pharmacy: &str) -> String {
        Text.get(if self.clinic { clinic } else { pharmacy })
    }

    pub fn revoke_heading(self) -> String {
        if self.clinic {
            Text.get("revoke-title-clinic")
        } else {
            Text.get("revoke-title-pharmacy")
        }
    }

    pub fn revoked_heading(self) -> String {
        if self.clinic {
            Text.get("step-revoke-complete-clinic")
        } else {
            Text.get("step-revoke-complete-pharmacy")
        }
    }

    /// Only e-prescription clinics passed a prescription form on; only they withdraw one.
    pub fn withdraws_prescription_form(self) -> bool {
        self.asks_form
    }

    pub fn select_heading(self) -> String {
        match (self.clinic, self.asks_form) {
            (true, true) => Text.get("select-title-clinic-eprescription"),
            (true, false) => Text.get("select-title-clinic"),
            (false, _) => Text.get("select-title-pharmacy"),
        }
    }

    /// The manual: clinics 「同意内容を確認する」, pharmacies and nursing 「同意内容を登録する」.
    pub fn select_button(self) -> String {
        if self.clinic {
            Text.get("button-confirm-choices")
        } else {
            Text.get("button-register")
        }
    }

    pub fn confirm_heading(self) -> String {
        if self.clinic {
            Text.get("confirm-title-clinic")
        } else {
            Text.get("confirm-title-pharmacy")
        }
    }

    pub fn complete_heading(self) -> String {
        if self.clinic {
            Text.get("complete-title-clinic")
        } else {
            Text.get("complete-title-pharmacy")
        }
    }

    pub fn complete_message(self) -> String {
        if self.clinic {
            Text.get("complete-done-clinic")
        } else {
            Text.get("complete-done-pharmacy")
        }
    }
}

/// ① ② … with the steps before `current` done.
fn numbered(labels: impl Iterator<Item = String>, current: usize) -> Vec<StepView> {
    labels
        .enumerate()
        .map(|(i, label)| StepView {
            number: circled(i + 1),
            label,
            done: i < current,
            current: i == current,
        })
        .collect()
}

fn circled(n: usize) -> char {
    char::from_u32(0x2460 + n as u32 - 1).unwrap_or('・')
}

pub fn explanation(item: ConsentItem) -> String {
    match item {
        ConsentItem::Medication => Text.get("explain-YZK"),
        ConsentItem::Clinical => Text.get("explain-SRJ"),
        ConsentItem::HealthCheckup => Text.get("explain-TKK"),
        ConsentItem::Surgery => Text.get("explain-SHJ"),
        ConsentItem::SpecificDiseaseCertificate => Text.get("explain-TSR"),
    }
}

/// Title, body, and an optional guidance link for each way a flow can end badly.
pub fn failure_text(reason: FailureReason) -> (String, String, Option<(String, String)>) {
    let t = Text;
    match reason {
        FailureReason::NotRegistered => (
            t.get("failure-not-registered-title"),
            t.get("failure-not-registered-body"),
            Some((
                "https://myna.go.jp/".to_owned(),
                t.get("failure-not-registered-link"),
            )),
        ),
        FailureReason::QualificationLost => (
            t.get("failure-qualification-lost-title"),
            t.get("failure-qualification-lost-body"),
            None,
        ),
        FailureReason::QualificationNotFound => (
            t.get("failure-qualification-not-found-title"),
            t.get("failure-qualification-not-found-body"),
            None,
        ),
        FailureReason::CertificateExpired => (
            t.get("failure-certificate-expired-title"),
            t.get("failure-certificate-expired-body"),
            None,
        ),
        FailureReason::CertificateRevoked => (
            t.get("failure-certificate-revoked-title"),
            t.get("failure-certificate-revoked-body"),
            None,
        ),
        FailureReason::RevocationUnknown => (
            t.get("failure-revocation-unknown-title"),
            t.get("failure-revocation-unknown-body"),
            None,
        ),
        FailureReason::CertificateUntrusted => (
            t.get("failure-certificate-untrusted-title"),
            t.get("failure-certificate-untrusted-body"),
            None,
        ),
        FailureReason::PinBlocked => (
            t.get("failure-pin-blocked-title"),
            t.get("failure-pin-blocked-body"),
            None,
        ),
        FailureReason::NothingRegistered => (
            t.get("failure-nothing-registered-title"),
            t.get("failure-nothing-registered-body"),
            None,
        ),
        FailureReason::DifferentPerson => (
            t.get("failure-different-person-title"),
            t.get("failure-different-person-body"),
            None,
        ),
        FailureReason::UpdateConflict => (
            t.get("failure-update-conflict-title"),
            t.get("failure-update-conflict-body"),
            None,
        ),
    }
}
