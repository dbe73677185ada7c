//! A body posted to the console, read by axum's `Form` as each handler reads
//! it, then into domain values: the login name (`LoginForm`), the code of the
//! second step (`CodeForm`), enrolment's password and code (`EnrolForm`), the
//! revocation's version (`RevokeForm`) and the institution settings
//! (`SettingsForm`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use zaitaku_domain::LoginName;
use zaitaku_fuzz::{AT_UNIX, form};
use zaitaku_web::console::totp::TotpSecret;
use zaitaku_web::forms::{CodeForm, EnrolForm, LoginForm, RevokeForm, SettingsForm};

static SECRET: LazyLock<TotpSecret> =
    LazyLock::new(|| TotpSecret::parse("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").expect("base32"));
static LOGIN: LazyLock<LoginName> =
    LazyLock::new(|| LoginName::parse("himawari").expect("a login name"));

fuzz_target!(|body: &[u8]| {
    let now = AT_UNIX as i64;
    if let Some(login) = form::<LoginForm>(body) {
        let _ = (login.typed_login(), login.login_name());
    }
    if let Some(code) = form::<CodeForm>(body) {
        let _ = SECRET.verify(code.code(), now, None);
    }
    if let Some(enrol) = form::<EnrolForm>(body) {
        let _ = enrol.new_password(&LOGIN);
        let _ = SECRET.verify(enrol.code(), now, Some(0));
    }
    let _ = form::<RevokeForm>(body);
    if let Some(pairs) = form::<Vec<(String, String)>>(body) {
        let (settings, _csrf) = SettingsForm::from_pairs(&pairs);
        let _ = settings.changes();
    }
});
