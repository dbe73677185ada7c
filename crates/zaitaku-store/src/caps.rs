//! Caps on what one browser session, and one institution per minute, may start:
//! flows and challenges are rows, and a client that starts them in a loop must
//! meet a refusal before the database fills. The rule is here, once; each
//! backend counts inside the transaction that would write, and writes nothing
//! when a cap is reached.

/// The caps on one kind of row (flows, or challenges).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Rows of one session not yet expired (a flow lives 30 minutes after its
    /// last step, a challenge 5 minutes, whatever became of it).
    pub live_per_session: u32,
    /// Rows made for one institution in the last 60 seconds, all sessions together.
    pub per_institution_per_minute: u32,
}

/// Which cap refused a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapReached {
    Session,
    Institution,
}

/// What a backend counted, in the transaction that would write.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub live_in_session: i64,
    pub institution_last_minute: i64,
}

/// The window of the per-institution cap, in seconds (instants are stored to the second).
pub const INSTITUTION_WINDOW_SECONDS: i64 = 60;

/// The rows a cap counts. Both tables carry the session, the institution and
/// their times, so one pair of statements serves both, on both backends
/// (`$1`, `$2` are positional in SQLite too).
#[derive(Debug, Clone, Copy)]
pub enum Capped {
    Flows,
    Challenges,
}

impl Capped {
    /// Rows of session `$1` not expired at `$2`.
    pub fn live_in_session_sql(self) -> &'static str {
        match self {
            Capped::Flows => {
                "SELECT count(*) FROM flows WHERE session_hash = $1 AND expires_at > $2"
            }
            Capped::Challenges => {
                "SELECT count(*) FROM challenges WHERE session_hash = $1 AND expires_at > $2"
            }
        }
    }

    /// Rows of institution `$1` made after `$2`.
    pub fn institution_since_sql(self) -> &'static str {
        match self {
            Capped::Flows => {
                "SELECT count(*) FROM flows WHERE institution_id = $1 AND created_at > $2"
            }
            Capped::Challenges => {
                "SELECT count(*) FROM challenges WHERE institution_id = $1 AND created_at > $2"
            }
        }
    }
}

impl Caps {
    /// Whether one more row fits.
    pub fn admit(&self, counts: Counts) -> Result<(), CapReached> {
        if counts.live_in_session >= i64::from(self.live_per_session) {
            Err(CapReached::Session)
        } else if counts.institution_last_minute >= i64::from(self.per_institution_per_minute) {
            Err(CapReached::Institution)
        } else {
            Ok(())
        }
    }
}

/// The answer to opening a challenge within caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeOpening {
    Opened,
    /// The flow's stored version moved on (another tab): nothing written.
    Stale,
    Refused(CapReached),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_place_is_given_and_the_next_refused() {
        let caps = Caps {
            live_per_session: 2,
            per_institution_per_minute: 3,
        };
        let counts = |s, i| Counts {
            live_in_session: s,
            institution_last_minute: i,
        };
        assert_eq!(caps.admit(counts(1, 2)), Ok(()));
        assert_eq!(caps.admit(counts(2, 0)), Err(CapReached::Session));
        assert_eq!(caps.admit(counts(0, 3)), Err(CapReached::Institution));
    }
}
