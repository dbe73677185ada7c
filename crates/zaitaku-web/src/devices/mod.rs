//! Institutions' enrolled devices, on the web side: the browser's device
//! credential (one random secret in the `DEVICE` cookie; the store keeps its
//! SHA-256 per enrolment), enrolling this browser, issuing activation codes
//! (the console and `zaitaku admin device add` both go through
//! [`issue_activation_code`]), the `/device` page where a code is typed, and
//! the gate that decides who may start flows at an institution (`gate`).

pub mod activation;
pub mod gate;
pub mod invitation;

use crate::cookies::{DEVICE, DEVICE_MAX_AGE_SECONDS};
use crate::random;
use crate::session::hash_id;
use axum::http::HeaderMap;
use axum::response::Response;
use time::OffsetDateTime;
use zaitaku_domain::{ActivationCode, DeviceName, InstitutionId};
use zaitaku_store::devices::ACTIVATION_CODE_LIFETIME;
use zaitaku_store::{
    DeviceActor, DeviceRecord, Enrolled, NewActivationCode, NewDevice, Store, StoreError,
};

/// This browser's device secret: the one it sent, or a new one to set.
#[derive(Clone)]
pub struct Credential {
    secret: String,
}

impl Credential {
    /// The secret the browser sent, if any.
    pub fn sent(headers: &HeaderMap, secure: bool) -> Option<Credential> {
        DEVICE.read(headers, secure).map(|secret| Credential {
            secret: secret.to_owned(),
        })
    }

    /// The secret the browser sent, or a new one (256 random bits).
    pub fn sent_or_new(headers: &HeaderMap, secure: bool) -> Credential {
        Credential::sent(headers, secure).unwrap_or_else(|| Credential {
            secret: random::secret256(),
        })
    }

    /// What the store keeps: the SHA-256 of the secret, hex.
    pub fn hash(&self) -> String {
        hash_id(&self.secret)
    }

    /// Set (or renew) the cookie: each enrolment starts its ~400 days again.
    pub fn set_cookie(&self, response: &mut Response, secure: bool) {
        DEVICE.set(response, secure, &self.secret, DEVICE_MAX_AGE_SECONDS);
    }
}

/// Enrol the browser holding `credential` as a device of `institution`.
pub async fn enrol(
    store: &dyn Store,
    credential: &Credential,
    institution: InstitutionId,
    name: DeviceName,
    by: DeviceActor,
) -> Result<Enrolled, StoreError> {
    store
        .enrol_device(&NewDevice {
            institution_id: institution,
            name,
            credential_hash: credential.hash(),
            enrolled_by: by,
            at: OffsetDateTime::now_utc(),
        })
        .await
}

/// The live device of `institution` that the browser sending `headers` is, if
/// it is one (one indexed read; nothing written). For the console's list and
/// for whoever records which device a request came from.
pub async fn current_device(
    state: &crate::state::AppState,
    headers: &HeaderMap,
    institution: InstitutionId,
) -> Result<Option<DeviceRecord>, StoreError> {
    match Credential::sent(headers, state.secure_cookies()) {
        Some(credential) => {
            state
                .store
                .live_device(&credential.hash(), institution)
                .await
        }
        None => Ok(None),
    }
}

/// What the store keeps of an activation code: the SHA-256 of its canonical form.
pub fn code_hash(code: &ActivationCode) -> String {
    hash_id(code.canonical())
}

/// A fresh one-time activation code for a device named `name` at
/// `institution`, stored (its hash) until it is used or ten minutes pass; the
/// code and when it expires. The only place codes are made.
pub async fn issue_activation_code(
    store: &dyn Store,
    institution: InstitutionId,
    name: DeviceName,
    by: DeviceActor,
) -> Result<(ActivationCode, OffsetDateTime), StoreError> {
    let now = OffsetDateTime::now_utc();
    let expires_at = now + ACTIVATION_CODE_LIFETIME;
    let mut attempts = 0;
    loop {
        let mut bits = [0u8; 5];
        getrandom::fill(&mut bits).expect("the operating system's random generator failed");
        let code = ActivationCode::from_random(bits);
        let new = NewActivationCode {
            code_hash: code_hash(&code),
            institution_id: institution,
            device_name: name.clone(),
            created_by: by.clone(),
            created_at: now,
            expires_at,
        };
        match store.issue_activation_code(&new).await {
            Ok(()) => return Ok((code, expires_at)),
            // 40 bits: a repeat of an old code is rare; draw again.
            Err(StoreError::Duplicate { .. }) if attempts < 3 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}
