//! The virtual card, driven through `JpkiCard` and with raw APDUs.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use rsa::{Pkcs1v15Sign, PrivateKey};
use sha2::{Digest, Sha256};
use zaitaku_card::keys::KeyPair;
use zaitaku_card::shared_data;
use zaitaku_card::{
    CardError, CardTransport, JpkiCard, Pin, PinStatus, TransportError, VirtualCard,
    VirtualCardError, apdu, sha256_digest_info,
};

const PIN: &str = "4711";
const WRONG_PIN: &str = "0000";

/// One RSA-2048 key for the whole test binary: generation is the slow part.
fn test_key() -> PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        PrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA-2048 key generation")
    })
    .clone()
}

/// The real certificate's bytes if the shared data is present, else a
/// DER-shaped stand-in of the same size. Either needs several READ BINARYs.
fn certificate_bytes() -> Vec<u8> {
    const USE: &str = "virtual_card's read of the real certificate (a DER-shaped stand-in is used)";
    shared_data::read("jpki", "real-auth-cert.der", USE).unwrap_or_else(|| {
        let mut fake = vec![0x30, 0x82, 0x06, 0x21];
        fake.extend((0..0x621u32).map(|i| (i * 7 % 251) as u8));
        fake
    })
}

/// The RSA public key of a card made with [`test_key`].
fn rsa_public_key(card: &VirtualCard) -> rsa::PublicKey {
    match card.key() {
        KeyPair::Rsa(key) => key.as_public_key().clone(),
        _ => panic!("these cards hold RSA keys"),
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "zaitaku-card-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn card_path(&self) -> PathBuf {
        self.0.join("card.json")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pin(text: &str) -> Pin {
    Pin::parse(text).expect("test PIN is valid")
}

/// Creates a card with [`PIN`] and the certificate; returns its directory.
fn new_card() -> (TempDir, PathBuf, Vec<u8>) {
    let dir = TempDir::new();
    let path = dir.card_path();
    let certificate = certificate_bytes();
    VirtualCard::create(&path, test_key(), certificate.clone(), &pin(PIN)).expect("create card");
    (dir, path, certificate)
}

/// Records every command sent through it.
struct Recording<T> {
    inner: T,
    sent: Vec<Vec<u8>>,
}

impl<T: CardTransport> CardTransport for Recording<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.sent.push(command.to_vec());
        self.inner.transmit(command)
    }
}

fn recording<T>(inner: T) -> Recording<T> {
    Recording {
        inner,
        sent: Vec::new(),
    }
}

fn is_verify_with_pin(command: &[u8]) -> bool {
    command.len() > 4 && command[..4] == [0x00, 0x20, 0x00, 0x80]
}

/// Sends a raw APDU and returns the raw response.
fn send(card: &mut VirtualCard, command: &[u8]) -> Vec<u8> {
    card.transmit(command).expect("virtual card transmit")
}

/// SELECT AP and then `file_id`, asserting both succeed.
fn select(card: &mut VirtualCard, file_id: u16) {
    assert_eq!(send(card, &apdu::select_jpki_ap()), [0x90, 0x00]);
    assert_eq!(send(card, &apdu::select_ef(file_id)), [0x90, 0x00]);
}

fn verify_raw(card: &mut VirtualCard, pin_text: &str) -> Vec<u8> {
    select(card, apdu::ef::AUTH_PIN);
    send(card, &apdu::verify_pin(&pin(pin_text)))
}

#[test]
fn full_session_reads_certificate_verifies_pin_and_signs() {
    let (_dir, path, certificate) = new_card();
    let mut card = recording(VirtualCard::open(&path).expect("open card"));
    let public_key = rsa_public_key(&card.inner);

    let mut jpki = JpkiCard::open(&mut card).expect("select AP");
    let read = jpki.read_auth_certificate().expect("read certificate");
    assert_eq!(read, certificate);
    assert_eq!(jpki.pin_status().expect("status"), PinStatus::TriesLeft(3));
    jpki.verify_pin(&pin(PIN)).expect("correct PIN");

    let message = b"Zaitaku challenge nonce";
    let hashed: [u8; 32] = Sha256::digest(message).into();
    let signature = jpki
        .sign_digest_info(&sha256_digest_info(&hashed))
        .expect("sign");
    assert_eq!(signature.len(), 256);
    public_key
        .verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, &signature)
        .expect("signature verifies as RS256");
    let other: [u8; 32] = Sha256::digest(b"another message").into();
    assert!(
        public_key
            .verify(Pkcs1v15Sign::new::<Sha256>(), &other, &signature)
            .is_err()
    );

    let read_binaries = card.sent.iter().filter(|c| c[1] == 0xB0).count();
    assert!(
        read_binaries > certificate.len().div_ceil(256),
        "the certificate needs a header read and several chunks, got {read_binaries}"
    );
    assert_eq!(card.sent[0], apdu::select_jpki_ap());
}

#[test]
fn wrong_pin_once_then_right_pin_resets_the_counter() {
    let (_dir, path, _) = new_card();
    let mut card = VirtualCard::open(&path).expect("open card");
    assert_eq!(verify_raw(&mut card, WRONG_PIN), [0x63, 0xC2]);
    assert_eq!(card.tries_left(), 2);
    assert_eq!(send(&mut card, &apdu::verify_status()), [0x63, 0xC2]);

    let mut jpki = JpkiCard::open(&mut card).expect("select AP");
    assert_eq!(jpki.pin_status().expect("status"), PinStatus::TriesLeft(2));
    jpki.verify_pin(&pin(PIN)).expect("correct PIN");
    assert_eq!(jpki.pin_status().expect("status"), PinStatus::TriesLeft(3));
    assert_eq!(card.tries_left(), 3);

    drop(card);
    let reopened = VirtualCard::open(&path).expect("reopen");
    assert_eq!(reopened.tries_left(), 3, "the reset was saved");
}

#[test]
fn wrong_pin_counts_down_through_the_client() {
    let (_dir, path, _) = new_card();
    let mut jpki = JpkiCard::open(VirtualCard::open(&path).expect("open card")).expect("AP");
    let first = jpki.verify_pin(&pin(WRONG_PIN)).expect_err("wrong PIN");
    assert!(matches!(first, CardError::WrongPin { tries_left: 2 }));
    assert_eq!(
        first.to_string(),
        "wrong PIN: 2 tries left before the card locks"
    );
    let second = jpki.verify_pin(&pin(WRONG_PIN)).expect_err("wrong PIN");
    assert!(matches!(second, CardError::WrongPin { tries_left: 1 }));
    let third = jpki.verify_pin(&pin(WRONG_PIN)).expect_err("wrong PIN");
    assert!(matches!(third, CardError::PinBlocked), "{third:?}");
    assert_eq!(jpki.pin_status().expect("status"), PinStatus::Blocked);
}

#[test]
fn three_wrong_pins_block_the_card_for_good() {
    let (_dir, path, _) = new_card();
    let mut card = VirtualCard::open(&path).expect("open card");
    assert_eq!(verify_raw(&mut card, WRONG_PIN), [0x63, 0xC2]);
    assert_eq!(verify_raw(&mut card, "1111"), [0x63, 0xC1]);
    assert_eq!(verify_raw(&mut card, "2222"), [0x63, 0xC0]);
    assert_eq!(card.tries_left(), 0);
    assert_eq!(
        verify_raw(&mut card, PIN),
        [0x69, 0x84],
        "even the right PIN"
    );
    // The status of a blocked PIN is "no tries left", as OpenSC's JPKI driver reads it.
    assert_eq!(send(&mut card, &apdu::verify_status()), [0x63, 0xC0]);
    assert_eq!(card.tries_left(), 0);
    drop(card);

    let mut card = VirtualCard::open(&path).expect("reopen");
    assert_eq!(card.tries_left(), 0);
    select(&mut card, apdu::ef::AUTH_PIN);
    assert_eq!(send(&mut card, &apdu::verify_status()), [0x63, 0xC0]);
    assert_eq!(verify_raw(&mut card, PIN), [0x69, 0x84]);

    let mut jpki = JpkiCard::open(recording(card)).expect("select AP");
    assert_eq!(jpki.pin_status().expect("status"), PinStatus::Blocked);
    let error = jpki.verify_pin(&pin(PIN)).expect_err("blocked");
    assert!(matches!(error, CardError::PinBlocked), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the PIN is blocked; it can only be reset at your municipal office"
    );
    let sent = jpki.into_transport().sent;
    assert!(sent.iter().any(|c| c == &apdu::verify_status()));
    assert!(
        !sent.iter().any(|c| is_verify_with_pin(c)),
        "a PIN was sent to a blocked card"
    );
}

/// The signature half of the JPKI AP is not on a virtual card, but its PIN EF
/// answers the status query middleware asks when binding (OpenSC asks both PINs).
#[test]
fn the_signature_pin_reports_its_tries_and_accepts_no_pin() {
    let (_dir, path, _) = new_card();
    let mut card = VirtualCard::open(&path).expect("open card");
    select(&mut card, apdu::ef::SIGN_PIN);
    assert_eq!(send(&mut card, &apdu::verify_status()), [0x63, 0xC5]);
    let mut verify = vec![0x00, 0x20, 0x00, 0x80, 0x06];
    verify.extend_from_slice(b"ABC123");
    assert_eq!(send(&mut card, &verify), [0x69, 0x84]);
    assert_eq!(send(&mut card, &apdu::verify_status()), [0x63, 0xC5]);
    assert_eq!(
        card.tries_left(),
        3,
        "the user-authentication PIN is untouched"
    );
}

#[test]
fn signing_needs_a_verified_pin_in_this_session() {
    let (_dir, path, _) = new_card();
    let hashed: [u8; 32] = Sha256::digest(b"data").into();
    let digest_info = sha256_digest_info(&hashed);

    let mut card = VirtualCard::open(&path).expect("open card");
    select(&mut card, apdu::ef::AUTH_KEY);
    let command = apdu::compute_digital_signature(&digest_info).expect("fits");
    assert_eq!(send(&mut card, &command), [0x69, 0x82]);

    let mut jpki = JpkiCard::open(card).expect("select AP");
    let error = jpki
        .sign_digest_info(&digest_info)
        .expect_err("not verified");
    assert!(matches!(error, CardError::SecurityStatusNotSatisfied));
    assert_eq!(
        error.to_string(),
        "the card refused to sign: the PIN has not been verified"
    );
    jpki.verify_pin(&pin(PIN)).expect("correct PIN");
    jpki.sign_digest_info(&digest_info).expect("verified");

    // A wrong PIN after a good one clears the verified state.
    jpki.verify_pin(&pin(WRONG_PIN)).expect_err("wrong PIN");
    let error = jpki
        .sign_digest_info(&digest_info)
        .expect_err("not verified");
    assert!(matches!(error, CardError::SecurityStatusNotSatisfied));
    jpki.verify_pin(&pin(PIN)).expect("correct PIN");
    drop(jpki);

    let mut jpki = JpkiCard::open(VirtualCard::open(&path).expect("reopen")).expect("AP");
    let error = jpki
        .sign_digest_info(&digest_info)
        .expect_err("new session");
    assert!(matches!(error, CardError::SecurityStatusNotSatisfied));
}

#[test]
fn raw_apdu_edge_cases() {
    let (_dir, path, certificate) = new_card();
    let mut card = VirtualCard::open(&path).expect("open card");

    // Before the AP is selected, its EFs do not exist.
    assert_eq!(send(&mut card, &apdu::select_ef(0x000A)), [0x6A, 0x82]);
    let mut unknown_aid = apdu::select_jpki_ap();
    unknown_aid[14] = 0x02;
    assert_eq!(send(&mut card, &unknown_aid), [0x6A, 0x82]);
    assert_eq!(send(&mut card, &apdu::select_jpki_ap()), [0x90, 0x00]);

    // No current EF yet.
    assert_eq!(
        send(&mut card, &[0x00, 0xB0, 0x00, 0x00, 0x04]),
        [0x69, 0x86]
    );
    assert_eq!(send(&mut card, &apdu::verify_status()), [0x69, 0x86]);

    assert_eq!(
        send(&mut card, &[0x00, 0xCA, 0x00, 0x00, 0x00]),
        [0x6D, 0x00]
    );
    assert_eq!(
        send(&mut card, &[0x00, 0xC0, 0x00, 0x00, 0x10]),
        [0x6D, 0x00]
    );
    assert_eq!(
        send(&mut card, &[0x10, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]),
        [0x6E, 0x00]
    );
    assert_eq!(
        send(&mut card, &[0xFF, 0xB0, 0x00, 0x00, 0x04]),
        [0x6E, 0x00]
    );
    assert_eq!(
        send(&mut card, &[0x80, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]),
        [0x6E, 0x00]
    );
    assert_eq!(send(&mut card, &[0x00, 0xA4]), [0x67, 0x00]);

    assert_eq!(send(&mut card, &apdu::select_ef(0x0001)), [0x6A, 0x82]);
    assert_eq!(
        send(&mut card, &[0x00, 0xA4, 0x02, 0x0C, 0x01, 0x0A]),
        [0x67, 0x00]
    );
    assert_eq!(
        send(&mut card, &[0x00, 0xA4, 0x01, 0x00, 0x02, 0x00, 0x0A]),
        [0x6B, 0x00]
    );

    // READ BINARY on the certificate EF.
    assert_eq!(send(&mut card, &apdu::select_ef(0x000A)), [0x90, 0x00]);
    let len = certificate.len() as u16;
    let past_end = apdu::read_binary(len, 4).expect("fits");
    assert_eq!(send(&mut card, &past_end), [0x6B, 0x00]);
    let far = apdu::read_binary(0x7000, 4).expect("fits");
    assert_eq!(send(&mut card, &far), [0x6B, 0x00]);
    let tail = send(&mut card, &apdu::read_binary(len - 2, 16).expect("fits"));
    let mut expected_tail = certificate[certificate.len() - 2..].to_vec();
    expected_tail.extend([0x62, 0x82]);
    assert_eq!(tail, expected_tail, "short read warns end of file");
    let mut header = certificate[..4].to_vec();
    header.extend([0x90, 0x00]);
    assert_eq!(
        send(&mut card, &apdu::read_binary(0, 4).expect("fits")),
        header
    );

    // VERIFY needs the PIN EF and exactly 4 bytes; a malformed one costs no try.
    assert_eq!(send(&mut card, &apdu::verify_status()), [0x69, 0x86]);
    assert_eq!(send(&mut card, &apdu::select_ef(0x0018)), [0x90, 0x00]);
    assert_eq!(
        send(&mut card, &[0x00, 0x20, 0x00, 0x80, 0x03, 0x31, 0x32, 0x33]),
        [0x67, 0x00]
    );
    let five_digits = [0x00, 0x20, 0x00, 0x80, 0x05, 0x31, 0x32, 0x33, 0x34, 0x35];
    assert_eq!(send(&mut card, &five_digits), [0x67, 0x00]);
    assert_eq!(send(&mut card, &[0x00, 0x20, 0x00, 0x81]), [0x6B, 0x00]);
    assert_eq!(card.tries_left(), 3);
    assert_eq!(send(&mut card, &apdu::verify_status()), [0x63, 0xC3]);
    assert_eq!(send(&mut card, &apdu::verify_pin(&pin(PIN))), [0x90, 0x00]);

    // Reading the key or PIN EF is not allowed.
    assert_eq!(
        send(&mut card, &[0x00, 0xB0, 0x00, 0x00, 0x04]),
        [0x69, 0x86]
    );

    // COMPUTE DIGITAL SIGNATURE accepts only a 51-byte SHA-256 DigestInfo.
    assert_eq!(send(&mut card, &apdu::select_ef(0x0017)), [0x90, 0x00]);
    let hashed: [u8; 32] = Sha256::digest(b"edge").into();
    let digest_info = sha256_digest_info(&hashed);
    for wrong in [&digest_info[..50], &[0x30; 52][..], &[0x30; 35][..]] {
        let command = apdu::compute_digital_signature(wrong).expect("fits");
        assert_eq!(
            send(&mut card, &command),
            [0x67, 0x00],
            "Lc {}",
            wrong.len()
        );
    }
    let mut wrong_prefix = digest_info;
    wrong_prefix[14] = 0x02; // SHA-384 OID arc, same length
    let command = apdu::compute_digital_signature(&wrong_prefix).expect("fits");
    assert_eq!(send(&mut card, &command), [0x67, 0x00]);
    let mut wrong_p2 = apdu::compute_digital_signature(&digest_info).expect("fits");
    wrong_p2[3] = 0x81;
    assert_eq!(send(&mut card, &wrong_p2), [0x6B, 0x00]);
    let good = apdu::compute_digital_signature(&digest_info).expect("fits");
    let response = send(&mut card, &good);
    assert_eq!(response.len(), 258);
    assert_eq!(response[256..], [0x90, 0x00]);
    // Signing with the certificate EF current is refused.
    assert_eq!(send(&mut card, &apdu::select_ef(0x000A)), [0x90, 0x00]);
    assert_eq!(send(&mut card, &good), [0x69, 0x86]);
}

#[test]
fn virtual_card_accessors() {
    let (_dir, path, certificate) = new_card();
    let card = VirtualCard::open(&path).expect("open card");
    assert_eq!(card.certificate_der(), certificate.as_slice());
    assert_eq!(&rsa_public_key(&card), test_key().as_public_key());
    assert_eq!(card.tries_left(), 3);
}

#[test]
fn create_refuses_to_overwrite() {
    let (_dir, path, _) = new_card();
    let before = std::fs::read(&path).expect("read card file");
    let error = VirtualCard::create(&path, test_key(), vec![0x30, 0x00], &pin("1234"))
        .expect_err("file exists");
    assert!(
        matches!(error, VirtualCardError::AlreadyExists(_)),
        "{error:?}"
    );
    assert!(error.to_string().contains("refusing to overwrite"));
    assert_eq!(std::fs::read(&path).expect("read card file"), before);
}

#[test]
fn create_validates_its_inputs() {
    let dir = TempDir::new();
    let error = VirtualCard::create(dir.card_path(), test_key(), Vec::new(), &pin(PIN))
        .expect_err("empty certificate");
    assert!(matches!(
        error,
        VirtualCardError::CertificateSize { len: 0 }
    ));
    assert!(!dir.card_path().exists());
}

#[test]
fn card_file_is_private_and_holds_no_clear_pin() {
    let (_dir, path, _) = new_card();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&path).expect("read card file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["format"], "zaitaku-virtual-card:1");
    let mut keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "certificate_der",
            "format",
            "pin_salt",
            "pin_sha256",
            "private_key_pkcs8",
            "tries_left"
        ]
    );
    let stored_hash = json["pin_sha256"].as_str().expect("hash field");
    let unsalted = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Sha256::digest(PIN.as_bytes()),
    );
    assert_ne!(stored_hash, unsalted, "the PIN hash must be salted");
    assert!(!text.contains(&format!("\"{PIN}\"")));

    // A wrong PIN rewrites the file; it must stay private.
    let mut card = VirtualCard::open(&path).expect("open card");
    assert_eq!(verify_raw(&mut card, WRONG_PIN), [0x63, 0xC2]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn corrupt_or_missing_files_give_clear_errors() {
    let (dir, path, _) = new_card();

    std::fs::write(&path, "{ this is not json").expect("write");
    let error = VirtualCard::open(&path).err().expect("corrupt");
    assert!(
        matches!(error, VirtualCardError::Corrupt { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("is corrupt"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");

    let original = {
        let other = dir.0.join("other.json");
        VirtualCard::create(&other, test_key(), vec![0x30, 0x00], &pin(PIN)).expect("create");
        std::fs::read_to_string(other).expect("read")
    };
    let mut json: serde_json::Value = serde_json::from_str(&original).expect("JSON");

    json["private_key_pkcs8"] = "AAAA".into();
    std::fs::write(&path, json.to_string()).expect("write");
    let message = VirtualCard::open(&path).err().expect("bad key").to_string();
    assert!(message.contains("private key is invalid"), "{message}");

    let mut bad_tries: serde_json::Value = serde_json::from_str(&original).expect("JSON");
    bad_tries["tries_left"] = 9.into();
    std::fs::write(&path, bad_tries.to_string()).expect("write");
    let message = VirtualCard::open(&path)
        .err()
        .expect("bad counter")
        .to_string();
    assert!(message.contains("tries counter"), "{message}");

    let mut future: serde_json::Value = serde_json::from_str(&original).expect("JSON");
    future["format"] = "zaitaku-virtual-card:2".into();
    std::fs::write(&path, future.to_string()).expect("write");
    let error = VirtualCard::open(&path).err().expect("unknown version");
    assert!(
        matches!(error, VirtualCardError::UnsupportedFormat { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("zaitaku-virtual-card:2"));

    std::fs::write(&path, [0xFF, 0xFE, 0x00]).expect("write");
    let error = VirtualCard::open(&path).err().expect("binary");
    assert!(
        matches!(error, VirtualCardError::Corrupt { .. }),
        "{error:?}"
    );

    let missing = dir.0.join("missing.json");
    let error = VirtualCard::open(&missing).err().expect("missing");
    assert!(matches!(error, VirtualCardError::NotFound(_)), "{error:?}");
}

#[test]
fn one_session_at_a_time() {
    let (_dir, path, _) = new_card();
    let mut first = VirtualCard::open(&path).expect("open card");
    let error = VirtualCard::open(&path).err().expect("locked");
    assert!(matches!(error, VirtualCardError::InUse(_)), "{error:?}");
    // Still locked after the file was replaced by a counter update.
    assert_eq!(verify_raw(&mut first, WRONG_PIN), [0x63, 0xC2]);
    let error = VirtualCard::open(&path).err().expect("still locked");
    assert!(matches!(error, VirtualCardError::InUse(_)), "{error:?}");
    drop(first);
    let second = VirtualCard::open(&path).expect("lock released");
    assert_eq!(second.tries_left(), 2);
}
