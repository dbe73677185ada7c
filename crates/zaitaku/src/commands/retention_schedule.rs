//! `serve`'s scheduled retention purge: `admin purge`'s work, at start and then
//! every `--purge-every-hours`, logged as counts per table (no personal data).

use super::retention::RetentionArgs;
use clap::Args;
use std::sync::Arc;
use std::time::Duration;
use zaitaku_store::{RetentionPolicy, Store};

#[derive(Args)]
pub struct PurgeSchedule {
    /// Hours between retention purges while serving, the first at start; 0
    /// turns them off (then run `zaitaku admin purge` from cron or a timer).
    #[arg(long, value_name = "HOURS", env = "ZAITAKU_PURGE_EVERY_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(0..=8_760))]
    purge_every_hours: u64,
    #[command(flatten)]
    retention: RetentionArgs,
}

impl PurgeSchedule {
    /// Start the purges in the background, unless turned off.
    pub fn spawn(&self, store: &Arc<dyn Store>) {
        if self.purge_every_hours == 0 {
            return;
        }
        let every = Duration::from_secs(self.purge_every_hours * 3_600);
        tokio::spawn(run(Arc::clone(store), self.retention.policy(), every));
    }
}

async fn run(store: Arc<dyn Store>, policy: RetentionPolicy, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let cutoffs = policy.cutoffs(time::OffsetDateTime::now_utc());
        match store.purge(&cutoffs, false).await {
            Ok(counts) => {
                let deleted: Vec<String> = counts
                    .iter()
                    .filter(|c| c.rows > 0)
                    .map(|c| format!("{}={}", c.table, c.rows))
                    .collect();
                tracing::info!(deleted = %deleted.join(" "), "retention purge done");
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention purge failed; trying again at the next")
            }
        }
    }
}
