//! The personal data's lifecycle: how long each kind of row is kept (the
//! retention policy), what a purge removes table by table, and what one
//! person's deletion removes or keeps. The rules are written once here as SQL
//! conditions both backends run (`$1` is the cutoff; SQLite numbers `$1` like
//! `?1`); why each period is what it is, the README's "Data lifecycle" says.

use crate::audit::Chain;
use crate::codec::{date, instant};
use time::{Duration, OffsetDateTime};
use zaitaku_domain::{InstitutionId, day_in_japan};

/// Days each kind of row is kept. The defaults are the README's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Qualification checks, from the check.
    pub qualification_check_days: u32,
    /// The console's access log, from the access.
    pub access_log_days: u32,
    /// The staff's login log, from the attempt.
    pub login_log_days: u32,
    /// A consent (and its history), from its end: its revocation, or the day
    /// it expired.
    pub consent_days: u32,
    /// An insured person, from the loss of the qualification (資格喪失日), once
    /// nothing kept refers to them.
    pub person_days: u32,
}

/// Five calendar years, leap days included.
pub const FIVE_YEARS: u32 = 1827;

impl RetentionPolicy {
    pub const DEFAULT: RetentionPolicy = RetentionPolicy {
        qualification_check_days: FIVE_YEARS,
        access_log_days: FIVE_YEARS,
        login_log_days: FIVE_YEARS,
        consent_days: FIVE_YEARS,
        person_days: FIVE_YEARS,
    };

    /// The cutoffs of a purge at `now`: rows older than these go.
    pub fn cutoffs(&self, now: OffsetDateTime) -> PurgeCutoffs {
        let before = |days: u32| instant(now - Duration::days(i64::from(days)));
        let day_before = |days: u32| date(day_in_japan(now) - Duration::days(i64::from(days)));
        PurgeCutoffs {
            now: instant(now),
            checks_before: before(self.qualification_check_days),
            access_before: before(self.access_log_days),
            logins_before: before(self.login_log_days),
            consents_revoked_before: before(self.consent_days),
            consents_expired_before: day_before(self.consent_days),
            persons_lost_before: day_before(self.person_days),
        }
    }
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy::DEFAULT
    }
}

/// The encoded cutoffs of one purge (instants in unix seconds, days as
/// 'YYYY-MM-DD' in Japan), as the rules compare them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeCutoffs {
    now: i64,
    checks_before: i64,
    access_before: i64,
    logins_before: i64,
    consents_revoked_before: i64,
    consents_expired_before: String,
    persons_lost_before: String,
}

impl PurgeCutoffs {
    /// The cutoffs for [`EXPIRED`] alone, which compare with `now` only.
    pub fn expired_at(now: OffsetDateTime) -> PurgeCutoffs {
        RetentionPolicy::DEFAULT.cutoffs(now)
    }
}

/// A rule's cutoff value, bound as `$1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cutoff {
    Instant(i64),
    Day(String),
}

/// One table's rows that a rule lets go: `DELETE FROM {table} WHERE {condition}`,
/// in batches of `key`s.
#[derive(Debug, Clone, Copy)]
pub struct PurgeRule {
    pub table: &'static str,
    /// A column whose values the batches select (unique, or a person's id for
    /// tables purged with their person).
    pub key: &'static str,
    pub condition: &'static str,
    cutoff: CutoffKind,
    /// A hash-chained table (`crate::audit`): the purge takes only the oldest
    /// entries of each chain, up to the first the condition keeps, and moves
    /// the chain's checkpoint.
    chain: Option<Chain>,
}

#[derive(Debug, Clone, Copy)]
enum CutoffKind {
    Now,
    Checks,
    Access,
    Logins,
    ConsentsRevoked,
    ConsentsExpired,
    PersonsLost,
}

impl PurgeRule {
    pub fn chained(&self) -> Option<Chain> {
        self.chain
    }

    pub fn cutoff(&self, cutoffs: &PurgeCutoffs) -> Cutoff {
        match self.cutoff {
            CutoffKind::Now => Cutoff::Instant(cutoffs.now),
            CutoffKind::Checks => Cutoff::Instant(cutoffs.checks_before),
            CutoffKind::Access => Cutoff::Instant(cutoffs.access_before),
            CutoffKind::Logins => Cutoff::Instant(cutoffs.logins_before),
            CutoffKind::ConsentsRevoked => Cutoff::Instant(cutoffs.consents_revoked_before),
            CutoffKind::ConsentsExpired => Cutoff::Day(cutoffs.consents_expired_before.clone()),
            CutoffKind::PersonsLost => Cutoff::Day(cutoffs.persons_lost_before.clone()),
        }
    }

    /// `SELECT count(*)` of what the rule lets go.
    pub fn count_sql(&self) -> String {
        format!(
            "SELECT count(*) FROM {} WHERE {}",
            self.table, self.condition
        )
    }

    /// Delete everything the rule lets go (one statement; `$1` the cutoff).
    pub fn delete_sql(&self) -> String {
        format!("DELETE FROM {} WHERE {}", self.table, self.condition)
    }

    /// Delete one batch: at most `$2` keys' rows.
    pub fn delete_batch_sql(&self) -> String {
        format!(
            "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {condition} LIMIT $2)",
            table = self.table,
            key = self.key,
            condition = self.condition,
        )
    }
}

/// Rows of a purge's retention rules deleted per transaction: a long purge
/// never holds the (SQLite: only) writer for long.
pub const PURGE_BATCH: i64 = 2_000;

/// What has simply expired, purged every minute by `serve` in one transaction
/// (`Housekeeping::purge_expired`) and by every retention purge: challenges of
/// expired flows (and any a day past its own expiry, finished or not), expired
/// flows, sessions, console sessions and remembered devices, and device
/// activation codes a day past their expiry (the devices they enrolled stay).
pub const EXPIRED: &[PurgeRule] = &[
    PurgeRule {
        table: "challenges",
        key: "reference",
        condition: "flow_id IN (SELECT id FROM flows WHERE expires_at <= $1) \
                    OR expires_at <= $1 - 86400",
        cutoff: CutoffKind::Now,
        chain: None,
    },
    PurgeRule {
        table: "flows",
        key: "id",
        condition: "expires_at <= $1",
        cutoff: CutoffKind::Now,
        chain: None,
    },
    PurgeRule {
        table: "sessions",
        key: "id_hash",
        condition: "expires_at <= $1",
        cutoff: CutoffKind::Now,
        chain: None,
    },
    PurgeRule {
        table: "staff_sessions",
        key: "id_hash",
        condition: "expires_at <= $1",
        cutoff: CutoffKind::Now,
        chain: None,
    },
    PurgeRule {
        table: "staff_devices",
        key: "token_hash",
        condition: "expires_at <= $1",
        cutoff: CutoffKind::Now,
        chain: None,
    },
    // A day after its ten minutes, used or not (the device it enrolled stays).
    PurgeRule {
        table: "device_activation_codes",
        key: "code_hash",
        condition: "expires_at <= $1 - 86400",
        cutoff: CutoffKind::Now,
        chain: None,
    },
    // An invitation admits for at most 30 minutes after it is opened, which is
    // before it expires (`invitations::ADMISSION_LIFETIME`).
    PurgeRule {
        table: "invitations",
        key: "token_hash",
        condition: "expires_at <= $1 - 1800",
        cutoff: CutoffKind::Now,
        chain: None,
    },
];

/// A consent that ended by revocation before `$1` (an instant), and that no
/// flow still names.
macro_rules! consent_revoked_before {
    () => {
        "status <> 'active' AND updated_at <= $1 \
         AND NOT EXISTS (SELECT 1 FROM flows f WHERE f.consent_id = consents.id)"
    };
}

/// A consent that expired before the day `$1`, and that no flow still names.
macro_rules! consent_expired_before {
    () => {
        "status = 'active' AND expires_on < $1 \
         AND NOT EXISTS (SELECT 1 FROM flows f WHERE f.consent_id = consents.id)"
    };
}

/// A consent none of whose history is left: the history is chained, and the
/// purge takes a chain's oldest entries only, so a consent's history may
/// outlive the consent's own period while an older entry of its chain is kept.
macro_rules! no_history_left {
    () => {
        "NOT EXISTS (SELECT 1 FROM consent_history h WHERE h.consent_id = consents.id)"
    };
}

/// A person who lost the qualification before the day `$1` and whom nothing
/// kept refers to any more (consents, qualification checks, the access log,
/// flows).
macro_rules! person_lost_before {
    () => {
        "lost_on IS NOT NULL AND lost_on < $1 \
         AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.person_id = insured_persons.id) \
         AND NOT EXISTS (SELECT 1 FROM qualification_checks q WHERE q.person_id = insured_persons.id) \
         AND NOT EXISTS (SELECT 1 FROM access_log a WHERE a.person_id = insured_persons.id) \
         AND NOT EXISTS (SELECT 1 FROM flows f WHERE f.person_id = insured_persons.id)"
    };
}

/// What the retention periods let go, in the order a purge applies them (a
/// consent's history before the consent, a person's links and records before
/// the person).
pub const RETAINED: &[PurgeRule] = &[
    PurgeRule {
        table: "qualification_checks",
        key: "id",
        condition: "checked_at <= $1",
        cutoff: CutoffKind::Checks,
        chain: None,
    },
    PurgeRule {
        table: "access_log",
        key: "id",
        condition: "at <= $1",
        cutoff: CutoffKind::Access,
        chain: Some(Chain::AccessLog),
    },
    PurgeRule {
        table: "staff_logins",
        key: "id",
        condition: "at <= $1",
        cutoff: CutoffKind::Logins,
        chain: Some(Chain::StaffLogins),
    },
    PurgeRule {
        table: "consent_history",
        key: "id",
        condition: concat!(
            "consent_id IN (SELECT id FROM consents WHERE ",
            consent_revoked_before!(),
            ")"
        ),
        cutoff: CutoffKind::ConsentsRevoked,
        chain: Some(Chain::ConsentHistory),
    },
    PurgeRule {
        table: "consent_history",
        key: "id",
        condition: concat!(
            "consent_id IN (SELECT id FROM consents WHERE ",
            consent_expired_before!(),
            ")"
        ),
        cutoff: CutoffKind::ConsentsExpired,
        chain: Some(Chain::ConsentHistory),
    },
    PurgeRule {
        table: "consents",
        key: "id",
        condition: concat!(consent_revoked_before!(), " AND ", no_history_left!()),
        cutoff: CutoffKind::ConsentsRevoked,
        chain: None,
    },
    PurgeRule {
        table: "consents",
        key: "id",
        condition: concat!(consent_expired_before!(), " AND ", no_history_left!()),
        cutoff: CutoffKind::ConsentsExpired,
        chain: None,
    },
    PurgeRule {
        table: "certificate_links",
        key: "person_id",
        condition: concat!(
            "person_id IN (SELECT id FROM insured_persons WHERE ",
            person_lost_before!(),
            ")"
        ),
        cutoff: CutoffKind::PersonsLost,
        chain: None,
    },
    PurgeRule {
        table: "medical_records",
        key: "id",
        condition: concat!(
            "person_id IN (SELECT id FROM insured_persons WHERE ",
            person_lost_before!(),
            ")"
        ),
        cutoff: CutoffKind::PersonsLost,
        chain: None,
    },
    PurgeRule {
        table: "insured_persons",
        key: "id",
        condition: person_lost_before!(),
        cutoff: CutoffKind::PersonsLost,
        chain: None,
    },
];

/// Rows a purge deleted (or, dry, would delete) from one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub rows: u64,
}

/// Add `rows` to `table`'s count, keeping the tables in the order first seen.
pub fn tally(counts: &mut Vec<TableCount>, table: &'static str, rows: u64) {
    match counts.iter_mut().find(|c| c.table == table) {
        Some(count) => count.rows += rows,
        None => counts.push(TableCount { table, rows }),
    }
}

/// A certificate linked to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateLink {
    pub issuer: String,
    pub serial: String,
    pub linked_at: OffsetDateTime,
}

/// What `delete_person` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonDeletion {
    /// Refused, nothing written: the person's consent at these institutions
    /// still stands (it is the patient's own standing choice; it ends by
    /// revocation, or by expiry).
    ConsentStands(Vec<InstitutionId>),
    Done {
        /// Rows deleted, per table: flows in progress (and their challenges),
        /// certificate links, medical records, and the person once nothing
        /// kept refers to them.
        removed: Vec<TableCount>,
        /// Rows kept for their retention period, per table: consents and
        /// their history, qualification checks, access-log entries.
        kept: Vec<TableCount>,
        /// True when the person's own row went too.
        person_removed: bool,
    },
}

/// The tables `delete_person` removes a person's rows from, in order; `$1` the
/// person's id.
pub const PERSON_REMOVED: &[(&str, &str)] = &[
    (
        "challenges",
        "flow_id IN (SELECT id FROM flows WHERE person_id = $1 \
         OR consent_id IN (SELECT id FROM consents WHERE person_id = $1))",
    ),
    (
        "flows",
        "person_id = $1 OR consent_id IN (SELECT id FROM consents WHERE person_id = $1)",
    ),
    ("certificate_links", "person_id = $1"),
    ("medical_records", "person_id = $1"),
];

/// The tables whose rows about a person `delete_person` keeps; `$1` the person's id.
pub const PERSON_KEPT: &[(&str, &str)] = &[
    ("consents", "person_id = $1"),
    (
        "consent_history",
        "consent_id IN (SELECT id FROM consents WHERE person_id = $1)",
    ),
    ("qualification_checks", "person_id = $1"),
    ("access_log", "person_id = $1"),
];

/// The institutions where the person's consent stands on the day `$2`; `$1` the person's id.
pub const STANDING_CONSENTS: &str = "SELECT institution_id FROM consents \
     WHERE person_id = $1 AND status = 'active' AND expires_on >= $2 ORDER BY institution_id";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_count_back_from_now_and_from_the_day_in_japan() {
        // 2026-03-01 16:00 UTC is 2026-03-02 in Japan.
        let now = time::macros::datetime!(2026-03-01 16:00 UTC);
        let policy = RetentionPolicy {
            qualification_check_days: 1,
            access_log_days: 2,
            login_log_days: 3,
            consent_days: 4,
            person_days: 5,
        };
        let c = policy.cutoffs(now);
        assert_eq!(c.now, instant(now));
        assert_eq!(c.checks_before, instant(now) - 86_400);
        assert_eq!(c.access_before, instant(now) - 2 * 86_400);
        assert_eq!(c.logins_before, instant(now) - 3 * 86_400);
        assert_eq!(c.consents_revoked_before, instant(now) - 4 * 86_400);
        assert_eq!(c.consents_expired_before, "2026-02-26");
        assert_eq!(c.persons_lost_before, "2026-02-25");
    }

    #[test]
    fn a_batch_deletes_by_key_within_the_condition() {
        assert_eq!(
            RETAINED[0].delete_batch_sql(),
            "DELETE FROM qualification_checks WHERE id IN \
             (SELECT id FROM qualification_checks WHERE checked_at <= $1 LIMIT $2)"
        );
    }
}
