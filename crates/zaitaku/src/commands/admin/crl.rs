//! `zaitaku admin crl import`: certificate revocation lists into the database,
//! where every running `zaitaku serve` picks them up at its next reload.
//!
//! A CRL is taken only if a stored trust anchor signed it, it is current (its
//! nextUpdate has not passed, its thisUpdate is not in the future), the
//! validator could use it, and it is newer than the one kept for its issuer and
//! partition. All files are imported, or none.

use super::trust::timestamp;
use super::{DataDir, block_on};
use crate::commands::crl_health::{self, CrlLine, Health};
use crate::commands::serve::CrlMaxAge;
use crate::commands::{CliError, EXIT_INVALID, EXIT_USAGE, read_file};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::summary::rfc3339;
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_store::{CrlImport, CrlRecord, NewCrl, RevokedSerial, Store};

/// Clocks differ a little: a CRL issued this far in the future is still taken.
const CLOCK_SLACK: Duration = Duration::from_secs(300);

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

/// What importing did, when it could be tried.
pub enum Imported {
    /// Each CRL, in order, with the one it replaced.
    All(Vec<(NewCrl, Option<CrlRecord>)>),
    /// Nothing was imported, for this reason.
    Refused(String),
    /// Nothing was imported: a CRL is not newer than the one kept (this says which).
    NotNewer(String),
}

/// Check each CRL (named by its source) against the stored anchors and import
/// them all, or none: the one path `admin crl import` and the demo share.
pub async fn import_crls(
    store: &dyn Store,
    crls: &[(String, Crl)],
    now: SystemTime,
) -> Result<Imported, CliError> {
    let mut anchors = Vec::new();
    for record in store.trust_anchors().await? {
        anchors.extend(TrustAnchor::load_all(&record.anchor.der)?);
    }
    let mut checked = Vec::with_capacity(crls.len());
    for (source, crl) in crls {
        match check(crl, &anchors, now) {
            Ok(new) => checked.push(new),
            Err(why) => return Ok(Imported::Refused(format!("{source}: {why}"))),
        }
    }
    match store
        .import_crls(&checked, OffsetDateTime::now_utc())
        .await?
    {
        CrlImport::Imported(replaced) => {
            Ok(Imported::All(checked.into_iter().zip(replaced).collect()))
        }
        CrlImport::NotNewer { index, stored } => {
            let s = &stored.crl;
            Ok(Imported::NotNewer(format!(
                "{}: not newer than the CRL already imported for {} (thisUpdate {}{})",
                crls[index].0,
                s.issuer,
                timestamp(s.this_update),
                s.crl_number
                    .as_ref()
                    .map(|n| format!(", number {n}"))
                    .unwrap_or_default()
            )))
        }
    }
}

/// The CRL as the store keeps it, or why it may not be imported.
fn check(crl: &Crl, anchors: &[TrustAnchor], now: SystemTime) -> Result<NewCrl, String> {
    let issuer = crl.issuer();
    let Some(signer) = crl.signer(anchors) else {
        return Err(if anchors.iter().any(|a| a.subject() == issuer) {
            format!("the signature does not verify with any stored trust anchor named {issuer}")
        } else {
            format!(
                "no stored trust anchor is named {issuer} (add its root with `zaitaku admin trust add`)"
            )
        });
    };
    if let Some(next) = crl.next_update()
        && next < now
    {
        return Err(format!(
            "the CRL is stale: its nextUpdate {} has passed",
            rfc3339(next)
        ));
    }
    if crl.this_update() > now + CLOCK_SLACK {
        return Err(format!(
            "the CRL's thisUpdate {} is in the future (is this machine's clock right?)",
            rfc3339(crl.this_update())
        ));
    }
    let partition = crl.partition().map_err(|e| e.to_string())?;
    let crl_number = crl.number().map_err(|e| e.to_string())?;
    let revoked = crl
        .entries()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|e| RevokedSerial {
            serial: e.serial,
            revoked_at: e.revoked_at.into(),
        })
        .collect();
    Ok(NewCrl {
        der: crl.der().to_vec(),
        issuer,
        signer_fingerprint: signer.fingerprint_sha256(),
        partition,
        this_update: crl.this_update().into(),
        next_update: crl.next_update().map(Into::into),
        crl_number,
        entries: crl.revoked_count() as u64,
        revoked,
    })
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
