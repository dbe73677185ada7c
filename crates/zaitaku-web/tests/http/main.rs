//! The HTTP suite: the whole service on a random port with a fresh store per
//! test (SQLite, or PostgreSQL with `ZAITAKU_TEST_STORE=postgres`), driven like a
//! browser and an authenticator would. One test binary, one module per area.

mod common;

mod bounded_resources;
mod compiled_once;
mod console;
mod console_login;
mod demo_reader;
mod devices;
mod enrolment;
mod flow_a;
mod flow_b;
mod flow_c;
mod forwarded_link;
mod handoff;
mod invitations;
mod lifecycle;
mod login_lockout;
mod menu;
mod monitoring;
mod next_generation;
mod outcomes;
mod protections;
mod qr_and_faq;
mod result_lifetime;
mod server_limits;
mod status_race;
mod url_rotation;
mod wrong_reader;
