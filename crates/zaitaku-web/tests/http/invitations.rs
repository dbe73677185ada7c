//! Invitations: at an institution that only its devices may use, the patient's
//! own phone gets in through the single-use 2D code an enrolled device shows,
//! and the authenticator names the device that asked.

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::qr::Bitmap;
use common::{Client, Kit, qualification, sign};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use zaitaku_domain::Institution;
use zaitaku_store::audit::{Chain, Value};
use zaitaku_store::{DeviceActor, NewInvitation};

/// What the store keeps of an invitation's secret: its SHA-256, hex.
fn hash_id(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The invitation the enrolled `device` shows for `institution`: its URL,
/// decoded from the 2D code drawn in the page.
async fn shown_invitation(device: &mut Client, kit: &Kit, institution: &Institution) -> String {
    let page = device.get(&format!("{}/qr", kit.url(institution))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("この二次元コードは1回だけ使えます"));
    assert!(
        !page
            .body
            .contains(&format!("{}{}", kit.base, kit.url(institution))),
        "the institution's own URL is not what the code carries"
    );
    let start = page.body.find("<svg").expect("the code drawn in the page");
    let end = page.body[start..].find("</svg>").unwrap() + start + "</svg>".len();
    let url = Bitmap::of_svg(&page.body[start..end]).decode();
    let shown = common::qr::attribute(&page.body, "<div class=\"qr__image", "data-url");
    assert_eq!(url, shown, "the code says what the page says");
    assert!(url.starts_with(&format!("{}/v/", kit.base)), "{url}");
    url
}

/// Flow A chosen and confirmed, at its card, with the challenge unfetched.
async fn started(client: &mut Client, kit: &Kit, institution: &Institution) -> flow::Walk {
    let walk = flow::start(client, kit, institution).await;
    let chosen = flow::choose(client, &walk, ALL_AGREE).await;
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    let confirmed = flow::confirm(client, &walk).await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    walk
}

fn path_of(url: &str, kit: &Kit) -> String {
    url.trim_start_matches(&kit.base).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patients_phone_runs_flow_b_through_the_invitation_and_a_third_is_refused() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut tablet = kit.client();
    flow::register(&mut tablet, &kit, &kit.clinic, &card.path, ALL_AGREE).await;

    // The consent history (a hash-chained log) names the device that started
    // the patient-side flow.
    let chains = kit.store.audit_snapshot(Some(kit.clinic.id)).await.unwrap();
    let history = chains
        .iter()
        .find(|c| c.chain == Chain::ConsentHistory)
        .expect("the clinic's consent history chain");
    let last = history.entries.last().expect("the registration's entry");
    assert_eq!(
        last.values.last(),
        Some(&Value::Text("テスト端末".into())),
        "device_name, the chain's last column"
    );

    let invitation = path_of(
        &shown_invitation(&mut tablet, &kit, &kit.clinic).await,
        &kit,
    );
    let url = kit.url(&kit.clinic);

    // The phone: no device cookie; before the code it is refused, as any stranger.
    let mut phone = tablet.stranger();
    assert_eq!(phone.get(&url).await.status, 403);
    let opened = phone.get(&invitation).await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    assert_eq!(opened.location(), url);
    let (walk, edit) = flow::view(&mut phone, &kit, &kit.clinic, &card.path).await;
    assert!(
        edit.body
            .contains("<title>更新内容の選択 | マイナ在宅受付Web</title>")
    );
    assert!(walk.flow.starts_with("/f/"));

    // A phone let in hands on no invitations of its own.
    assert_eq!(phone.get(&format!("{url}/qr")).await.status, 403);

    // A third browser opening the same code (a photograph of it) gets nothing.
    let mut third = tablet.stranger();
    let refused = third.get(&invitation).await;
    assert_eq!(refused.status, 410, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("この二次元コードはすでに使われています")
    );
    assert!(refused.header("set-cookie").is_none(), "no session begun");
    assert_eq!(third.get(&url).await.status, 403);
    let page = third.get(&url).await;
    assert!(page.body.contains("この端末は登録されていません"));

    // Each showing is a new code; the tablet's own flows go on as before.
    let again = path_of(
        &shown_invitation(&mut tablet, &kit, &kit.clinic).await,
        &kit,
    );
    assert_ne!(again, invitation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_admits_only_at_its_institution_and_only_in_time() {
    let kit = Kit::start().await;
    let mut tablet = kit.client();
    let invitation = path_of(
        &shown_invitation(&mut tablet, &kit, &kit.clinic).await,
        &kit,
    );
    let mut phone = tablet.stranger();
    assert_eq!(phone.get(&invitation).await.status, 303);
    assert_eq!(phone.get(&kit.url(&kit.clinic)).await.status, 200);
    // Admitted at the clinic, not at the pharmacy.
    assert_eq!(phone.get(&kit.url(&kit.pharmacy)).await.status, 403);
    let csrf = phone.get(&kit.url(&kit.clinic)).await.input("csrf");
    let refused = phone
        .post_form(
            &format!("{}/registration", kit.url(&kit.pharmacy)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 403);

    // An invitation past its ten minutes opens nothing.
    let device = kit
        .store
        .devices(Some(kit.clinic.id))
        .await
        .unwrap()
        .into_iter()
        .find(|d| !d.is_revoked())
        .unwrap();
    let secret = zaitaku_web::new_url_token().as_str().to_owned();
    let now = OffsetDateTime::now_utc();
    kit.store
        .issue_invitation(&NewInvitation {
            token_hash: hash_id(&secret),
            institution_id: kit.clinic.id,
            device_id: device.id,
            created_at: now - Duration::minutes(11),
            expires_at: now - Duration::minutes(1),
        })
        .await
        .unwrap()
        .then_some(())
        .expect("stored");
    let mut late = tablet.stranger();
    let expired = late.get(&format!("/v/{secret}")).await;
    assert_eq!(expired.status, 410, "{}", expired.body);
    assert!(expired.body.contains("有効期限が切れています"));
    assert_eq!(late.get(&kit.url(&kit.clinic)).await.status, 403);

    // Made-up codes open nothing either.
    for path in [
        "/v/not-a-secret".to_owned(),
        format!("/v/{}", "A".repeat(43)),
    ] {
        let unknown = late.get(&path).await;
        assert_eq!(unknown.status, 404, "{path}");
        assert!(unknown.body.contains("この二次元コードは使えません"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_the_device_ends_its_invitations_and_the_phones_it_let_in() {
    let kit = Kit::start().await;
    let secret = zaitaku_web::new_url_token().as_str().to_owned();
    let tablet_device = kit
        .enrol_device(&secret, &kit.nursing, "訪問用タブレット2")
        .await;
    let mut tablet = Client::new(&kit.base).with_device(&secret);
    let first = path_of(
        &shown_invitation(&mut tablet, &kit, &kit.nursing).await,
        &kit,
    );
    let unopened = path_of(
        &shown_invitation(&mut tablet, &kit, &kit.nursing).await,
        &kit,
    );
    let mut phone = tablet.stranger();
    assert_eq!(phone.get(&first).await.status, 303);
    assert_eq!(phone.get(&kit.url(&kit.nursing)).await.status, 200);
    // A reading the tablet asked for, not yet fetched by any authenticator.
    let walk = started(&mut tablet, &kit, &kit.nursing).await;
    let link = flow::auth_link(&mut tablet, &walk).await;
    // Another, fetched already: the card is being read when the tablet is revoked.
    let card = kit
        .linked_card("在宅　花子", qualification("在宅　花子"))
        .await;
    let mut second = tablet.fresh_with_cookies();
    let reading = started(&mut second, &kit, &kit.nursing).await;
    let (claimed, nonce) = flow::challenge(&mut second, &reading).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;

    kit.store
        .revoke_device(
            tablet_device.id,
            Some(kit.nursing.id),
            &DeviceActor::AdminCli,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap()
        .expect("revoked");
    assert_eq!(phone.get(&kit.url(&kit.nursing)).await.status, 403);
    let mut other = tablet.stranger();
    assert_eq!(other.get(&unopened).await.status, 404);
    // The revoked tablet's reading asks no card of anyone.
    let described = other.get_json(&link).await;
    assert_eq!(described.status, 404, "{}", described.body);
    assert_eq!(described.json()["error"], "unknown_challenge");
    // The card read in the meantime answers nothing either: no qualification
    // is looked up, no consent is written, whatever the claim.
    let answered = other.post_claimed(&claimed, &token).await;
    assert_eq!(answered.status, 404, "{}", answered.body);
    assert_eq!(answered.json()["error"], "unknown_challenge");
    let reported = other
        .post_claimed(&claimed.error(), r#"{"code":"cancelled"}"#)
        .await;
    assert_eq!(reported.status, 404, "{}", reported.body);
    assert!(
        kit.store
            .consent(kit.nursing.id, card.person.unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authenticator_and_the_page_name_the_device_that_asked() {
    let kit = Kit::start().await;
    let secret = zaitaku_web::new_url_token().as_str().to_owned();
    kit.enrol_device(&secret, &kit.clinic, "訪問用タブレット1")
        .await;
    let expected = format!("{}・訪問用タブレット1", kit.clinic.name);

    let mut tablet = Client::new(&kit.base).with_device(&secret);
    let walk = started(&mut tablet, &kit, &kit.clinic).await;
    let page = tablet.get(&format!("{}/authenticate", walk.flow)).await;
    assert!(
        page.body.contains(&format!(
            r#"<strong data-testid="requester">{expected}</strong>"#
        )),
        "{}",
        page.body
    );
    let link = flow::auth_link(&mut tablet, &walk).await;
    let described = tablet.stranger().get_json(&link).await;
    assert_eq!(described.status, 200, "{}", described.body);
    let json = described.json();
    assert_eq!(json["institution"]["device"], "訪問用タブレット1");
    assert_eq!(json["institution"]["name"], kit.clinic.name.as_str());

    // A phone let in by the tablet's invitation asks as the tablet.
    let invitation = path_of(
        &shown_invitation(&mut tablet, &kit, &kit.clinic).await,
        &kit,
    );
    let mut phone = tablet.stranger();
    assert_eq!(phone.get(&invitation).await.status, 303);
    let (_, auth, _) = flow::start_inquiry(&mut phone, &kit, &kit.clinic).await;
    let again = phone.get_claimed(&auth).await;
    assert_eq!(again.json()["institution"]["device"], "訪問用タブレット1");

    // Where anyone may start flows, no device is named.
    let open = kit.open_to_anyone(&kit.pharmacy).await;
    let mut anyone = kit.client().stranger();
    let walk = started(&mut anyone, &kit, &open).await;
    let link = flow::auth_link(&mut anyone, &walk).await;
    let json = anyone.stranger().get_json(&link).await.json();
    assert!(json["institution"].get("device").is_none(), "{json}");
    let page = anyone.get(&format!("{}/authenticate", walk.flow)).await;
    assert!(page.body.contains(&format!(
        r#"<strong data-testid="requester">{}</strong>"#,
        kit.pharmacy.name
    )));
}
