//! What the fuzz targets share: the moment, origin and nonce the seed tokens
//! were made for, the test root that issued the seed certificates and CRL
//! (`fixtures/`, made with `zaitaku card ca-init`), and the web crate's form
//! extractor run on a body.

use axum::body::Body;
use axum::extract::{Form, FromRequest};
use axum::http::{Request, header};
use serde::de::DeserializeOwned;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::{ChallengeNonce, Origin, Validator, ValidatorConfig};

/// 2026-12-07T00:00:00Z: inside the validity of every seed certificate and CRL,
/// fixed so a run does not change with the day.
pub const AT_UNIX: u64 = 1_796_601_600;

pub fn at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(AT_UNIX)
}

/// The origin and nonce the seed tokens were signed for.
pub const ORIGIN: &str = "https://zaitaku.example.jp";
pub const NONCE: &str = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=";

pub fn origin() -> &'static Origin {
    static ORIGIN_PARSED: LazyLock<Origin> =
        LazyLock::new(|| Origin::parse(ORIGIN).expect("the seeds' origin"));
    &ORIGIN_PARSED
}

pub fn nonce() -> &'static ChallengeNonce {
    static NONCE_PARSED: LazyLock<ChallengeNonce> =
        LazyLock::new(|| ChallengeNonce::parse(NONCE).expect("the seeds' nonce"));
    &NONCE_PARSED
}

/// The test root (RSA-2048) that issued the seed cards, and its CRL listing one of them.
pub const ROOT_DER: &[u8] = include_bytes!("../fixtures/root.der");
pub const ROOT_CRL_DER: &[u8] = include_bytes!("../fixtures/root-crl.der");

pub fn anchors() -> &'static [TrustAnchor] {
    static ANCHORS: LazyLock<Vec<TrustAnchor>> =
        LazyLock::new(|| TrustAnchor::load_all(ROOT_DER).expect("fixtures/root.der"));
    &ANCHORS
}

/// The validator as `zaitaku serve --allow-policy zaitaku-test --crl` makes it.
pub fn validator_with(crls: Vec<Crl>) -> Validator {
    let mut config = ValidatorConfig::new(anchors().to_vec());
    config
        .allowed_policies
        .push(zaitaku_card::oids::ZAITAKU_TEST_CARD_POLICY);
    config.crls = crls;
    Validator::new(config)
}

pub fn validator() -> &'static Validator {
    static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| {
        validator_with(vec![
            Crl::load(ROOT_CRL_DER).expect("fixtures/root-crl.der"),
        ])
    });
    &VALIDATOR
}

/// `body` posted as a form and read by axum's `Form<T>`, as the handlers read it.
pub fn form<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime")
    });
    let request = Request::post("/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_vec()))
        .ok()?;
    let Form(value) = RUNTIME
        .block_on(Form::<T>::from_request(request, &()))
        .ok()?;
    Some(value)
}
