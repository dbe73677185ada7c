//! The console's template structs: the login screens (on the patient screens'
//! layout, since no one is logged in yet) and the login history.

use super::ConsoleFrame;
use crate::i18n::Text;
use askama::Template;
use askama_web::WebTemplate;
use time::{OffsetDateTime, UtcOffset};

#[derive(Template, WebTemplate)]
#[template(path = "console_login.html")]
pub struct LoginPage {
    pub t: Text,
    pub demo: bool,
    pub csrf: String,
    /// What was typed, kept after a failure (never the password).
    pub login: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_login_code.html")]
pub struct CodePage {
    pub t: Text,
    pub demo: bool,
    pub csrf: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_enrol.html")]
pub struct EnrolPage {
    pub t: Text,
    pub demo: bool,
    pub csrf: String,
    pub action: String,
    pub institution_name: String,
    pub login_name: String,
    pub display_name: String,
    pub role: &'static str,
    /// Base32, in groups of four for reading aloud or typing.
    pub secret: String,
    pub image_src: String,
    pub error: Option<String>,
}

pub struct LoginRow {
    pub at: String,
    pub login_name: String,
    pub outcome: &'static str,
    pub success: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_logins.html")]
pub struct LoginsPage {
    pub t: Text,
    pub frame: ConsoleFrame,
    pub rows: Vec<LoginRow>,
}

/// Japan Standard Time, to the second: `2026-04-01 09:30:05`.
pub fn jst(at: OffsetDateTime) -> String {
    let offset = UtcOffset::from_hms(9, 0, 0).expect("+09:00 is a valid offset");
    let t = at.to_offset(offset);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `ABCD EFGH …`: a secret typed by hand is easier in groups.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_show_in_japan_and_secrets_in_groups() {
        assert_eq!(
            jst(datetime!(2026-03-31 15:30:05 UTC)),
            "2026-04-01 00:30:05"
        );
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
