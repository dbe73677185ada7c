//! The menu at the top of every patient screen (the manual: 「職員は画面上部にある
//! メニューボタンをタップしてください。」): on each screen of flows A, B and C, the
//! four entries for that institution with this session's CSRF token; its forms
//! really start flows A, B and C; without the token they are refused. Pages that
//! belong to no institution (the FAQ, error pages) have no menu.

use crate::common;

use common::flow::{self, Walk};
use common::{Claimed, Client, Kit, Response, qualification, sign};
use zaitaku_card::test_ca::LeafSpec;
use zaitaku_domain::Institution;

/// One entry of the menu as served.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    /// A POST form with one hidden field, `csrf`, and a `.menu__link` button.
    Form {
        label: String,
        action: String,
        csrf: String,
    },
    /// A plain `.menu__link` link.
    Link { label: String, href: String },
}

/// `text` between the first `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {text}"))
        + start.len();
    let to = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("no {end} after {start} in {text}"))
        + from;
    &text[from..to]
}

/// The value of `name="…"` in the first tag of `html` that starts with `tag`.
fn attribute(html: &str, tag: &str, name: &str) -> String {
    let element = between(html, tag, ">");
    between(element, &format!(" {name}=\""), "\"").to_owned()
}

/// The page's menu: exactly one, inside the site header, a `<details>` whose
/// summary is the button, with a labelled navigation holding the entries.
fn menu(page: &Response) -> Vec<Entry> {
    let body = &page.body;
    assert_eq!(
        body.matches("<details class=\"menu\">").count(),
        1,
        "one menu: {body}"
    );
    let header = between(body, "<header class=\"site-header\">", "</header>");
    let details = between(header, "<details class=\"menu\">", "</details>");
    assert!(
        details.starts_with("\n<summary class=\"menu__button\">メニュー</summary>"),
        "the summary is the menu button: {details}"
    );
    assert_eq!(attribute(details, "<nav", "class"), "menu__panel");
    assert_eq!(attribute(details, "<nav", "aria-label"), "メニュー");
    let list = between(details, "<ul class=\"menu__list\">", "</ul>");
    list.split("<li>")
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let item = item.strip_suffix("</li>").expect("one entry per <li>");
            if item.starts_with("<form") {
                assert_eq!(attribute(item, "<form", "method"), "post", "{item}");
                assert_eq!(item.matches("<input").count(), 1, "only the token: {item}");
                assert_eq!(attribute(item, "<input", "type"), "hidden", "{item}");
                assert_eq!(attribute(item, "<input", "name"), "csrf", "{item}");
                assert_eq!(attribute(item, "<button", "class"), "menu__link", "{item}");
                assert_eq!(attribute(item, "<button", "type"), "submit", "{item}");
                Entry::Form {
                    label: between(item, "type=\"submit\">", "</button>").to_owned(),
                    action: attribute(item, "<form", "action"),
                    csrf: attribute(item, "<input", "value"),
                }
            } else {
                assert_eq!(attribute(item, "<a", "class"), "menu__link", "{item}");
                Entry::Link {
                    label: between(item, "\">", "</a>").to_owned(),
                    href: attribute(item, "<a", "href"),
                }
            }
        })
        .collect()
}

/// What the menu must be on every screen of `institution` in a session whose
/// token is `csrf`: the manual's four entries, word for word, in its order.
fn expected(kit: &Kit, institution: &Institution, csrf: &str) -> Vec<Entry> {
    let url = kit.url(institution);
    let form = |label: &str, path: &str| Entry::Form {
        label: label.to_owned(),
        action: format!("{url}/{path}"),
        csrf: csrf.to_owned(),
    };
    vec![
        form("同意登録", "registration"),
        form("同意照会・更新", "inquiry"),
        form("すべての同意を取消す", "revocation"),
        Entry::Link {
            label: "よくあるご質問".to_owned(),
            href: "/faq".to_owned(),
        },
    ]
}

fn assert_menu(kit: &Kit, page: &Response, institution: &Institution, csrf: &str, screen: &str) {
    // 422: the selection shown again with its errors.
    assert!(
        matches!(page.status, 200 | 422),
        "{screen}: {} {}",
        page.status,
        page.body
    );
    assert_eq!(
        menu(page),
        expected(kit, institution, csrf),
        "{screen} at {}",
        institution.name
    );
}

/// The session's token as the page's own form carries it (outside the menu).
fn main_csrf(page: &Response) -> String {
    let main = between(&page.body, "<main", "</main>");
    between(main, "name=\"csrf\" value=\"", "\"").to_owned()
}

fn answers(institution: &Institution) -> Vec<(&'static str, &'static str)> {
    let mut answers = vec![("YZK", "1"), ("SRJ", "1"), ("TKK", "1")];
    if institution.asks_prescription_form() {
        answers.push(("prescription_form", "1"));
    }
    answers
}

/// Sign the flow's challenge with `card` and open the screen it ends on.
async fn finish(client: &mut Client, kit: &Kit, walk: &Walk, card: &std::path::Path) -> Response {
    let (auth, nonce) = flow::challenge(client, walk).await;
    answer(client, kit, walk, card, &auth, &nonce).await
}

/// Answer the fetched challenge at `auth` with `card`, and show where the flow went.
async fn answer(
    client: &mut Client,
    kit: &Kit,
    walk: &Walk,
    card: &std::path::Path,
    auth: &Claimed,
    nonce: &str,
) -> Response {
    let token = sign(card, &kit.origin, nonce).await;
    client.fresh().post_claimed(auth, &token).await;
    client.get(&format!("{}/complete", walk.flow)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_of_flows_a_b_and_c_carries_the_menu_of_its_institution() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let (unlinked, _) = kit.new_card("unlinked", &kit.ca, LeafSpec::jpki_auth(365).unwrap());
    let mut tokens = Vec::new();
    for institution in [&kit.clinic_e, &kit.pharmacy] {
        // Each institution in its own browser.
        let mut browser = kit.client();
        let url = kit.url(institution);
        let check = |page: &Response, screen: &str, csrf: &str| {
            assert_menu(&kit, page, institution, csrf, screen);
        };

        let prepare = browser.get(&url).await;
        let csrf = main_csrf(&prepare);
        check(&prepare, "prepare", &csrf);
        assert!(
            !prepare
                .body
                .contains("<h2 class=\"panel__title\">登録済みの同意"),
            "flow C starts from the menu, not from a panel of its own"
        );
        check(&browser.get(&format!("{url}/qr")).await, "qr", &csrf);

        // Flow A: selection (and its answer with errors), confirmation,
        // authentication, completion.
        let walk = flow::start(&mut browser, &kit, institution).await;
        assert_eq!(walk.csrf, csrf);
        let select = browser.get(&format!("{}/select", walk.flow)).await;
        assert_eq!(main_csrf(&select), csrf);
        check(&select, "select", &csrf);
        let unanswered = flow::choose(&mut browser, &walk, &[("YZK", "1")]).await;
        assert_eq!(unanswered.status, 422);
        check(&unanswered, "select with errors", &csrf);
        let chosen = flow::choose(&mut browser, &walk, &answers(institution)).await;
        assert_eq!(chosen.status, 303, "{}", chosen.body);
        check(
            &browser.get(&format!("{}/confirm", walk.flow)).await,
            "confirm",
            &csrf,
        );
        assert_eq!(flow::confirm(&mut browser, &walk).await.status, 303);
        check(
            &browser.get(&format!("{}/authenticate", walk.flow)).await,
            "authenticate",
            &csrf,
        );
        let complete = finish(&mut browser, &kit, &walk, &card.path).await;
        assert!(complete.body.contains("登録完了"), "{}", complete.body);
        check(&complete, "complete", &csrf);

        // Flow A ending in failure: a card not registered for insurance use.
        let (walk, auth, nonce) =
            flow::until_authentication(&mut browser, &kit, institution, &answers(institution))
                .await;
        let failed = answer(&mut browser, &kit, &walk, &unlinked, &auth, &nonce).await;
        assert!(failed.body.contains("健康保険証利用の登録がありません"));
        check(&failed, "failed", &csrf);

        // Flow B: the card to view, the edit screen (and its "nothing changed"),
        // the confirmation, the card to save, done.
        let (walk, auth, nonce) = flow::start_inquiry(&mut browser, &kit, institution).await;
        let viewing = browser.get(&format!("{}/authenticate", walk.flow)).await;
        check(&viewing, "authenticate (flow B, view)", &csrf);
        let token = sign(&card.path, &kit.origin, &nonce).await;
        assert_eq!(
            browser.fresh().post_claimed(&auth, &token).await.status,
            200
        );
        check(
            &browser.get(&format!("{}/update", walk.flow)).await,
            "update",
            &csrf,
        );
        let unchanged = flow::revise(&mut browser, &walk, &answers(institution)).await;
        assert_eq!(unchanged.status, 422);
        check(&unchanged, "update unchanged", &csrf);
        let mut changed = answers(institution);
        changed[0].1 = "0";
        assert_eq!(
            flow::revise(&mut browser, &walk, &changed).await.status,
            303
        );
        check(
            &browser.get(&format!("{}/update/confirm", walk.flow)).await,
            "update confirm",
            &csrf,
        );
        let (auth, nonce) = flow::confirm_update(&mut browser, &walk).await;
        check(
            &browser.get(&format!("{}/authenticate", walk.flow)).await,
            "authenticate (flow B, save)",
            &csrf,
        );
        let token = sign(&card.path, &kit.origin, &nonce).await;
        assert_eq!(
            browser.fresh().post_claimed(&auth, &token).await.status,
            200
        );
        let updated = browser.get(&format!("{}/complete", walk.flow)).await;
        assert!(
            updated.body.contains("の更新が完了しました"),
            "{}",
            updated.body
        );
        check(&updated, "updated", &csrf);

        // Flow C: confirmation, authentication, done.
        let (walk, confirm) = flow::start_revocation(&mut browser, &kit, institution).await;
        check(&confirm, "revoke confirm", &csrf);
        assert_eq!(main_csrf(&confirm), csrf);
        assert_eq!(
            flow::confirm_revocation(&mut browser, &walk).await.status,
            303
        );
        let waiting = browser.get(&format!("{}/authenticate", walk.flow)).await;
        check(&waiting, "authenticate (flow C)", &csrf);
        let revoked = finish(&mut browser, &kit, &walk, &card.path).await;
        assert!(
            revoked.body.contains("取消しが完了しました"),
            "{}",
            revoked.body
        );
        check(&revoked, "revoked", &csrf);

        tokens.push(csrf);
    }
    assert_ne!(tokens[0], tokens[1], "each browser has its own token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menu_starts_flows_a_b_and_c_from_any_screen() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let walk = flow::start(&mut browser, &kit, &kit.clinic).await;
    let select = browser.get(&format!("{}/select", walk.flow)).await;
    let entries = menu(&select);
    let post = |label: &str| {
        entries
            .iter()
            .find_map(|e| match e {
                Entry::Form {
                    label: l,
                    action,
                    csrf,
                } if l == label => Some((action.clone(), csrf.clone())),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {label} in the menu"))
    };

    // 「すべての同意を取消す」, in the middle of flow A: flow C's confirmation.
    let (action, csrf) = post("すべての同意を取消す");
    let started = browser.post_form(&action, &[("csrf", &csrf)]).await;
    assert_eq!(started.status, 303, "{}", started.body);
    let revoke = started.location().to_owned();
    assert!(
        revoke.starts_with("/f/") && revoke.ends_with("/revoke"),
        "{revoke}"
    );
    assert!(!revoke.starts_with(&walk.flow), "a new flow");
    let page = browser.get(&revoke).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("<h1 class=\"page-title\">登録内容の取消し確認</h1>")
    );
    assert!(page.body.contains("紙の診療所"));

    // 「同意照会・更新」: a new flow B, straight at its first card.
    let inquiry = menu(&page)
        .into_iter()
        .find_map(|e| match e {
            Entry::Form {
                label,
                action,
                csrf,
            } if label == "同意照会・更新" => Some((action, csrf)),
            _ => None,
        })
        .expect("同意照会・更新 in the menu");
    let started = browser.post_form(&inquiry.0, &[("csrf", &inquiry.1)]).await;
    assert_eq!(started.status, 303, "{}", started.body);
    assert!(started.location().ends_with("/authenticate"));
    let viewing = browser.get(started.location()).await;
    assert!(viewing.body.contains("読み取り開始"));

    // 「同意登録」 from flow C's confirmation: a new flow A at its selection.
    let entries = menu(&page);
    let Some(Entry::Form { action, csrf, .. }) = entries.first() else {
        panic!("同意登録 is the first entry: {entries:?}");
    };
    let started = browser.post_form(action, &[("csrf", csrf)]).await;
    assert_eq!(started.status, 303, "{}", started.body);
    let select = started.location().to_owned();
    assert!(
        select.starts_with("/f/") && select.ends_with("/select"),
        "{select}"
    );
    let flows = [
        walk.flow.as_str(),
        revoke.trim_end_matches("/revoke"),
        select.trim_end_matches("/select"),
    ];
    assert!(
        flows[0] != flows[1] && flows[1] != flows[2] && flows[0] != flows[2],
        "three flows: {flows:?}"
    );
    let page = browser.get(&select).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("<h1 class=\"page-title\">同意内容の選択</h1>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("同意内容を確認する"));

    // The flow that was left behind is still there, at its own step.
    let left = browser.get(&walk.flow).await;
    assert_eq!(left.location(), format!("{}/select", walk.flow));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_menus_forms_without_this_sessions_token_are_refused() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let url = kit.url(&kit.clinic);
    let prepare = browser.get(&url).await;
    let mut other = kit.client();
    let foreign = main_csrf(&other.get(&url).await);
    assert_ne!(foreign, main_csrf(&prepare));
    let actions: Vec<String> = menu(&prepare)
        .into_iter()
        .filter_map(|e| match e {
            Entry::Form { action, .. } => Some(action),
            Entry::Link { .. } => None,
        })
        // Flow B's route is not part of this change.
        .filter(|action| !action.ends_with("/inquiry"))
        .collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    for action in actions {
        let no_field = browser.post_form(&action, &[]).await;
        let empty = browser.post_form(&action, &[("csrf", "")]).await;
        let other_session = browser.post_form(&action, &[("csrf", &foreign)]).await;
        for (what, refused) in [
            ("no token", no_field),
            ("an empty token", empty),
            ("another session's token", other_session),
        ] {
            assert_eq!(refused.status, 403, "{action} with {what}");
            assert!(refused.header("location").is_none(), "{action} with {what}");
            assert!(
                refused.body.contains("画面の有効期限が切れました"),
                "{action} with {what}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_no_institution_have_no_menu() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let walk = flow::start(&mut browser, &kit, &kit.clinic).await;
    let faq = browser.get("/faq").await;
    let missing = browser.get("/nowhere").await;
    let unknown = browser.get(&format!("/i/{}", "A".repeat(43))).await;
    let foreign = kit.client().get(&format!("{}/select", walk.flow)).await;
    let forged = browser
        .post_form(&format!("{}/registration", kit.url(&kit.clinic)), &[])
        .await;
    for (what, page, status) in [
        ("the FAQ", &faq, 200),
        ("not found", &missing, 404),
        ("an unknown institution", &unknown, 404),
        ("another browser's flow", &foreign, 404),
        ("a form without its token", &forged, 403),
    ] {
        assert_eq!(page.status, status, "{what}: {}", page.body);
        assert!(!page.body.contains("class=\"menu"), "{what}: {}", page.body);
        assert!(
            page.body
                .contains(r#"<a class="site-footer__link" href="/faq">よくあるご質問</a>"#),
            "{what} still links to the FAQ"
        );
    }
}
