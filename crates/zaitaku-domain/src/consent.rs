//! Consent: what a patient agreed to share with one institution, and every change
//! to it (domain notes §3).

use crate::codes::{ConsentItem, PrescriptionForm, RevocationReason};
use crate::institution::{Institution, InstitutionId};
use crate::qualification::PersonId;
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

/// A patient's answer for every item an institution offers, and the prescription
/// form where the institution asks it. Only built through [`ConsentChoices::from_answers`]
/// or [`ConsentChoices::decode`], so it is always complete for its institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChoices {
    items: BTreeMap<ConsentItem, bool>,
    prescription_form: Option<PrescriptionForm>,
}

/// Why a set of answers cannot be accepted; each names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    #[error("{} was not answered", .0.code())]
    Unanswered(ConsentItem),
    #[error("{} has an answer that is not offered", .0.code())]
    Invalid(ConsentItem),
    #[error("the prescription form was not chosen")]
    PrescriptionUnanswered,
    #[error("the prescription form is not one offered")]
    PrescriptionInvalid,
    #[error("the stored choices are malformed")]
    Malformed,
}

/// Answer values on the wire: the item's state code, 1 同意する / 0 同意しない.
const AGREE: &str = "1";
const DECLINE: &str = "0";

impl ConsentChoices {
    /// Read one answer per offered item (`answer(code)`), and the prescription form
    /// where asked. Every problem is reported, so a screen can mark them all.
    pub fn from_answers<'a>(
        institution: &Institution,
        answer: impl Fn(&str) -> Option<&'a str>,
        prescription: Option<&str>,
    ) -> Result<Self, Vec<ChoiceError>> {
        let mut errors = Vec::new();
        let mut items = BTreeMap::new();
        for &item in &institution.offered_items {
            match answer(item.code()) {
                None | Some("") => errors.push(ChoiceError::Unanswered(item)),
                Some(AGREE) => {
                    items.insert(item, true);
                }
                Some(DECLINE) => {
                    items.insert(item, false);
                }
                Some(_) => errors.push(ChoiceError::Invalid(item)),
            }
        }
        let prescription_form = if institution.asks_prescription_form() {
            match prescription {
                None | Some("") => {
                    errors.push(ChoiceError::PrescriptionUnanswered);
                    None
                }
                Some(code) => match PrescriptionForm::parse(code) {
                    Ok(form) => Some(form),
                    Err(_) => {
                        errors.push(ChoiceError::PrescriptionInvalid);
                        None
                    }
                },
            }
        } else {
            None
        };
        if errors.is_empty() {
            Ok(ConsentChoices {
                items,
                prescription_form,
            })
        } else {
            Err(errors)
        }
    }

    /// Every item revoked and no prescription form (flow C, institution revocation).
    pub fn none_of(offered: &[ConsentItem]) -> Self {
        ConsentChoices {
            items: offered.iter().map(|&i| (i, false)).collect(),
            prescription_form: None,
        }
    }

    pub fn items(&self) -> impl Iterator<Item = (ConsentItem, bool)> + '_ {
        self.items.iter().map(|(&i, &agreed)| (i, agreed))
    }

    pub fn agreed(&self, item: ConsentItem) -> Option<bool> {
        self.items.get(&item).copied()
    }

    pub fn prescription_form(&self) -> Option<PrescriptionForm> {
        self.prescription_form
    }

    /// Compact storage form: `YZK=1,SRJ=0;form=1`.
    pub fn encode(&self) -> String {
        let items: Vec<String> = self
            .items
            .iter()
            .map(|(i, &a)| format!("{}={}", i.code(), if a { AGREE } else { DECLINE }))
            .collect();
        let mut out = items.join(",");
        if let Some(form) = self.prescription_form {
            out.push_str(";form=");
            out.push_str(form.code());
        }
        out
    }

    pub fn decode(text: &str) -> Result<Self, ChoiceError> {
        let (items_part, form_part) = match text.split_once(';') {
            Some((items, form)) => (items, Some(form)),
            None => (text, None),
        };
        let mut items = BTreeMap::new();
        for pair in items_part.split(',').filter(|p| !p.is_empty()) {
            let (code, value) = pair.split_once('=').ok_or(ChoiceError::Malformed)?;
            let item = ConsentItem::parse(code).map_err(|_| ChoiceError::Malformed)?;
            let agreed = match value {
                AGREE => true,
                DECLINE => false,
                _ => return Err(ChoiceError::Malformed),
            };
            items.insert(item, agreed);
        }
        let prescription_form = match form_part {
            None => None,
            Some(form) => {
                let code = form.strip_prefix("form=").ok_or(ChoiceError::Malformed)?;
                Some(PrescriptionForm::parse(code).map_err(|_| ChoiceError::Malformed)?)
            }
        };
        Ok(ConsentChoices {
            items,
            prescription_form,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConsentId(pub i64);

/// Whether a consent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentStatus {
    Active,
    Revoked(RevocationReason),
}

impl ConsentStatus {
    pub fn code(self) -> &'static str {
        match self {
            ConsentStatus::Active => "active",
            ConsentStatus::Revoked(RevocationReason::ByInstitution) => "revoked:1",
            ConsentStatus::Revoked(RevocationReason::ByPatient) => "revoked:2",
            ConsentStatus::Revoked(RevocationReason::ChangeOfUse) => "revoked:3",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "active" => Some(ConsentStatus::Active),
            _ => {
                let reason = code.strip_prefix("revoked:")?;
                RevocationReason::parse(reason)
                    .ok()
                    .map(ConsentStatus::Revoked)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: ConsentId,
    pub institution_id: InstitutionId,
    pub person_id: PersonId,
    pub choices: ConsentChoices,
    pub status: ConsentStatus,
    pub expires_on: Date,
    pub registered_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Bumped on every change; the basis of conflict detection.
    pub version: i64,
}

/// Where a change was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The patient flows of this service (マイナ在宅受付Web).
    PatientWeb,
    /// The institution's own terminal (staff console).
    InstitutionTerminal,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::PatientWeb => "patient_web",
            Channel::InstitutionTerminal => "institution_terminal",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "patient_web" => Some(Channel::PatientWeb),
            "institution_terminal" => Some(Channel::InstitutionTerminal),
            _ => None,
        }
    }
}

/// Which authentication proved a change: the card certificate that signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardAuthentication {
    pub certificate_issuer: String,
    pub certificate_serial: String,
    /// `good`, `revoked` or `not_checked`: what revocation checking said.
    pub revocation: String,
}

/// One committed change of a consent: who, when, where, how proven, old → new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChange {
    pub consent_id: ConsentId,
    pub at: OffsetDateTime,
    /// "patient" for the card holder; a staff login later.
    pub actor: String,
    pub channel: Channel,
    pub authentication: Option<CardAuthentication>,
    pub old: Option<(ConsentChoices, ConsentStatus)>,
    pub new: (ConsentChoices, ConsentStatus),
    /// The institution's enrolled device that started the patient-side flow
    /// (「訪問用タブレット1」), as named then; `None` where anyone may start flows
    /// and for the console's own changes.
    pub device: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::EPrescriptionUsage;
    use crate::institution::{InstitutionKind, UrlToken};
    use crate::institution_code::InstitutionCode;

    fn clinic(usage: EPrescriptionUsage) -> Institution {
        Institution {
            id: InstitutionId(1),
            code: InstitutionCode::parse("3410712362").unwrap(),
            kind: InstitutionKind::Clinic,
            name: "テスト診療所".into(),
            offered_items: vec![
                ConsentItem::Medication,
                ConsentItem::Clinical,
                ConsentItem::HealthCheckup,
            ],
            e_prescription: usage,
            consent_validity_days: 365,
            url_token: UrlToken::parse(&"x".repeat(43)).unwrap(),
            deactivated_at: None,
            flows_from: crate::device::FlowsFrom::Anyone,
        }
    }

    fn answers<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |code| pairs.iter().find(|(c, _)| *c == code).map(|(_, v)| *v)
    }

    #[test]
    fn every_offered_item_must_be_answered_and_nothing_else_counts() {
        let inst = clinic(EPrescriptionUsage::NotUsed);
        let ok = ConsentChoices::from_answers(
            &inst,
            answers(&[("YZK", "1"), ("SRJ", "0"), ("TKK", "1"), ("SHJ", "1")]),
            Some("1"),
        )
        .unwrap();
        assert_eq!(ok.agreed(ConsentItem::Medication), Some(true));
        assert_eq!(ok.agreed(ConsentItem::Clinical), Some(false));
        assert_eq!(
            ok.agreed(ConsentItem::Surgery),
            None,
            "not offered, ignored"
        );
        assert_eq!(ok.prescription_form(), None, "not asked, ignored");

        let errors =
            ConsentChoices::from_answers(&inst, answers(&[("YZK", "2"), ("SRJ", "")]), None)
                .unwrap_err();
        assert_eq!(
            errors,
            vec![
                ChoiceError::Invalid(ConsentItem::Medication),
                ChoiceError::Unanswered(ConsentItem::Clinical),
                ChoiceError::Unanswered(ConsentItem::HealthCheckup),
            ]
        );
    }

    #[test]
    fn e_prescription_clinics_must_get_a_form() {
        let inst = clinic(EPrescriptionUsage::Both);
        let all = [("YZK", "1"), ("SRJ", "1"), ("TKK", "0")];
        assert_eq!(
            ConsentChoices::from_answers(&inst, answers(&all), None).unwrap_err(),
            vec![ChoiceError::PrescriptionUnanswered]
        );
        assert_eq!(
            ConsentChoices::from_answers(&inst, answers(&all), Some("9")).unwrap_err(),
            vec![ChoiceError::PrescriptionInvalid]
        );
        let ok = ConsentChoices::from_answers(&inst, answers(&all), Some("2")).unwrap();
        assert_eq!(ok.prescription_form(), Some(PrescriptionForm::Paper));
        assert_eq!(ok.encode(), "YZK=1,SRJ=1,TKK=0;form=2");
        assert_eq!(ConsentChoices::decode(&ok.encode()).unwrap(), ok);
    }

    #[test]
    fn decoding_refuses_anything_malformed() {
        for bad in ["YZK", "YZK=2", "XXX=1", "YZK=1;form=3", "YZK=1;x=1"] {
            assert_eq!(
                ConsentChoices::decode(bad),
                Err(ChoiceError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            ConsentStatus::parse("revoked:2"),
            Some(ConsentStatus::Revoked(RevocationReason::ByPatient))
        );
        assert_eq!(ConsentStatus::parse("revoked:9"), None);
    }
}
