//! The `zaitaku` command (`serve`, `demo`, `admin`, card tools and token
//! checks) as a library: `main.rs` only calls [`run`]. `setup` is public for
//! the fuzz targets (`fuzz/`), which feed the CSV imports and the admission of
//! trust anchors and CRLs the very functions the commands use.

mod commands;
mod demo;
pub mod setup;

use std::process::ExitCode;

/// Parse the command line, run the command, and say how it ended.
pub fn run() -> ExitCode {
    setup::memory::return_large_blocks();
    let cli = match commands::parse(std::env::args_os().collect()) {
        Ok(Some(cli)) => cli,
        Ok(None) => return ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(setup::EXIT_USAGE);
        }
    };
    setup::logging::init(cli.log_format());
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(setup::EXIT_USAGE)
        }
    }
}
