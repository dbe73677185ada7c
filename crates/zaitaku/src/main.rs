//! The `zaitaku` command: the service (`serve`, `demo`), card tools and token checks.

use std::process::ExitCode;

fn main() -> ExitCode {
    zaitaku::run()
}
