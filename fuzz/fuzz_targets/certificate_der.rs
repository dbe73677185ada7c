//! A certificate, as `zaitaku admin trust add` admits a trust anchor (PEM or
//! DER, `setup::trust::anchors_from`) and as `zaitaku cert verify` checks a
//! card's (`Validator::validate_certificate`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use zaitaku::setup::trust::anchors_from;
use zaitaku_fuzz::{at, validator};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(anchors) = anchors_from("fuzz", bytes, at()) {
        for anchor in &anchors {
            let _ = (anchor.summary(), anchor.fingerprint_sha256());
        }
    }
    match validator().validate_certificate(bytes, at()) {
        Ok(valid) => {
            let _ = serde_json::to_string(&valid);
        }
        Err(rejection) => {
            let _ = (rejection.error.code(), rejection.to_string());
        }
    }
});
