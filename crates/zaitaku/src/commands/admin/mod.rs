//! `zaitaku admin …`: the operator's commands (the national-system role). They
//! work on the service's own database, also while `zaitaku serve` runs (WAL).

mod audit;
mod backup;
mod card;
mod crl;
mod data_dir;
mod device;
mod institution;
mod insured;
mod person;
mod person_key;
mod purge;
mod records;
mod staff;
mod staff_lifecycle;
mod staff_unlock;
mod trust;

use crate::setup::CliError;
use clap::Subcommand;
use std::process::ExitCode;
use time::OffsetDateTime;
use zaitaku_domain::{InstitutionCode, InstitutionId, PersonId};
use zaitaku_store::{AccessAction, AccessActor, AccessEntry, Store};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Institutions: add one, list, show, change settings, rotate the URL, deactivate, reactivate.
    #[command(subcommand)]
    Institution(institution::InstitutionCommand),
    /// Institutions' enrolled devices: issue an activation code, list, revoke.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Insured persons and their qualification records.
    #[command(subcommand)]
    Insured(insured::InsuredCommand),
    /// Which card certificate belongs to which insured person.
    #[command(subcommand)]
    Card(card::CardCommand),
    /// Insured persons' medical records (薬剤・診療・特定健診・手術情報).
    #[command(subcommand)]
    Records(records::RecordsCommand),
    /// The institutions' console accounts: add, reset, list, unlock, disable, enable, remove, set a role.
    #[command(subcommand)]
    Staff(staff::StaffCommand),
    /// Trust anchors: the root CAs whose cards are accepted (add, list, remove).
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// Certificate revocation lists from the trusted roots.
    #[command(subcommand)]
    Crl(crl::CrlCommand),
    /// Copy the SQLite database while the service runs, verified (PostgreSQL: pg_dump).
    Backup(backup::BackupArgs),
    /// Put a backup in place of the SQLite database; refused while `serve` runs.
    Restore(backup::RestoreArgs),
    /// Delete what the retention periods let go (--dry-run: count it), per table.
    Purge(purge::PurgeArgs),
    /// One insured person's data: export it (disclosure), delete it (deletion request).
    #[command(subcommand)]
    Person(person::PersonCommand),
    /// The tamper-evident logs: verify their hash chains, print their heads.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

pub fn run(command: AdminCommand) -> Result<ExitCode, CliError> {
    match command {
        AdminCommand::Institution(c) => institution::run(c),
        AdminCommand::Device(c) => device::run(c),
        AdminCommand::Insured(c) => insured::run(c),
        AdminCommand::Card(c) => card::run(c),
        AdminCommand::Records(c) => records::run(c),
        AdminCommand::Staff(c) => staff::run(c),
        AdminCommand::Trust(c) => trust::run(c),
        AdminCommand::Crl(c) => crl::run(c),
        AdminCommand::Backup(args) => backup::backup(args),
        AdminCommand::Restore(args) => backup::restore(args),
        AdminCommand::Purge(args) => purge::purge(args),
        AdminCommand::Person(c) => person::run(c),
        AdminCommand::Audit(c) => audit::run(c),
    }
}

/// The command ran, and the database said no: the message, exit 1.
fn refuse(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(crate::setup::EXIT_INVALID)
}

/// What `refuse` says of an institution code nobody has.
fn no_institution(code: &InstitutionCode) -> String {
    format!("no institution has code {code} (see `zaitaku admin institution list`)")
}

/// Record the command in each holder's access log, the CLI as the actor.
async fn log_access(
    store: &dyn Store,
    holders: &[Option<InstitutionId>],
    person: Option<PersonId>,
    action: AccessAction,
    detail: Option<String>,
) -> Result<(), CliError> {
    let at = OffsetDateTime::now_utc();
    for institution in holders {
        store
            .record_access(&AccessEntry {
                at,
                institution: *institution,
                actor: AccessActor::Cli,
                person,
                action,
                device_name: None,
                detail: detail.clone(),
            })
            .await?;
    }
    Ok(())
}
