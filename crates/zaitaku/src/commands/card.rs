//! `zaitaku card …`: the test CA and virtual My Number cards.

use super::CliError;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use zaitaku_card::test_ca::{self, TestCa};

#[derive(Subcommand)]
pub enum CardCommand {
    /// Create a test root CA in DIR (never trusted unless given as --trust-anchor).
    CaInit {
        #[arg(long)]
        dir: PathBuf,
    },
}

pub fn run(command: CardCommand) -> Result<ExitCode, CliError> {
    match command {
        CardCommand::CaInit { dir } => ca_init(&dir),
    }
}

fn ca_init(dir: &std::path::Path) -> Result<ExitCode, CliError> {
    TestCa::init(dir)?;
    println!("created test root CA in {}", dir.display());
    println!(
        "  private key:  {}",
        dir.join(test_ca::CA_KEY_FILE).display()
    );
    println!(
        "  certificate:  {}",
        dir.join(test_ca::CA_CERT_FILE).display()
    );
    println!("  CRL:          {}", dir.join(test_ca::CRL_FILE).display());
    println!(
        "Trust it for testing only: --trust-anchor {} --allow-policy zaitaku-test",
        dir.join(test_ca::CA_CERT_FILE).display()
    );
    Ok(ExitCode::SUCCESS)
}
