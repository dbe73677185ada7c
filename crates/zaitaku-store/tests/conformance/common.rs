//! What the cases of every area share: the names they use, a store with one
//! flow waiting at its authentication step, a qualification record.

pub use crate::backend::{Guard, fresh_store};
pub use std::sync::Arc;
pub use time::macros::date;
pub use time::{Duration, OffsetDateTime};
pub use zaitaku_domain::{
    BurdenRatio, CardAuthentication, Channel, ConsentChoices, ConsentItem, ConsentStatus,
    EPrescriptionUsage, FailureReason, FlowStep, InstitutionCode, InstitutionId, InsurerNumber,
    LoginName, LoginOutcome, MedicalRecord, PersonId, Purpose, Qualification,
    QualificationValidity, RecordKind, Relationship, RevocationReason, Sex, StaffId, StaffRole,
    StaffStatus, UrlToken,
};
pub use zaitaku_store::{
    AccessAction, AccessActor, AccessEntry, AnchorAdded, ChallengeRecord, ChallengeState,
    CheckSource, ConsentFilter, CrlImport, CrlRecord, FlowRecord, InstitutionChanges, NewCrl,
    NewInstitution, NewRecord, NewTrustAnchor, PatientQuery, PatientSummary, PersonKey,
    RecordImportCounts, RegistrationWrite, SettleError, StaffActor, StaffRevocation,
    StaffRevocationOutcome, Store, StoreError, UpdateOutcome, UpdateWrite, UpsertCounts, ViewWrite,
};
pub use zaitaku_store::{
    Enrolment, EnrolmentWrite, Lockout, LoginCompletion, LoginRecord, NewStaff, ShownSecret,
    StaffAccount, StaffAction, StaffChange, StaffChangeOutcome, StaffSessionRecord,
    StaffSessionStage,
};

pub struct Fixture {
    pub _dir: Guard,
    pub store: Arc<dyn Store>,
    pub flow: FlowRecord,
    pub write: RegistrationWrite,
}

pub fn qualification() -> Qualification {
    Qualification {
        insurer_number: InsurerNumber::parse("06130488").unwrap(),
        insurer_name: "組合".into(),
        symbol: None,
        number: "1".into(),
        branch: None,
        relationship: Relationship::Insured,
        name: "山田 太郎".into(),
        name_kana: "ヤマダ タロウ".into(),
        sex: Sex::Male,
        birth_date: date!(1960 - 01 - 01),
        address: "東京都".into(),
        postal_code: "100-0001".into(),
        acquired_on: date!(2020 - 01 - 01),
        lost_on: None,
        loss_reason: None,
        valid_from: None,
        valid_until: None,
        burden_ratio: Some(BurdenRatio::parse("030").unwrap()),
        elderly: None,
        limit: None,
        specific_disease: None,
        validity: QualificationValidity::Valid,
    }
}

/// A fresh 5-minute challenge named `reference` for `flow` and `purpose`.
pub fn pending_challenge(reference: &str, flow: &FlowRecord, purpose: Purpose) -> ChallengeRecord {
    let now = OffsetDateTime::now_utc();
    ChallengeRecord {
        reference: reference.into(),
        nonce: format!("{reference:n<44}"),
        flow_id: flow.id.clone(),
        session_hash: flow.session_hash.clone(),
        purpose,
        created_at: now,
        expires_at: now + Duration::minutes(5),
        state: ChallengeState::Pending,
        claim_hash: None,
        claimed_at: None,
        settled_at: None,
    }
}

/// A flow at its authentication step with a pending challenge.
pub async fn fixture() -> Fixture {
    let (dir, store) = fresh_store().await;
    let institution = store
        .insert_institution(&NewInstitution {
            code: InstitutionCode::parse("1310123458").unwrap(),
            name: "クリニック".into(),
            offered_items: vec![ConsentItem::Medication],
            e_prescription: EPrescriptionUsage::NotUsed,
            consent_validity_days: 30,
            url_token: UrlToken::parse(&"t".repeat(43)).unwrap(),
            flows_from: zaitaku_domain::FlowsFrom::Anyone,
        })
        .await
        .unwrap();
    let person = store.insert_person(&qualification()).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let choices = ConsentChoices::none_of(&[ConsentItem::Medication]);
    let mut flow = FlowRecord {
        id: "flow-0123456789abcdef".into(),
        session_hash: "s".into(),
        institution_id: institution.id,
        purpose: Purpose::Register,
        step: FlowStep::Select,
        challenge_ref: None,
        person_id: None,
        consent_id: None,
        created_at: now,
        expires_at: now + Duration::minutes(30),
        version: 0,
        device_id: None,
        url_token: institution.url_token.clone(),
        closed_at: None,
    };
    store.insert_flow(&flow).await.unwrap();
    let challenge = pending_challenge("challenge-0123456789ab", &flow, Purpose::Register);
    flow.step = FlowStep::Authenticate(choices.clone());
    flow.challenge_ref = Some(challenge.reference.clone());
    assert!(store.update_flow(&flow, Some(&challenge)).await.unwrap());
    flow.version += 1;
    let write = RegistrationWrite {
        challenge_ref: challenge.reference.clone(),
        flow_id: flow.id.clone(),
        institution_id: institution.id,
        person_id: person,
        choices,
        expires_on: date!(2027 - 01 - 01),
        at: now,
        authentication: CardAuthentication {
            certificate_issuer: "CN=Test".into(),
            certificate_serial: "01".into(),
            revocation: "good".into(),
        },
    };
    Fixture {
        _dir: dir,
        store,
        flow,
        write,
    }
}

/// A new flow of `f`'s institution and session, at `step` with a pending challenge
/// named `reference`.
pub async fn waiting_flow(f: &Fixture, id: &str, step: FlowStep, reference: &str) -> FlowRecord {
    let purpose = step.authentication_purpose().unwrap();
    let mut flow = FlowRecord {
        id: id.into(),
        step: FlowStep::Select,
        challenge_ref: None,
        purpose,
        version: 0,
        ..f.flow.clone()
    };
    f.store.insert_flow(&flow).await.unwrap();
    let challenge = pending_challenge(reference, &flow, purpose);
    flow.step = step;
    flow.challenge_ref = Some(challenge.reference.clone());
    assert!(f.store.update_flow(&flow, Some(&challenge)).await.unwrap());
    flow.version += 1;
    flow
}

pub fn token(c: char) -> UrlToken {
    UrlToken::parse(&c.to_string().repeat(43)).unwrap()
}
