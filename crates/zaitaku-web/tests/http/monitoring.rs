//! Monitoring: the Prometheus text of the metrics listener parses and its
//! counters move with a flow A, with route patterns and never an institution's
//! URL token; the console's status page is the 管理者's; `/readyz` turns 503
//! on a stale CRL while revocation is required and when the schema is behind.

use crate::common;

use common::console::{console_login, staff_account};
use common::flow;
use common::{Client, Kit, Options, qualification};
use std::collections::BTreeMap;
use time::{Duration, OffsetDateTime};
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_domain::StaffRole;
use zaitaku_store::{NewCrl, NewTrustAnchor};

const ANSWERS: &[(&str, &str)] = &[("YZK", "1"), ("SRJ", "1"), ("TKK", "0")];

/// One sample of the text format: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A strict reader of the Prometheus text format (0.0.4): every sample's
/// family has a `# TYPE` line before it, names and label names are well
/// formed, label values are quoted with only the three escapes, values are
/// numbers, and each histogram's buckets are cumulative up to `+Inf` = `_count`.
fn parse(text: &str) -> Vec<Sample> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "family typed twice: {line}"
            );
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(
            !line.is_empty() && !line.starts_with('#'),
            "stray line {line:?}"
        );
        let name_end = line.find(['{', ' ']).expect("a value after the name");
        let name = &line[..name_end];
        assert!(well_formed(name), "metric name {name:?}");
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(inner) = rest.strip_prefix('{') {
            rest = inner;
            loop {
                let eq = rest.find('=').expect("label=");
                let label = &rest[..eq];
                assert!(well_formed(label), "label name {label:?} in {line}");
                rest = rest[eq + 1..].strip_prefix('"').expect("a quoted value");
                let mut value = String::new();
                let mut chars = rest.char_indices();
                let end = loop {
                    match chars.next().expect("a closing quote") {
                        (i, '"') => break i,
                        (_, '\\') => match chars.next().expect("an escape").1 {
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            'n' => value.push('\n'),
                            other => panic!("bad escape \\{other} in {line}"),
                        },
                        (_, c) => value.push(c),
                    }
                };
                labels.insert(label.to_owned(), value);
                rest = &rest[end + 1..];
                if let Some(r) = rest.strip_prefix(',') {
                    rest = r;
                } else {
                    rest = rest.strip_prefix('}').expect("} after the labels");
                    break;
                }
            }
        }
        let value = rest.strip_prefix(' ').expect("a space before the value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("value {v:?} in {line}")),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|f| types.get(*f).map(String::as_str) == Some("histogram"))
            .unwrap_or(name);
        assert!(types.contains_key(family), "{name} has no TYPE before it");
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    for (family, kind) in &types {
        if kind == "histogram" {
            histograms_are_cumulative(&samples, family);
        }
    }
    samples
}

fn well_formed(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn histograms_are_cumulative(samples: &[Sample], family: &str) {
    let bucket = format!("{family}_bucket");
    let count = format!("{family}_count");
    for total in samples.iter().filter(|s| s.name == count) {
        let mut buckets: Vec<(f64, f64)> = samples
            .iter()
            .filter(|s| {
                s.name == bucket && {
                    let mut l = s.labels.clone();
                    l.remove("le");
                    l == total.labels
                }
            })
            .map(|s| (s.labels["le"].parse::<f64>().unwrap(), s.value))
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
        assert_eq!(buckets.last().map(|b| b.0), Some(f64::INFINITY));
        assert_eq!(buckets.last().map(|b| b.1), Some(total.value));
    }
}

/// The sum of the samples named `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(kit: &Kit) -> (String, Vec<Sample>) {
    let response = Client::new(&kit.metrics_base).get("/metrics").await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        response.headers
    );
    let samples = parse(&response.body);
    (response.body, samples)
}

#[test]
fn the_reader_refuses_what_prometheus_would() {
    let typed = "# TYPE a counter\n";
    for bad in [
        "a 1\n",                              // no TYPE
        "# TYPE a counter\na{x=\"1} 1\n",     // unclosed value
        "# TYPE a counter\na{x=\"\\t\"} 1\n", // unknown escape
        "# TYPE a counter\na one\n",          // not a number
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
    ] {
        assert!(std::panic::catch_unwind(|| parse(bad)).is_err(), "{bad}");
    }
    let ok = parse(&format!("{typed}a{{x=\"q\\\"\\\\\\n\"}} 2\n"));
    assert_eq!(ok[0].labels["x"], "q\"\\\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_parse_and_move_with_a_flow_a() {
    let kit = Kit::start().await;
    let (_, before) = scrape(&kit).await;
    let card = kit
        .linked_card("山田 花子", qualification("山田 花子"))
        .await;
    flow::register(&mut kit.client(), &kit, &kit.clinic, &card.path, ANSWERS).await;
    let (text, after) = scrape(&kit).await;

    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let clinic = ("institution_kind", "clinic");
    assert_eq!(
        moved(
            "zaitaku_flows_started_total",
            &[("purpose", "register"), clinic]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        moved(
            "zaitaku_flows_finished_total",
            &[("outcome", "registered"), clinic]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        moved("zaitaku_token_validations_total", &[("result", "accepted")]),
        1.0,
        "{text}"
    );
    // The institution's page by its pattern; its URL token appears nowhere.
    let page = [
        ("route", "/i/{token}"),
        ("method", "GET"),
        ("status", "200"),
    ];
    assert!(
        moved("zaitaku_http_request_duration_seconds_count", &page) >= 1.0,
        "{text}"
    );
    assert!(!text.contains(kit.clinic.url_token.as_str()), "{text}");
    assert!(value(&after, "zaitaku_db_pool_max_connections", &[]) >= 1.0);
    assert!(
        value(&after, "process_resident_memory_bytes", &[]) > 0.0,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_card_counts_under_its_code() {
    let kit = Kit::start().await;
    // A card linked to nobody: the token is valid, the person unknown.
    let (card, _) = kit.new_card(
        "誰でもない",
        &kit.ca,
        zaitaku_card::test_ca::LeafSpec::jpki_auth(365).unwrap(),
    );
    let mut browser = kit.client();
    let (_, auth, nonce) =
        flow::until_authentication(&mut browser, &kit, &kit.pharmacy, ANSWERS).await;
    let token = common::sign(&card, &kit.origin, &nonce).await;
    browser.fresh().post_claimed(&auth, &token).await;
    let (text, after) = scrape(&kit).await;
    let refused = [
        ("outcome", "not_registered"),
        ("institution_kind", "pharmacy"),
    ];
    assert_eq!(
        value(&after, "zaitaku_flows_finished_total", &refused),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(
            &after,
            "zaitaku_token_validations_total",
            &[("result", "not_registered")]
        ),
        1.0,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_is_the_administrators() {
    let kit = Kit::start().await;
    let card = kit
        .linked_card("山田 一郎", qualification("山田 一郎"))
        .await;
    flow::register(&mut kit.client(), &kit, &kit.clinic, &card.path, ANSWERS).await;

    let admin = staff_account(&kit, &kit.clinic, StaffRole::Administrator).await;
    let mut admin = console_login(&kit, &admin).await;
    let page = admin.get("/console/status").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("稼働状況"), "{}", page.body);
    assert!(
        page.body.contains("同意登録"),
        "flows by purpose: {}",
        page.body
    );
    assert!(page.body.contains("病院・診療所"), "by kind: {}", page.body);
    assert!(
        page.body.contains("<code>registered</code>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/i/{token}"), "{}", page.body);
    assert!(!page.body.contains("<script"), "no script");
    assert!(
        admin
            .get("/console/patients")
            .await
            .body
            .contains("/console/status")
    );

    let staff = staff_account(&kit, &kit.clinic, StaffRole::Staff).await;
    let mut staff = console_login(&kit, &staff).await;
    assert_eq!(staff.get("/console/status").await.status, 403);
    assert!(
        !staff
            .get("/console/patients")
            .await
            .body
            .contains("/console/status")
    );
    let anonymous = kit.client().get("/console/status").await;
    assert_ne!(anonymous.status, 200);
    assert!(!anonymous.body.contains("稼働状況"));
}

/// The kit's root stored as a trust anchor, and a CRL of it kept in the
/// database with these times.
async fn keep_crl(kit: &Kit, this_update: OffsetDateTime, next_update: OffsetDateTime) {
    let der = kit.ca.certificate_der().unwrap();
    let anchor = &TrustAnchor::load_all(&der).unwrap()[0];
    let now = OffsetDateTime::now_utc();
    kit.store
        .add_trust_anchors(
            &[NewTrustAnchor {
                der: der.clone(),
                subject: anchor.subject(),
                key_identifier: None,
                not_before: now - Duration::days(1),
                not_after: now + Duration::days(365),
                fingerprint: anchor.fingerprint_sha256(),
            }],
            now,
        )
        .await
        .unwrap();
    kit.store
        .import_crls(
            &[NewCrl {
                der: format!("crl {this_update}").into_bytes(),
                issuer: anchor.subject(),
                signer_fingerprint: anchor.fingerprint_sha256(),
                partition: None,
                this_update,
                next_update: Some(next_update),
                crl_number: None,
                entries: 0,
                revoked: Vec::new(),
            }],
            now,
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_turns_503_on_a_stale_crl_while_revocation_is_required() {
    let kit = Kit::start_with(Options {
        require_revocation: true,
        ..Default::default()
    })
    .await;
    let mut client = kit.client();
    assert_eq!(client.get("/readyz").await.status, 200);

    let now = OffsetDateTime::now_utc();
    keep_crl(&kit, now - Duration::days(10), now - Duration::days(1)).await;
    let stale = client.get("/readyz").await;
    assert_eq!(stale.status, 503, "{}", stale.body);
    assert!(stale.body.contains("stale CRL"), "{}", stale.body);
    assert_eq!(client.get("/healthz").await.status, 200);
    let (text, samples) = scrape(&kit).await;
    assert_eq!(value(&samples, "zaitaku_crl_stale", &[]), 1.0, "{text}");
    assert!(
        value(&samples, "zaitaku_crl_age_seconds", &[]) >= 10.0 * 86_400.0,
        "{text}"
    );

    keep_crl(&kit, now - Duration::minutes(1), now + Duration::days(1)).await;
    assert_eq!(client.get("/readyz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_crl_leaves_readyz_alone_when_revocation_is_not_required() {
    let kit = Kit::start().await;
    let now = OffsetDateTime::now_utc();
    keep_crl(&kit, now - Duration::days(10), now - Duration::days(1)).await;
    let ready = kit.client().get("/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_turns_503_while_the_schema_is_behind() {
    if std::env::var(common::STORE_VAR).as_deref() == Ok("postgres") {
        eprintln!("SKIPPED on PostgreSQL: the schema is set back with sqlite3 on the SQLite file");
        return;
    }
    let kit = Kit::start().await;
    let file = kit.dir.path().join("db.sqlite3");
    let sqlite3 = |sql: &str| {
        let out = std::process::Command::new("sqlite3")
            .arg(&file)
            .arg(sql)
            .output()
            .expect("sqlite3 (Debian: apt-get install sqlite3) sets the schema back");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let newest = sqlite3("SELECT max(version) FROM schema_migrations");
    let row = sqlite3(&format!(
        "SELECT quote(applied_at) FROM schema_migrations WHERE version = {newest}"
    ));
    sqlite3(&format!(
        "DELETE FROM schema_migrations WHERE version = {newest}"
    ));
    let behind = kit.client().get("/readyz").await;
    assert_eq!(behind.status, 503, "{}", behind.body);
    assert!(
        behind.body.contains("schema is at version"),
        "{}",
        behind.body
    );

    sqlite3(&format!(
        "INSERT INTO schema_migrations (version, applied_at) VALUES ({newest}, {row})"
    ));
    assert_eq!(kit.client().get("/readyz").await.status, 200);
}
