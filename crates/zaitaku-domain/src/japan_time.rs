//! Japan's clock. Japan has one time zone and no daylight saving: qualification,
//! consent and record dates are Japanese calendar days, and times shown to staff
//! are Japan Standard Time. Defined here once for every crate.

use time::{Date, OffsetDateTime, UtcOffset};

/// Japan Standard Time, UTC+09:00.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("+09:00 is a valid offset"),
};

/// The calendar day in Japan at `at`.
pub fn day_in_japan(at: OffsetDateTime) -> Date {
    at.to_offset(JST).date()
}

/// The calendar day in Japan now.
pub fn today_in_japan() -> Date {
    day_in_japan(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_japanese_day_begins_at_15_00_utc() {
        assert_eq!(
            day_in_japan(datetime!(2026-03-31 14:59:59 UTC)),
            time::macros::date!(2026 - 03 - 31)
        );
        assert_eq!(
            day_in_japan(datetime!(2026-03-31 15:00:00 UTC)),
            time::macros::date!(2026 - 04 - 01)
        );
    }
}
