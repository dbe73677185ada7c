//! The `zaitaku` binary's integration tests: one test binary (each binary
//! links the whole workspace, so one builds far faster than fourteen), one
//! module per command or scenario, and `kit` for what they share: running the
//! binary, starting `serve` and `demo`, reading their output.
//!
//! Tests named `pcsc_stack::…` (and one of `card_auth::…`) share the one
//! virtual reader: `.config/nextest.toml` runs them one at a time.

mod kit;

mod abuse;
mod admin_device;
mod admin_institution;
mod admin_insured;
mod admin_person;
mod admin_records;
mod admin_staff;
mod admin_staff_unlock;
mod admin_trust;
mod audit;
mod backup;
mod card;
mod card_auth;
mod card_present;
mod card_readers;
mod cert;
mod demo;
mod multi_process;
mod pcsc_stack;
mod readiness;
mod serve;
mod serve_config;
