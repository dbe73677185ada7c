//! Bad input, tampering, replays and other sessions: a clear answer, nothing written.

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::{Kit, qualification, sign};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_invalid_and_duplicated_answers_are_refused() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let walk = flow::start(&mut browser, &kit, &kit.clinic_e).await;
    let missing = flow::choose(&mut browser, &walk, &[("YZK", "1"), ("SRJ", "0")]).await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("選択されていない項目があります"));
    assert!(
        missing
            .body
            .contains("電子処方箋か紙の処方箋かを選択してください")
    );
    assert!(
        missing
            .body
            .contains(r#"name="YZK" value="1" required checked"#),
        "answers kept"
    );
    assert!(
        missing.body.contains(r#"name="SRJ" value="0" checked"#),
        "answers kept"
    );
    for tampered in [
        vec![
            ("YZK", "2"),
            ("SRJ", "1"),
            ("TKK", "1"),
            ("prescription_form", "1"),
        ],
        vec![
            ("YZK", "1"),
            ("SRJ", "1"),
            ("TKK", "1"),
            ("prescription_form", "3"),
        ],
        vec![
            ("YZK", "1"),
            ("YZK", "0"),
            ("SRJ", "1"),
            ("TKK", "1"),
            ("prescription_form", "1"),
        ],
    ] {
        let refused = flow::choose(&mut browser, &walk, &tampered).await;
        assert_eq!(refused.status, 422, "{tampered:?}");
    }
    // Still at the selection: the confirmation screen sends the browser back there.
    let confirm = browser.get(&format!("{}/confirm", walk.flow)).await;
    assert_eq!(confirm.location(), format!("{}/select", walk.flow));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_this_sessions_token_or_from_other_sites_are_refused() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let walk = flow::start(&mut browser, &kit, &kit.clinic).await;
    let mut answers = vec![("csrf", "")];
    answers.extend_from_slice(ALL_AGREE);
    let no_token = browser
        .post_form(&format!("{}/select", walk.flow), &answers)
        .await;
    assert_eq!(no_token.status, 403);
    assert!(no_token.body.contains("画面の有効期限が切れました"));

    // Another browser's token does not open this one's flow, nor the other way.
    let mut other = kit.client();
    let other_walk = flow::start(&mut other, &kit, &kit.clinic).await;
    answers[0] = ("csrf", other_walk.csrf.as_str());
    let wrong_token = browser
        .post_form(&format!("{}/select", walk.flow), &answers)
        .await;
    assert_eq!(wrong_token.status, 403);
    let foreign = other.get(&format!("{}/select", walk.flow)).await;
    assert_eq!(foreign.status, 404);
    assert!(foreign.body.contains("手続きが見つかりません"));
    let foreign_post = flow::choose(&mut other, &walk, ALL_AGREE).await;
    assert!(foreign_post.status == 403 || foreign_post.status == 404);

    let cross_site = browser
        .request(
            "POST",
            &format!("{}/select", walk.flow),
            Some("application/x-www-form-urlencoded"),
            common::http::form_encode(&[
                ("csrf", &walk.csrf),
                ("YZK", "1"),
                ("SRJ", "1"),
                ("TKK", "1"),
            ])
            .as_bytes(),
            &[("Sec-Fetch-Site", "cross-site")],
        )
        .await;
    assert_eq!(cross_site.status, 403);
    let confirm = browser.get(&format!("{}/confirm", walk.flow)).await;
    assert_eq!(confirm.status, 303, "nothing moved the flow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_submits_stale_confirmations_and_replays_write_once() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut browser = kit.client();
    let walk = flow::start(&mut browser, &kit, &kit.clinic).await;
    flow::choose(&mut browser, &walk, ALL_AGREE).await;
    let confirm_page = browser.get(&format!("{}/confirm", walk.flow)).await;
    let seen = confirm_page.input("choices");

    // Another tab changes the choices: the first tab's confirmation is stale.
    flow::choose(
        &mut browser,
        &walk,
        &[("YZK", "0"), ("SRJ", "1"), ("TKK", "1")],
    )
    .await;
    let stale = browser
        .post_form(
            &format!("{}/confirm", walk.flow),
            &[("csrf", &walk.csrf), ("choices", &seen)],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("選択内容が変わっています"));

    // A double click on 「同意内容を登録する」 makes one challenge, not two.
    flow::confirm(&mut browser, &walk).await;
    let shown = flow::auth_link(&mut browser, &walk).await;
    flow::confirm(&mut browser, &walk).await;
    assert_eq!(flow::auth_link(&mut browser, &walk).await, shown);
    let (first, nonce) = flow::challenge(&mut browser, &walk).await;
    assert_eq!(first.path, shown);

    // A token that is not one: refused, and the challenge stays usable.
    let junk = browser.fresh().post_claimed(&first, "{\"hello\":1}").await;
    assert_eq!(junk.status, 400);
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&first, &token).await.status,
        200
    );
    assert_eq!(
        browser.fresh().post_claimed(&first, &token).await.status,
        409
    );
    let consent = kit
        .store
        .consent(kit.clinic.id, card.person.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kit.store.consent_history(consent.id).await.unwrap().len(),
        1
    );
    assert_eq!(
        consent
            .choices
            .agreed(zaitaku_domain::ConsentItem::Medication),
        Some(false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn going_back_cancels_the_challenge_and_relayed_tokens_are_refused() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    let mut browser = kit.client();
    let (walk, auth, nonce) =
        flow::until_authentication(&mut browser, &kit, &kit.pharmacy, ALL_AGREE).await;
    // 「選択内容を修正する」 after the challenge was made: the old one is dead.
    let select = browser.get(&format!("{}/select", walk.flow)).await;
    assert_eq!(select.status, 200);
    flow::choose(&mut browser, &walk, ALL_AGREE).await;
    let token = sign(&card.path, &kit.origin, &nonce).await;
    assert_eq!(
        browser.fresh().post_claimed(&auth, &token).await.status,
        409
    );

    // A token made for another site (a relay) does not pass here.
    flow::confirm(&mut browser, &walk).await;
    let (auth, nonce) = flow::challenge(&mut browser, &walk).await;
    let elsewhere = zaitaku_card::Origin::parse("https://evil.example").unwrap();
    let relayed = sign(&card.path, &elsewhere, &nonce).await;
    let refused = browser.fresh().post_claimed(&auth, &relayed).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.json()["error"], "signature_invalid");
    assert!(
        kit.store
            .consent(kit.pharmacy.id, card.person.unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_strict_policy_and_no_inline_script() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let page = browser.get(&kit.url(&kit.clinic_e)).await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let cookie = page.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(!page.body.contains("style="), "no inline style");
    assert_eq!(browser.get("/assets/style.css").await.status, 200);

    // Outside demo mode there is no index and no demo reader.
    assert_eq!(browser.get("/").await.status, 404);
    assert_eq!(
        browser
            .get("/demo/reader/AAAAAAAAAAAAAAAAAAAAAA")
            .await
            .status,
        404
    );
    let unknown = browser.get(&format!("/i/{}", "A".repeat(43))).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("ページが見つかりません"));
    assert!(unknown.body.contains("問い合わせ番号"));
}

/// The head of a raw exchange: status line and headers, whatever the body.
async fn raw_exchange(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut raw),
    )
    .await
    .expect("an answer within 20 s");
    String::from_utf8_lossy(&raw).into_owned()
}

fn assert_security_headers(answer: &str) {
    let lower = answer.to_ascii_lowercase();
    for header in [
        "content-security-policy: default-src 'none'",
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "referrer-policy: no-referrer",
        "cache-control: no-store",
    ] {
        assert!(lower.contains(header), "{header} missing in:\n{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_gets_413_with_the_security_headers() {
    let kit = Kit::start().await;
    let host = kit.base.trim_start_matches("http://");
    // The limit is judged on the declared length: no body needs to be sent.
    let answer = raw_exchange(
        &kit.base,
        &format!(
            "POST {}/registration HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\r\n",
            kit.url(&kit.clinic_e)
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_security_headers(&answer);
}

fn get_with_host(path: &str, host: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

/// The same from the kit's enrolled device (its cookie under both names), so
/// the institution page answers 200 where the host is right.
fn device_get_with_host(kit: &Kit, path: &str, host: &str) -> String {
    let secret = &kit.device_secret;
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Cookie: zaitaku_device={secret}; __Host-zaitaku_device={secret}\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_must_be_the_public_origins() {
    let kit = Kit::start().await;
    let port = kit.base.rsplit(':').next().unwrap().to_owned();
    let page = kit.url(&kit.clinic_e);
    for (host, expected) in [
        (format!("127.0.0.1:{port}"), "200"),
        // Another loopback name for a loopback origin: development keeps working.
        (format!("localhost:{port}"), "200"),
        (format!("127.0.0.2:{port}"), "200"),
        // DNS rebinding: a stranger's name pointing at this address.
        (format!("evil.example.jp:{port}"), "421"),
        (format!("127.0.0.1.example.jp:{port}"), "421"),
        ("evil.example.jp".to_owned(), "421"),
        // A loopback origin is one machine: another process's port on it, or
        // a local proxy's, reaches the same service.
        (
            format!("127.0.0.1:{}", port.parse::<u16>().unwrap() ^ 1),
            "200",
        ),
        ("127.0.0.1".to_owned(), "200"),
    ] {
        let answer = raw_exchange(&kit.base, &device_get_with_host(&kit, &page, &host)).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {expected}")),
            "{host}: {answer}"
        );
        assert_security_headers(&answer);
        assert!(
            !answer
                .to_ascii_lowercase()
                .contains("strict-transport-security"),
            "no HSTS on plain http"
        );
    }
    let refused = raw_exchange(&kit.base, &get_with_host(&page, "evil.example.jp")).await;
    assert!(
        refused.contains("このアドレスではご利用いただけません"),
        "{refused}"
    );
    // No Host at all (HTTP/1.0): refused too.
    let answer = raw_exchange(&kit.base, &format!("GET {page} HTTP/1.0\r\n\r\n")).await;
    assert!(
        answer.starts_with("HTTP/1.0 421") || answer.starts_with("HTTP/1.1 421"),
        "{answer}"
    );
    // Probes may name the address they reach.
    let health = raw_exchange(&kit.base, &get_with_host("/healthz", "10.0.0.7:8080")).await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_origin_gets_hsts_and_its_own_host_only() {
    let origin = zaitaku_card::Origin::parse("https://zaitaku.example.jp").unwrap();
    let kit = Kit::start_with(common::Options {
        origin: Some(origin),
        ..common::Options::default()
    })
    .await;
    let page = kit.url(&kit.clinic_e);
    for (host, expected) in [
        ("zaitaku.example.jp", "200"),
        ("zaitaku.example.jp:443", "200"),
        ("ZAITAKU.example.jp", "200"),
        ("zaitaku.example.jp:8443", "421"),
        ("other.example.jp", "421"),
        // Behind a proxy, the address the proxy reaches is not the origin.
        (kit.base.trim_start_matches("http://"), "421"),
        ("localhost", "421"),
    ] {
        let answer = raw_exchange(&kit.base, &device_get_with_host(&kit, &page, host)).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {expected}")),
            "{host}: {answer}"
        );
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("strict-transport-security: max-age=31536000"),
            "{host}: {answer}"
        );
        assert_security_headers(&answer);
    }
}
