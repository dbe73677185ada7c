//! Zaitaku's web service: the patient flows (A registration, B inquiry and
//! update, C revocation), the authentication endpoints an authenticator talks
//! to, the institution console, and, in demo mode only, the demo index and card
//! reader. Screens are server-rendered, work without JavaScript,
//! and carry no inline script (strict CSP).

mod app;
mod code_image;
pub mod console;
mod cookies;
mod csrf;
pub mod devices;
mod error;
pub mod forms;
mod handoff;
mod i18n;
mod limits;
pub mod metrics;
mod random;
pub mod revocation_lookup;
mod routes;
mod security;
mod server;
mod session;
mod state;
mod verification;
mod views;

pub use app::{router, serve, serve_with};
pub use handoff::Wakeups;
pub use i18n::Text;
pub use limits::rate::Rate;
pub use limits::{Cidr, Guards, Limits, PollCaps, TrustedProxies};
pub use metrics::Metrics;
pub use server::ServerLimits;
pub use state::{AppState, DemoCard, DemoSetup, DemoStaffLogin, Lifetimes, ValidatorHandle};

/// A fresh institution URL token (256 random bits).
pub fn new_url_token() -> zaitaku_domain::UrlToken {
    zaitaku_domain::UrlToken::parse(&random::secret256())
        .expect("43 base64url characters make a URL token")
}
