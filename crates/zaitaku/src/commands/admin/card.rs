//! `zaitaku admin card link|unlink`: which card certificate (issuer and serial)
//! belongs to which insured person, as health-insurance use registration makes it.

use super::data_dir::DataDir;
use super::person_key::person_key;
use crate::setup::{CliError, EXIT_INVALID, read_file, runtime};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use time::OffsetDateTime;
use zaitaku_card::validate::summary::CertificateSummary;

#[derive(Subcommand)]
pub enum CardCommand {
    /// Link a card certificate to the insured person with the given key. A
    /// certificate linked to someone else is refused unless --replace is given.
    Link(LinkArgs),
    /// Remove a card certificate's link.
    Unlink(UnlinkArgs),
}

/// The certificate: by issuer and serial, or read from its file.
#[derive(Args)]
pub struct CertificateArgs {
    /// Issuer DN in RFC 4514 form, as `zaitaku cert verify` prints it.
    #[arg(
        long,
        value_name = "DN",
        requires = "serial",
        required_unless_present = "cert"
    )]
    issuer: Option<String>,
    /// Serial number in hex.
    #[arg(long, value_name = "HEX", requires = "issuer")]
    serial: Option<String>,
    /// The certificate itself, PEM or DER, instead of --issuer and --serial.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["issuer", "serial"])]
    cert: Option<PathBuf>,
}

#[derive(Args)]
pub struct LinkArgs {
    #[command(flatten)]
    data: DataDir,
    #[command(flatten)]
    certificate: CertificateArgs,
    /// 保険者番号 (with its check digit).
    #[arg(long, value_name = "N")]
    insurer_number: String,
    /// 被保険者証記号, if the card has one.
    #[arg(long, value_name = "S")]
    symbol: Option<String>,
    /// 被保険者証番号.
    #[arg(long, value_name = "N")]
    number: String,
    /// 枝番, if the card has one.
    #[arg(long, value_name = "B")]
    branch: Option<String>,
    /// Move the certificate from the person it is linked to now.
    #[arg(long)]
    replace: bool,
}

#[derive(Args)]
pub struct UnlinkArgs {
    #[command(flatten)]
    data: DataDir,
    #[command(flatten)]
    certificate: CertificateArgs,
}

pub fn run(command: CardCommand) -> Result<ExitCode, CliError> {
    match command {
        CardCommand::Link(args) => link(args),
        CardCommand::Unlink(args) => unlink(args),
    }
}

impl CertificateArgs {
    /// Issuer and serial (upper-case hex, as the link table keeps them).
    fn issuer_serial(&self) -> Result<(String, String), CliError> {
        if let Some(path) = &self.cert {
            let bytes = read_file(path)?;
            let certs = zaitaku_card::pem::load_certificates(&bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let (cert, _) = certs
                .first()
                .ok_or_else(|| format!("{}: no certificate", path.display()))?;
            let summary = CertificateSummary::of(cert);
            return Ok((summary.issuer, summary.serial));
        }
        let (Some(issuer), Some(serial)) = (&self.issuer, &self.serial) else {
            return Err("give --issuer and --serial, or --cert".into());
        };
        if issuer.trim().is_empty() {
            return Err("--issuer is empty".into());
        }
        let serial = serial.trim().to_ascii_uppercase();
        if serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("--serial {serial:?}: hexadecimal digits expected").into());
        }
        // Whole bytes, as certificate summaries print them.
        let serial = if serial.len() % 2 == 1 {
            format!("0{serial}")
        } else {
            serial
        };
        Ok((issuer.clone(), serial))
    }
}

fn link(args: LinkArgs) -> Result<ExitCode, CliError> {
    let (issuer, serial) = args.certificate.issuer_serial()?;
    let key = person_key(&args.insurer_number, args.symbol, args.number, args.branch)?;
    runtime()?.block_on(async move {
        let store = args.data.open_existing().await?;
        let Some(person) = store.person_by_key(&key).await? else {
            eprintln!("no insured person with that insurer number, symbol, number and branch");
            return Ok(ExitCode::from(EXIT_INVALID));
        };
        if let Some(current) = store.person_by_certificate(&issuer, &serial).await? {
            if current.id == person.id {
                eprintln!(
                    "certificate {serial} of {issuer} is already linked to person {}",
                    person.id.0
                );
                return Ok(ExitCode::SUCCESS);
            }
            if !args.replace {
                eprintln!(
                    "certificate {serial} of {issuer} is linked to another person ({}); \
                     give --replace to move it",
                    current.id.0
                );
                return Ok(ExitCode::from(EXIT_INVALID));
            }
        }
        store
            .link_certificate(&issuer, &serial, person.id, OffsetDateTime::now_utc())
            .await?;
        store.close().await;
        eprintln!(
            "linked certificate {serial} of {issuer} to person {}",
            person.id.0
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn unlink(args: UnlinkArgs) -> Result<ExitCode, CliError> {
    let (issuer, serial) = args.certificate.issuer_serial()?;
    runtime()?.block_on(async move {
        let store = args.data.open_existing().await?;
        let removed = store.unlink_certificate(&issuer, &serial).await?;
        store.close().await;
        if removed {
            eprintln!("unlinked certificate {serial} of {issuer}");
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!("certificate {serial} of {issuer} is not linked");
            Ok(ExitCode::from(EXIT_INVALID))
        }
    })
}
