//! `zaitaku admin crl import`: certificate revocation lists into the database,
//! where every running `zaitaku serve` picks them up at its next reload.
//!
//! A CRL is taken only if a stored trust anchor signed it, it is current (its
//! nextUpdate has not passed, its thisUpdate is not in the future), the
//! validator could use it, and it is newer than the one kept for its issuer and
//! partition. All files are imported, or none.

use super::data_dir::DataDir;
use crate::commands::crl_health::{self, CrlLine, CrlMaxAge, Health};
use crate::setup::crl::{Imported, import_crls};
use crate::setup::trust::timestamp;
use crate::setup::{CliError, EXIT_INVALID, EXIT_USAGE, block_on, read_file};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_store::{CrlRecord, NewCrl};

#[derive(Subcommand)]
pub enum CrlCommand {
    /// Import CRLs (PEM or DER), each signed by a stored trust anchor and newer
    /// than the one kept for its issuer and partition. Exit 0 when all were
    /// imported, 1 when one was refused, 2 when a file is unusable; in both
    /// failures nothing is imported.
    Import(ImportArgs),
    /// List each kept CRL (issuer, partition, thisUpdate, nextUpdate, entries)
    /// and its state: fresh, stale, or missing for a trusted root without one.
    /// Exit 0 when all are fresh, 1 when any is stale or missing or no root is
    /// trusted.
    Status(StatusArgs),
}

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    data_dir: DataDir,
    /// Print a JSON array of objects (issuer, partition, this_update,
    /// next_update, entries, state).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    crl_max_age: CrlMaxAge,
}

#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    data_dir: DataDir,
    /// CRL files, PEM ("X509 CRL") or DER.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

pub fn run(command: CrlCommand) -> Result<ExitCode, CliError> {
    match command {
        CrlCommand::Import(args) => import(args),
        CrlCommand::Status(args) => status(args),
    }
}

fn import(args: ImportArgs) -> Result<ExitCode, CliError> {
    let mut crls = Vec::new();
    for path in &args.files {
        let source = path.display().to_string();
        match Crl::load(&read_file(path)?) {
            Ok(crl) => crls.push((source, crl)),
            Err(e) => {
                eprintln!("error: {source}: {e}");
                eprintln!("nothing was imported");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        }
    }
    block_on(async move {
        let store = args.data_dir.open_existing().await?;
        let outcome = import_crls(store.as_ref(), &crls, SystemTime::now()).await?;
        store.close().await;
        match outcome {
            Imported::All(imported) => {
                for (crl, replaced) in &imported {
                    print_imported(crl, replaced.as_ref());
                }
                Ok(ExitCode::SUCCESS)
            }
            Imported::Refused(why) | Imported::NotNewer(why) => {
                eprintln!("error: {why}");
                eprintln!("nothing was imported");
                Ok(ExitCode::from(EXIT_INVALID))
            }
        }
    })
}

fn print_imported(crl: &NewCrl, replaced: Option<&CrlRecord>) {
    println!("imported: CRL of {}", crl.issuer);
    if let Some(partition) = &crl.partition {
        println!("  partition  {partition}");
    }
    println!("  thisUpdate {}", timestamp(crl.this_update));
    match crl.next_update {
        Some(next) => println!("  nextUpdate {}", timestamp(next)),
        None => println!("  nextUpdate (none)"),
    }
    if let Some(number) = &crl.crl_number {
        println!("  number     {number}");
    }
    println!("  revoked    {}", crl.entries);
    if let Some(old) = replaced {
        println!(
            "  replaces   the CRL of thisUpdate {}",
            timestamp(old.crl.this_update)
        );
    }
}

fn status(args: StatusArgs) -> Result<ExitCode, CliError> {
    block_on(async move {
        let store = args.data_dir.open_existing().await?;
        let mut anchors = Vec::new();
        for record in store.trust_anchors().await? {
            anchors.extend(TrustAnchor::load_all(&record.anchor.der)?);
        }
        let crls = store.crl_states().await?;
        store.close().await;
        let lines = crl_health::survey(
            &anchors,
            &crls,
            SystemTime::now(),
            args.crl_max_age.duration(),
        );
        if args.json {
            println!("{}", serde_json::to_string_pretty(&lines)?);
        } else {
            print_status(&lines);
        }
        if anchors.is_empty() {
            eprintln!("error: no root is trusted (add one with `zaitaku admin trust add`)");
        }
        let all_fresh = lines.iter().all(|l| l.state == Health::Fresh);
        Ok(if all_fresh && !anchors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_INVALID)
        })
    })
}

fn print_status(lines: &[CrlLine]) {
    for line in lines {
        println!("{:<7} {}", line.state.as_str(), line.issuer);
        if let Some(partition) = &line.partition {
            println!("  partition  {partition}");
        }
        if let Some(this_update) = &line.this_update {
            println!("  thisUpdate {this_update}");
            println!(
                "  nextUpdate {}",
                line.next_update.as_deref().unwrap_or("(none)")
            );
        }
        if let Some(entries) = line.entries {
            println!("  revoked    {entries}");
        }
    }
}
