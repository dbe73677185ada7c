//! `zaitaku admin …`: the operator's commands on the service's database (the
//! same data directory as `zaitaku serve`).

mod card;
mod insured;
mod insured_csv;

use super::CliError;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use zaitaku_store::SqliteStore;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Insured persons and their qualification records.
    #[command(subcommand)]
    Insured(insured::InsuredCommand),
    /// Which card certificate belongs to which insured person.
    #[command(subcommand)]
    Card(card::CardCommand),
}

pub fn run(command: AdminCommand) -> Result<ExitCode, CliError> {
    match command {
        AdminCommand::Insured(c) => insured::run(c),
        AdminCommand::Card(c) => card::run(c),
    }
}

/// The data directory every admin command works on.
#[derive(Args)]
pub struct DataDir {
    /// Directory of the service's embedded database (as `zaitaku serve --data-dir`).
    #[arg(
        long,
        value_name = "DIR",
        env = "ZAITAKU_DATA_DIR",
        default_value = "zaitaku-data"
    )]
    data_dir: PathBuf,
}

impl DataDir {
    async fn open(&self) -> Result<SqliteStore, CliError> {
        super::serve::open_store(&self.data_dir).await
    }
}
