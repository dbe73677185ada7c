//! A CRL (PEM or DER), as `zaitaku admin crl import` reads and admits it
//! (`setup::crl::check`), as `serve --crl` holds it (`Validator::new`), and
//! each part the import stores, whether or not its signature verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zaitaku_card::validate::crl::Crl;
use zaitaku_fuzz::{anchors, at, validator_with};

fuzz_target!(|bytes: &[u8]| {
    let Ok(crl) = Crl::load(bytes) else {
        return;
    };
    let _ = zaitaku::setup::crl::check(&crl, anchors(), at());
    let _ = (crl.issuer(), crl.this_update(), crl.next_update());
    let _ = (
        crl.number(),
        crl.partition(),
        crl.entries(),
        crl.revoked_count(),
    );
    let _ = validator_with(vec![crl]).validate_certificate(zaitaku_fuzz::ROOT_DER, at());
});
