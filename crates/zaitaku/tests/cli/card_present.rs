//! `zaitaku card present` against a stand-in for vpcd (a socket in the test that
//! speaks vpcd's side of the protocol), so it runs without pcscd. The real stack
//! is in pcsc_stack.rs.

use crate::kit::zaitaku;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const PIN: &str = "7391";

fn new_card(dir: &Path) -> std::path::PathBuf {
    let ca = dir.join("ca");
    let card = dir.join("card");
    let out = zaitaku()
        .args(["card", "ca-init", "--dir"])
        .arg(&ca)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = zaitaku()
        .args(["card", "new", "--pin", PIN, "--ca"])
        .arg(&ca)
        .arg("--out")
        .arg(&card)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    card
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// vpcd's side: one framed message out, and the framed answer when one is due.
struct Vpcd(TcpStream);

impl Vpcd {
    fn send(&mut self, payload: &[u8]) {
        let mut message = (payload.len() as u16).to_be_bytes().to_vec();
        message.extend_from_slice(payload);
        self.0.write_all(&message).unwrap();
    }

    fn receive(&mut self) -> Vec<u8> {
        let mut length = [0u8; 2];
        self.0.read_exact(&mut length).unwrap();
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(length))];
        self.0.read_exact(&mut payload).unwrap();
        payload
    }

    fn ask(&mut self, payload: &[u8]) -> Vec<u8> {
        self.send(payload);
        self.receive()
    }

    /// The card closed the connection: pulled out.
    fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.0.read(&mut byte), Ok(0))
    }
}

#[test]
fn the_card_answers_vpcd_and_is_pulled_out_and_put_back_by_sigusr1() {
    let dir = tempfile::tempdir().unwrap();
    let card = new_card(dir.path());
    let log = dir.path().join("card.log");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let mut child = zaitaku()
        .args(["card", "present", "--vpcd", &address, "--card"])
        .arg(&card)
        .arg("--log")
        .arg(&log)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();

    let mut vpcd = Vpcd(listener.accept().unwrap().0);
    let inserted = stderr.next().unwrap().unwrap();
    assert_eq!(
        inserted,
        format!("card inserted in the virtual reader (vpcd at {address})")
    );
    vpcd.send(&[1]); // power on
    assert_eq!(
        vpcd.ask(&[4]),
        [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14],
        "the JPKI ATR"
    );
    let select_ap = [
        0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01,
    ];
    assert_eq!(vpcd.ask(&select_ap), [0x90, 0x00]);
    assert_eq!(
        vpcd.ask(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18]),
        [0x90, 0x00]
    );
    assert_eq!(vpcd.ask(&[0x00, 0x20, 0x00, 0x80]), [0x63, 0xC3]);
    let mut wrong = vec![0x00, 0x20, 0x00, 0x80, 0x04];
    wrong.extend_from_slice(b"5555");
    assert_eq!(vpcd.ask(&wrong), [0x63, 0xC2]);
    // A reset ends the card session: the key cannot be used without a new VERIFY.
    vpcd.send(&[2]);
    assert_eq!(vpcd.ask(&select_ap), [0x90, 0x00]);

    // SIGUSR1: pulled out (the connection closes); again: put back (a new one).
    signal(&child, "USR1");
    assert!(vpcd.closed());
    assert_eq!(
        stderr.next().unwrap().unwrap(),
        "card pulled out (SIGUSR1 puts it back)"
    );
    signal(&child, "USR1");
    let mut vpcd = Vpcd(listener.accept().unwrap().0);
    assert_eq!(vpcd.ask(&[4]).len(), 9);

    signal(&child, "TERM");
    assert!(child.wait().unwrap().success());
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            format!("card inserted in the virtual reader (vpcd at {address})").as_str(),
            "power on",
            "00 A4 04 0C lc=10 -> 90 00",
            "00 A4 02 0C lc=2 -> 90 00",
            "00 20 00 80 -> 63 C3",
            "00 20 00 80 lc=4 -> 63 C2",
            "reset",
            "00 A4 04 0C lc=10 -> 90 00",
            "card pulled out (SIGUSR1 puts it back)",
            "card put back",
            format!("card inserted in the virtual reader (vpcd at {address})").as_str(),
            "stopped: card taken out of the reader",
        ],
        "headers and status words, never the PIN"
    );
    assert!(!log.contains("5555") && !log.contains("35 35 35 35"));
    let card = zaitaku_card::VirtualCard::open(&card).unwrap();
    assert_eq!(card.tries_left(), 2, "the counter is kept in the card file");
}

#[test]
fn without_vpcd_it_says_what_to_start_waits_and_comes_back_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let card = new_card(dir.path());
    // A port nobody listens on.
    let address = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let mut child = zaitaku()
        .args(["card", "present", "--vpcd", &address, "--card"])
        .arg(&card)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let said = stderr.next().unwrap().unwrap();
    assert!(
        said.starts_with(&format!("cannot reach vpcd at {address} (")),
        "{said}"
    );
    assert!(said.contains("waiting for it"), "{said}");
    assert!(
        said.contains("pcscd") && said.contains("vsmartcard-vpcd"),
        "{said}"
    );

    // vpcd comes up: the card goes in.
    let listener = TcpListener::bind(&address).unwrap();
    let mut vpcd = Vpcd(listener.accept().unwrap().0);
    assert_eq!(vpcd.ask(&[4]).len(), 9);
    assert_eq!(
        stderr.next().unwrap().unwrap(),
        format!("card inserted in the virtual reader (vpcd at {address})")
    );

    // vpcd restarts (pcscd restarted): said, and the card goes back in.
    drop(vpcd);
    let lost = stderr.next().unwrap().unwrap();
    assert!(lost.starts_with("lost vpcd ("), "{lost}");
    let mut vpcd = Vpcd(listener.accept().unwrap().0);
    assert_eq!(vpcd.ask(&[4]).len(), 9);
    signal(&child, "TERM");
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_missing_card_file_is_said_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = zaitaku()
        .args(["card", "present", "--vpcd", "127.0.0.1:9", "--card"])
        .arg(dir.path().join("none.card"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: no virtual card at "), "{err}");
}

#[test]
fn help_says_how_to_pull_the_card_out() {
    let out = zaitaku()
        .args(["card", "present", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for shown in [
        "SIGUSR1",
        "--remove-after-apdus",
        "SIGTERM",
        "35963",
        "--log",
    ] {
        assert!(help.contains(shown), "{shown:?} missing: {help}");
    }
}
