//! The `zaitaku` command: the service (`serve`, `demo`), card tools and token checks.

mod commands;
mod demo;
mod setup;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    setup::memory::return_large_blocks();
    let cli = commands::Cli::parse();
    setup::logging::init(cli.log_format());
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(setup::EXIT_USAGE)
        }
    }
}
