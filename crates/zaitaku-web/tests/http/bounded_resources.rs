//! Bounded resources (issue 17): a request that starts nothing writes nothing;
//! flows, challenges and waiting status requests over their caps are refused
//! with nothing written; costly requests are limited per client, and the
//! client is read from `X-Forwarded-For` only when a trusted proxy sent it.

use crate::common;
use zaitaku_store::invitations::OPEN_INVITATIONS_PER_DEVICE;

use common::flow::{self, ALL_AGREE, Walk};
use common::{Client, Kit, Options, Response};
use std::time::Duration;
use zaitaku_store::Caps;
use zaitaku_web::{Limits, PollCaps, Rate, TrustedProxies};

async fn rows(kit: &Kit) -> Vec<(String, i64)> {
    kit.store.row_counts().await.unwrap()
}

async fn start_with(caps: Limits) -> Kit {
    Kit::start_with(Options {
        caps,
        ..Options::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_cookieless_gets_write_no_rows() {
    const GETS: usize = 10_000;
    const TASKS: usize = 8;
    let kit = Kit::start().await;
    let institution = kit.url(&kit.clinic);
    let paths: Vec<String> = vec![
        institution.clone(),
        format!("{institution}/qr"),
        "/".into(),
        "/faq".into(),
        "/no/such/page".into(),
        "/i/not-an-institution-token-at-all-xxxxxxxxxxxxxx".into(),
        "/f/AAAAAAAAAAAAAAAAAAAAAA/select".into(),
        "/assets/style.css".into(),
        "/assets/auth.js".into(),
        "/console/login".into(),
    ];
    let before = rows(&kit).await;
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let client = kit.client();
            let paths = paths.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for n in 0..GETS / TASKS {
                    let path = &paths[(task + n) % paths.len()];
                    let answer = client.fresh().get(path).await;
                    answers.push((path.clone(), answer.status));
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.unwrap());
    }
    assert_eq!(answers.len(), GETS);
    for (path, status) in &answers {
        assert!(*status < 500, "{path}: {status}");
        if *path == institution {
            assert_eq!(*status, 200, "{path}");
        }
    }
    // The one exception: the 2D-code page of an enrolled device (these clients
    // are the kit's tablet) stores the invitation it shows, at most
    // OPEN_INVITATIONS_PER_DEVICE at once; past that it says 開いている手続きが多すぎます.
    let after = rows(&kit).await;
    let invitations = |rows: &[(String, i64)]| {
        rows.iter()
            .find(|(table, _)| table == "invitations")
            .map(|(_, n)| *n)
            .unwrap()
    };
    assert_eq!(invitations(&after), OPEN_INVITATIONS_PER_DEVICE);
    let qr = format!("{institution}/qr");
    let refused = answers
        .iter()
        .filter(|(p, s)| *p == qr && *s == 429)
        .count() as i64;
    let shown = answers
        .iter()
        .filter(|(p, s)| *p == qr && *s == 200)
        .count() as i64;
    assert_eq!((shown, refused > 0), (OPEN_INVITATIONS_PER_DEVICE, true));
    let others = |rows: &[(String, i64)]| {
        rows.iter()
            .filter(|(table, _)| table != "invitations")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(others(&after), others(&before), "no other GET wrote a row");

    // The page's form still works: its session is stored with the first flow.
    let mut browser = kit.client();
    let page = browser.get(&institution).await;
    assert!(
        page.header("set-cookie")
            .is_some_and(|c| c.starts_with("zaitaku_session=")),
        "the browser gets its session id at once"
    );
    let walk = flow::start(&mut browser, &kit, &kit.clinic).await;
    let written: i64 = others(&rows(&kit).await)
        .iter()
        .zip(&others(&before))
        .map(|((_, after), (_, before))| after - before)
        .sum();
    assert_eq!(written, 2, "one session and one flow");
    let again = browser.get(&institution).await;
    assert_eq!(again.input("csrf"), walk.csrf, "the same session's token");
    assert!(again.header("set-cookie").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_still_needs_its_sessions_token() {
    let kit = Kit::start().await;
    let url = kit.url(&kit.clinic);
    // A session not stored yet: its page's token, and only that, starts a flow.
    let mut browser = kit.client();
    let page = browser.get(&url).await;
    let mut other = kit.client();
    let others = other.get(&url).await.input("csrf");
    let before = rows(&kit).await;
    for forged in [
        "",
        others.as_str(),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let refused = browser
            .post_form(&format!("{url}/registration"), &[("csrf", forged)])
            .await;
        assert_eq!(refused.status, 403, "{forged:?}");
    }
    let cookieless = kit
        .client()
        .post_form(&format!("{url}/registration"), &[("csrf", &others)])
        .await;
    assert_eq!(cookieless.status, 403);
    assert_eq!(rows(&kit).await, before, "refused forms wrote nothing");
    let started = browser
        .post_form(
            &format!("{url}/registration"),
            &[("csrf", &page.input("csrf"))],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);

    // The console's login form: a token from another browser's form is refused.
    let mut staff = kit.client();
    let form = staff.get("/console/login").await;
    let foreign = kit.client().get("/console/login").await.input("csrf");
    let refused = staff
        .post_form(
            "/console/login",
            &[("csrf", &foreign), ("login", "nobody"), ("password", "x")],
        )
        .await;
    assert_eq!(refused.status, 403);
    let checked = staff
        .post_form(
            "/console/login",
            &[
                ("csrf", &form.input("csrf")),
                ("login", "nobody"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(
        checked.status, 401,
        "the token was right: the login was checked"
    );
}

fn flow_caps(session: u32, institution: u32) -> Limits {
    Limits {
        flows: Caps {
            live_per_session: session,
            per_institution_per_minute: institution,
        },
        ..Limits::default()
    }
}

/// The institution page's start button, pressed.
async fn press_start(
    client: &mut Client,
    kit: &Kit,
    institution: &zaitaku_domain::Institution,
) -> Response {
    let url = kit.url(institution);
    let csrf = client.get(&url).await.input("csrf");
    client
        .post_form(&format!("{url}/registration"), &[("csrf", &csrf)])
        .await
}

fn assert_refused_page(answer: &Response, title: &str) {
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert!(answer.body.contains(title), "{}", answer.body);
    assert!(answer.body.contains("同意内容は登録されていません"));
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_over_the_caps_are_refused_and_write_nothing() {
    let kit = start_with(flow_caps(2, 3)).await;
    let mut browser = kit.client();
    flow::start(&mut browser, &kit, &kit.clinic).await;
    flow::start(&mut browser, &kit, &kit.clinic).await;
    let before = rows(&kit).await;
    let refused = press_start(&mut browser, &kit, &kit.clinic).await;
    assert_refused_page(&refused, "開いている手続きが多すぎます");
    assert_eq!(rows(&kit).await, before);

    // The institution's third flow this minute, from another browser; then its cap.
    flow::start(&mut kit.client(), &kit, &kit.clinic).await;
    let before = rows(&kit).await;
    let mut late = kit.client();
    let refused = press_start(&mut late, &kit, &kit.clinic).await;
    assert_refused_page(&refused, "ただいま混み合っています");
    assert_eq!(
        rows(&kit).await,
        before,
        "not even the new browser's session"
    );
    // Another institution has its own.
    flow::start(&mut late, &kit, &kit.pharmacy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_over_the_caps_are_refused_and_write_nothing() {
    let kit = start_with(Limits {
        challenges: Caps {
            live_per_session: 1,
            per_institution_per_minute: 2,
        },
        ..Limits::default()
    })
    .await;
    let mut browser = kit.client();
    flow::until_authentication(&mut browser, &kit, &kit.clinic, ALL_AGREE).await;
    // A second flow of the same browser, up to its card step: refused there.
    let walk = flow::start(&mut browser, &kit, &kit.clinic).await;
    flow::choose(&mut browser, &walk, ALL_AGREE).await;
    let before = rows(&kit).await;
    let refused = flow::confirm(&mut browser, &walk).await;
    assert_refused_page(&refused, "開いている手続きが多すぎます");
    assert_eq!(rows(&kit).await, before);
    // The institution's second challenge this minute, then its cap.
    flow::until_authentication(&mut kit.client(), &kit, &kit.clinic, ALL_AGREE).await;
    let mut late = kit.client();
    let walk = flow::start(&mut late, &kit, &kit.clinic).await;
    flow::choose(&mut late, &walk, ALL_AGREE).await;
    let before = rows(&kit).await;
    let refused = flow::confirm(&mut late, &walk).await;
    assert_refused_page(&refused, "ただいま混み合っています");
    assert_eq!(rows(&kit).await, before);
}

/// A flow waiting for its card, its challenge not fetched yet.
async fn waiting_for_card(client: &mut Client, kit: &Kit) -> Walk {
    let walk = flow::start(client, kit, &kit.clinic).await;
    flow::choose(client, &walk, ALL_AGREE).await;
    let confirmed = flow::confirm(client, &walk).await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    walk
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_requests_over_the_caps_are_refused_until_a_place_frees() {
    let kit = start_with(Limits {
        polls: PollCaps {
            per_flow: 1,
            in_all: 2,
        },
        ..Limits::default()
    })
    .await;
    let mut a = kit.client();
    let walk_a = waiting_for_card(&mut a, &kit).await;
    let mut b = kit.client();
    let walk_b = waiting_for_card(&mut b, &kit).await;
    let mut c = kit.client();
    let walk_c = waiting_for_card(&mut c, &kit).await;
    let hold = |client: &Client, walk: &Walk| {
        let mut tab = client.fresh_with_cookies();
        let url = format!("{}/status?wait=pending", walk.flow);
        tokio::spawn(async move { tab.get_json(&url).await })
    };
    let held_a = hold(&a, &walk_a);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A second wait on the same flow: refused at once, in JSON, with Retry-After.
    let second = a
        .get_json(&format!("{}/status?wait=pending", walk_a.flow))
        .await;
    assert_eq!(second.status, 429, "{}", second.body);
    assert_eq!(second.json()["error"], "too_many_waiting");
    assert_eq!(second.header("retry-after"), Some("3"));
    // A status request that does not wait is answered all the same.
    let asked = a.get_json(&format!("{}/status", walk_a.flow)).await;
    assert_eq!(asked.status, 200);
    assert_eq!(asked.json()["state"], "pending");

    let held_b = hold(&b, &walk_b);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let quick_c = format!("{}/status?wait=claimed", walk_c.flow);
    let refused = c.get_json(&quick_c).await;
    assert_eq!(refused.status, 429, "over the cap in all: {}", refused.body);

    // The authenticator fetches A's challenge: A's page hears it, and its place is free.
    flow::challenge(&mut a, &walk_a).await;
    let woken = tokio::time::timeout(Duration::from_secs(5), held_a)
        .await
        .expect("woken at once")
        .unwrap();
    assert_eq!(woken.status, 200);
    assert_eq!(woken.json()["state"], "claimed");
    let answered = c.get_json(&quick_c).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.json()["state"], "pending");

    flow::challenge(&mut b, &walk_b).await;
    let woken = tokio::time::timeout(Duration::from_secs(5), held_b)
        .await
        .expect("woken at once")
        .unwrap();
    assert_eq!(woken.json()["state"], "claimed");
}

fn rates(token_checks: u32, console_logins: u32, proxies: &[&str]) -> Limits {
    Limits {
        token_checks: Rate {
            per_minute: token_checks,
        },
        console_logins: Rate {
            per_minute: console_logins,
        },
        trusted_proxies: TrustedProxies(proxies.iter().map(|p| p.parse().unwrap()).collect()),
        ..Limits::default()
    }
}

/// A token for a challenge nobody made: refused (404) unless the rate refuses it first.
async fn send_token(kit: &Kit, forwarded_for: Option<&str>) -> Response {
    let mut headers = vec![
        ("Accept", "application/json"),
        ("Authorization", "Bearer x"),
    ];
    if let Some(address) = forwarded_for {
        headers.push(("X-Forwarded-For", address));
    }
    kit.client()
        .request(
            "POST",
            "/auth/AAAAAAAAAAAAAAAAAAAAAA",
            Some("application/json"),
            b"{}",
            &headers,
        )
        .await
}

fn assert_rate_limited_json(answer: &Response) {
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(answer.json()["error"], "rate_limited");
    let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn costly_requests_over_the_rate_get_429_with_retry_after() {
    let kit = start_with(rates(2, 2, &[])).await;
    for _ in 0..2 {
        let answer = send_token(&kit, None).await;
        assert_eq!(answer.status, 404, "{}", answer.body);
    }
    assert_rate_limited_json(&send_token(&kit, None).await);

    let mut staff = kit.client();
    for _ in 0..2 {
        let answer = common::console::submit_password(&mut staff, "nobody", "wrong").await;
        assert_eq!(answer.status, 401, "{}", answer.body);
    }
    let refused = common::console::submit_password(&mut staff, "nobody", "wrong").await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(
        refused.body.contains("ただいま混み合っています"),
        "{}",
        refused.body
    );
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        refused
            .header("content-security-policy")
            .is_some_and(|p| p.starts_with("default-src 'none'"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_names_the_client_only_from_a_trusted_proxy() {
    // The kit's peer (127.0.0.1) is the trusted proxy: each forwarded client
    // has its own count.
    let kit = start_with(rates(1, 60, &["127.0.0.1/32"])).await;
    assert_eq!(send_token(&kit, Some("198.51.100.1")).await.status, 404);
    assert_rate_limited_json(&send_token(&kit, Some("198.51.100.1")).await);
    assert_eq!(send_token(&kit, Some("198.51.100.2")).await.status, 404);
    // What the client wrote itself, left of what the proxy appended, is passed over.
    assert_rate_limited_json(&send_token(&kit, Some("203.0.113.9, 198.51.100.2")).await);

    // Another proxy is trusted, not this peer: the header is ignored.
    let kit = start_with(rates(1, 60, &["10.0.0.0/8"])).await;
    assert_eq!(send_token(&kit, Some("198.51.100.1")).await.status, 404);
    assert_rate_limited_json(&send_token(&kit, Some("198.51.100.2")).await);

    // No proxy trusted (the default): ignored too.
    let kit = start_with(rates(1, 60, &[])).await;
    assert_eq!(send_token(&kit, Some("198.51.100.1")).await.status, 404);
    assert_rate_limited_json(&send_token(&kit, Some("198.51.100.2")).await);
}
