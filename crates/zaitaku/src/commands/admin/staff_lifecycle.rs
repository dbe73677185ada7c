//! `zaitaku admin staff disable|enable|remove|set`: the staff member leaves, is
//! away, comes back or changes role. Each change is one transaction and takes
//! effect at the account's next console request on every running service
//! (every request reads the account); disable and remove end its sessions.
//!
//! Remove keeps the account's row as a tombstone: the login name stays taken,
//! and the login history and access log keep every line that names it (they
//! are the trail); only the credentials, sessions, attempt counters and
//! remembered devices go. The console refuses a change that leaves an
//! institution without a 管理者 who can log in; the operator may make one
//! (e.g. before adding the successor) and is warned.

use super::data_dir::DataDir;
use crate::setup::{CliError, EXIT_INVALID};
use clap::Args;
use std::process::ExitCode;
use zaitaku_domain::{LoginName, StaffRole};
use zaitaku_store::{StaffAction, StaffChange, StaffChangeOutcome};

#[derive(Args)]
pub struct LoginArgs {
    /// The account's login name.
    #[arg(long, value_name = "NAME", value_parser = parse_login)]
    login: LoginName,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct SetArgs {
    /// The account's login name.
    #[arg(long, value_name = "NAME", value_parser = parse_login)]
    login: LoginName,
    /// administrator (管理者) or staff (職員).
    #[arg(long, value_name = "ROLE", value_parser = super::staff::parse_role)]
    role: StaffRole,
    #[command(flatten)]
    data_dir: DataDir,
}

pub async fn disable(args: LoginArgs) -> Result<ExitCode, CliError> {
    change(args.data_dir, args.login, StaffAction::Disable).await
}

pub async fn enable(args: LoginArgs) -> Result<ExitCode, CliError> {
    change(args.data_dir, args.login, StaffAction::Enable).await
}

pub async fn remove(args: LoginArgs) -> Result<ExitCode, CliError> {
    change(args.data_dir, args.login, StaffAction::Remove).await
}

pub async fn set(args: SetArgs) -> Result<ExitCode, CliError> {
    change(args.data_dir, args.login, StaffAction::SetRole(args.role)).await
}

async fn change(
    data_dir: DataDir,
    login: LoginName,
    action: StaffAction,
) -> Result<ExitCode, CliError> {
    let store = data_dir.open_existing().await?;
    let outcome = store
        .change_staff(&StaffChange {
            login: login.clone(),
            action,
            institution: None,
            keep_an_administrator: false,
        })
        .await;
    store.close().await;
    let (account, administrator_remains) = match outcome? {
        StaffChangeOutcome::Changed {
            account,
            administrator_remains,
        } => (*account, administrator_remains),
        StaffChangeOutcome::NotFound => {
            return Ok(refuse(&format!(
                "no staff account has the login name {login} (see `zaitaku admin staff list --institution CODE`)"
            )));
        }
        StaffChangeOutcome::Removed => {
            return Ok(refuse(&format!(
                "the account {login} was removed; a removed account cannot be changed (add a new one with another login name)"
            )));
        }
        // Only the console asks to keep an administrator.
        StaffChangeOutcome::LastAdministrator => {
            return Err("the store refused a change the command did not restrict".into());
        }
    };
    let what = match action {
        StaffAction::Disable => "disabled: cannot log in, its console sessions ended".to_owned(),
        StaffAction::Enable => "enabled: can log in again".to_owned(),
        StaffAction::Remove => {
            "removed: credentials and sessions gone; the login name stays taken, \
             the login history and access log keep its lines"
                .to_owned()
        }
        StaffAction::SetRole(role) => {
            format!("role is now {} ({})", role.code(), role.label())
        }
    };
    eprintln!("{}: {what}", account.login_name);
    if !administrator_remains {
        eprintln!(
            "warning: its institution has no administrator (管理者) who can log in now; \
             add one with `zaitaku admin staff add --role administrator` or `admin staff set --role administrator`"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn refuse(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_INVALID)
}

fn parse_login(text: &str) -> Result<LoginName, String> {
    LoginName::parse(text).map_err(|e| e.to_string())
}
