//! The authenticator's side of a card authentication (docs/auth-protocol.md):
//! the link, the challenge, the HTTP client, and the card session.
//!
//! `zaitaku card auth` (a terminal) and `zaitaku-authenticator` (a window) both
//! drive this one code path; each supplies only its way of talking to the user
//! ([`session::SessionEvents`]).

pub mod client;
pub mod link;
pub mod protocol;
pub mod session;

pub use client::{Client, ClientError, Verdict};
pub use link::AuthLink;
pub use protocol::{Challenge, Institution, shown};
pub use session::{SessionError, SessionEvents, sign_with_card};

/// The token's appVersion (and the User-Agent) of `zaitaku card auth`.
pub const CLI_APP_VERSION: &str = concat!("zaitaku-cli/", env!("CARGO_PKG_VERSION"));

/// The token's appVersion (and the User-Agent) of the desktop app.
pub const DESKTOP_APP_VERSION: &str = concat!("zaitaku-authenticator/", env!("CARGO_PKG_VERSION"));
