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
