//! Medical records an institution may see with the patient's consent (domain
//! notes §3): 薬剤情報, 診療情報, 特定健診情報 and 手術情報, one kind per consent
//! item. Each record has the fields the four kinds share: a date, who produced
//! it, what it names, and the detail.

use crate::codes::{ConsentItem, UnknownCode};
use std::fmt;
use time::Date;

/// The kind of a medical record; its code is the consent item's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// 薬剤情報 (YZK): what a pharmacy dispensed.
    Medication,
    /// 診療情報 (SRJ): diagnoses and treatments.
    Clinical,
    /// 特定健診情報 (TKK): specific health checkup results.
    HealthCheckup,
    /// 手術情報 (SHJ): operations.
    Surgery,
}

impl RecordKind {
    pub const ALL: &'static [RecordKind] = &[
        RecordKind::Medication,
        RecordKind::Clinical,
        RecordKind::HealthCheckup,
        RecordKind::Surgery,
    ];

    /// The consent item that must stand for an institution to see this kind.
    pub fn consent_item(self) -> ConsentItem {
        match self {
            RecordKind::Medication => ConsentItem::Medication,
            RecordKind::Clinical => ConsentItem::Clinical,
            RecordKind::HealthCheckup => ConsentItem::HealthCheckup,
            RecordKind::Surgery => ConsentItem::Surgery,
        }
    }

    /// The kind of record a consent item opens; `None` for an item that is not
    /// about records (特定疾病療養受療証).
    pub fn of_consent_item(item: ConsentItem) -> Option<RecordKind> {
        RecordKind::ALL
            .iter()
            .copied()
            .find(|k| k.consent_item() == item)
    }

    /// The code in import files: the consent item's code (YZK, SRJ, TKK, SHJ).
    pub fn code(self) -> &'static str {
        self.consent_item().code()
    }

    /// 薬剤情報, 診療情報, 特定健診情報, 手術情報.
    pub fn label(self) -> &'static str {
        self.consent_item().label()
    }

    pub fn parse(code: &str) -> Result<Self, UnknownCode> {
        RecordKind::ALL
            .iter()
            .copied()
            .find(|k| k.code() == code)
            .ok_or_else(|| UnknownCode {
                what: "record kind",
                code: code.chars().take(20).collect(),
            })
    }

    /// What the record's date is, on screens.
    pub fn date_label(self) -> &'static str {
        match self {
            RecordKind::Medication => "調剤日",
            RecordKind::Clinical => "診療日",
            RecordKind::HealthCheckup => "実施日",
            RecordKind::Surgery => "手術日",
        }
    }

    /// Who produced the record, on screens.
    pub fn provider_label(self) -> &'static str {
        match self {
            RecordKind::Medication => "調剤した薬局・医療機関",
            RecordKind::Clinical | RecordKind::Surgery => "医療機関",
            RecordKind::HealthCheckup => "実施機関",
        }
    }

    /// What the record names, on screens.
    pub fn name_label(self) -> &'static str {
        match self {
            RecordKind::Medication => "医薬品名",
            RecordKind::Clinical => "傷病名・診療行為",
            RecordKind::HealthCheckup => "検査項目",
            RecordKind::Surgery => "術式",
        }
    }

    /// What the detail holds, on screens.
    pub fn detail_label(self) -> &'static str {
        match self {
            RecordKind::Medication => "用法・用量・日数",
            RecordKind::Clinical => "転帰など",
            RecordKind::HealthCheckup => "結果",
            RecordKind::Surgery => "備考",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A field of a record, as named in import files and error reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordField {
    Date,
    Provider,
    Name,
    Detail,
}

impl RecordField {
    pub fn name(self) -> &'static str {
        match self {
            RecordField::Date => "date",
            RecordField::Provider => "provider",
            RecordField::Name => "name",
            RecordField::Detail => "detail",
        }
    }

    /// The most characters the field may hold.
    pub fn max_chars(self) -> usize {
        match self {
            RecordField::Date => 10,
            RecordField::Provider => 100,
            RecordField::Name => 200,
            RecordField::Detail => 500,
        }
    }
}

/// Why a record cannot be taken: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", .field.name())]
pub struct RecordError {
    pub field: RecordField,
    pub reason: String,
}

/// One medical record of an insured person. Only built through
/// [`MedicalRecord::new`], so every field is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MedicalRecord {
    kind: RecordKind,
    date: Date,
    provider: String,
    name: String,
    detail: Option<String>,
}

impl MedicalRecord {
    /// Check every field and report every problem. `provider` and `name` are
    /// required; an empty `detail` means none. `today` is the day the record is
    /// taken in: a record cannot be dated after it.
    pub fn new(
        kind: RecordKind,
        date: Date,
        provider: &str,
        name: &str,
        detail: &str,
        today: Date,
    ) -> Result<Self, Vec<RecordError>> {
        let mut errors = Vec::new();
        if date > today {
            errors.push(RecordError {
                field: RecordField::Date,
                reason: format!("{date} is in the future"),
            });
        }
        let mut check =
            |field: RecordField, value: &str, required: bool| match text(field, value, required) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(e);
                    None
                }
            };
        let provider = check(RecordField::Provider, provider, true);
        let name = check(RecordField::Name, name, true);
        let detail = check(RecordField::Detail, detail, false);
        match (provider, name) {
            (Some(provider), Some(name)) if errors.is_empty() => Ok(MedicalRecord {
                kind,
                date,
                provider,
                name,
                detail,
            }),
            _ => Err(errors),
        }
    }

    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// 調剤日, 診療日, 実施日 or 手術日.
    pub fn date(&self) -> Date {
        self.date
    }

    /// The institution or pharmacy that produced the record.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// 医薬品名, 傷病名・診療行為, 検査項目 or 術式.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 用法・用量・日数, 転帰など, 結果値と単位 or 備考.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

/// Printable text within the field's length; `None` for an empty optional field.
fn text(field: RecordField, value: &str, required: bool) -> Result<Option<String>, RecordError> {
    let problem = |reason: String| RecordError { field, reason };
    if value.trim().is_empty() {
        return if required {
            Err(problem("required".to_owned()))
        } else {
            Ok(None)
        };
    }
    if value.chars().any(char::is_control) {
        return Err(problem(
            "contains a control character (a line break or tab)".to_owned(),
        ));
    }
    if value != value.trim() {
        return Err(problem("begins or ends with a space".to_owned()));
    }
    let max = field.max_chars();
    if value.chars().count() > max {
        return Err(problem(format!("longer than {max} characters")));
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 24);

    fn fields_of(errors: Vec<RecordError>) -> Vec<RecordField> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn kinds_are_the_consent_items_codes_and_labels() {
        for &kind in RecordKind::ALL {
            assert_eq!(RecordKind::parse(kind.code()), Ok(kind));
            assert_eq!(RecordKind::of_consent_item(kind.consent_item()), Some(kind));
        }
        assert_eq!(RecordKind::Medication.code(), "YZK");
        assert_eq!(RecordKind::Clinical.code(), "SRJ");
        assert_eq!(RecordKind::HealthCheckup.code(), "TKK");
        assert_eq!(RecordKind::Surgery.code(), "SHJ");
        assert_eq!(RecordKind::HealthCheckup.label(), "特定健診情報");
        assert_eq!(RecordKind::Surgery.date_label(), "手術日");
        assert_eq!(
            RecordKind::of_consent_item(ConsentItem::SpecificDiseaseCertificate),
            None
        );
        for bad in ["TSR", "yzk", "", "YZK "] {
            assert!(RecordKind::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_good_record_keeps_its_fields() {
        let r = MedicalRecord::new(
            RecordKind::Medication,
            TODAY,
            "さくら薬局",
            "アムロジピン錠5mg",
            "1日1回朝食後 28日分",
            TODAY,
        )
        .unwrap();
        assert_eq!(r.kind(), RecordKind::Medication);
        assert_eq!(r.date(), TODAY);
        assert_eq!(r.provider(), "さくら薬局");
        assert_eq!(r.name(), "アムロジピン錠5mg");
        assert_eq!(r.detail(), Some("1日1回朝食後 28日分"));
        let bare =
            MedicalRecord::new(RecordKind::Clinical, TODAY, "医院", "高血圧症", "", TODAY).unwrap();
        assert_eq!(bare.detail(), None);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let errors = MedicalRecord::new(
            RecordKind::Surgery,
            date!(2026 - 11 - 25),
            "",
            &"長".repeat(201),
            "改行\nあり",
            TODAY,
        )
        .unwrap_err();
        assert_eq!(
            fields_of(errors.clone()),
            [
                RecordField::Date,
                RecordField::Provider,
                RecordField::Name,
                RecordField::Detail
            ]
        );
        assert_eq!(errors[0].to_string(), "date: 2026-11-25 is in the future");
        assert_eq!(errors[1].reason, "required");
        assert_eq!(errors[2].reason, "longer than 200 characters");
        assert!(errors[3].reason.contains("control character"));

        let spaces = MedicalRecord::new(RecordKind::Clinical, TODAY, " 医院", "  ", "a\tb", TODAY)
            .unwrap_err();
        assert_eq!(
            fields_of(spaces),
            [
                RecordField::Provider,
                RecordField::Name,
                RecordField::Detail
            ]
        );
        // Exactly at the limits is fine.
        assert!(
            MedicalRecord::new(
                RecordKind::HealthCheckup,
                TODAY,
                &"機".repeat(100),
                &"項".repeat(200),
                &"値".repeat(500),
                TODAY
            )
            .is_ok()
        );
        assert!(
            MedicalRecord::new(
                RecordKind::HealthCheckup,
                TODAY,
                &"機".repeat(101),
                "HbA1c",
                &"値".repeat(501),
                TODAY
            )
            .is_err()
        );
    }
}
