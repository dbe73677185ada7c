//! `zaitaku admin purge`: delete what the retention periods let go (or, with
//! `--dry-run`, count it), table by table.

use super::data_dir::DataDir;
use crate::commands::retention::RetentionArgs;
use crate::setup::{CliError, runtime};
use clap::Args;
use std::process::ExitCode;
use time::OffsetDateTime;
use zaitaku_store::TableCount;

#[derive(Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    data: DataDir,
    #[command(flatten)]
    retention: RetentionArgs,
    /// Count what would be deleted, per table, and delete nothing.
    #[arg(long)]
    dry_run: bool,
}

pub fn purge(args: PurgeArgs) -> Result<ExitCode, CliError> {
    let cutoffs = args.retention.policy().cutoffs(OffsetDateTime::now_utc());
    runtime()?.block_on(async move {
        let store = args.data.open_existing().await?;
        let counts = store.purge(&cutoffs, args.dry_run).await?;
        store.close().await;
        let verb = if args.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        print!("{}", table(&counts, verb));
        Ok(ExitCode::SUCCESS)
    })
}

/// One line per table: its name, then `verb` and the rows.
pub fn table(counts: &[TableCount], verb: &str) -> String {
    let width = counts.iter().map(|c| c.table.len()).max().unwrap_or(0);
    counts
        .iter()
        .map(|c| format!("{:width$}  {verb} {}\n", c.table, c.rows))
        .collect()
}
