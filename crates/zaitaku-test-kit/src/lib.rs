//! What the tests of the `zaitaku` binary and of the desktop app share: a
//! running `zaitaku demo` (stopped when dropped) and a "browser" (plain HTTP
//! with a cookie, no redirects followed) that walks flow A up to the card.
//!
//! A dev-dependency only: no crate of the product depends on it, and it
//! depends on none of ours (the binary under test is given by path).

mod browser;
mod demo;

pub use browser::{Browser, Page, input, until_authentication};
pub use demo::{Demo, start_demo, start_demo_in};
