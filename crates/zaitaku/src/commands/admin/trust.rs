//! `zaitaku admin trust add|list|remove`: the root CAs whose cards the service accepts
//! (J-LIS's JPKI roots in real use), kept in the database so that every running
//! `zaitaku serve` picks them up without a restart.
//!
//! Every certificate of every file is checked before anything is written: a file
//! that is not a certificate exits 2, a certificate that is not a usable root
//! (not a CA, expired or not yet valid) exits 1, and in both cases nothing is
//! added. An expired root is refused rather than warned about: the validator
//! refuses every card under it, so storing it could only mislead.

use super::data_dir::DataDir;
use crate::setup::trust::{AnchorRefusal, add_anchors, anchors_from, timestamp};
use crate::setup::{CliError, EXIT_INVALID, EXIT_USAGE, block_on, read_file};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;
use zaitaku_store::{AnchorAdded, TrustAnchorRecord};

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Add root CA certificates (PEM, possibly several per file, or DER) as trust
    /// anchors. Each must be a CA certificate (basicConstraints cA) valid now.
    /// Adding an anchor again changes nothing. Exit 0 when all were added or
    /// already present, 1 when one was refused, 2 when a file is unusable; in
    /// both failures nothing is added.
    Add(AddArgs),
    /// List the trust anchors: fingerprint (SHA-256), not before, not after, subject.
    List(ListArgs),
    /// Remove a trust anchor, named by its SHA-256 fingerprint as `list` prints
    /// it, with the CRLs it signed. Tokens of its cards are refused at once by
    /// every running service. The links between its cards and insured persons
    /// are kept (JPKI's root generations share an issuer name, so the links
    /// cannot be told apart by root; adding the root again restores its cards).
    Remove(RemoveArgs),
}

#[derive(Args)]
pub struct RemoveArgs {
    /// SHA-256 fingerprint, AB:CD:… as `zaitaku admin trust list` prints it
    /// (colons optional, either case).
    #[arg(value_name = "FINGERPRINT", value_parser = parse_fingerprint)]
    fingerprint: String,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct AddArgs {
    #[command(flatten)]
    data_dir: DataDir,
    /// Certificate files, PEM or DER.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args)]
pub struct ListArgs {
    /// One JSON array, for programs.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data_dir: DataDir,
}

pub fn run(command: TrustCommand) -> Result<ExitCode, CliError> {
    match command {
        TrustCommand::Add(args) => add(args),
        TrustCommand::List(args) => block_on(list(args)),
        TrustCommand::Remove(args) => block_on(remove(args)),
    }
}

async fn remove(args: RemoveArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let removed = store.remove_trust_anchor(&args.fingerprint).await;
    let left = store.trust_anchors().await;
    store.close().await;
    let Some(removed) = removed? else {
        eprintln!(
            "error: no trust anchor has the fingerprint {} (see `zaitaku admin trust list`)",
            args.fingerprint
        );
        return Ok(ExitCode::from(EXIT_INVALID));
    };
    let a = &removed.record.anchor;
    println!("removed: {}", a.subject);
    println!("  SHA-256 {}", a.fingerprint);
    eprintln!(
        "{} CRL(s) it signed removed; tokens of its cards are refused from now on by every \
         running service; links between its cards and insured persons are kept",
        removed.crls
    );
    if left?.is_empty() {
        eprintln!(
            "warning: no trust anchor is left in the database; `zaitaku serve` starts only with \
             --trust-anchor FILE until one is added"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// 32 bytes of hex, with or without colons, as upper-case `AB:CD:…` (how the store keeps it).
fn parse_fingerprint(text: &str) -> Result<String, String> {
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(
            "a fingerprint is the SHA-256 `zaitaku admin trust list` prints: 32 bytes of hex, AB:CD:…"
                .to_owned(),
        );
    }
    let upper = hex.to_ascii_uppercase();
    Ok(upper
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).into_owned())
        .collect::<Vec<_>>()
        .join(":"))
}

fn add(args: AddArgs) -> Result<ExitCode, CliError> {
    let now = SystemTime::now();
    let mut anchors = Vec::new();
    for path in &args.files {
        let bytes = read_file(path)?;
        match anchors_from(&path.display().to_string(), &bytes, now) {
            Ok(found) => anchors.extend(found),
            Err(AnchorRefusal::Unusable(message)) => {
                eprintln!("error: {message}");
                eprintln!("nothing was added");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
            Err(AnchorRefusal::Refused(message)) => {
                eprintln!("error: {message}");
                eprintln!("nothing was added");
                return Ok(ExitCode::from(EXIT_INVALID));
            }
        }
    }
    block_on(async move {
        let store = args.data_dir.create_or_open().await?;
        let answers = add_anchors(store.as_ref(), &anchors).await?;
        store.close().await;
        for answer in &answers {
            let (verb, record) = match answer {
                AnchorAdded::Added(r) => ("added", r),
                AnchorAdded::AlreadyPresent(r) => ("already present", r),
            };
            let a = &record.anchor;
            println!("{verb}: {}", a.subject);
            println!(
                "  valid   {} to {}",
                timestamp(a.not_before),
                timestamp(a.not_after)
            );
            println!("  SHA-256 {}", a.fingerprint);
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn list(args: ListArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let anchors = store.trust_anchors().await?;
    store.close().await;
    if args.json {
        let all: Vec<_> = anchors.iter().map(to_json).collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else if anchors.is_empty() {
        eprintln!("no trust anchors yet (add one with `zaitaku admin trust add FILE`)");
    } else {
        for r in &anchors {
            let a = &r.anchor;
            println!(
                "{}\t{}\t{}\t{}",
                a.fingerprint,
                timestamp(a.not_before),
                timestamp(a.not_after),
                a.subject
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn to_json(record: &TrustAnchorRecord) -> serde_json::Value {
    let a = &record.anchor;
    json!({
        "subject": a.subject,
        "key_identifier": a.key_identifier,
        "not_before": timestamp(a.not_before),
        "not_after": timestamp(a.not_after),
        "fingerprint_sha256": a.fingerprint,
        "added_at": timestamp(record.added_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_take_either_form() {
        let colons = format!("ab:{}", ["CD"; 31].join(":"));
        let expected = format!("AB:{}", ["CD"; 31].join(":"));
        assert_eq!(parse_fingerprint(&colons).unwrap(), expected);
        assert_eq!(
            parse_fingerprint(&colons.replace(':', "")).unwrap(),
            expected
        );
        assert!(parse_fingerprint("AB:CD").is_err());
        assert!(parse_fingerprint(&"G".repeat(64)).is_err());
    }
}
