//! What every `Store` must do, written against the trait: settlements are single
//! use even when raced, flow updates detect conflicts, a failed settlement writes
//! nothing, records round-trip. Every case runs on SQLite and on PostgreSQL
//! (`backend.rs`); each area's module lists its cases at its end.
//! `postgres_tls` stands beside them (one test binary per crate): the
//! PostgreSQL transport against a TLS-only cluster of its own.

#[macro_use]
mod backend;
mod common;

mod audit;
mod caps;
mod console;
mod devices;
mod institutions;
mod invitations;
mod lifecycle;
mod login_throttle;
mod persons;
mod postgres_tls;
mod records;
mod revocation;
mod schema;
mod settlements;
mod staff;
mod trust;
