//! The card crate's integration tests: one test binary, one module per area;
//! `common/` is the shared kit (test roots, card keys, token signing).

mod common;

mod algorithms;
mod card_to_validator;
mod crl_import;
mod foreign_key;
mod parse_properties;
mod real_jpki;
mod revocation_lookup;
mod scripted_transport;
mod simulated_reader;
mod validator;
mod virtual_card;
mod webeid_vectors;
