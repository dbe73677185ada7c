//! The IC-reader path through software we did not write: `zaitaku card present`
//! puts a demo card in vsmartcard's virtual reader, pcscd serves it, and
//! `zaitaku card auth --reader` (or OpenSC) reads it from there; flows A, B and C
//! run at a real `zaitaku demo` over HTTP.
//!
//! Needs pcscd running with vsmartcard-vpcd, and OpenSC; `scripts/test` starts its
//! own pcscd and sets ZAITAKU_TEST_PCSC=1. Without it these tests say loudly that
//! they were skipped. vpcd is one reader: the cases run one at a time (a lock here,
//! and the `pcsc` test group in .config/nextest.toml).

use crate::kit::{Browser, start_demo, zaitaku};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const PKCS11_MODULE: &str = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";
/// Generous: the card's arrival is waited for, never timed.
const CARD_WAIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------- the stack

/// The lock that makes these cases take turns at the one virtual reader, or `None`
/// (said loudly) when no PC/SC stack was set up for the tests.
fn stack() -> Option<MutexGuard<'static, ()>> {
    static READER: Mutex<()> = Mutex::new(());
    if std::env::var_os("ZAITAKU_TEST_PCSC").is_none() {
        eprintln!(
            "SKIPPED: the PC/SC stack tests need pcscd with vsmartcard-vpcd and OpenSC; \
             run scripts/test, which starts them and sets ZAITAKU_TEST_PCSC=1"
        );
        return None;
    }
    Some(
        READER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A card in the virtual reader: `zaitaku card present`, stopped with SIGTERM on drop.
struct Presented {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Presented {
    fn start(card: &Path, extra: &[&str]) -> Presented {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("card.log");
        let child = zaitaku()
            .args(["card", "present", "--card"])
            .arg(card)
            .arg("--log")
            .arg(&log)
            .args(extra)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let presented = Presented {
            child,
            log,
            _dir: dir,
        };
        presented.wait_for_reader_card();
        presented
    }

    /// Until pcscd reports a card in a virtual reader.
    fn wait_for_reader_card(&self) {
        let deadline = Instant::now() + CARD_WAIT;
        loop {
            let out = zaitaku().args(["card", "readers"]).output().unwrap();
            let listed = text(&out.stdout);
            if listed
                .lines()
                .any(|line| line.starts_with("card ") && line.contains("Virtual PCD"))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "pcscd never showed the card: {listed}{}\nlog: {}",
                text(&out.stderr),
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM, then the exit; the card file is free again afterwards.
    fn stop(mut self) -> String {
        self.signal("TERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "card present exited with {status}");
        self.log_text()
    }
}

impl Drop for Presented {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `card auth --reader` with the PIN given on the command line.
fn card_auth_reader(pin: &str, link: &str) -> Output {
    zaitaku()
        .args([
            "card", "auth", "--reader", "--wait", "60", "--pin", pin, link,
        ])
        .output()
        .unwrap()
}

fn tries_left(card: &Path) -> u8 {
    zaitaku_card::VirtualCard::open(card).unwrap().tries_left()
}

/// Lines of the card's log that are VERIFY commands carrying a PIN.
fn pins_sent(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.starts_with("00 20 00 80 lc="))
        .collect()
}

// ---------------------------------------------------------------- the flows

/// Flows A, B and C walked up to the card.
trait Flows {
    fn auth_link(&mut self, flow: &str) -> String;
    fn register_until_card(
        &mut self,
        institution: &str,
        answers: &[(&str, &str)],
    ) -> (String, String);
    fn inquiry_until_card(&mut self, institution: &str) -> (String, String, String);
    fn revocation_until_card(&mut self, institution: &str) -> (String, String);
}

impl Flows for Browser {
    /// The authentication link the page of `flow` shows.
    fn auth_link(&mut self, flow: &str) -> String {
        let page = self.get(&format!("{flow}/authenticate"));
        assert_eq!(page.status, 200, "{}", page.body);
        let start = page.body.find("<code>http").expect("a link") + "<code>".len();
        let end = page.body[start..].find('<').unwrap() + start;
        page.body[start..end].to_owned()
    }

    /// Flow A at `institution` up to its card; returns the flow and the link.
    fn register_until_card(
        &mut self,
        institution: &str,
        answers: &[(&str, &str)],
    ) -> (String, String) {
        let prepare = self.get(institution);
        let csrf = prepare.input("csrf");
        let started = self.post(&format!("{institution}/registration"), &[("csrf", &csrf)]);
        let select = started.location().to_owned();
        let flow = select.trim_end_matches("/select").to_owned();
        let page = self.get(&select);
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(answers);
        if page.body.contains("prescription_form") {
            form.push(("prescription_form", "2"));
        }
        assert_eq!(self.post(&select, &form).status, 303);
        let confirm = self.get(&format!("{flow}/confirm"));
        let choices = confirm.input("choices");
        let confirmed = self.post(
            &format!("{flow}/confirm"),
            &[("csrf", &csrf), ("choices", &choices)],
        );
        assert_eq!(confirmed.status, 303, "{}", confirmed.body);
        let link = self.auth_link(&flow);
        (flow, link)
    }

    /// Flow B's 「同意照会・更新」: the card to view; returns the flow, csrf and link.
    fn inquiry_until_card(&mut self, institution: &str) -> (String, String, String) {
        let page = self.get(institution);
        let csrf = page.input("csrf");
        let started = self.post(&format!("{institution}/inquiry"), &[("csrf", &csrf)]);
        assert_eq!(started.status, 303, "{}", started.body);
        let flow = started
            .location()
            .trim_end_matches("/authenticate")
            .to_owned();
        let link = self.auth_link(&flow);
        (flow, csrf, link)
    }

    /// Flow C's 「すべての同意を取消す」 and its confirmation; returns the flow and link.
    fn revocation_until_card(&mut self, institution: &str) -> (String, String) {
        let page = self.get(institution);
        let csrf = page.input("csrf");
        let started = self.post(&format!("{institution}/revocation"), &[("csrf", &csrf)]);
        assert_eq!(started.status, 303, "{}", started.body);
        let flow = started.location().trim_end_matches("/revoke").to_owned();
        let confirmed = self.post(&format!("{flow}/revoke"), &[("csrf", &csrf)]);
        assert_eq!(confirmed.status, 303, "{}", confirmed.body);
        let link = self.auth_link(&flow);
        (flow, link)
    }
}

const AGREE_TWO: &[(&str, &str)] = &[("YZK", "1"), ("SRJ", "1"), ("TKK", "0")];

fn assert_accepted(out: &Output) {
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("\"accepted\""),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("card reader: Virtual PCD"),
        "read from the virtual reader: {}",
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------- the cases

/// Flows A, B and C at the demo's first institution, each card reading done by
/// `card auth --reader` through pcscd with the demo card `card_file` (PIN `pin`,
/// holder `name`). Returns the card's APDU log; `None` without the PC/SC stack.
fn flows_a_b_and_c_with(card_file: &str, pin: &str, name: &str) -> Option<String> {
    let _reader = stack()?;
    let demo = start_demo();
    let card = demo.cards.join(card_file);
    let presented = Presented::start(&card, &[]);
    let mut browser = Browser::demo_device(&demo.base);
    let clinic = &demo.institutions[0];

    // A: registration.
    let (flow, link) = browser.register_until_card(clinic, AGREE_TWO);
    let out = card_auth_reader(pin, &link);
    assert_accepted(&out);
    assert!(text(&out.stderr).contains("PIN tries left: 3"));
    let done = browser.get(&format!("{flow}/complete"));
    assert!(done.body.contains("資格確認・登録完了"), "{}", done.body);
    assert!(done.body.contains(name), "{}", done.body);

    // B: view with the card, change one answer, save with the card again.
    let (flow, csrf, link) = browser.inquiry_until_card(clinic);
    assert_accepted(&card_auth_reader(pin, &link));
    let edit = browser.get(&format!("{flow}/update"));
    assert!(edit.body.contains("更新内容の選択"), "{}", edit.body);
    let revised = browser.post(
        &format!("{flow}/update"),
        &[
            ("csrf", &csrf),
            ("YZK", "1"),
            ("SRJ", "0"),
            ("TKK", "1"),
            ("prescription_form", "2"),
        ],
    );
    assert_eq!(
        revised.location(),
        format!("{flow}/update/confirm"),
        "{}",
        revised.body
    );
    let confirm = browser.get(&format!("{flow}/update/confirm"));
    let choices = confirm.input("choices");
    let confirmed = browser.post(
        &format!("{flow}/update/confirm"),
        &[("csrf", &csrf), ("choices", &choices)],
    );
    assert_eq!(confirmed.location(), format!("{flow}/authenticate"));
    let link = browser.auth_link(&flow);
    let out = card_auth_reader(pin, &link);
    assert_accepted(&out);
    assert!(
        text(&out.stdout).contains("\"update\""),
        "{}",
        text(&out.stdout)
    );
    let done = browser.get(&format!("{flow}/complete"));
    assert!(done.body.contains("更新"), "{}", done.body);

    // C: revoke everything.
    let (flow, link) = browser.revocation_until_card(clinic);
    let out = card_auth_reader(pin, &link);
    assert_accepted(&out);
    assert!(
        text(&out.stdout).contains("\"revoke\""),
        "{}",
        text(&out.stdout)
    );
    let done = browser.get(&format!("{flow}/complete"));
    assert!(done.body.contains("取消しが完了しました"), "{}", done.body);

    // Four cards read, four PINs verified, all right first time.
    let log = presented.stop();
    let verified = pins_sent(&log);
    assert_eq!(verified.len(), 4, "{log}");
    assert!(
        verified.iter().all(|line| line.ends_with("-> 90 00")),
        "{log}"
    );
    assert_eq!(tries_left(&card), 3);
    Some(log)
}

#[test]
fn flows_a_b_and_c_are_completed_with_the_card_in_the_reader() {
    flows_a_b_and_c_with("yamada.card", "1234", "山田 太郎");
}

/// The next-generation card (P-384, ES384 tokens: 中村 陽菜 of demo-ca-p384) read
/// from the reader through pcscd, as the RSA card above: flows A, B and C.
#[test]
fn flows_a_b_and_c_are_completed_with_the_p384_card_in_the_reader() {
    let Some(log) = flows_a_b_and_c_with("nakamura.card", "9012", "中村 陽菜") else {
        return;
    };
    // Each signature was over the 48-byte SHA-384 input a P-384 card is given
    // (authenticator.rs), none over RSA's 51-byte DigestInfo.
    let signed: Vec<&str> = log
        .lines()
        .filter(|line| line.starts_with("80 2A 00 80"))
        .collect();
    assert_eq!(signed.len(), 4, "{log}");
    assert!(
        signed
            .iter()
            .all(|line| line.starts_with("80 2A 00 80 lc=48 ") && line.ends_with("-> 90 00")),
        "{log}"
    );
}

#[test]
fn wrong_pins_count_down_and_one_try_left_is_warned_but_still_tried() {
    let Some(_reader) = stack() else { return };
    let demo = start_demo();
    let card = demo.cards.join("sato.card");
    let presented = Presented::start(&card, &[]);
    let mut browser = Browser::demo_device(&demo.base);
    // `card auth` claims the challenge it reads: after a failed try the staff start
    // the registration again, and the card's counter carries over.
    let (_, link) = browser.register_until_card(&demo.institutions[0], AGREE_TWO);
    let out = card_auth_reader("9999", &link);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("wrong PIN: 2 tries left before the card locks"),
        "{}",
        text(&out.stderr)
    );
    // The link stays claimed by the run that ended: a second `card auth` on it is
    // refused before the card is touched (no PIN sent: see the log at the end).
    let again = card_auth_reader("2345", &link);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains(
            "this code was already read by another device; start the authentication again \
             on the page (already_claimed, HTTP 409)"
        ),
        "{}",
        text(&again.stderr)
    );
    let (_, link) = browser.register_until_card(&demo.institutions[0], AGREE_TWO);
    let out = card_auth_reader("9999", &link);
    assert!(
        text(&out.stderr).contains("wrong PIN: 1 try left"),
        "{}",
        text(&out.stderr)
    );

    // One try left: said before the PIN, and the (right) PIN is still sent.
    let (flow, link) = browser.register_until_card(&demo.institutions[0], AGREE_TWO);
    let out = card_auth_reader("2345", &link);
    let err = text(&out.stderr);
    assert!(err.contains("PIN tries left: 1"), "{err}");
    assert!(err.contains("warning: 1 PIN try left"), "{err}");
    assert_accepted(&out);
    let done = browser.get(&format!("{flow}/complete"));
    assert!(done.body.contains("佐藤 花子"), "{}", done.body);

    let log = presented.stop();
    let answers: Vec<&str> = pins_sent(&log)
        .iter()
        .map(|line| line.rsplit("-> ").next().unwrap())
        .collect();
    assert_eq!(answers, ["63 C2", "63 C1", "90 00"], "{log}");
    assert_eq!(tries_left(&card), 3, "the right PIN resets the counter");
}

#[test]
fn a_blocked_card_in_the_reader_is_never_sent_a_pin() {
    let Some(_reader) = stack() else { return };
    let demo = start_demo();
    let card = demo.cards.join("takahashi.card");
    assert_eq!(tries_left(&card), 0, "the demo's blocked card");
    let presented = Presented::start(&card, &[]);
    let mut browser = Browser::demo_device(&demo.base);
    let (flow, link) = browser.register_until_card(&demo.institutions[2], AGREE_TWO);

    let out = card_auth_reader("6789", &link);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the PIN is blocked"),
        "{}",
        text(&out.stderr)
    );
    // A reported blocked PIN ends that challenge only: the page says why.
    let failed = browser.get(&format!("{flow}/authenticate"));
    assert!(failed.body.contains("暗証番号がロックされています"));

    let log = presented.stop();
    assert!(
        log.contains("00 20 00 80 -> 63 C0"),
        "the status was asked: {log}"
    );
    assert_eq!(pins_sent(&log), Vec::<&str>::new(), "{log}");
    assert_eq!(tries_left(&card), 0);
}

#[test]
fn a_card_pulled_out_mid_way_and_put_back_completes_the_flow() {
    let Some(_reader) = stack() else { return };
    let demo = start_demo();
    let card = demo.cards.join("yamada.card");
    // `card auth` sends SELECT AP, SELECT EF, the 4-byte header read, the rest of the
    // certificate in 256-byte reads, SELECT PIN and its status twice, VERIFY and
    // SELECT key: the card is pulled out as the signature command arrives.
    let certificate_len = zaitaku_card::VirtualCard::open(&card)
        .unwrap()
        .certificate_der()
        .len();
    let before_signature = 3 + (certificate_len - 4).div_ceil(256) + 4 + 1 + 1;
    let presented = Presented::start(
        &card,
        &["--remove-after-apdus", &before_signature.to_string()],
    );
    let mut browser = Browser::demo_device(&demo.base);
    let (flow, link) = browser.register_until_card(&demo.institutions[0], AGREE_TWO);

    let out = card_auth_reader("1234", &link);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the card was removed or stopped answering"),
        "{err}"
    );
    let log = presented.log_text();
    assert!(
        log.contains("card pulled out before answering 80 2A 00 80"),
        "{log}"
    );
    assert_eq!(pins_sent(&log), ["00 20 00 80 lc=4 -> 90 00"], "{log}");
    // Nothing was reported to the page: the flow is still waiting for a card.
    let waiting = browser.get(&format!("{flow}/complete"));
    assert!(
        !waiting.body.contains("資格確認・登録完了"),
        "{}",
        waiting.body
    );

    // Put back, the registration started again (the first `card auth` claimed the
    // challenge and is gone), the card signs.
    presented.signal("USR1");
    presented.wait_for_reader_card();
    let (flow, link) = browser.register_until_card(&demo.institutions[0], AGREE_TWO);
    let out = card_auth_reader("1234", &link);
    assert_accepted(&out);
    let done = browser.get(&format!("{flow}/complete"));
    assert!(done.body.contains("資格確認・登録完了"), "{}", done.body);
    let log = presented.stop();
    assert!(log.contains("card put back"), "{log}");
    assert_eq!(tries_left(&card), 3);
}

/// OpenSC's own JPKI driver and PKCS#11 module treat the presented card as a My
/// Number card; its wrong PINs block the card, and then `card auth` sends none.
#[test]
fn opensc_reads_signs_and_blocks_the_presented_card() {
    let Some(_reader) = stack() else { return };
    let demo = start_demo();
    let card = demo.cards.join("yamada.card");
    let certificate = zaitaku_card::VirtualCard::open(&card)
        .unwrap()
        .certificate_der()
        .to_vec();
    let presented = Presented::start(&card, &[]);
    let work = tempfile::tempdir().unwrap();
    let file = |name: &str| work.path().join(name);

    let tool = |program: &str, args: &[&str]| {
        let out = Command::new(program).args(args).output().unwrap();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    let (ok, name, err) = tool("opensc-tool", &["-n"]);
    assert!(ok, "{err}");
    assert_eq!(name.trim(), "jpki", "{err}");

    let (ok, listed, err) = tool("pkcs15-tool", &["--list-certificates"]);
    assert!(ok, "{err}");
    assert!(
        listed.contains("User Authentication Certificate"),
        "{listed}"
    );
    let (ok, pem, err) = tool("pkcs15-tool", &["--read-certificate", "01"]);
    assert!(ok, "{err}");
    std::fs::write(file("cert.pem"), &pem).unwrap();
    let (ok, _, err) = tool(
        "openssl",
        &[
            "x509",
            "-in",
            s(&file("cert.pem")),
            "-outform",
            "DER",
            "-out",
            s(&file("cert.der")),
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(
        std::fs::read(file("cert.der")).unwrap(),
        certificate,
        "the card's own DER"
    );

    // Sign through PKCS#11; openssl verifies with the certificate.
    std::fs::write(file("data"), "zaitaku OpenSC interop").unwrap();
    let (ok, out, err) = tool(
        "pkcs11-tool",
        &[
            "--module",
            PKCS11_MODULE,
            "--login",
            "--pin",
            "1234",
            "--sign",
            "-m",
            "SHA256-RSA-PKCS",
            "--id",
            "01",
            "-i",
            s(&file("data")),
            "-o",
            s(&file("sig")),
        ],
    );
    assert!(ok, "{out}{err}");
    let (ok, _, err) = tool(
        "openssl",
        &[
            "x509",
            "-in",
            s(&file("cert.pem")),
            "-pubkey",
            "-noout",
            "-out",
            s(&file("pub.pem")),
        ],
    );
    assert!(ok, "{err}");
    let (ok, verified, err) = tool(
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            s(&file("pub.pem")),
            "-signature",
            s(&file("sig")),
            s(&file("data")),
        ],
    );
    assert!(ok && verified.contains("Verified OK"), "{verified}{err}");

    // Three wrong PINs through OpenSC block the card.
    for _ in 0..3 {
        let (ok, out, err) = tool(
            "pkcs11-tool",
            &[
                "--module",
                PKCS11_MODULE,
                "--login",
                "--pin",
                "0000",
                "--list-objects",
            ],
        );
        assert!(!ok, "a wrong PIN logged in: {out}{err}");
    }
    let (_, pins, err) = tool("pkcs15-tool", &["--list-pins"]);
    let auth_pin = pins
        .split("PIN [")
        .find(|block| block.starts_with("User Authentication PIN]"))
        .unwrap_or_else(|| panic!("{pins}{err}"));
    let tries: Vec<&str> = auth_pin
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Tries left"))
        .map(|rest| rest.trim_start_matches([' ', ':']))
        .collect();
    assert_eq!(tries, ["0"], "OpenSC sees the PIN blocked: {pins}");

    // Our authenticator then refuses to send a PIN, and the page says why.
    let mut browser = Browser::demo_device(&demo.base);
    let (flow, link) = browser.register_until_card(&demo.institutions[0], AGREE_TWO);
    let before = presented.log_text().lines().count();
    let out = card_auth_reader("1234", &link);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("the PIN is blocked"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        browser
            .get(&format!("{flow}/authenticate"))
            .body
            .contains("暗証番号がロックされています")
    );
    let log = presented.stop();
    let ours: String = log.lines().skip(before).map(|l| format!("{l}\n")).collect();
    assert_eq!(pins_sent(&ours), Vec::<&str>::new(), "{ours}");
    assert_eq!(tries_left(&card), 0);
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}
