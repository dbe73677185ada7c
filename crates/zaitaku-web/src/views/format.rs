//! Consent and qualification as label/value rows for the screens.

use crate::i18n::Text;
use time::Date;
use zaitaku_domain::{ConsentChoices, Qualification};

pub fn date_ja(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

/// The time of day in Japan, to the minute: `15:04`.
pub fn time_ja(at: time::OffsetDateTime) -> String {
    let t = at.to_offset(zaitaku_domain::JST);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

pub fn agree_label(agreed: bool) -> String {
    if agreed {
        Text.get("agree")
    } else {
        Text.get("disagree")
    }
}

/// One row per item answered, then the prescription form where it was asked.
pub fn consent_rows(choices: &ConsentChoices) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = choices
        .items()
        .map(|(item, agreed)| (item.label().to_owned(), agree_label(agreed)))
        .collect();
    if let Some(form) = choices.prescription_form() {
        rows.push((Text.get("prescription-form"), form.label().to_owned()));
    }
    rows
}

pub fn qualification_rows(q: &Qualification) -> Vec<(String, String)> {
    let t = Text;
    let none = || t.get("value-none");
    let mut rows = vec![
        (t.get("q-name"), q.name.clone()),
        (t.get("q-kana"), q.name_kana.clone()),
        (t.get("q-birth"), date_ja(q.birth_date)),
        (t.get("q-sex"), q.sex.label().to_owned()),
        (
            t.get("q-insurer-number"),
            q.insurer_number.as_str().to_owned(),
        ),
        (t.get("q-insurer-name"), q.insurer_name.clone()),
        (t.get("q-symbol"), q.symbol.clone().unwrap_or_else(none)),
        (t.get("q-number"), q.number.clone()),
        (t.get("q-branch"), q.branch.clone().unwrap_or_else(none)),
        (t.get("q-relationship"), q.relationship.label().to_owned()),
        (
            t.get("q-burden"),
            q.burden_ratio.map(|r| r.label()).unwrap_or_else(none),
        ),
        (t.get("q-acquired"), date_ja(q.acquired_on)),
        (
            t.get("q-valid-until"),
            q.valid_until.map(date_ja).unwrap_or_else(none),
        ),
    ];
    if let Some(e) = &q.elderly {
        rows.push((
            t.get("q-elderly"),
            format!(
                "{}（{}から）",
                e.burden_ratio.label(),
                date_ja(e.valid_from)
            ),
        ));
    }
    if let Some(l) = &q.limit {
        rows.push((
            t.get("q-limit"),
            format!("{}・{}", l.category, l.applied_category),
        ));
    }
    if let Some(d) = &q.specific_disease {
        rows.push((t.get("q-specific-disease"), d.clone()));
    }
    rows
}
