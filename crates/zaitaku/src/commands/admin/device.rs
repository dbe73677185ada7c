//! `zaitaku admin device add|list|revoke`: an institution's enrolled devices,
//! for a `serve`-only setup without the console. `add` prints a one-time
//! activation code, typed at `/device` on the device within ten minutes.
//! A bad value exits 2 before the database is opened; an unknown institution
//! or device exits 1. Codes issued and devices revoked here go to the
//! institution's access log, with the CLI as the actor.

use super::data_dir::DataDir;
use super::institution::parse_code;
use crate::setup::trust::timestamp;
use crate::setup::{CliError, block_on};
use clap::{Args, Subcommand};
use std::process::ExitCode;
use time::OffsetDateTime;
use zaitaku_domain::{DeviceId, DeviceName, InstitutionCode};
use zaitaku_store::{AccessAction, DeviceActor, DeviceRecord};

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Issue a one-time activation code for a new device of an institution
    /// (printed on standard output; valid ten minutes, typed at /device).
    Add(AddArgs),
    /// List enrolled devices, one per line: id, institution, name, enrolled by, enrolled at, last seen, state.
    List(ListArgs),
    /// Revoke a device: it can start no flow from its next request on, on every running service.
    Revoke(RevokeArgs),
}

#[derive(Args)]
pub struct AddArgs {
    /// 医療機関コード / 薬局コード of the institution the device belongs to.
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    institution: InstitutionCode,
    /// The device's name staff see, e.g. 訪問用タブレット1 (1 to 32 characters).
    #[arg(long, value_name = "NAME", value_parser = parse_name)]
    name: DeviceName,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct ListArgs {
    /// Only this institution's devices.
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    institution: Option<InstitutionCode>,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// The device's id, as `zaitaku admin device list` shows it.
    #[arg(long, value_name = "N")]
    id: i64,
    #[command(flatten)]
    data_dir: DataDir,
}

pub fn run(command: DeviceCommand) -> Result<ExitCode, CliError> {
    block_on(async move {
        match command {
            DeviceCommand::Add(args) => add(args).await,
            DeviceCommand::List(args) => list(args).await,
            DeviceCommand::Revoke(args) => revoke(args).await,
        }
    })
}

async fn add(args: AddArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let Some(institution) = store.institution_by_code(&args.institution).await? else {
        store.close().await;
        return Ok(super::refuse(&super::no_institution(&args.institution)));
    };
    let issued = zaitaku_web::devices::issue_activation_code(
        store.as_ref(),
        institution.id,
        args.name.clone(),
        DeviceActor::AdminCli,
    )
    .await;
    let logged = match &issued {
        Ok(_) => {
            let detail = format!("{}（端末登録コードを発行）", args.name);
            super::log_access(
                store.as_ref(),
                &[Some(institution.id)],
                None,
                AccessAction::DeviceEnrol,
                Some(detail),
            )
            .await
        }
        Err(_) => Ok(()),
    };
    store.close().await;
    let (code, expires_at) = issued?;
    logged?;
    eprintln!(
        "activation code for device {:?} of {} {}: type it at /device on that device \
         before {} (single use)",
        args.name.as_str(),
        institution.code,
        institution.name,
        timestamp(expires_at)
    );
    println!("{}", code.display());
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ListArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let institutions = store.institutions().await?;
    let scope = match &args.institution {
        Some(code) => match institutions.iter().find(|i| &i.code == code) {
            Some(i) => Some(i.id),
            None => {
                store.close().await;
                return Ok(super::refuse(&super::no_institution(code)));
            }
        },
        None => None,
    };
    let devices = store.devices(scope).await?;
    store.close().await;
    if devices.is_empty() {
        eprintln!("no enrolled devices (issue an activation code with `zaitaku admin device add`)");
    }
    for d in &devices {
        let code = institutions
            .iter()
            .find(|i| i.id == d.institution_id)
            .map_or_else(|| "?".to_owned(), |i| i.code.to_string());
        println!("{}", line(d, &code));
    }
    Ok(ExitCode::SUCCESS)
}

/// id, institution code, name, enrolled by, enrolled at, last seen (or -), state.
fn line(d: &DeviceRecord, institution: &str) -> String {
    let state = match (&d.revoked_at, &d.revoked_by) {
        (Some(at), by) => format!(
            "revoked {} by {}",
            timestamp(*at),
            by.as_deref().unwrap_or("?")
        ),
        (None, _) => "live".to_owned(),
    };
    format!(
        "{}\t{institution}\t{}\t{}\t{}\t{}\t{state}",
        d.id,
        d.name,
        d.enrolled_by,
        timestamp(d.enrolled_at),
        d.last_seen_at.map_or_else(|| "-".to_owned(), timestamp),
    )
}

async fn revoke(args: RevokeArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let id = DeviceId(args.id);
    let revoked = store
        .revoke_device(id, None, &DeviceActor::AdminCli, OffsetDateTime::now_utc())
        .await;
    let known = match &revoked {
        Ok(None) => store.device(id, None).await?,
        _ => None,
    };
    if let Ok(Some(device)) = &revoked {
        let detail = device.name.to_string();
        super::log_access(
            store.as_ref(),
            &[Some(device.institution_id)],
            None,
            AccessAction::DeviceRevoke,
            Some(detail),
        )
        .await?;
    }
    store.close().await;
    match (revoked?, known) {
        (Some(device), _) => {
            eprintln!(
                "revoked device {} {:?}: it starts no flow from its next request on",
                device.id,
                device.name.as_str()
            );
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(device)) => Ok(super::refuse(&format!(
            "device {} {:?} was already revoked",
            device.id,
            device.name.as_str()
        ))),
        (None, None) => Ok(super::refuse(&format!(
            "no device has id {} (see `zaitaku admin device list`)",
            args.id
        ))),
    }
}

fn parse_name(text: &str) -> Result<DeviceName, String> {
    DeviceName::parse(text).map_err(|e| e.to_string())
}
