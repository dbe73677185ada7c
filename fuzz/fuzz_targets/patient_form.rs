//! A body posted to the patient screens, read by axum's `Form` as each
//! handler reads it, then into domain values: the flow's start (`StartForm`),
//! the consent choices of flows A and B (`PostedAnswers`) at a clinic that
//! asks the prescription form and at a pharmacy, a confirmation
//! (`ConfirmForm`), and the demo reader's PIN (`ReaderForm`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use zaitaku_domain::{
    ConsentItem, EPrescriptionUsage, Institution, InstitutionCode, InstitutionId, InstitutionKind,
    UrlToken,
};
use zaitaku_fuzz::form;
use zaitaku_web::forms::{ConfirmForm, PostedAnswers, ReaderForm, StartForm};

fn institution(code: &str, items: &[ConsentItem]) -> Institution {
    let code = InstitutionCode::parse(code).expect("a demo institution's code");
    Institution {
        id: InstitutionId(1),
        kind: InstitutionKind::of(&code),
        code,
        name: "在宅ひまわりクリニック".to_owned(),
        offered_items: items.to_vec(),
        e_prescription: EPrescriptionUsage::Both,
        consent_validity_days: 365,
        url_token: UrlToken::parse(&"A".repeat(43)).expect("43 base64url characters"),
        deactivated_at: None,
        flows_from: zaitaku_domain::FlowsFrom::Anyone,
    }
}

static INSTITUTIONS: LazyLock<[Institution; 2]> = LazyLock::new(|| {
    [
        institution("1310123458", ConsentItem::ALL),
        institution("1340112349", &ConsentItem::ALL[..1]),
    ]
});

fuzz_target!(|body: &[u8]| {
    if let Some(pairs) = form::<Vec<(String, String)>>(body) {
        let answers = PostedAnswers(pairs);
        let _ = answers.get("csrf");
        for institution in INSTITUTIONS.iter() {
            if let Ok(choices) = answers.choices(institution) {
                let _ = choices.encode();
            }
        }
    }
    if let Some(start) = form::<StartForm>(body) {
        let _ = start.method();
    }
    if let Some(confirm) = form::<ConfirmForm>(body) {
        let _ = confirm.renews();
    }
    if let Some(reader) = form::<ReaderForm>(body) {
        let _ = reader.pin();
    }
});
