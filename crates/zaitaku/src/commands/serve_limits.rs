//! The options of `serve` and `demo` that cap what clients may use (the
//! README's "Limits" table): flows, challenges and status long-polls, rates
//! per client, and the proxies whose `X-Forwarded-For` names the client.
//! Their defaults are `zaitaku_web::Limits::default()`.

use clap::Args;
use zaitaku_store::Caps;
use zaitaku_web::{Cidr, Limits, PollCaps, Rate, TrustedProxies};

#[derive(Args)]
pub struct LimitOptions {
    /// Flows one browser session may have open (a flow stays open 30 minutes
    /// after its last step); more are refused with 429.
    #[arg(long, value_name = "N", env = "ZAITAKU_MAX_FLOWS_PER_SESSION",
          default_value_t = Limits::default().flows.live_per_session,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_flows_per_session: u32,
    /// Flows started for one institution per minute, all browsers together.
    #[arg(long, value_name = "N", env = "ZAITAKU_MAX_FLOWS_PER_INSTITUTION_PER_MINUTE",
          default_value_t = Limits::default().flows.per_institution_per_minute,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_flows_per_institution_per_minute: u32,
    /// Card challenges one browser session may have within their 5 minutes.
    #[arg(long, value_name = "N", env = "ZAITAKU_MAX_CHALLENGES_PER_SESSION",
          default_value_t = Limits::default().challenges.live_per_session,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_challenges_per_session: u32,
    /// Card challenges made for one institution per minute.
    #[arg(long, value_name = "N", env = "ZAITAKU_MAX_CHALLENGES_PER_INSTITUTION_PER_MINUTE",
          default_value_t = Limits::default().challenges.per_institution_per_minute,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_challenges_per_institution_per_minute: u32,
    /// Status long-polls waiting on one flow in this process.
    #[arg(long, value_name = "N", env = "ZAITAKU_MAX_POLLS_PER_FLOW",
          default_value_t = Limits::default().polls.per_flow as u32,
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    max_polls_per_flow: u32,
    /// Status long-polls waiting in this process, all flows together (keep it
    /// under --max-connections: each holds a connection).
    #[arg(long, value_name = "N", env = "ZAITAKU_MAX_POLLS",
          default_value_t = Limits::default().polls.in_all as u32,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_polls: u32,
    /// Card tokens (POST /auth/…) one client may send per minute.
    #[arg(long, value_name = "N", env = "ZAITAKU_TOKEN_CHECKS_PER_MINUTE",
          default_value_t = Limits::default().token_checks.per_minute,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    token_checks_per_minute: u32,
    /// Console password attempts one client may make per minute (besides the
    /// throttle per account).
    #[arg(long, value_name = "N", env = "ZAITAKU_CONSOLE_LOGINS_PER_MINUTE",
          default_value_t = Limits::default().console_logins.per_minute,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    console_logins_per_minute: u32,
    /// Activation codes (typed at /device) one client may try per minute.
    #[arg(long, value_name = "N", env = "ZAITAKU_DEVICE_ACTIVATIONS_PER_MINUTE",
          default_value_t = Limits::default().device_activations.per_minute,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    device_activations_per_minute: u32,
    /// New browsers the demo index enrols per client per minute (`zaitaku demo` only).
    #[arg(long, value_name = "N", env = "ZAITAKU_DEMO_ENROLMENTS_PER_MINUTE",
          default_value_t = Limits::default().demo_enrolments.per_minute,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    demo_enrolments_per_minute: u32,
    /// A reverse proxy (address or CIDR block, repeatable) whose X-Forwarded-For
    /// names the client for the limits per client. Without it, the client is
    /// the connection's peer and X-Forwarded-For is ignored.
    #[arg(
        long = "trusted-proxy",
        value_name = "CIDR",
        env = "ZAITAKU_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<Cidr>,
}

impl LimitOptions {
    pub fn limits(&self) -> Limits {
        Limits {
            flows: Caps {
                live_per_session: self.max_flows_per_session,
                per_institution_per_minute: self.max_flows_per_institution_per_minute,
            },
            challenges: Caps {
                live_per_session: self.max_challenges_per_session,
                per_institution_per_minute: self.max_challenges_per_institution_per_minute,
            },
            polls: PollCaps {
                per_flow: self.max_polls_per_flow as usize,
                in_all: self.max_polls as usize,
            },
            token_checks: Rate {
                per_minute: self.token_checks_per_minute,
            },
            console_logins: Rate {
                per_minute: self.console_logins_per_minute,
            },
            device_activations: Rate {
                per_minute: self.device_activations_per_minute,
            },
            demo_enrolments: Rate {
                per_minute: self.demo_enrolments_per_minute,
            },
            trusted_proxies: TrustedProxies(self.trusted_proxies.clone()),
        }
    }
}
