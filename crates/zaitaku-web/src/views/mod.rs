//! One askama template per screen; the structs here are what each screen shows.
//! Wording that differs between clinics and pharmacies/visiting nursing is chosen
//! in `wording`, from the manual's own pages for each.

mod format;
mod menu;
mod pages;
mod wording;

pub use format::{agree_label, consent_rows, date_ja, qualification_rows, time_ja};
pub use menu::Menu;
pub use pages::*;
pub use wording::{Stage, StepView, Wording, explanation, failure_text};
