//! Institution settings, for administrators: the consent items offered, the
//! 電子処方箋利用区分, the consent validity, who may start flows at the URL
//! (only enrolled devices, or anyone), and the institution URL with its 2D
//! code (SVG or PNG download) and its rotation, which stops the old URL at once.

use super::access_record::{self, RequestDevice};
use super::frame::ConsoleFrame;
use super::staff_user::StaffUser;
use super::views::{ItemChoice, RotatePage, SettingsPage, UsageChoice};
use super::{CsrfForm, Outcome};
use crate::error::PageError;
use crate::i18n::Text;
use crate::state::AppState;
use axum::extract::{Form, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use zaitaku_domain::{ConsentItem, EPrescriptionUsage, FlowsFrom, Institution};
use zaitaku_store::{AccessAction, InstitutionChanges};

/// A consent lasts at least a day and at most ten years.
const VALIDITY_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

pub async fn page(
    State(state): State<AppState>,
    user: StaffUser,
    Query(outcome): Query<Outcome>,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    let institution = own_institution(&state, &user).await?;
    let notice = match outcome.done.as_str() {
        "saved" => Some(Text.get("console-settings-saved")),
        "rotated" => Some(Text.get("console-settings-rotated")),
        _ => None,
    };
    let form = SettingsForm::of(&institution);
    Ok(
        settings_page(&state, &user, &institution, &form, Vec::new(), notice)
            .await?
            .into_response(),
    )
}

/// The form as posted: checkboxes `item_YZK=1`…, `e_prescription`, `validity_days`.
#[derive(Debug, Clone)]
pub struct SettingsForm {
    items: Vec<ConsentItem>,
    e_prescription: String,
    validity_days: String,
    /// `enrolled` or `anyone`; absent keeps the setting.
    flows_from: String,
}

impl SettingsForm {
    fn of(institution: &Institution) -> Self {
        SettingsForm {
            items: institution.offered_items.clone(),
            e_prescription: institution.e_prescription.code().to_owned(),
            validity_days: institution.consent_validity_days.to_string(),
            flows_from: institution.flows_from.code().to_owned(),
        }
    }

    /// The form from the posted pairs, and its CSRF token.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, Option<String>) {
        let value = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let items = ConsentItem::ALL
            .iter()
            .copied()
            .filter(|item| value(&format!("item_{}", item.code())) == "1")
            .collect();
        (
            SettingsForm {
                items,
                e_prescription: value("e_prescription"),
                validity_days: value("validity_days"),
                flows_from: value("flows_from"),
            },
            Some(value("csrf")),
        )
    }

    /// The changes, or one message per field to correct.
    pub fn changes(&self) -> Result<InstitutionChanges, Vec<String>> {
        let t = Text;
        let mut errors = Vec::new();
        if self.items.is_empty() {
            errors.push(t.get("console-settings-items-empty"));
        }
        let usage = EPrescriptionUsage::parse(&self.e_prescription).ok();
        if usage.is_none() {
            errors.push(t.get("console-settings-usage-invalid"));
        }
        let days = self
            .validity_days
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| VALIDITY_DAYS.contains(d));
        if days.is_none() {
            errors.push(t.get("console-settings-validity-invalid"));
        }
        let flows_from = match self.flows_from.as_str() {
            "" => Ok(None),
            code => FlowsFrom::parse(code).map(Some).ok_or(()),
        };
        if flows_from.is_err() {
            errors.push(t.get("console-settings-flows-from-invalid"));
        }
        match (usage, days, flows_from) {
            (Some(usage), Some(days), Ok(flows_from)) if errors.is_empty() => {
                Ok(InstitutionChanges {
                    name: None,
                    offered_items: Some(self.items.clone()),
                    e_prescription: Some(usage),
                    consent_validity_days: Some(days),
                    flows_from,
                })
            }
            _ => Err(errors),
        }
    }
}

pub async fn save(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    let (form, csrf) = SettingsForm::from_pairs(&pairs);
    user.check_csrf(csrf.as_deref().unwrap_or(""))?;
    let institution = own_institution(&state, &user).await?;
    match form.changes() {
        Ok(changes) => {
            state
                .store
                .update_institution(&institution.code, &changes)
                .await?
                .ok_or(PageError::NotFound)?;
            let detail = settings_detail(&institution, &changes);
            access_record::record(
                &state,
                &user,
                device.0,
                AccessAction::SettingsChange,
                None,
                Some(detail),
            )
            .await?;
            tracing::info!(staff = %user.staff_id, "institution settings changed");
            Ok(Redirect::to("/console/settings?done=saved").into_response())
        }
        Err(errors) => {
            let mut page = settings_page(&state, &user, &institution, &form, errors, None).await?;
            page.invalid = true;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// What a save changed, each setting as before → after, in Japanese
/// (「変更なし」 when nothing did).
fn settings_detail(before: &Institution, changes: &InstitutionChanges) -> String {
    let t = Text;
    let items = |items: &[ConsentItem]| {
        items
            .iter()
            .map(|i| i.label())
            .collect::<Vec<_>>()
            .join("・")
    };
    let mut parts = Vec::new();
    if let Some(after) = changes.offered_items.as_deref()
        && after != before.offered_items.as_slice()
    {
        parts.push(format!(
            "{}：{} → {}",
            t.get("console-settings-items"),
            items(&before.offered_items),
            items(after)
        ));
    }
    if let Some(after) = changes.e_prescription
        && after != before.e_prescription
    {
        parts.push(format!(
            "{}：{} → {}",
            t.get("console-settings-usage"),
            before.e_prescription.label(),
            after.label()
        ));
    }
    if let Some(after) = changes.consent_validity_days
        && after != before.consent_validity_days
    {
        parts.push(format!(
            "{}：{} → {after}",
            t.get("console-settings-validity"),
            before.consent_validity_days
        ));
    }
    if parts.is_empty() {
        t.get("console-access-detail-unchanged")
    } else {
        parts.join("、")
    }
}

async fn settings_page(
    state: &AppState,
    user: &StaffUser,
    institution: &Institution,
    form: &SettingsForm,
    errors: Vec<String>,
    notice: Option<String>,
) -> Result<SettingsPage, PageError> {
    Ok(SettingsPage {
        t: Text,
        frame: ConsoleFrame::of(state, user).await?,
        code: institution.code.as_str().to_owned(),
        kind: institution.kind.label().to_owned(),
        institution_name: institution.name.clone(),
        items: ConsentItem::ALL
            .iter()
            .map(|item| ItemChoice {
                code: item.code(),
                label: item.label(),
                checked: form.items.contains(item),
            })
            .collect(),
        usages: EPrescriptionUsage::ALL
            .iter()
            .map(|usage| UsageChoice {
                code: usage.code(),
                label: usage.label(),
                selected: form.e_prescription == usage.code(),
            })
            .collect(),
        validity_days: form.validity_days.clone(),
        flows_from: FlowsFrom::ALL
            .iter()
            .map(|f| UsageChoice {
                code: f.code(),
                label: f.label(),
                selected: form.flows_from == f.code(),
            })
            .collect(),
        url: state.institution_url(institution),
        errors,
        invalid: false,
        notice,
        csrf: user.csrf_token.clone(),
    })
}

pub async fn code_svg(
    State(state): State<AppState>,
    user: StaffUser,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    let institution = own_institution(&state, &user).await?;
    let svg = crate::code_image::svg(&state.institution_url(&institution))?;
    Ok(download(
        "image/svg+xml",
        "institution-url.svg",
        svg.into_bytes(),
    ))
}

pub async fn code_png(
    State(state): State<AppState>,
    user: StaffUser,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    let institution = own_institution(&state, &user).await?;
    let png = crate::code_image::png(&state.institution_url(&institution))?;
    Ok(download("image/png", "institution-url.png", png))
}

fn download(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            // The code is the institution's URL: keep it out of every cache.
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

pub async fn rotate_page(
    State(state): State<AppState>,
    user: StaffUser,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    let institution = own_institution(&state, &user).await?;
    Ok(RotatePage {
        t: Text,
        frame: ConsoleFrame::of(&state, &user).await?,
        url: state.institution_url(&institution),
        csrf: user.csrf_token.clone(),
    }
    .into_response())
}

/// A new URL token: the old URL and every printed copy of its code stop at once.
pub async fn rotate(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.require_administrator()?;
    user.check_csrf(&form.csrf)?;
    let institution = own_institution(&state, &user).await?;
    state
        .store
        .set_url_token(&institution.code, &crate::new_url_token())
        .await?
        .ok_or(PageError::NotFound)?;
    // What changed, not the URL itself (it is the institution's secret entry).
    let detail = Text.get("console-access-detail-url-rotated");
    access_record::record(
        &state,
        &user,
        device.0,
        AccessAction::SettingsChange,
        None,
        Some(detail),
    )
    .await?;
    tracing::info!(staff = %user.staff_id, "institution URL rotated");
    Ok(Redirect::to("/console/settings?done=rotated").into_response())
}

async fn own_institution(state: &AppState, user: &StaffUser) -> Result<Institution, PageError> {
    state
        .store
        .institution(user.institution_id)
        .await?
        .ok_or(PageError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> SettingsForm {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SettingsForm::from_pairs(&pairs).0
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        let ok = form(&[
            ("item_YZK", "1"),
            ("item_TKK", "1"),
            ("e_prescription", "2"),
            ("validity_days", "180"),
        ]);
        let changes = ok.changes().unwrap();
        assert_eq!(
            changes.offered_items,
            Some(vec![ConsentItem::Medication, ConsentItem::HealthCheckup])
        );
        assert_eq!(changes.consent_validity_days, Some(180));
        let bad = form(&[("e_prescription", "9"), ("validity_days", "0")]);
        assert_eq!(bad.changes().unwrap_err().len(), 3);
        let too_long = form(&[
            ("item_YZK", "1"),
            ("e_prescription", "0"),
            ("validity_days", "3651"),
        ]);
        assert_eq!(too_long.changes().unwrap_err().len(), 1);
    }
}
