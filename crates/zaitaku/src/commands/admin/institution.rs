//! `zaitaku admin institution add|list|show|set|rotate-url|deactivate|reactivate`.
//!
//! Every value is parsed into its domain type by clap, before the database is
//! opened: a bad value exits 2 with nothing written. An unknown or duplicate
//! institution code exits 1. Each change is one write.

use super::data_dir::DataDir;
use crate::setup::trust::timestamp;
use crate::setup::{CliError, block_on};
use clap::{ArgGroup, Args, Subcommand};
use serde_json::json;
use std::process::ExitCode;
use time::OffsetDateTime;
use zaitaku_card::Origin;
use zaitaku_domain::check_digit::check_digit;
use zaitaku_domain::{
    ConsentItem, EPrescriptionUsage, FlowsFrom, Institution, InstitutionCode, InstitutionCodeError,
    InstitutionKind,
};
use zaitaku_store::{InstitutionChanges, NewInstitution, StoreError};

/// Longest institution name accepted, in characters.
const NAME_MAX: usize = 100;
/// Longest consent validity accepted: ten years.
const VALIDITY_MAX_DAYS: u32 = 3650;

#[derive(Subcommand)]
pub enum InstitutionCommand {
    /// Add an institution and print its URL.
    Add(AddArgs),
    /// List the institutions, one per line: code, kind, name, items, 電子処方箋利用区分, validity days.
    List(ListArgs),
    /// Show one institution's settings, and its URL when an origin is given.
    Show(ShowArgs),
    /// Change an institution's settings: only those given change.
    Set(SetArgs),
    /// Give an institution a new URL and print it; the old URL stops working at once.
    RotateUrl(RotateArgs),
    /// Stop accepting patients at once, on every running service: the URL answers
    /// that it no longer accepts, running flows end, the console closes. Consents,
    /// records and logs are kept.
    Deactivate(ActivationArgs),
    /// Accept patients again, at the same URL, and open the console again.
    Reactivate(ActivationArgs),
}

#[derive(Args)]
pub struct ActivationArgs {
    /// 医療機関コード / 薬局コード.
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    code: InstitutionCode,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct AddArgs {
    /// 医療機関コード / 薬局コード: 10 digits with the check digit.
    #[arg(long, value_name = "CODE", value_parser = parse_code)]
    code: InstitutionCode,
    /// The name patients see.
    #[arg(long, value_parser = parse_name)]
    name: String,
    /// Consent items offered, in display order, comma-separated: YZK, SRJ, TKK, SHJ, TSR.
    #[arg(long, value_name = "CODES", value_parser = parse_items, default_value = "YZK,SRJ,TKK")]
    items: Items,
    /// 電子処方箋利用区分: 0 not used, 1 electronic only, 2 both (patients choose), 3 paper only.
    #[arg(long, value_name = "0-3", value_parser = parse_usage, default_value = "0")]
    e_prescription: EPrescriptionUsage,
    /// How long a consent lasts unless revoked, in days (1 to 3650).
    #[arg(long, value_name = "N", value_parser = parse_days, default_value = "365")]
    validity_days: u32,
    /// Who may start flows at its URL: `enrolled` (only its enrolled devices; see
    /// `zaitaku admin device add`) or `anyone` (whoever knows the URL).
    #[arg(long, value_name = "enrolled|anyone", value_parser = parse_flows_from, default_value = "enrolled")]
    flows_from: FlowsFrom,
    /// The service's public origin, e.g. https://zaitaku.example.jp, for the URL printed.
    #[arg(long, value_name = "URL", env = "ZAITAKU_PUBLIC_ORIGIN", value_parser = parse_origin)]
    public_origin: Origin,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct ListArgs {
    /// One JSON array, for programs.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct ShowArgs {
    #[arg(value_name = "CODE", value_parser = parse_code)]
    code: InstitutionCode,
    /// The service's public origin: print the institution URL too.
    #[arg(long, value_name = "URL", env = "ZAITAKU_PUBLIC_ORIGIN", value_parser = parse_origin)]
    public_origin: Option<Origin>,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
#[command(group(
    ArgGroup::new("change")
        .required(true)
        .multiple(true)
        .args(["name", "items", "e_prescription", "validity_days", "flows_from"])
))]
pub struct SetArgs {
    #[arg(value_name = "CODE", value_parser = parse_code)]
    code: InstitutionCode,
    /// The name patients see.
    #[arg(long, value_parser = parse_name)]
    name: Option<String>,
    /// Consent items offered, in display order, comma-separated: YZK, SRJ, TKK, SHJ, TSR.
    #[arg(long, value_name = "CODES", value_parser = parse_items)]
    items: Option<Items>,
    /// 電子処方箋利用区分: 0 not used, 1 electronic only, 2 both (patients choose), 3 paper only.
    #[arg(long, value_name = "0-3", value_parser = parse_usage)]
    e_prescription: Option<EPrescriptionUsage>,
    /// How long a consent lasts unless revoked, in days (1 to 3650).
    #[arg(long, value_name = "N", value_parser = parse_days)]
    validity_days: Option<u32>,
    /// Who may start flows at its URL: `enrolled` (only its enrolled devices) or
    /// `anyone` (whoever knows the URL).
    #[arg(long, value_name = "enrolled|anyone", value_parser = parse_flows_from)]
    flows_from: Option<FlowsFrom>,
    #[command(flatten)]
    data_dir: DataDir,
}

#[derive(Args)]
pub struct RotateArgs {
    #[arg(value_name = "CODE", value_parser = parse_code)]
    code: InstitutionCode,
    /// The service's public origin, for the URL printed.
    #[arg(long, value_name = "URL", env = "ZAITAKU_PUBLIC_ORIGIN", value_parser = parse_origin)]
    public_origin: Origin,
    #[command(flatten)]
    data_dir: DataDir,
}

pub fn run(command: InstitutionCommand) -> Result<ExitCode, CliError> {
    block_on(async move {
        match command {
            InstitutionCommand::Add(args) => add(args).await,
            InstitutionCommand::List(args) => list(args).await,
            InstitutionCommand::Show(args) => show(args).await,
            InstitutionCommand::Set(args) => set(args).await,
            InstitutionCommand::RotateUrl(args) => rotate_url(args).await,
            InstitutionCommand::Deactivate(args) => deactivate(args).await,
            InstitutionCommand::Reactivate(args) => reactivate(args).await,
        }
    })
}

async fn add(args: AddArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.create_or_open().await?;
    if store.institution_by_code(&args.code).await?.is_some() {
        return Ok(super::refuse(&already_added(&args.code)));
    }
    let new = NewInstitution {
        code: args.code,
        name: args.name,
        offered_items: args.items.0,
        e_prescription: args.e_prescription,
        consent_validity_days: args.validity_days,
        url_token: zaitaku_web::new_url_token(),
        flows_from: args.flows_from,
    };
    let institution = match store.insert_institution(&new).await {
        Ok(institution) => institution,
        // Added by someone else since the look-up above.
        Err(StoreError::Duplicate { .. }) => return Ok(super::refuse(&already_added(&args.code))),
        Err(e) => return Err(e.into()),
    };
    store.close().await;
    eprintln!(
        "added {} {} {}",
        institution.code,
        institution.kind.label(),
        institution.name
    );
    println!("{}", url(&args.public_origin, &institution));
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ListArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let institutions = store.institutions().await?;
    store.close().await;
    if args.json {
        let all: Vec<_> = institutions.iter().map(to_json).collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else if institutions.is_empty() {
        eprintln!("no institutions yet (add one with `zaitaku admin institution add`)");
    } else {
        for i in &institutions {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}{}",
                i.code,
                kind_id(i.kind),
                i.name,
                item_codes(&i.offered_items),
                i.e_prescription.code(),
                i.consent_validity_days,
                if i.is_active() { "" } else { "\tdeactivated" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(args: ShowArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let found = store.institution_by_code(&args.code).await?;
    store.close().await;
    let Some(institution) = found else {
        return Ok(super::refuse(&super::no_institution(&args.code)));
    };
    print!("{}", details(&institution));
    if let Some(origin) = &args.public_origin {
        println!("url             {}", url(origin, &institution));
    }
    Ok(ExitCode::SUCCESS)
}

async fn set(args: SetArgs) -> Result<ExitCode, CliError> {
    let changes = InstitutionChanges {
        name: args.name,
        offered_items: args.items.map(|items| items.0),
        e_prescription: args.e_prescription,
        consent_validity_days: args.validity_days,
        flows_from: args.flows_from,
    };
    let store = args.data_dir.open_existing().await?;
    let updated = store.update_institution(&args.code, &changes).await?;
    store.close().await;
    let Some(institution) = updated else {
        return Ok(super::refuse(&super::no_institution(&args.code)));
    };
    eprintln!("changed {}", institution.code);
    print!("{}", details(&institution));
    Ok(ExitCode::SUCCESS)
}

async fn rotate_url(args: RotateArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let token = zaitaku_web::new_url_token();
    let rotated = store.set_url_token(&args.code, &token).await?;
    store.close().await;
    let Some(institution) = rotated else {
        return Ok(super::refuse(&super::no_institution(&args.code)));
    };
    eprintln!(
        "new URL for {} {}; the old URL no longer works",
        institution.code, institution.name
    );
    println!("{}", url(&args.public_origin, &institution));
    Ok(ExitCode::SUCCESS)
}

async fn deactivate(args: ActivationArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let changed = store
        .deactivate_institution(&args.code, OffsetDateTime::now_utc())
        .await?;
    store.close().await;
    let Some(institution) = changed else {
        return Ok(super::refuse(&super::no_institution(&args.code)));
    };
    eprintln!(
        "deactivated {} {}: its URL starts no flow, running flows ended, its console is closed \
         (consents, records and logs kept; undo with `zaitaku admin institution reactivate --code {}`)",
        institution.code, institution.name, institution.code
    );
    Ok(ExitCode::SUCCESS)
}

async fn reactivate(args: ActivationArgs) -> Result<ExitCode, CliError> {
    let store = args.data_dir.open_existing().await?;
    let changed = store.reactivate_institution(&args.code).await?;
    store.close().await;
    let Some(institution) = changed else {
        return Ok(super::refuse(&super::no_institution(&args.code)));
    };
    eprintln!(
        "reactivated {} {}: its URL accepts patients again and its console is open",
        institution.code, institution.name
    );
    Ok(ExitCode::SUCCESS)
}

fn already_added(code: &InstitutionCode) -> String {
    format!(
        "an institution with code {code} already exists; change it with `zaitaku admin institution set {code} …`"
    )
}

fn url(origin: &Origin, institution: &Institution) -> String {
    format!("{}/i/{}", origin.as_str(), institution.url_token.as_str())
}

fn kind_id(kind: InstitutionKind) -> &'static str {
    match kind {
        InstitutionKind::Clinic => "clinic",
        InstitutionKind::Pharmacy => "pharmacy",
        InstitutionKind::VisitingNursing => "visiting-nursing",
    }
}

fn item_codes(items: &[ConsentItem]) -> String {
    items.iter().map(|i| i.code()).collect::<Vec<_>>().join(",")
}

/// `show` and `set`: every setting, one per line. Never the URL token.
fn details(i: &Institution) -> String {
    let items = i
        .offered_items
        .iter()
        .map(|item| format!("{} {}", item.code(), item.label()))
        .collect::<Vec<_>>()
        .join(", ");
    let form_step = if i.asks_prescription_form() {
        "patients choose the prescription form"
    } else {
        "no prescription-form step"
    };
    // Only a deactivated institution has the last line.
    let deactivated = i
        .deactivated_at
        .map(|at| format!("deactivated     {}\n", timestamp(at)))
        .unwrap_or_default();
    format!(
        "code            {}\n\
         kind            {} ({})\n\
         name            {}\n\
         items           {items}\n\
         e-prescription  {} {} ({form_step})\n\
         validity        {} days\n\
         flows from      {} ({})\n\
         {deactivated}",
        i.code,
        kind_id(i.kind),
        i.kind.label(),
        i.name,
        i.e_prescription.code(),
        i.e_prescription.label(),
        i.consent_validity_days,
        i.flows_from.code(),
        flows_from_meaning(i.flows_from),
    )
}

fn flows_from_meaning(f: FlowsFrom) -> &'static str {
    match f {
        FlowsFrom::Enrolled => "only its enrolled devices start flows",
        FlowsFrom::Anyone => "anyone who knows the URL starts flows",
    }
}

fn parse_flows_from(text: &str) -> Result<FlowsFrom, String> {
    FlowsFrom::parse(text).ok_or_else(|| {
        "give `enrolled` (only the institution's enrolled devices) or `anyone`".to_owned()
    })
}

/// `deactivated_at` only on a deactivated institution.
fn to_json(i: &Institution) -> serde_json::Value {
    let mut value = json!({
        "code": i.code.as_str(),
        "kind": kind_id(i.kind),
        "name": i.name,
        "items": i.offered_items.iter().map(|item| item.code()).collect::<Vec<_>>(),
        "e_prescription": i.e_prescription.code(),
        "consent_validity_days": i.consent_validity_days,
        "flows_from": i.flows_from.code(),
    });
    if let Some(at) = i.deactivated_at {
        value["deactivated_at"] = json!(timestamp(at));
    }
    value
}

/// The consent items offered, in display order; never empty, no repeats.
#[derive(Clone, Debug)]
struct Items(Vec<ConsentItem>);

fn known_items() -> String {
    ConsentItem::ALL
        .iter()
        .map(|i| format!("{} ({})", i.code(), i.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_items(text: &str) -> Result<Items, String> {
    let mut items = Vec::new();
    for code in text.split(',').map(str::trim) {
        if code.is_empty() {
            return Err(format!(
                "give item codes separated by commas, e.g. YZK,SRJ,TKK; known codes: {}",
                known_items()
            ));
        }
        let item = ConsentItem::parse(&code.to_ascii_uppercase()).map_err(|_| {
            format!(
                "unknown consent item {:?}; known codes: {}",
                code.chars().take(20).collect::<String>(),
                known_items()
            )
        })?;
        if items.contains(&item) {
            return Err(format!("consent item {} is given twice", item.code()));
        }
        items.push(item);
    }
    Ok(Items(items))
}

pub(super) fn parse_code(text: &str) -> Result<InstitutionCode, String> {
    InstitutionCode::parse(text).map_err(|e| match e {
        // Only ten ASCII digits get this far.
        InstitutionCodeError::CheckDigit => format!(
            "the check digit (10th digit) is {}, but for {} it must be {}; \
             please check the code for typing errors",
            &text[9..],
            &text[..9],
            check_digit(&text.as_bytes()[..9])
        ),
        _ => e.to_string(),
    })
}

fn parse_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("the name is empty".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("the name has a control character (a line break or tab)".to_owned());
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!("the name is longer than {NAME_MAX} characters"));
    }
    Ok(name.to_owned())
}

fn parse_usage(text: &str) -> Result<EPrescriptionUsage, String> {
    EPrescriptionUsage::parse(text).map_err(|_| {
        let known = EPrescriptionUsage::ALL
            .iter()
            .map(|u| format!("{} ({})", u.code(), u.label()))
            .collect::<Vec<_>>()
            .join(", ");
        format!("電子処方箋利用区分 must be one of {known}")
    })
}

fn parse_days(text: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .ok()
        .filter(|days| (1..=VALIDITY_MAX_DAYS).contains(days))
        .ok_or_else(|| format!("give a whole number of days from 1 to {VALIDITY_MAX_DAYS}"))
}

pub(super) fn parse_origin(text: &str) -> Result<Origin, String> {
    Origin::parse(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_check_digit_names_the_right_one() {
        let e = parse_code("1310123459").unwrap_err();
        assert!(e.contains("is 9, but for 131012345 it must be 8"), "{e}");
        assert!(parse_code("1310123458").is_ok());
        assert!(!parse_code("13101234").unwrap_err().contains("must be"));
    }

    #[test]
    fn items_keep_their_order_and_refuse_unknown_or_repeated_codes() {
        let items = parse_items("SHJ,yzk, TKK").unwrap().0;
        assert_eq!(
            items,
            [
                ConsentItem::Surgery,
                ConsentItem::Medication,
                ConsentItem::HealthCheckup
            ]
        );
        let e = parse_items("YZK,ABC").unwrap_err();
        assert!(
            e.contains("\"ABC\"") && e.contains("TSR (特定疾病療養受療証)"),
            "{e}"
        );
        assert!(parse_items("YZK,YZK").unwrap_err().contains("twice"));
        assert!(parse_items("").is_err());
        assert!(parse_items("YZK,").is_err());
    }

    #[test]
    fn names_days_and_usage_are_bounded() {
        assert_eq!(parse_name("  在宅クリニック ").unwrap(), "在宅クリニック");
        assert!(parse_name(" ").is_err());
        assert!(parse_name("a\nb").is_err());
        assert!(parse_name(&"あ".repeat(NAME_MAX + 1)).is_err());
        assert_eq!(parse_days("1"), Ok(1));
        assert_eq!(parse_days("3650"), Ok(3650));
        for bad in ["0", "3651", "-1", "1.5", "x"] {
            assert!(parse_days(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_usage("2"), Ok(EPrescriptionUsage::Both));
        assert!(parse_usage("4").unwrap_err().contains("3 (紙の処方箋のみ)"));
    }
}
