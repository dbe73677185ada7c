//! The institution console over HTTP: the patient list and page, consent-gated
//! records, 再照会, revoking for the patient, settings with the URL's 2D code and
//! its rotation, the access log, and who may see what.

use crate::common;

use common::console::{console_login, staff_account};
use common::flow;
use common::qr::decode_png;
use common::{Card, Client, Kit, qualification};
use time::OffsetDateTime;
use time::macros::date;
use zaitaku_domain::{
    ConsentStatus, MedicalRecord, Qualification, RecordKind, RevocationReason, StaffRole,
};
use zaitaku_store::{AccessAction, NewRecord, PersonKey};

/// A patient registered at the clinic through flow A (medication and clinical
/// agreed, health checkup declined), with one record of each of the three kinds.
struct Registered {
    card: Card,
    record: Qualification,
    page: String,
}

const ANSWERS: &[(&str, &str)] = &[("YZK", "1"), ("SRJ", "1"), ("TKK", "0")];

async fn registered(kit: &Kit, name: &str) -> Registered {
    let record = qualification(name);
    let card = kit.linked_card(name, record.clone()).await;
    let mut browser = kit.client();
    flow::register(&mut browser, kit, &kit.clinic, &card.path, ANSWERS).await;
    let today = OffsetDateTime::now_utc().date();
    let records = [
        (
            RecordKind::Medication,
            "アムロジピン錠5mg",
            "1日1回 朝食後 28日分",
        ),
        (RecordKind::Clinical, "高血圧症", "継続"),
        (RecordKind::HealthCheckup, "HbA1c", "6.1 %"),
    ]
    .map(|(kind, name, detail)| NewRecord {
        person: PersonKey::of(&record),
        record: MedicalRecord::new(
            kind,
            date!(2026 - 10 - 01),
            "みなと薬局",
            name,
            detail,
            today,
        )
        .unwrap(),
    });
    let counts = kit.store.import_records(&records).await.unwrap();
    assert_eq!(counts.inserted, 3);
    let page = format!("/console/patients/{}", card.person.unwrap().0);
    Registered { card, record, page }
}

async fn staff(kit: &Kit, institution: &zaitaku_domain::Institution, role: StaffRole) -> Client {
    let credentials = staff_account(kit, institution, role).await;
    console_login(kit, &credentials).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_find_the_patient_and_see_only_the_consented_records() {
    let kit = Kit::start().await;
    let patient = registered(&kit, "山田 太郎").await;
    let mut console = staff(&kit, &kit.clinic, StaffRole::Staff).await;

    let list = console.get("/console/patients").await;
    assert_eq!(list.status, 200, "{}", list.body);
    for label in [
        "同意取得済み患者一覧",
        "山田 太郎",
        "同意あり",
        &patient.page,
    ] {
        assert!(list.body.contains(label), "{label}");
    }
    let found = console
        .get("/console/patients?name=%E5%B1%B1%E7%94%B0%E5%A4%AA%E9%83%8E")
        .await;
    assert!(found.body.contains("山田 太郎"), "spaces ignored");
    let none = console.get("/console/patients?state=revoked").await;
    assert!(!none.body.contains("山田 太郎"));
    assert!(none.body.contains("条件に合う患者はいません"));
    let bad = console.get("/console/patients?from=2026-13-01").await;
    assert!(
        bad.body
            .contains("登録日（から）を正しい日付で入力してください")
    );

    let page = console.get(&patient.page).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [
        "資格情報",
        "同意登録時の資格確認",
        patient.record.insurer_name.as_str(),
        "閲覧できる情報",
        "アムロジピン錠5mg",
        "高血圧症",
        "同意の履歴",
        "患者本人",
        "マイナンバーカードで本人確認",
        // The kit's tablet started the registration: the history names it.
        "<td>マイナ在宅受付Web（テスト端末）</td>",
    ] {
        assert!(page.body.contains(shown), "{shown}");
    }
    assert!(
        !page.body.contains("HbA1c"),
        "check-up data was not consented"
    );
    assert!(page.body.contains("患者の同意がないため表示できません"));
    // A staff member may not open the administrator's screens.
    assert_eq!(console.get("/console/settings").await.status, 403);
    assert_eq!(console.get("/console/access-log").await.status, 403);
    let _ = patient.card;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_institutions_staff_see_none_of_it() {
    let kit = Kit::start().await;
    let patient = registered(&kit, "山田 太郎").await;
    let mut other = staff(&kit, &kit.pharmacy, StaffRole::Administrator).await;

    let list = other.get("/console/patients").await;
    assert_eq!(list.status, 200);
    assert!(!list.body.contains("山田 太郎"));
    assert!(list.body.contains("同意を登録した患者はまだいません"));
    let not_theirs = other.get(&patient.page).await;
    assert_eq!(not_theirs.status, 404);
    assert!(not_theirs.body.contains("患者情報が見つかりません"));
    assert!(!not_theirs.body.contains("山田"));
    let csrf = other.get("/console/settings").await.input("csrf");
    let requery = other
        .post_form(&format!("{}/requery", patient.page), &[("csrf", &csrf)])
        .await;
    assert_eq!(requery.status, 404);
    let revoke = other
        .post_form(
            &format!("{}/revoke", patient.page),
            &[("csrf", &csrf), ("version", "1")],
        )
        .await;
    assert_eq!(revoke.status, 404);
    let consent = kit
        .store
        .consent(kit.clinic.id, patient.card.person.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(consent.status, ConsentStatus::Active, "nothing changed");
    // Their settings and code are their own institution's, never the clinic's.
    let settings = other.get("/console/settings").await;
    assert!(settings.body.contains(kit.pharmacy.url_token.as_str()));
    assert!(!settings.body.contains(kit.clinic.url_token.as_str()));
    let log = other.get("/console/access-log").await;
    assert!(!log.body.contains("山田 太郎"));
    // Without a login there is nothing at all.
    let mut stranger = kit.client();
    let refused = stranger.get(&patient.page).await;
    assert_eq!(refused.status, 303);
    assert!(refused.location().starts_with("/console/login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requery_shows_what_changed_since_the_registration() {
    let kit = Kit::start().await;
    let patient = registered(&kit, "山田 太郎").await;
    let mut console = staff(&kit, &kit.clinic, StaffRole::Staff).await;
    let page = console.get(&patient.page).await;
    let csrf = page.input("csrf");

    let mut moved = patient.record.clone();
    moved.address = "大阪府大阪市北区1-1".into();
    kit.store.upsert_persons(&[moved]).await.unwrap();
    let forged = console
        .post_form(&format!("{}/requery", patient.page), &[("csrf", "x")])
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("操作は行われていません"));
    let requeried = console
        .post_form(&format!("{}/requery", patient.page), &[("csrf", &csrf)])
        .await;
    assert_eq!(requeried.status, 303, "{}", requeried.body);
    let page = console.get(requeried.location()).await;
    for shown in [
        "再照会しました",
        "前回の照会からの変更",
        "大阪府大阪市北区1-1",
    ] {
        assert!(page.body.contains(shown), "{shown}");
    }
    // Nothing changed since: said so.
    let again = console
        .post_form(&format!("{}/requery", patient.page), &[("csrf", &csrf)])
        .await;
    let page = console.get(again.location()).await;
    assert!(page.body.contains("前回の照会から変更はありません"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_for_the_patient_hides_everything_at_once() {
    let kit = Kit::start().await;
    let patient = registered(&kit, "山田 太郎").await;
    let mut console = staff(&kit, &kit.clinic, StaffRole::Staff).await;

    let confirm = console.get(&format!("{}/revoke", patient.page)).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    for label in [
        "すべての同意の取消し確認",
        "すべての同意を取消す",
        "医療機関等による取消し",
    ] {
        assert!(confirm.body.contains(label), "{label}");
    }
    let csrf = confirm.input("csrf");
    let version = confirm.input("version");
    let no_token = console
        .post_form(
            &format!("{}/revoke", patient.page),
            &[("version", &version)],
        )
        .await;
    assert_ne!(no_token.status, 303, "a form without its token is refused");
    let stale = console
        .post_form(
            &format!("{}/revoke", patient.page),
            &[("csrf", &csrf), ("version", "0")],
        )
        .await;
    assert!(stale.location().ends_with("done=revoke-conflict"));
    let revoked = console
        .post_form(
            &format!("{}/revoke", patient.page),
            &[("csrf", &csrf), ("version", &version)],
        )
        .await;
    assert_eq!(revoked.status, 303);
    let page = console.get(revoked.location()).await;
    assert!(page.body.contains("すべての同意を取り消しました"));
    assert!(page.body.contains("取消し済み（医療機関等による取消し）"));
    for hidden in [
        "アムロジピン錠5mg",
        "高血圧症",
        "再照会する",
        patient.record.insurer_name.as_str(),
    ] {
        assert!(!page.body.contains(hidden), "{hidden} must be hidden");
    }
    assert!(page.body.contains("職員（"), "the history names the staff");
    let consent = kit
        .store
        .consent(kit.clinic.id, patient.card.person.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        consent.status,
        ConsentStatus::Revoked(RevocationReason::ByInstitution)
    );
    // A re-query is refused now, and writes no check.
    let refused = console
        .post_form(&format!("{}/requery", patient.page), &[("csrf", &csrf)])
        .await;
    assert!(refused.location().ends_with("done=requery-refused"));
    let checks = kit
        .store
        .qualification_checks(kit.clinic.id, patient.card.person.unwrap(), 5)
        .await
        .unwrap();
    assert_eq!(checks.len(), 1);
    // The list shows the patient as revoked.
    let list = console.get("/console/patients?state=revoked").await;
    assert!(list.body.contains("山田 太郎"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_change_settings_download_the_code_and_rotate_the_url() {
    let kit = Kit::start().await;
    let mut admin = staff(&kit, &kit.clinic, StaffRole::Administrator).await;
    let page = admin.get("/console/settings").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for label in [
        "医療機関等の設定",
        "電子処方箋利用区分",
        "同意の有効期間（日）",
        "二次元コードをダウンロード（PNG）",
        "URLを再発行する",
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    let csrf = page.input("csrf");
    let old_url = kit.url(&kit.clinic);
    let old_address = format!("{}{old_url}", kit.base);
    assert!(page.body.contains(&old_address));

    let invalid = admin
        .post_form(
            "/console/settings",
            &[
                ("csrf", &csrf),
                ("e_prescription", "9"),
                ("validity_days", "0"),
            ],
        )
        .await;
    assert_eq!(invalid.status, 422);
    for message in [
        "同意項目を1つ以上選んでください",
        "電子処方箋利用区分を一覧から選んでください",
        "同意の有効期間は1から3650までの日数で入力してください",
    ] {
        assert!(invalid.body.contains(message), "{message}");
    }
    let saved = admin
        .post_form(
            "/console/settings",
            &[
                ("csrf", &csrf),
                ("item_YZK", "1"),
                ("item_SHJ", "1"),
                ("e_prescription", "0"),
                ("validity_days", "90"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored = kit.store.institution(kit.clinic.id).await.unwrap().unwrap();
    assert_eq!(stored.consent_validity_days, 90);
    assert_eq!(stored.offered_items.len(), 2);

    let svg = admin.get("/console/settings/qr.svg").await;
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(
        svg.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let png = admin.get("/console/settings/qr.png").await;
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert_eq!(
        decode_png(&png.bytes),
        old_address,
        "the PNG scans to the URL"
    );

    let confirm = admin.get("/console/settings/rotate-url").await;
    assert!(confirm.body.contains("直ちに使えなくなります"));
    let rotated = admin
        .post_form("/console/settings/rotate-url", &[("csrf", &csrf)])
        .await;
    assert_eq!(rotated.status, 303);
    let mut patient_side = kit.client();
    assert_eq!(
        patient_side.get(&old_url).await.status,
        404,
        "old URL refused"
    );
    let stored = kit.store.institution(kit.clinic.id).await.unwrap().unwrap();
    let new_url = kit.url(&stored);
    assert_ne!(new_url, old_url);
    assert_eq!(patient_side.get(&new_url).await.status, 200);
    let png = admin.get("/console/settings/qr.png").await;
    assert_eq!(decode_png(&png.bytes), format!("{}{new_url}", kit.base));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_reads_who_looked_at_which_patient() {
    let kit = Kit::start().await;
    let patient = registered(&kit, "山田 太郎").await;
    let mut nurse = staff(&kit, &kit.clinic, StaffRole::Staff).await;
    assert_eq!(nurse.get(&patient.page).await.status, 200);
    let mut admin = staff(&kit, &kit.clinic, StaffRole::Administrator).await;
    let log = admin.get("/console/access-log").await;
    assert_eq!(log.status, 200, "{}", log.body);
    for shown in ["アクセスログ", "山田 太郎", "患者情報の表示"] {
        assert!(log.body.contains(shown), "{shown}");
    }
}

/// The access log's newest lines at the clinic, for the assertions below.
async fn access_lines(kit: &Kit) -> Vec<zaitaku_store::AccessLogLine> {
    kit.store.access_log(kit.clinic.id, 50).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_search_is_logged_with_its_filter_and_not_its_results() {
    let kit = Kit::start().await;
    let _patient = registered(&kit, "山田 太郎").await;
    let mut nurse = staff(&kit, &kit.clinic, StaffRole::Staff).await;
    let list = nurse
        .get("/console/patients?name=%E5%B1%B1%E7%94%B0&state=standing")
        .await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("山田 太郎"));
    let lines = access_lines(&kit).await;
    let search = &lines[0];
    assert_eq!(search.entry.action, AccessAction::Search);
    assert_eq!(search.entry.person, None, "the results are not logged");
    assert_eq!(
        search.entry.detail.as_deref(),
        Some("氏名「山田」、同意の状態：同意あり")
    );
    // An invalid filter reads nothing, and logs nothing.
    let before = access_lines(&kit).await.len();
    nurse.get("/console/patients?from=yesterday").await;
    assert_eq!(access_lines(&kit).await.len(), before);
    let mut admin = staff(&kit, &kit.clinic, StaffRole::Administrator).await;
    let log = admin.get("/console/access-log").await;
    for shown in ["患者一覧の検索", "氏名「山田」、同意の状態：同意あり"] {
        assert!(log.body.contains(shown), "{shown}");
    }
    assert_chains_intact(&kit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_requery_is_logged_with_the_reason() {
    let kit = Kit::start().await;
    let patient = registered(&kit, "山田 太郎").await;
    let person = patient.card.person.unwrap();
    let consent = kit
        .store
        .consent(kit.clinic.id, person)
        .await
        .unwrap()
        .unwrap();
    kit.store
        .revoke_by_staff(&zaitaku_store::StaffRevocation {
            institution: kit.clinic.id,
            person,
            expected_version: consent.version,
            actor: zaitaku_store::StaffActor {
                id: zaitaku_domain::StaffId(1),
                login: "hanako".into(),
                name: "看護 花子".into(),
            },
            at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    let mut nurse = staff(&kit, &kit.clinic, StaffRole::Staff).await;
    let page = nurse.get(&patient.page).await;
    let csrf = page.input("csrf");
    let refused = nurse
        .post_form(&format!("{}/requery", patient.page), &[("csrf", &csrf)])
        .await;
    assert!(refused.location().ends_with("done=requery-refused"));
    let lines = access_lines(&kit).await;
    assert_eq!(lines[0].entry.action, AccessAction::RequeryRefused);
    assert_eq!(lines[0].entry.person, Some(person));
    assert!(
        lines[0]
            .entry
            .detail
            .as_deref()
            .unwrap()
            .contains("同意が有効でないため"),
        "{:?}",
        lines[0].entry.detail
    );
    assert_eq!(lines[1].entry.action, AccessAction::View);
    let mut admin = staff(&kit, &kit.clinic, StaffRole::Administrator).await;
    let log = admin.get("/console/access-log").await;
    assert!(log.body.contains("再照会（実行されず）"));
    assert_chains_intact(&kit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_change_is_logged_with_what_changed() {
    let kit = Kit::start().await;
    let mut admin = staff(&kit, &kit.clinic, StaffRole::Administrator).await;
    let before = kit.store.institution(kit.clinic.id).await.unwrap().unwrap();
    let page = admin.get("/console/settings").await;
    let csrf = page.input("csrf");
    let saved = admin
        .post_form(
            "/console/settings",
            &[
                ("csrf", &csrf),
                ("item_YZK", "1"),
                ("item_SHJ", "1"),
                ("e_prescription", "0"),
                ("validity_days", "90"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let lines = access_lines(&kit).await;
    assert_eq!(lines[0].entry.action, AccessAction::SettingsChange);
    let detail = lines[0].entry.detail.clone().unwrap();
    assert!(
        detail.contains(&format!(
            "同意の有効期間（日）：{} → 90",
            before.consent_validity_days
        )),
        "{detail}"
    );
    let rotated = admin
        .post_form("/console/settings/rotate-url", &[("csrf", &csrf)])
        .await;
    assert_eq!(rotated.status, 303);
    let lines = access_lines(&kit).await;
    assert_eq!(lines[0].entry.action, AccessAction::SettingsChange);
    assert_eq!(lines[0].entry.detail.as_deref(), Some("URLを再発行"));
    let log = admin.get("/console/access-log").await;
    assert!(log.body.contains("設定の変更"));
    assert!(log.body.contains("URLを再発行"));
    assert_chains_intact(&kit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_page_says_when_the_chains_were_last_verified() {
    let kit = Kit::start().await;
    let mut admin = staff(&kit, &kit.clinic, StaffRole::Administrator).await;
    let log = admin.get("/console/access-log").await;
    assert!(log.body.contains("まだ実行されていません"), "{}", log.body);
    for (intact, said) in [
        (true, "改ざんは見つかりませんでした"),
        (false, "改ざんが見つかりました"),
    ] {
        kit.store
            .record_audit_verification(&zaitaku_store::AuditVerification {
                at: OffsetDateTime::now_utc(),
                institution: None,
                intact,
                chains: 3,
                findings: String::new(),
            })
            .await
            .unwrap();
        let log = admin.get("/console/access-log").await;
        assert!(log.body.contains(said), "{said}");
    }
}

async fn assert_chains_intact(kit: &Kit) {
    for chain in kit.store.audit_snapshot(None).await.unwrap() {
        let finding = zaitaku_store::audit::verify_chain(&chain, None);
        assert!(
            finding.intact(),
            "{:?}: {}",
            chain.chain,
            finding.describe()
        );
    }
}
