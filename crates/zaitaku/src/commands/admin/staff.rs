//! `zaitaku admin staff add|reset|list|unlock|disable|enable|remove|set` (`unlock`
//! in `staff_unlock.rs`, the others after `list` in `staff_lifecycle.rs`): the
//! institution's console accounts.
//!
//! `add` and `reset` print a one-time enrolment link (72 hours): its holder
//! chooses a password and registers an authenticator app there. Values are parsed
//! by clap before the database is opened (a bad one exits 2, nothing written); an
//! unknown institution or login, or a login name already taken, exits 1.

use super::data_dir::DataDir;
use super::institution::{parse_code, parse_origin};
use crate::setup::{CliError, block_on};
use clap::{Args, Subcommand};
use std::process::ExitCode;
use time::OffsetDateTime;
use zaitaku_card::Origin;
use zaitaku_domain::{InstitutionCode, LoginName, StaffRole, StaffStatus};
use zaitaku_store::{StaffAccount, StoreError};
use zaitaku_web::console::accounts::{self, EnrolmentToken};

/// Longest display name accepted, in characters.
const DISPLAY_NAME_MAX: usize = 50;

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Add a console account and print its one-time enrolment link.
    Add(AddArgs),
    /// Clear an account's password and second factor, unlock it, end its sessions, and print a new enrolment link.
    Reset(ResetArgs),
    /// List an institution's accounts, one per line: login, role, name, state
    /// (enrolled, enrolment-pending, enrolment-expired, locked, disabled, removed).
    List(ListArgs),
    /// Lift an account's lock and password-attempt waits (password and second factor kept).
    Unlock(super::staff_unlock::UnlockArgs),
    /// Stop an account from logging in; its console sessions end at once.
    Disable(super::staff_lifecycle::LoginArgs),
    /// Let a disabled account log in again.
    Enable(super::staff_lifecycle::LoginArgs),
    /// Remove an account for good: credentials and sessions go; the login name
    /// stays taken and the login history and access log keep its lines.
    Remove(super::staff_lifecycle::LoginArgs),
    /// Change an account's role (administrator or staff); its next console request sees it.
    Set(super::staff_lifecycle::SetArgs),
}

#[derive(Args)]
pub struct AddArgs {
    /// The institution's 医療機関コード / 薬局コード.
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    institution: InstitutionCode,
    /// Login name: 3 to 32 of a-z, 0-9, '.', '_', '-'.
    #[arg(long, value_name = "NAME", value_parser = parse_login)]
    login: LoginName,
    /// The name the console shows, e.g. 佐藤 花子.
    #[arg(long, value_name = "表示名", value_parser = parse_display_name)]
    name: String,
    /// administrator (管理者: settings, access log, login history too) or staff (職員).
    #[arg(long, value_name = "ROLE", value_parser = parse_role)]
    role: StaffRole,
    #[command(flatten)]
    origin: OriginArg,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct ResetArgs {
    #[arg(long, value_name = "NAME", value_parser = parse_login)]
    login: LoginName,
    #[command(flatten)]
    origin: OriginArg,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    institution: InstitutionCode,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct OriginArg {
    /// The service's public origin, e.g. https://zaitaku.example.jp, to print the
    /// whole link; without it only the path is printed.
    #[arg(long, value_name = "URL", env = "ZAITAKU_PUBLIC_ORIGIN", value_parser = parse_origin)]
    public_origin: Option<Origin>,
}

pub fn run(command: StaffCommand) -> Result<ExitCode, CliError> {
    block_on(async move {
        match command {
            StaffCommand::Add(args) => add(args).await,
            StaffCommand::Reset(args) => reset(args).await,
            StaffCommand::List(args) => list(args).await,
            StaffCommand::Unlock(args) => super::staff_unlock::unlock(args).await,
            StaffCommand::Disable(args) => super::staff_lifecycle::disable(args).await,
            StaffCommand::Enable(args) => super::staff_lifecycle::enable(args).await,
            StaffCommand::Remove(args) => super::staff_lifecycle::remove(args).await,
            StaffCommand::Set(args) => super::staff_lifecycle::set(args).await,
        }
    })
}

async fn add(args: AddArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let Some(institution) = store.institution_by_code(&args.institution).await? else {
        store.close().await;
        return Ok(super::refuse(&super::no_institution(&args.institution)));
    };
    let added = accounts::add_staff(
        store.as_ref(),
        institution.id,
        args.login.clone(),
        args.name,
        args.role,
        None,
    )
    .await;
    store.close().await;
    let (account, token) = match added {
        Ok(added) => added,
        Err(StoreError::Duplicate { .. }) => {
            return Ok(super::refuse(&format!(
                "the login name {} is taken; choose another, or `zaitaku admin staff reset --login {}`",
                args.login, args.login
            )));
        }
        Err(e) => return Err(e.into()),
    };
    eprintln!(
        "added {} ({}, {}) at {} {}",
        account.login_name,
        account.role.code(),
        account.display_name,
        institution.code,
        institution.name
    );
    print_link(args.origin.public_origin.as_ref(), &token);
    Ok(ExitCode::SUCCESS)
}

async fn reset(args: ResetArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let reset = accounts::reset_staff(store.as_ref(), &args.login).await;
    store.close().await;
    let Some((account, token)) = reset? else {
        return Ok(super::refuse(&format!(
            "no staff account has the login name {} (see `zaitaku admin staff list --institution CODE`)",
            args.login
        )));
    };
    eprintln!(
        "reset {}: password and second factor cleared, unlocked, sessions ended",
        account.login_name
    );
    print_link(args.origin.public_origin.as_ref(), &token);
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ListArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let Some(institution) = store.institution_by_code(&args.institution).await? else {
        store.close().await;
        return Ok(super::refuse(&super::no_institution(&args.institution)));
    };
    let staff = store.staff_of_institution(institution.id).await?;
    store.close().await;
    if staff.is_empty() {
        eprintln!(
            "no staff accounts at {} yet (add one with `zaitaku admin staff add`)",
            institution.code
        );
    }
    let now = OffsetDateTime::now_utc();
    for s in &staff {
        println!(
            "{}\t{}\t{}\t{}",
            s.login_name,
            s.role.code(),
            s.display_name,
            state(s, now)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// removed, disabled, locked, enrolled, enrolment pending, or enrolment expired
/// (reset to make a new link).
fn state(s: &StaffAccount, now: OffsetDateTime) -> &'static str {
    if s.status != StaffStatus::Active {
        s.status.code()
    } else if s.is_locked(now) {
        "locked"
    } else if s.is_enrolled() {
        "enrolled"
    } else if s.enrolment_expires_at.is_some_and(|t| t > now) {
        "enrolment-pending"
    } else {
        "enrolment-expired"
    }
}

/// The link on standard output; what it is for on standard error.
fn print_link(origin: Option<&Origin>, token: &EnrolmentToken) {
    match origin {
        Some(origin) => println!("{}{}", origin.as_str(), token.path()),
        None => {
            println!("{}", token.path());
            eprintln!(
                "hint: put the service's public origin before this path, or give --public-origin \
                 (or ZAITAKU_PUBLIC_ORIGIN) to print the whole link"
            );
        }
    }
    eprintln!(
        "the link works once, for {} hours; hand it to the staff member only",
        accounts::ENROLMENT_LIFETIME.whole_hours()
    );
}

fn parse_login(text: &str) -> Result<LoginName, String> {
    LoginName::parse(text).map_err(|e| e.to_string())
}

pub(super) fn parse_role(text: &str) -> Result<StaffRole, String> {
    StaffRole::parse(text).ok_or_else(|| {
        format!("unknown role {text:?}: give administrator (管理者) or staff (職員)")
    })
}

fn parse_display_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("the name is empty".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("the name has a control character (a line break or tab)".to_owned());
    }
    if name.chars().count() > DISPLAY_NAME_MAX {
        return Err(format!(
            "the name is longer than {DISPLAY_NAME_MAX} characters"
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_logins_and_names_are_checked() {
        assert_eq!(parse_role("administrator"), Ok(StaffRole::Administrator));
        assert!(parse_role("admin").unwrap_err().contains("administrator"));
        assert!(parse_login("Sato").unwrap_err().contains("a-z"));
        assert!(parse_login("ab").unwrap_err().contains("3 to 32"));
        assert_eq!(parse_display_name(" 佐藤 花子 ").unwrap(), "佐藤 花子");
        assert!(parse_display_name("").is_err());
        assert!(parse_display_name(&"あ".repeat(51)).is_err());
    }
}
