//! Command-line interface: one module per command group.

mod admin;
mod card;
mod card_auth;
mod card_present;
mod card_readers;
mod card_session;
mod crl_health;
mod retention;
mod retention_schedule;
mod serve;
mod serve_config;
mod serve_lifetimes;
mod serve_limits;
mod trust_reload;
mod verify;

use crate::setup::CliError;
use crate::setup::logging::LogFormat;
use clap::{Parser, Subcommand};

pub use serve_config::parse;
use std::process::ExitCode;

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

// One value per process, parsed once: its size does not matter.
#[allow(clippy::large_enum_variant)]
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

impl Cli {
    /// The log format `serve` and `demo` were given; text for every other command.
    pub fn log_format(&self) -> LogFormat {
        match &self.command {
            Command::Serve(args) => args.log_format(),
            Command::Demo(args) => args.log_format(),
            _ => LogFormat::default(),
        }
    }
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
