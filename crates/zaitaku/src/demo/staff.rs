//! The demo's console logins: one administrator per demo institution, made
//! through the same functions as `zaitaku admin staff add`, enrolled with a
//! fixed password and TOTP secret (no authenticator app needed: the demo index
//! shows the current code). Made on any start where they are missing, so demo
//! directories from before the console get them too.

use crate::setup::CliError;
use std::sync::Arc;
use zaitaku_card::Origin;
use zaitaku_domain::{InstitutionCode, LoginName, NewPassword, StaffRole};
use zaitaku_store::Store;
use zaitaku_web::console::accounts;
use zaitaku_web::console::totp::TotpSecret;
use zaitaku_web::{AppState, DemoStaffLogin};

/// The demo's password for every demo login: it is printed, it is a demo.
pub const PASSWORD: &str = "zaitaku-demo-pass";
/// 20 bytes in base32, shared by the demo logins.
pub const TOTP_SECRET: &str = "ZAITAKUDEMOSECRETZAITAKUDEMOSECR";

/// (institution code, login, display name)
const ADMINISTRATORS: &[(&str, &str, &str)] = &[
    ("1310123458", "himawari", "ひまわり 管理者"),
    ("1310234560", "midori", "みどり 管理者"),
    ("1340112349", "sakura", "さくら 管理者"),
    ("1360100125", "aozora", "あおぞら 管理者"),
];

pub async fn ensure(store: &Arc<dyn Store>) -> Result<Vec<DemoStaffLogin>, CliError> {
    let secret = TotpSecret::parse(TOTP_SECRET).ok_or("the demo TOTP secret is not base32")?;
    let mut logins = Vec::new();
    for (code, login, name) in ADMINISTRATORS {
        let Some(institution) = store
            .institution_by_code(&InstitutionCode::parse(code)?)
            .await?
        else {
            continue;
        };
        let login = LoginName::parse(login)?;
        if store.staff_by_login(&login).await?.is_none() {
            let (_, token) = accounts::add_staff(
                store.as_ref(),
                institution.id,
                login.clone(),
                (*name).to_owned(),
                StaffRole::Administrator,
                Some(secret.clone()),
            )
            .await?;
            let password = NewPassword::parse(PASSWORD, &login)?;
            accounts::enrol_without_code(store.as_ref(), &token, &password).await?;
        }
        logins.push(DemoStaffLogin {
            institution_name: institution.name,
            login: login.as_str().to_owned(),
            password: PASSWORD.to_owned(),
            totp_secret: TOTP_SECRET.to_owned(),
        });
    }
    Ok(logins)
}

pub fn print_welcome(origin: &Origin, state: &AppState) {
    let Some(demo) = &state.demo else { return };
    if demo.staff.is_empty() {
        return;
    }
    println!(
        "Staff console (管理画面): {}/console/login",
        origin.as_str()
    );
    for s in &demo.staff {
        println!("  {}  login {}", s.institution_name, s.login);
    }
    println!(
        "  password {PASSWORD}; TOTP secret {TOTP_SECRET} (add it to an authenticator app, \
         or read the current code on {}/)",
        origin.as_str()
    );
}
