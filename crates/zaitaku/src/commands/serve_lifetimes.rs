//! The options of `serve` and `demo` for how long things live (the README's
//! "Lifetimes" rows). Their defaults are `zaitaku_web::Lifetimes::default()`.

use clap::Args;
use zaitaku_web::Lifetimes;

/// A default of `Lifetimes::default()`, in whole seconds, for clap.
fn default_secs(of: fn(&Lifetimes) -> time::Duration) -> u64 {
    of(&Lifetimes::default()).whole_seconds().unsigned_abs()
}

#[derive(Args)]
pub struct LifetimeOptions {
    /// Seconds a patient-side browser session lasts (a visiting day).
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_SESSION_LIFETIME_SECS",
          default_value_t = default_secs(|l| l.session),
          value_parser = clap::value_parser!(u64).range(60..=604_800))]
    session_lifetime_secs: u64,
    /// Seconds a flow left alone stays open; each step renews it.
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_FLOW_LIFETIME_SECS",
          default_value_t = default_secs(|l| l.flow),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    flow_lifetime_secs: u64,
    /// Seconds a card challenge is good for (at most Web eID's five minutes).
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_CHALLENGE_LIFETIME_SECS",
          default_value_t = default_secs(|l| l.challenge),
          value_parser = clap::value_parser!(u64).range(1..=300))]
    challenge_lifetime_secs: u64,
    /// Seconds an unused console session stays open.
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_CONSOLE_IDLE_SECS",
          default_value_t = default_secs(|l| l.console_idle),
          value_parser = clap::value_parser!(u64).range(60..=86_400))]
    console_idle_secs: u64,
    /// Seconds a console session lasts after login, used or not.
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_CONSOLE_LIFETIME_SECS",
          default_value_t = default_secs(|l| l.console_absolute),
          value_parser = clap::value_parser!(u64).range(60..=604_800))]
    console_lifetime_secs: u64,
    /// Seconds five wrong console codes in a row lock the account.
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_LOCKOUT_SECS",
          default_value_t = default_secs(|l| l.lockout),
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    lockout_secs: u64,
    /// Seconds a finished flow's page (its 資格情報 and consent) stays viewable
    /// after it finished; its 「閉じる」 button ends it at once.
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_RESULT_LIFETIME_SECS",
          default_value_t = default_secs(|l| l.result),
          value_parser = clap::value_parser!(u64).range(10..=3_600))]
    result_lifetime_secs: u64,
}

impl LifetimeOptions {
    pub fn lifetimes(&self) -> Lifetimes {
        let secs = |s: u64| time::Duration::seconds(s as i64);
        Lifetimes {
            session: secs(self.session_lifetime_secs),
            flow: secs(self.flow_lifetime_secs),
            challenge: secs(self.challenge_lifetime_secs),
            console_idle: secs(self.console_idle_secs),
            console_absolute: secs(self.console_lifetime_secs),
            lockout: secs(self.lockout_secs),
            result: secs(self.result_lifetime_secs),
        }
    }
}
