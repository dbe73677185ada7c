//! Revoking a patient's consent from the console, on the patient's behalf (reason
//! 医療機関等による取消し): a confirmation screen, then one write.

use super::access_record::{self, RequestDevice, actor};
use super::frame::ConsoleFrame;
use super::patient::patient_consent;
use super::staff_user::StaffUser;
use super::views::RevokePage;
use crate::error::PageError;
use crate::i18n::Text;
use crate::state::AppState;
use crate::views::{consent_rows, date_ja};
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use zaitaku_domain::ConsentStatus;
use zaitaku_store::{AccessAction, StaffRevocation, StaffRevocationOutcome};

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    csrf: String,
    /// The consent's version the confirmation showed.
    version: i64,
}

pub async fn confirm_page(
    State(state): State<AppState>,
    user: StaffUser,
    Path(person_text): Path<String>,
) -> Result<Response, PageError> {
    let (person, consent) = patient_consent(&state, &user, &person_text).await?;
    let detail = format!("/console/patients/{}", person.0);
    if consent.status != ConsentStatus::Active {
        return Ok(Redirect::to(&format!("{detail}?done=not-standing")).into_response());
    }
    let subject = state
        .store
        .person(person)
        .await?
        .ok_or(PageError::ConsoleNotFound)?;
    Ok(RevokePage {
        t: Text,
        frame: ConsoleFrame::of(&state, &user).await?,
        name: subject.qualification.name.clone(),
        birth_date: date_ja(subject.qualification.birth_date),
        consent_rows: consent_rows(&consent.choices),
        action: format!("{detail}/revoke"),
        back_href: detail,
        version: consent.version,
        csrf: user.csrf_token.clone(),
    }
    .into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    Path(person_text): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let (person, _) = patient_consent(&state, &user, &person_text).await?;
    let outcome = state
        .store
        .revoke_by_staff(&StaffRevocation {
            institution: user.institution_id,
            person,
            expected_version: form.version,
            actor: actor(&user),
            at: OffsetDateTime::now_utc(),
        })
        .await?;
    let done = match outcome {
        StaffRevocationOutcome::Revoked => {
            access_record::record(
                &state,
                &user,
                device.0,
                AccessAction::Revoke,
                Some(person),
                None,
            )
            .await?;
            tracing::info!(staff = %user.staff_id, "consent revoked by the institution");
            "revoked"
        }
        StaffRevocationOutcome::Conflict => "revoke-conflict",
        StaffRevocationOutcome::NotStanding => "not-standing",
    };
    Ok(Redirect::to(&format!("/console/patients/{}?done={done}", person.0)).into_response())
}
