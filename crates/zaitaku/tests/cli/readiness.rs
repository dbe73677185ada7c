//! `/readyz` against a running `serve`: ready while its database file is
//! there, 503 while it is moved away (the pooled connections would not notice),
//! ready again when it is back; `/healthz` answers throughout.

use crate::kit::Serve;

#[test]
fn readyz_turns_503_while_the_database_file_is_gone_and_healthz_stays_ok() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = Serve::with_new_root(dir.path(), &data);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let get = |path: &str| {
        let mut response = agent.get(format!("{}{path}", serve.origin)).call().unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    };
    assert_eq!(get("/readyz"), (200, "ready".to_owned()));

    let database = data.join("zaitaku.sqlite3");
    let away = dir.path().join("moved.sqlite3");
    std::fs::rename(&database, &away).unwrap();
    let (status, body) = get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database is unreachable"), "{body}");
    assert_eq!(
        get("/healthz").0,
        200,
        "liveness does not touch the database"
    );

    std::fs::rename(&away, &database).unwrap();
    assert_eq!(get("/readyz"), (200, "ready".to_owned()));
}

/// `serve --metrics-listen`: the Prometheus text on a listener of its own,
/// which the service's listener does not answer for.
#[test]
fn metrics_are_served_on_their_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca = crate::kit::test_ca(dir.path(), "ca");
    let anchor = ca.join("ca-cert.pem");
    let serve = Serve::start_with(
        &data,
        &[
            "--trust-anchor",
            anchor.to_str().unwrap(),
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let metrics = serve
        .log
        .iter()
        .find_map(|l| l.strip_prefix("Prometheus metrics on ").map(str::to_owned))
        .expect("the metrics line");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let _ = agent
        .get(format!("{}/healthz", serve.origin))
        .call()
        .unwrap();
    let mut response = agent.get(&metrics).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.body_mut().read_to_string().unwrap();
    assert!(
        text.contains("# TYPE zaitaku_http_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(text.contains("route=\"/healthz\""), "{text}");
    assert!(text.contains("zaitaku_db_pool_max_connections 5"), "{text}");
    let public = agent
        .get(format!("{}/metrics", serve.origin))
        .call()
        .unwrap();
    assert_eq!(
        public.status().as_u16(),
        404,
        "not on the service's listener"
    );
}
