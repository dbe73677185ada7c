//! `zaitaku serve --config FILE` and `--print-config`: a TOML file whose keys
//! are the options' names, under the environment and the flags.

use crate::kit::{Serve, refused_silently, stderr, stdout, test_ca, zaitaku};
use std::path::{Path, PathBuf};
use std::process::Output;

fn write_config(dir: &Path, text: &str) -> PathBuf {
    write_named(dir, "zaitaku.toml", text)
}

fn write_named(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The line of `key` in `--print-config`'s output.
fn line<'a>(printed: &'a str, key: &str) -> &'a str {
    printed
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in {printed}"))
}

fn printed(out: &Output) -> String {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out)
}

#[test]
fn flags_win_over_the_environment_which_wins_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "listen = \"127.0.0.1:9000\"\nmax-polls = 7\nflow-lifetime-secs = 60\n\
         allow-policy = [\"zaitaku-test\", \"1.2.3\"]\n",
    );
    let out = zaitaku()
        .env("ZAITAKU_MAX_POLLS", "9")
        .env("ZAITAKU_FLOW_LIFETIME_SECS", "90")
        .env("ZAITAKU_TRUST_ANCHORS", "a.pem,b.pem")
        .env("ZAITAKU_ALLOW_UNCHECKED_REVOCATION", "yes")
        .args([
            "serve",
            "--flow-lifetime-secs",
            "5",
            "--print-config",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let text = printed(&out);
    // The file over the defaults, the environment over the file, flags over both.
    assert_eq!(
        line(&text, "listen"),
        "listen = \"127.0.0.1:9000\"  # config file"
    );
    assert_eq!(line(&text, "max-polls"), "max-polls = 9  # environment");
    assert_eq!(
        line(&text, "flow-lifetime-secs"),
        "flow-lifetime-secs = 5  # command line"
    );
    assert_eq!(
        line(&text, "allow-policy"),
        "allow-policy = [\"zaitaku-test\", \"1.2.3\"]  # config file"
    );
    assert_eq!(
        line(&text, "max-connections"),
        "max-connections = 512  # default"
    );
    assert_eq!(
        line(&text, "lockout-secs"),
        "lockout-secs = 900  # default",
        "today's lockout is the default"
    );

    // ZAITAKU_CONFIG names the file too, and what is printed is a config file
    // that gives the same settings back.
    let again = write_named(dir.path(), "printed.toml", &text);
    let out = zaitaku()
        .env("ZAITAKU_CONFIG", &again)
        .args(["serve", "--print-config"])
        .output()
        .unwrap();
    let reread = printed(&out);
    for key in [
        "listen",
        "max-polls",
        "flow-lifetime-secs",
        "allow-policy",
        "trust-anchor",
        "allow-unchecked-revocation",
    ] {
        let value = |t: &str| line(t, key).split("  #").next().unwrap().to_owned();
        assert_eq!(value(&reread), value(&text));
        assert!(line(&reread, key).ends_with("# config file"));
    }
}

#[test]
fn print_config_masks_the_database_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgres://zaitaku:s3cret-pw@db.example.jp/zaitaku";
    let config = write_config(dir.path(), &format!("database-url = \"{url}\"\n"));
    let from_file = zaitaku()
        .args(["serve", "--print-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let from_env = zaitaku()
        .env("ZAITAKU_DATABASE_URL", url)
        .args(["serve", "--print-config"])
        .output()
        .unwrap();
    for out in [from_file, from_env] {
        let text = printed(&out);
        assert!(!text.contains("s3cret-pw"), "{text}");
        assert!(
            line(&text, "database-url").contains("@db.example.jp/zaitaku"),
            "{text}"
        );
        assert!(
            line(&text, "database-url").contains("credentials masked"),
            "{text}"
        );
    }
}

#[test]
fn an_unknown_key_is_refused_naming_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "listen = \"127.0.0.1:0\"\nlissen = \"x\"\n");
    let data = dir.path().join("data");
    let out = zaitaku()
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    refused_silently(&out, 2, "unknown key `lissen` in config file");
    assert!(stderr(&out).contains(&config.display().to_string()));
    assert!(!data.exists(), "nothing started");
}

#[test]
fn a_flow_lifetime_from_the_file_ends_flows_that_soon() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = test_ca(dir.path(), "ca").join("ca-cert.pem");
    let data = dir.path().join("data");
    let added = zaitaku()
        .args(["admin", "institution", "add", "--code", "1310123458"])
        .args(["--name", "在宅クリニック", "--items", "YZK,SRJ,TKK"])
        .args([
            "--public-origin",
            "https://zaitaku.example.jp",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let url = printed(&added);
    let path = url
        .trim()
        .strip_prefix("https://zaitaku.example.jp")
        .unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "flow-lifetime-secs = 1\ntrust-anchor = [{:?}]\n",
            anchor.to_str().unwrap()
        ),
    );
    let serve = Serve::start_with(&data, &["--config", config.to_str().unwrap()]);
    let mut browser = crate::kit::enrolled_browser(&data, &serve.origin, "1310123458");
    let page = browser.get(path);
    let csrf = crate::kit::input(&page.body, "csrf");
    let started = browser.post(&format!("{path}/registration"), &[("csrf", &csrf)]);
    let select = started.location.expect("the flow's first step");
    assert_eq!(browser.get(&select).status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let page = browser.get(&select);
    assert_eq!(page.status, 410, "{}", page.body);
    assert!(page.body.contains("手続きの有効期限が切れました"));
}
