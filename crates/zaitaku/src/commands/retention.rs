//! The retention periods, as options of `admin purge` and `serve` (each with
//! its environment variable); the defaults and their reasons are
//! `zaitaku_store::RetentionPolicy`'s and the README's "Data lifecycle".

use clap::Args;
use zaitaku_store::RetentionPolicy;

const DEFAULT: RetentionPolicy = RetentionPolicy::DEFAULT;

#[derive(Args, Debug, Clone)]
pub struct RetentionArgs {
    /// Days a qualification check is kept after it was made.
    #[arg(long, value_name = "DAYS", env = "ZAITAKU_KEEP_QUALIFICATION_CHECKS_DAYS",
          default_value_t = DEFAULT.qualification_check_days,
          value_parser = clap::value_parser!(u32).range(1..))]
    keep_qualification_checks_days: u32,
    /// Days a line of the console's access log is kept.
    #[arg(long, value_name = "DAYS", env = "ZAITAKU_KEEP_ACCESS_LOG_DAYS",
          default_value_t = DEFAULT.access_log_days,
          value_parser = clap::value_parser!(u32).range(1..))]
    keep_access_log_days: u32,
    /// Days a line of the staff's login log is kept.
    #[arg(long, value_name = "DAYS", env = "ZAITAKU_KEEP_LOGIN_LOG_DAYS",
          default_value_t = DEFAULT.login_log_days,
          value_parser = clap::value_parser!(u32).range(1..))]
    keep_login_log_days: u32,
    /// Days a consent and its history are kept after the consent ended
    /// (revoked, or expired).
    #[arg(long, value_name = "DAYS", env = "ZAITAKU_KEEP_CONSENTS_DAYS",
          default_value_t = DEFAULT.consent_days,
          value_parser = clap::value_parser!(u32).range(1..))]
    keep_consents_days: u32,
    /// Days an insured person is kept after losing the qualification, once
    /// nothing kept refers to them.
    #[arg(long, value_name = "DAYS", env = "ZAITAKU_KEEP_PERSONS_DAYS",
          default_value_t = DEFAULT.person_days,
          value_parser = clap::value_parser!(u32).range(1..))]
    keep_persons_days: u32,
}

impl RetentionArgs {
    pub fn policy(&self) -> RetentionPolicy {
        RetentionPolicy {
            qualification_check_days: self.keep_qualification_checks_days,
            access_log_days: self.keep_access_log_days,
            login_log_days: self.keep_login_log_days,
            consent_days: self.keep_consents_days,
            person_days: self.keep_persons_days,
        }
    }
}
