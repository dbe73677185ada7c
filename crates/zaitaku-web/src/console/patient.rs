//! One patient's page in the console: consent state and items, the qualification
//! as last checked (with 再照会 and what changed), the consented records, and the
//! full consent history. Qualification and records show only while the consent
//! stands, and only for the items consented; every view is in the access log.

use super::access_record::{self, RequestDevice};
use super::frame::ConsoleFrame;
use super::patients::state_label;
use super::staff_user::StaffUser;
use super::views::{
    ChangeRow, HistoryRow, PatientPage, QualificationView, RecordRow, RecordSection, jst,
};
use super::{CsrfForm, Outcome};
use crate::error::PageError;
use crate::i18n::Text;
use crate::state::AppState;
use crate::views::{consent_rows, date_ja, qualification_rows};
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use time::{Date, OffsetDateTime};
use zaitaku_domain::{
    Channel, Consent, ConsentChange, ConsentStatus, PersonId, Qualification, QualificationStatus,
    RecordKind,
};
use zaitaku_store::{AccessAction, CheckSource, QualificationCheck};

pub async fn page(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    Path(person): Path<String>,
    Query(outcome): Query<Outcome>,
) -> Result<Response, PageError> {
    let (person, consent) = patient_consent(&state, &user, &person).await?;
    let frame = ConsoleFrame::of(&state, &user).await?;
    let now = OffsetDateTime::now_utc();
    let today = zaitaku_domain::day_in_japan(now);
    let standing = stands(&consent, today);
    let subject = state
        .store
        .person(person)
        .await?
        .ok_or(PageError::ConsoleNotFound)?;
    access_record::record(
        &state,
        &user,
        device.0,
        AccessAction::View,
        Some(person),
        None,
    )
    .await?;
    let qualification = if standing {
        let checks = state
            .store
            .qualification_checks(user.institution_id, person, 2)
            .await?;
        Some(qualification_view(&checks, &subject.qualification, today))
    } else {
        None
    };
    let records = if standing {
        record_sections(&state, person, &consent).await?
    } else {
        Vec::new()
    };
    let history = state.store.consent_history(consent.id).await?;
    let q = &subject.qualification;
    Ok(PatientPage {
        t: Text,
        frame,
        name: q.name.clone(),
        name_kana: q.name_kana.clone(),
        birth_date: date_ja(q.birth_date),
        state_label: state_label(consent.status, consent.expires_on, today),
        standing,
        active: consent.status == ConsentStatus::Active,
        expires_on: date_ja(consent.expires_on),
        registered_at: jst(consent.registered_at),
        updated_at: jst(consent.updated_at),
        notice: notice(&outcome.done),
        consent_rows: consent_rows(&consent.choices),
        qualification,
        records,
        history: history.iter().rev().map(history_row).collect(),
        requery_action: format!("/console/patients/{}/requery", person.0),
        revoke_href: format!("/console/patients/{}/revoke", person.0),
        csrf: user.csrf_token.clone(),
    }
    .into_response())
}

/// 再照会: fetch the current qualification again, while the consent stands.
pub async fn requery(
    State(state): State<AppState>,
    user: StaffUser,
    device: RequestDevice,
    Path(person_text): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let (person, _) = patient_consent(&state, &user, &person_text).await?;
    let now = OffsetDateTime::now_utc();
    let today = zaitaku_domain::day_in_japan(now);
    let check = state
        .store
        .requery_qualification(user.institution_id, person, today, now)
        .await?;
    let (action, detail, done) = match check {
        Some(_) => (AccessAction::Requery, None, "requeried"),
        // The store refuses only when the consent no longer stands.
        None => (
            AccessAction::RequeryRefused,
            Some(Text.get("console-access-detail-not-standing")),
            "requery-refused",
        ),
    };
    access_record::record(&state, &user, device.0, action, Some(person), detail).await?;
    Ok(Redirect::to(&format!("/console/patients/{}?done={done}", person.0)).into_response())
}

/// The person named in the path, and their consent at the staff's institution.
/// Anyone without a consent here is not found: another institution's patients
/// do not exist for this staff.
pub(super) async fn patient_consent(
    state: &AppState,
    user: &StaffUser,
    person: &str,
) -> Result<(PersonId, Consent), PageError> {
    let id = person
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(PersonId)
        .ok_or(PageError::ConsoleNotFound)?;
    let consent = state
        .store
        .consent(user.institution_id, id)
        .await?
        .ok_or(PageError::ConsoleNotFound)?;
    Ok((id, consent))
}

pub(super) fn stands(consent: &Consent, today: Date) -> bool {
    consent.status == ConsentStatus::Active && consent.expires_on >= today
}

fn notice(done: &str) -> Option<String> {
    let t = Text;
    Some(match done {
        "requeried" => t.get("console-notice-requeried"),
        "requery-refused" => t.get("console-notice-requery-refused"),
        "revoked" => t.get("console-notice-revoked"),
        "revoke-conflict" => t.get("console-notice-revoke-conflict"),
        "not-standing" => t.get("console-notice-not-standing"),
        _ => return None,
    })
}

/// The newest check's record, and what changed since the one before it. A
/// patient registered before checks were kept shows the current record.
fn qualification_view(
    checks: &[QualificationCheck],
    current: &Qualification,
    today: Date,
) -> QualificationView {
    let t = Text;
    let (shown, checked) = match checks.first() {
        Some(newest) => (
            &newest.qualification,
            Some((newest.checked_at, newest.source)),
        ),
        None => (current, None),
    };
    let changes = match checks {
        [newest, previous, ..] if newest.source == CheckSource::Requery => Some(changes(
            &previous.qualification,
            &newest.qualification,
            today,
        )),
        _ => None,
    };
    QualificationView {
        checked_at: checked.map(|(at, _)| jst(at)).unwrap_or_default(),
        source: checked
            .map(|(_, source)| match source {
                CheckSource::Registration => t.get("console-check-registration"),
                CheckSource::Requery => t.get("console-check-requery"),
            })
            .unwrap_or_default(),
        rows: rows_with_status(shown, today),
        changes,
    }
}

/// The screen's qualification rows, with the validity on `today` first.
fn rows_with_status(q: &Qualification, today: Date) -> Vec<(String, String)> {
    let t = Text;
    let status = match q.status_on(today) {
        QualificationStatus::Valid => t.get("console-qualification-valid"),
        QualificationStatus::Lost {
            has_new_qualification: true,
        } => t.get("console-qualification-lost-new"),
        QualificationStatus::Lost { .. } => t.get("console-qualification-lost"),
        QualificationStatus::NotFound => t.get("console-qualification-not-found"),
    };
    let mut rows = vec![(t.get("console-qualification-status"), status)];
    rows.extend(qualification_rows(q));
    // The staff see the whole record, where the patient's screen shows a summary.
    rows.push((t.get("console-q-postal-code"), q.postal_code.clone()));
    rows.push((t.get("console-q-address"), q.address.clone()));
    if let Some(lost_on) = q.lost_on {
        let reason = q.loss_reason.clone().unwrap_or_default();
        rows.push((
            t.get("console-q-lost"),
            format!("{} {reason}", date_ja(lost_on))
                .trim_end()
                .to_owned(),
        ));
    }
    rows
}

/// Every row whose value differs between two checks, in screen order.
fn changes(old: &Qualification, new: &Qualification, today: Date) -> Vec<ChangeRow> {
    let old_rows = rows_with_status(old, today);
    let new_rows = rows_with_status(new, today);
    let none = Text.get("value-none");
    let mut labels: Vec<&String> = new_rows.iter().map(|(label, _)| label).collect();
    for (label, _) in &old_rows {
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    let value = |rows: &[(String, String)], label: &str| {
        rows.iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| none.clone())
    };
    labels
        .into_iter()
        .filter_map(|label| {
            let (before, after) = (value(&old_rows, label), value(&new_rows, label));
            (before != after).then(|| ChangeRow {
                label: label.clone(),
                before,
                after,
            })
        })
        .collect()
}

/// One section per record kind the consent covers: its records where the
/// patient agreed, a note where they did not.
async fn record_sections(
    state: &AppState,
    person: PersonId,
    consent: &Consent,
) -> Result<Vec<RecordSection>, PageError> {
    let kinds_asked: Vec<(RecordKind, bool)> = consent
        .choices
        .items()
        .filter_map(|(item, agreed)| RecordKind::of_consent_item(item).map(|k| (k, agreed)))
        .collect();
    let consented: Vec<RecordKind> = kinds_asked
        .iter()
        .filter(|(_, agreed)| *agreed)
        .map(|(kind, _)| *kind)
        .collect();
    let records = if consented.is_empty() {
        Vec::new()
    } else {
        state.store.records_of(person, &consented).await?
    };
    Ok(kinds_asked
        .into_iter()
        .map(|(kind, agreed)| RecordSection {
            label: kind.label().to_owned(),
            consented: agreed,
            headings: [
                kind.date_label(),
                kind.provider_label(),
                kind.name_label(),
                kind.detail_label(),
            ],
            rows: records
                .iter()
                .filter(|r| agreed && r.kind() == kind)
                .map(|r| RecordRow {
                    date: date_ja(r.date()),
                    provider: r.provider().to_owned(),
                    name: r.name().to_owned(),
                    detail: r.detail().unwrap_or_default().to_owned(),
                })
                .collect(),
        })
        .collect())
}

fn history_row(change: &ConsentChange) -> HistoryRow {
    let t = Text;
    let actor = match change.actor.strip_prefix("staff:") {
        Some(login) => t.with("console-actor-staff", "login", login),
        None => t.get("console-actor-patient"),
    };
    let channel = match change.channel {
        Channel::PatientWeb => t.get("console-channel-patient-web"),
        Channel::InstitutionTerminal => t.get("console-channel-institution"),
    };
    // Which of the institution's devices started the patient's flow.
    let channel = match &change.device {
        Some(device) => format!("{channel}（{device}）"),
        None => channel,
    };
    let describe = |status: ConsentStatus, rows: Vec<(String, String)>| {
        let status = match status {
            ConsentStatus::Active => t.get("console-state-standing"),
            ConsentStatus::Revoked(reason) => {
                t.with("console-state-revoked", "reason", reason.label())
            }
        };
        let items: Vec<String> = rows.into_iter().map(|(l, v)| format!("{l}：{v}")).collect();
        format!("{status}（{}）", items.join("、"))
    };
    HistoryRow {
        at: jst(change.at),
        actor,
        channel,
        before: change
            .old
            .as_ref()
            .map(|(choices, status)| describe(*status, consent_rows(choices)))
            .unwrap_or_else(|| t.get("value-none")),
        after: describe(change.new.1, consent_rows(&change.new.0)),
        card: change.authentication.is_some(),
    }
}
