//! Zaitaku's web service: the patient flows (today flow A, registration), the
//! authentication endpoints an authenticator talks to, and, in demo mode only,
//! the demo card reader. Screens are server-rendered, work without JavaScript,
//! and carry no inline script (strict CSP).

mod app;
pub mod console;
mod error;
mod handoff;
mod i18n;
mod png;
mod random;
pub mod revocation_lookup;
mod routes;
mod security;
mod session;
mod state;
mod verification;
mod views;

pub use app::{router, serve};
pub use i18n::Text;
pub use state::{AppState, DemoCard, DemoSetup, DemoStaffLogin, Lifetimes, ValidatorHandle};

/// A fresh institution URL token (256 random bits).
pub fn new_url_token() -> zaitaku_domain::UrlToken {
    zaitaku_domain::UrlToken::parse(&random::secret256())
        .expect("43 base64url characters make a URL token")
}
