//! Command-line interface: one module per command group.

pub(crate) mod admin;
mod card;
mod card_auth;
mod card_present;
mod card_readers;
mod card_session;
mod database;
mod serve;
mod trust_reload;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit status for a check that ran and failed (invalid token, wrong PIN).
pub const EXIT_INVALID: u8 = 1;
/// Exit status for a command that could not run (bad options, unreadable files).
pub const EXIT_USAGE: u8 = 2;

/// Errors that stop a command before it could do its work; printed as `error: …`.
pub type CliError = Box<dyn std::error::Error>;

#[derive(Parser)]
#[command(
    name = "zaitaku",
    version,
    about = "Zaitaku: home-visit online qualification confirmation and consent"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: patient flows and the authentication endpoints.
    Serve(serve::ServeArgs),
    /// Run the service with demo institutions, patients and virtual cards (no setup needed).
    Demo(serve::DemoArgs),
    /// Virtual My Number cards, their test CA, card readers, and card authentication at a page.
    #[command(subcommand)]
    Card(card::CardCommand),
    /// The operator's administration: institutions, insured persons, card links, trust anchors, CRLs.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Web eID authentication tokens.
    #[command(subcommand)]
    Token(verify::TokenCommand),
    /// Card certificates.
    #[command(subcommand)]
    Cert(verify::CertCommand),
}

pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Demo(args) => serve::demo(args),
        Command::Card(c) => card::run(c),
        Command::Admin(c) => admin::run(c),
        Command::Token(c) => verify::run_token(c),
        Command::Cert(c) => verify::run_cert(c),
    }
}

/// Read a file named on the command line, saying which one failed.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}
