//! What the patient flows (a phone's through an invitation too) and the
//! console's reads cost the database: on SQLite, every statement they
//! use is compiled once per connection and then only re-bound. A statement
//! whose plan depended on a bound value (a join beside a partial index) is
//! compiled again for every new binding: a full parse on each request, which
//! no other test notices.

use crate::common;

use common::console::{console_login, staff_account};
use common::flow::{self, ALL_AGREE};
use common::{Kit, qualification, sign};
use zaitaku_domain::StaffRole;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_flows_and_the_console_compile_each_statement_once() {
    let kit = Kit::start().await;
    let yamada = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let sato = kit.linked_card("sato", qualification("佐藤 花子")).await;
    // Two of each, so every statement meets a second binding.
    for _ in 0..2 {
        let mut browser = kit.client();
        flow::register(&mut browser, &kit, &kit.clinic, &yamada.path, ALL_AGREE).await;
        let mut other = kit.client();
        flow::register(&mut other, &kit, &kit.clinic, &sato.path, ALL_AGREE).await;

        // Flow B: view, then save a change.
        let (walk, _) = flow::view(&mut browser, &kit, &kit.clinic, &yamada.path).await;
        flow::revise(
            &mut browser,
            &walk,
            &[("YZK", "1"), ("SRJ", "0"), ("TKK", "1")],
        )
        .await;
        let (auth, nonce) = flow::confirm_update(&mut browser, &walk).await;
        let token = sign(&yamada.path, &kit.origin, &nonce).await;
        assert_eq!(
            browser.fresh().post_claimed(&auth, &token).await.status,
            200
        );
        let done = browser.get(&format!("{}/complete", walk.flow)).await;
        assert_eq!(done.status, 200);

        // A patient's phone, let in by the tablet's 2D code, views the consent.
        let page = browser.get(&format!("{}/qr", kit.url(&kit.clinic))).await;
        let shown = common::qr::attribute(&page.body, "<div class=\"qr__image", "data-url");
        let mut phone = browser.stranger();
        let opened = phone.get(shown.trim_start_matches(&kit.base)).await;
        assert_eq!(opened.status, 303, "{}", opened.body);
        flow::view(&mut phone, &kit, &kit.clinic, &yamada.path).await;

        // Flow C: revoke.
        let (walk, auth, nonce) =
            flow::revoke_until_authentication(&mut other, &kit, &kit.clinic).await;
        let token = sign(&sato.path, &kit.origin, &nonce).await;
        assert_eq!(other.fresh().post_claimed(&auth, &token).await.status, 200);
        let done = other.get(&format!("{}/complete", walk.flow)).await;
        assert_eq!(done.status, 200);
    }

    // The console's reads, each logged (an append to the access log's chain).
    let credentials = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut console = console_login(&kit, &credentials).await;
    for card in [&yamada, &sato, &yamada, &sato, &yamada, &sato] {
        let page = format!("/console/patients/{}", card.person.unwrap().0);
        for path in [
            "/console/patients",
            "/console/patients?name=%E5%B1%B1%E7%94%B0",
            page.as_str(),
            "/console/access-log",
            "/console/logins",
            "/console/devices",
        ] {
            let shown = console.get(path).await;
            assert_eq!(shown.status, 200, "{path}: {}", shown.body);
        }
    }
    let again = kit.store.statements_compiled_again().await.unwrap();
    assert!(
        again.is_empty(),
        "compiled again on every new binding:\n{}",
        again
            .iter()
            .map(|(sql, times)| format!("{times}× {sql}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
