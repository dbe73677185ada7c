//! A software JPKI card for tests and demos.
//!
//! It answers the same APDUs as a real My Number card, byte for byte, and
//! keeps its state (key, certificate, PIN hash, tries counter) in one file so
//! that a blocked PIN stays blocked across restarts.
//!
//! The file holds the private key in clear: a virtual card is only as safe
//! as the file's permissions (0600).

pub(crate) mod command;
mod store;

use std::path::{Path, PathBuf};

use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, PrivateKey, PublicKey};
use sha2::{Digest, Sha256};

use crate::apdu::{self, Response, StatusWord, ef};
use crate::digest_info::is_sha256_digest_info;
use crate::jpki::MAX_PIN_TRIES;
use crate::pin::{PIN_LENGTH, Pin};
use crate::transport::{CardTransport, TransportError};
use command::Command;
use store::{LockedFile, StoredCard};

/// Key size of the JPKI user-authentication key, in bytes (RSA-2048).
const KEY_SIZE_BYTES: usize = 256;

/// READ BINARY offsets are 15 bits, so an EF cannot be larger than this.
const MAX_CERTIFICATE_LEN: usize = 0x7FFF;

const PIN_SALT_LEN: usize = 16;

/// Errors creating, opening or saving a virtual card.
#[derive(Debug, thiserror::Error)]
pub enum VirtualCardError {
    #[error("no virtual card at {0}; create one first")]
    NotFound(PathBuf),
    #[error("a virtual card already exists at {0}; refusing to overwrite it")]
    AlreadyExists(PathBuf),
    #[error("the virtual card {0} is in use by another process")]
    InUse(PathBuf),
    #[error("error {action} the virtual card file {path}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("the virtual card file {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "the virtual card file {path} has the unsupported format \"{found}\" (expected \"{}\")",
        store::FORMAT
    )]
    UnsupportedFormat { path: PathBuf, found: String },
    #[error("a JPKI card holds an RSA-2048 key, not an RSA-{bits} key")]
    KeySize { bits: usize },
    #[error("the certificate must be 1 to {MAX_CERTIFICATE_LEN} bytes, not {len}")]
    CertificateSize { len: usize },
    #[error("could not encode the virtual card: {0}")]
    Serialize(String),
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// Per-session card state, lost when the card is "removed" (dropped).
#[derive(Default)]
struct Session {
    ap_selected: bool,
    current_ef: Option<u16>,
    pin_verified: bool,
}

/// A virtual JPKI card with an open session. Holds an exclusive lock on its
/// file until dropped.
pub struct VirtualCard {
    file: LockedFile,
    stored: StoredCard,
    private_key: PrivateKey,
    certificate_der: Vec<u8>,
    pin_salt: Vec<u8>,
    pin_hash: [u8; 32],
    session: Session,
}

impl VirtualCard {
    /// Writes a new card file with a full tries counter. Refuses to
    /// overwrite an existing file.
    pub fn create(
        path: impl AsRef<Path>,
        private_key: PrivateKey,
        certificate_der: Vec<u8>,
        pin: &Pin,
    ) -> Result<(), VirtualCardError> {
        let path = path.as_ref();
        if private_key.size() != KEY_SIZE_BYTES {
            return Err(VirtualCardError::KeySize {
                bits: private_key.size() * 8,
            });
        }
        check_certificate_len(certificate_der.len())?;
        let pkcs8 = private_key
            .to_pkcs8_der()
            .map_err(|err| VirtualCardError::Serialize(err.to_string()))?;
        let mut salt = [0u8; PIN_SALT_LEN];
        getrandom::fill(&mut salt).map_err(|err| VirtualCardError::Random(err.to_string()))?;
        let stored = StoredCard {
            format: store::FORMAT.to_owned(),
            private_key_pkcs8: store::encode(pkcs8.as_bytes()),
            certificate_der: store::encode(&certificate_der),
            pin_salt: store::encode(&salt),
            pin_sha256: store::encode(&pin_hash(&salt, pin.as_bytes())),
            tries_left: MAX_PIN_TRIES,
        };
        store::create_new(path, &stored)
    }

    /// Opens the card file and starts a fresh card session (nothing
    /// selected, no PIN verified). Fails with [`VirtualCardError::InUse`]
    /// while another session holds the file.
    pub fn open(path: impl AsRef<Path>) -> Result<VirtualCard, VirtualCardError> {
        let path = path.as_ref();
        let (file, stored) = LockedFile::open(path)?;

        let key_der = store::decode(path, "private_key_pkcs8", &stored.private_key_pkcs8)?;
        let private_key = PrivateKey::from_pkcs8_der(&key_der)
            .map_err(|err| store::corrupt(path, format!("the private key is invalid ({err})")))?;
        if private_key.size() != KEY_SIZE_BYTES {
            return Err(store::corrupt(path, "the private key is not RSA-2048"));
        }
        let certificate_der = store::decode(path, "certificate_der", &stored.certificate_der)?;
        if check_certificate_len(certificate_der.len()).is_err() {
            return Err(store::corrupt(path, "the certificate has an invalid size"));
        }
        let pin_salt = store::decode(path, "pin_salt", &stored.pin_salt)?;
        if pin_salt.len() != PIN_SALT_LEN {
            return Err(store::corrupt(path, "the PIN salt has the wrong length"));
        }
        let pin_hash: [u8; 32] = store::decode(path, "pin_sha256", &stored.pin_sha256)?
            .try_into()
            .map_err(|_| store::corrupt(path, "the PIN hash has the wrong length"))?;
        if stored.tries_left > MAX_PIN_TRIES {
            return Err(store::corrupt(
                path,
                "the PIN tries counter is out of range",
            ));
        }

        Ok(VirtualCard {
            file,
            stored,
            private_key,
            certificate_der,
            pin_salt,
            pin_hash,
            session: Session::default(),
        })
    }

    /// The contents of the certificate EF.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    pub fn public_key(&self) -> &PublicKey {
        self.private_key.as_public_key()
    }

    /// PIN tries left; 0 means blocked.
    pub fn tries_left(&self) -> u8 {
        self.stored.tries_left
    }

    fn process(&mut self, command: &Command<'_>) -> Result<Response, TransportError> {
        let sw_only = |sw| Ok(Response::new(Vec::new(), sw));
        match (command.cla, command.ins) {
            (apdu::CLA_ISO, apdu::INS_SELECT) => sw_only(self.select(command)),
            (apdu::CLA_ISO, apdu::INS_READ_BINARY) => Ok(self.read_binary(command)),
            (apdu::CLA_ISO, apdu::INS_VERIFY) => sw_only(self.verify(command)?),
            (apdu::CLA_PROPRIETARY, apdu::INS_COMPUTE_DIGITAL_SIGNATURE) => Ok(self.sign(command)),
            (apdu::CLA_ISO | apdu::CLA_PROPRIETARY, ins) if is_supported_ins(ins) => {
                sw_only(StatusWord::CLA_NOT_SUPPORTED)
            }
            (apdu::CLA_ISO | apdu::CLA_PROPRIETARY, _) => sw_only(StatusWord::INS_NOT_SUPPORTED),
            _ => sw_only(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, command: &Command<'_>) -> StatusWord {
        match (command.p1, command.p2) {
            (0x04, 0x0C) => {
                if command.data != apdu::JPKI_AID {
                    return StatusWord::FILE_NOT_FOUND;
                }
                // Entering the application starts from a clean security state.
                self.session = Session {
                    ap_selected: true,
                    ..Session::default()
                };
                StatusWord::SUCCESS
            }
            (0x02, 0x0C) => {
                let Ok(file_id) = <[u8; 2]>::try_from(command.data) else {
                    return StatusWord::WRONG_LENGTH;
                };
                let file_id = u16::from_be_bytes(file_id);
                let known = [
                    ef::AUTH_CERTIFICATE,
                    ef::AUTH_KEY,
                    ef::AUTH_PIN,
                    ef::SIGN_PIN,
                ];
                if !self.session.ap_selected || !known.contains(&file_id) {
                    return StatusWord::FILE_NOT_FOUND;
                }
                self.session.current_ef = Some(file_id);
                StatusWord::SUCCESS
            }
            _ => StatusWord::WRONG_P1_P2,
        }
    }

    fn read_binary(&self, command: &Command<'_>) -> Response {
        let fail = |sw| Response::new(Vec::new(), sw);
        let (false, Some(le)) = (!command.data.is_empty(), command.le) else {
            return fail(StatusWord::WRONG_LENGTH);
        };
        // Bit 8 of P1 selects a short EF identifier, which this card lacks.
        if command.p1 & 0x80 != 0 {
            return fail(StatusWord::WRONG_P1_P2);
        }
        if self.session.current_ef != Some(ef::AUTH_CERTIFICATE) {
            return fail(StatusWord::COMMAND_NOT_ALLOWED);
        }
        let offset = usize::from(u16::from_be_bytes([command.p1, command.p2]));
        let Some(rest) = self
            .certificate_der
            .get(offset..)
            .filter(|rest| !rest.is_empty())
        else {
            return fail(StatusWord::WRONG_P1_P2);
        };
        if rest.len() < le {
            return Response::new(rest.to_vec(), StatusWord::END_OF_FILE);
        }
        Response::new(rest[..le].to_vec(), StatusWord::SUCCESS)
    }

    fn verify(&mut self, command: &Command<'_>) -> Result<StatusWord, TransportError> {
        if (command.p1, command.p2) != (0x00, 0x80) {
            return Ok(StatusWord::WRONG_P1_P2);
        }
        if command.le.is_some() {
            return Ok(StatusWord::WRONG_LENGTH);
        }
        if self.session.current_ef == Some(ef::SIGN_PIN) {
            return Ok(sign_pin_verify(command));
        }
        if self.session.current_ef != Some(ef::AUTH_PIN) {
            return Ok(StatusWord::COMMAND_NOT_ALLOWED);
        }
        let tries_left = self.stored.tries_left;
        // A blocked PIN's status is `63 C0`, no tries left, the form OpenSC's
        // JPKI driver needs (card-jpki.c, jpki_pin_cmd: GET_INFO fails on any SW1
        // but 63, and pkcs15-jpki.c then refuses the whole card). A PIN sent anyway
        // is refused with `69 84` (reference data not usable), spending nothing.
        // README "IC card readers" gives the sources and the alternatives.
        if command.data.is_empty() {
            return Ok(StatusWord::with_tries_left(tries_left));
        }
        if tries_left == 0 {
            return Ok(StatusWord::PIN_BLOCKED);
        }
        if command.data.len() != PIN_LENGTH {
            return Ok(StatusWord::WRONG_LENGTH);
        }
        // Spend the try on disk before comparing, so that cutting the power
        // (killing the process) mid-compare cannot give free guesses.
        self.session.pin_verified = false;
        self.store_tries_left(tries_left - 1)?;
        if !constant_time_eq(&pin_hash(&self.pin_salt, command.data), &self.pin_hash) {
            return Ok(StatusWord::with_tries_left(tries_left - 1));
        }
        self.store_tries_left(MAX_PIN_TRIES)?;
        self.session.pin_verified = true;
        Ok(StatusWord::SUCCESS)
    }

    fn sign(&self, command: &Command<'_>) -> Response {
        let fail = |sw| Response::new(Vec::new(), sw);
        if (command.p1, command.p2) != (0x00, 0x80) {
            return fail(StatusWord::WRONG_P1_P2);
        }
        // Like a card that only supports RS256: anything else is a wrong length.
        if !is_sha256_digest_info(command.data) {
            return fail(StatusWord::WRONG_LENGTH);
        }
        if self.session.current_ef != Some(ef::AUTH_KEY) {
            return fail(StatusWord::COMMAND_NOT_ALLOWED);
        }
        if !self.session.pin_verified {
            return fail(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
        }
        match self
            .private_key
            .sign(Pkcs1v15Sign::new_unprefixed(), command.data)
        {
            Ok(signature) => Response::new(signature, StatusWord::SUCCESS),
            Err(_) => fail(StatusWord::UNKNOWN_ERROR),
        }
    }

    /// Persists the counter first and updates memory only once it is on disk.
    fn store_tries_left(&mut self, tries_left: u8) -> Result<(), TransportError> {
        let previous = std::mem::replace(&mut self.stored.tries_left, tries_left);
        if let Err(err) = self.file.replace(&self.stored) {
            self.stored.tries_left = previous;
            return Err(TransportError::reader(
                "saving the virtual card's PIN counter",
                err,
            ));
        }
        Ok(())
    }
}

impl CardTransport for VirtualCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let response = match Command::parse(command) {
            Ok(command) => self.process(&command)?,
            Err(sw) => Response::new(Vec::new(), sw),
        };
        Ok(response.to_bytes())
    }
}

fn is_supported_ins(ins: u8) -> bool {
    [
        apdu::INS_SELECT,
        apdu::INS_READ_BINARY,
        apdu::INS_VERIFY,
        apdu::INS_COMPUTE_DIGITAL_SIGNATURE,
    ]
    .contains(&ins)
}

/// Tries of the digital-signature PIN on a fresh card.
const SIGN_PIN_TRIES: u8 = 5;

/// A virtual card holds only the user-authentication half of the JPKI AP: no
/// signature key, so no signature PIN can be right. Its EF still answers a
/// status query (five tries, as issued), because middleware that lists both
/// PINs (OpenSC) refuses a card whose second PIN cannot be asked about; a PIN
/// sent to it is refused without spending anything.
fn sign_pin_verify(command: &Command<'_>) -> StatusWord {
    if command.data.is_empty() {
        StatusWord::with_tries_left(SIGN_PIN_TRIES)
    } else {
        StatusWord::PIN_BLOCKED
    }
}

fn check_certificate_len(len: usize) -> Result<(), VirtualCardError> {
    if len == 0 || len > MAX_CERTIFICATE_LEN {
        return Err(VirtualCardError::CertificateSize { len });
    }
    Ok(())
}

fn pin_hash(salt: &[u8], pin: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(pin);
    hasher.finalize().into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
