//! URL rotation ends what the old URL started: once the console gives the
//! institution a new URL, every flow begun from the old one stops at its next
//! step (pages, forms, the status, the authenticator API), with a page saying
//! the URL is no longer valid, and nothing of theirs shows the new URL.

use crate::common;

use common::console::{console_login, staff_account};
use common::flow::{self, ALL_AGREE};
use common::{Client, Kit, qualification, sign};
use zaitaku_domain::StaffRole;

/// The console's 「URLを再発行する」; the new URL token.
async fn rotate(kit: &Kit) -> String {
    let credentials = staff_account(kit, &kit.clinic, StaffRole::Administrator).await;
    let mut admin = console_login(kit, &credentials).await;
    let page = admin.get("/console/settings/rotate-url").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let rotated = admin
        .post_form(
            "/console/settings/rotate-url",
            &[("csrf", &page.input("csrf"))],
        )
        .await;
    assert_eq!(rotated.status, 303, "{}", rotated.body);
    let stored = kit.store.institution(kit.clinic.id).await.unwrap().unwrap();
    assert_ne!(stored.url_token, kit.clinic.url_token);
    stored.url_token.as_str().to_owned()
}

/// Refused as an ended URL, with nothing of the new one.
fn refused(response: &common::Response, new_token: &str, what: &str) {
    assert_eq!(response.status, 410, "{what}: {}", response.body);
    assert!(
        !response.body.contains(new_token),
        "{what} shows the new URL"
    );
}

fn refused_page(response: &common::Response, new_token: &str, what: &str) {
    refused(response, new_token, what);
    assert!(
        response.body.contains("このURLは無効になりました"),
        "{what}: {}",
        response.body
    );
    assert!(
        !response.body.contains("/i/"),
        "{what} links to no institution URL"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_begun_from_a_rotated_url_stop_at_their_next_step() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    // One flow at its selection, one waiting for its card (claimed by an
    // authenticator), one finished with its result on screen.
    let mut selecting: Client = kit.client();
    let choosing = flow::start(&mut selecting, &kit, &kit.clinic).await;
    let mut waiting = kit.client();
    let (waiting_walk, auth, nonce) =
        flow::until_authentication(&mut waiting, &kit, &kit.clinic, ALL_AGREE).await;
    let mut finished = kit.client();
    let (done_walk, done_auth, done_nonce) =
        flow::until_authentication(&mut finished, &kit, &kit.clinic, ALL_AGREE).await;
    let other = kit.linked_card("sato", qualification("佐藤 花子")).await;
    let token = sign(&other.path, &kit.origin, &done_nonce).await;
    assert_eq!(
        finished
            .fresh()
            .post_claimed(&done_auth, &token)
            .await
            .status,
        200
    );
    assert_eq!(
        finished
            .get(&format!("{}/complete", done_walk.flow))
            .await
            .status,
        200
    );

    let new_token = rotate(&kit).await;

    // The next step of each: its pages, its forms, its status.
    let chosen = flow::choose(&mut selecting, &choosing, ALL_AGREE).await;
    refused_page(&chosen, &new_token, "selection POST");
    for path in [format!("{}/select", choosing.flow), choosing.flow.clone()] {
        refused_page(&selecting.get(&path).await, &new_token, &path);
    }
    for path in [
        format!("{}/authenticate", waiting_walk.flow),
        format!("{}/authenticate/code.svg", waiting_walk.flow),
        format!("{}/confirm", waiting_walk.flow),
    ] {
        refused_page(&waiting.get(&path).await, &new_token, &path);
    }
    let status = waiting
        .get(&format!("{}/status?wait=claimed", waiting_walk.flow))
        .await;
    refused(&status, &new_token, "status");
    let retry = waiting
        .post_form(
            &format!("{}/confirm", waiting_walk.flow),
            &[("csrf", &waiting_walk.csrf)],
        )
        .await;
    refused_page(&retry, &new_token, "confirmation POST");
    let complete = finished.get(&format!("{}/complete", done_walk.flow)).await;
    refused_page(&complete, &new_token, "complete page");
    assert!(!complete.body.contains("佐藤"), "no personal data");

    // The authenticator API: describe, answer and report for its challenge.
    let described = waiting.fresh().get_claimed(&auth).await;
    refused(&described, &new_token, "describe");
    assert_eq!(described.json()["error"], "url_changed");
    let token = sign(&card.path, &kit.origin, &nonce).await;
    let answered = waiting.fresh().post_claimed(&auth, &token).await;
    refused(&answered, &new_token, "submit");
    assert_eq!(answered.json()["error"], "url_changed");
    let reported = waiting
        .fresh()
        .post_claimed(&auth.error(), r#"{"code":"pin_blocked"}"#)
        .await;
    refused(&reported, &new_token, "report");
    assert!(
        kit.store
            .consent(kit.clinic.id, card.person.unwrap())
            .await
            .unwrap()
            .is_none(),
        "nothing registered after the rotation"
    );

    // The new URL starts flows as before.
    let mut fresh = kit.client();
    let page = fresh.get(&format!("/i/{new_token}")).await;
    assert_eq!(page.status, 200);
}
