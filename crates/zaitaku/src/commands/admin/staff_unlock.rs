//! `zaitaku admin staff unlock --login NAME`: lift the lock of wrong codes and
//! every password-attempt wait of the account (its unknown browsers' and its
//! remembered devices'), without touching its password, second factor or
//! sessions. For a staff member kept waiting; `reset` is for lost credentials.

use super::data_dir::DataDir;
use crate::setup::{CliError, EXIT_INVALID};
use clap::Args;
use std::process::ExitCode;
use zaitaku_domain::LoginName;

#[derive(Args)]
pub struct UnlockArgs {
    /// The account's login name.
    #[arg(long, value_name = "NAME", value_parser = parse_login)]
    login: LoginName,
    #[command(flatten)]
    data_dir: DataDir,
}

pub async fn unlock(args: UnlockArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let unlocked = store.unlock_staff(&args.login).await;
    store.close().await;
    match unlocked? {
        Some(account) => {
            eprintln!(
                "unlocked {}: lock and password-attempt waits cleared",
                account.login_name
            );
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!(
                "error: no staff account has the login name {} (see `zaitaku admin staff list --institution CODE`)",
                args.login
            );
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}

fn parse_login(text: &str) -> Result<LoginName, String> {
    LoginName::parse(text).map_err(|e| e.to_string())
}
