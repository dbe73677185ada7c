//! `zaitaku admin …`: the operator's commands (the national-system role). They
//! work on the service's own database, also while `zaitaku serve` runs (WAL).

mod card;
pub(crate) mod crl;
mod csv_header;
pub(crate) mod csv_import;
mod institution;
pub(crate) mod insured;
mod insured_csv;
pub(crate) mod records;
mod records_csv;
mod staff;
mod staff_unlock;
pub(crate) mod trust;

use super::CliError;
use super::database::Database;
use super::serve::DEFAULT_DATA_DIR;
use clap::{Args, Subcommand};
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use zaitaku_store::Store;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Institutions: add one, list, show, change settings, rotate the URL.
    #[command(subcommand)]
    Institution(institution::InstitutionCommand),
    /// Insured persons and their qualification records.
    #[command(subcommand)]
    Insured(insured::InsuredCommand),
    /// Which card certificate belongs to which insured person.
    #[command(subcommand)]
    Card(card::CardCommand),
    /// Insured persons' medical records (薬剤・診療・特定健診・手術情報).
    #[command(subcommand)]
    Records(records::RecordsCommand),
    /// The institutions' console accounts: add one, reset one, list them.
    #[command(subcommand)]
    Staff(staff::StaffCommand),
    /// Trust anchors: the root CAs whose cards are accepted.
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// Certificate revocation lists from the trusted roots.
    #[command(subcommand)]
    Crl(crl::CrlCommand),
}

pub fn run(command: AdminCommand) -> Result<ExitCode, CliError> {
    match command {
        AdminCommand::Institution(c) => institution::run(c),
        AdminCommand::Insured(c) => insured::run(c),
        AdminCommand::Card(c) => card::run(c),
        AdminCommand::Records(c) => records::run(c),
        AdminCommand::Staff(c) => staff::run(c),
        AdminCommand::Trust(c) => trust::run(c),
        AdminCommand::Crl(c) => crl::run(c),
    }
}

/// Where the database is: the same `--data-dir` or `--database-url` that
/// `zaitaku serve` is given.
#[derive(Args)]
pub struct DataDir {
    /// The service's data directory (the one `zaitaku serve` uses).
    #[arg(long = "data-dir", value_name = "DIR", env = "ZAITAKU_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    path: PathBuf,
    /// The service's database, when it is not the data directory's SQLite file:
    /// postgres://USER@HOST/DB or sqlite:PATH (the one `zaitaku serve` uses).
    #[arg(long, value_name = "URL", env = "ZAITAKU_DATABASE_URL")]
    database_url: Option<String>,
}

impl DataDir {
    fn database(&self) -> Result<Database, CliError> {
        Database::choose(self.database_url.as_deref(), &self.path)
    }

    /// Open the database, creating the directory and database if missing.
    pub async fn create_or_open(&self) -> Result<Arc<dyn Store>, CliError> {
        self.database()?.open().await
    }

    /// Open the database, which must exist: a mistyped directory is an error,
    /// not a new empty database.
    pub async fn open_existing(&self) -> Result<Arc<dyn Store>, CliError> {
        let database = self.database()?;
        if !database.exists() {
            return Err(format!(
                "no Zaitaku database in {} (give the --data-dir that `zaitaku serve` uses)",
                self.path.display()
            )
            .into());
        }
        database.open().await
    }
}

/// Run one command's async work; store calls use tokio's blocking pool.
pub fn block_on<T>(work: impl Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work)
}
