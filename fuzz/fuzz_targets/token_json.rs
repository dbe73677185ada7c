//! The body of `POST /auth/{ref}`: a Web eID token, checked as the server
//! checks it (`Validator::check_token`, then `conclude`), and the body of
//! `POST /auth/{ref}/error` (`protocol::ErrorReport`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use zaitaku_card::protocol::ErrorReport;
use zaitaku_fuzz::{at, nonce, origin, validator};

fuzz_target!(|body: &[u8]| {
    let validator = validator();
    let checked = validator
        .check_token(body, origin(), nonce(), at())
        .and_then(|pending| {
            let _ = pending.query();
            validator.conclude(pending, &[])
        });
    match checked {
        Ok(valid) => {
            let _ = serde_json::to_string(&valid);
        }
        Err(rejection) => {
            let _ = (rejection.error.code(), rejection.to_string());
        }
    }
    let _ = serde_json::from_slice::<ErrorReport>(body);
});
