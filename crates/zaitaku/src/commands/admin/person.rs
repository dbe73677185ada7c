//! `zaitaku admin person export|delete`: one insured person's data, for a
//! disclosure request (開示) or a deletion request (削除・利用停止) under the
//! 個人情報保護法. What a deletion removes and keeps is the store's rule
//! (`DataLifecycle::delete_person`); the README's "Data lifecycle" says why.

use super::data_dir::DataDir;
use super::person_key::person_key;
use super::purge::table;
use crate::setup::{CliError, EXIT_INVALID, EXIT_USAGE, runtime};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use zaitaku_domain::{
    ConsentChoices, ConsentStatus, InstitutionId, InsuredPerson, JST, PersonId, Qualification,
    RecordKind, today_in_japan,
};
use zaitaku_store::{AccessAction, AccessActor, PersonDeletion, Store};

#[derive(Subcommand)]
pub enum PersonCommand {
    /// Everything held about one insured person, as JSON: qualification,
    /// certificate links, consents with their history, qualification checks,
    /// access-log entries about them, medical records.
    Export(ExportArgs),
    /// Delete what the law lets go of one insured person (certificate links,
    /// medical records, flows in progress, and the person once nothing kept
    /// refers to them); consents with their history, qualification checks and
    /// access-log entries are kept for their retention period. Refused while a
    /// consent of theirs stands.
    Delete(DeleteArgs),
}

/// The person: by the id the console shows, or by the key `admin card link` takes.
#[derive(Args)]
pub struct PersonArgs {
    /// The person's id, as the console shows it.
    #[arg(long, value_name = "ID", required_unless_present = "insurer_number",
          conflicts_with_all = ["insurer_number", "symbol", "number", "branch"])]
    id: Option<i64>,
    /// 保険者番号 (with its check digit).
    #[arg(long, value_name = "N", requires = "number")]
    insurer_number: Option<String>,
    /// 被保険者証記号, if the card has one.
    #[arg(long, value_name = "S", requires = "insurer_number")]
    symbol: Option<String>,
    /// 被保険者証番号.
    #[arg(long, value_name = "N", requires = "insurer_number")]
    number: Option<String>,
    /// 枝番, if the card has one.
    #[arg(long, value_name = "B", requires = "insurer_number")]
    branch: Option<String>,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    data: DataDir,
    #[command(flatten)]
    person: PersonArgs,
    /// Write the JSON to FILE (created 0600, not overwritten) instead of standard output.
    #[arg(long, value_name = "FILE")]
    to: Option<PathBuf>,
}

#[derive(Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    data: DataDir,
    #[command(flatten)]
    person: PersonArgs,
    /// Confirm the deletion; without it nothing is deleted.
    #[arg(long)]
    yes: bool,
}

pub fn run(command: PersonCommand) -> Result<ExitCode, CliError> {
    match command {
        PersonCommand::Export(args) => export(args),
        PersonCommand::Delete(args) => delete(args),
    }
}

impl PersonArgs {
    async fn find(&self, store: &dyn Store) -> Result<Option<InsuredPerson>, CliError> {
        if let Some(id) = self.id {
            return Ok(store.person(PersonId(id)).await?);
        }
        let (Some(insurer_number), Some(number)) = (&self.insurer_number, &self.number) else {
            return Err("give --id, or --insurer-number and --number".into());
        };
        let key = person_key(
            insurer_number,
            self.symbol.clone(),
            number.clone(),
            self.branch.clone(),
        )?;
        Ok(store.person_by_key(&key).await?)
    }
}

fn no_such_person() -> ExitCode {
    eprintln!("no insured person with that id or key");
    ExitCode::from(EXIT_INVALID)
}

fn export(args: ExportArgs) -> Result<ExitCode, CliError> {
    runtime()?.block_on(async move {
        let store = args.data.open_existing().await?;
        let Some(person) = args.person.find(store.as_ref()).await? else {
            return Ok(no_such_person());
        };
        let document = gather(&store, &person).await?;
        let mut text = serde_json::to_string_pretty(&document)
            .map_err(|e| format!("cannot write JSON: {e}"))?;
        text.push('\n');
        match &args.to {
            Some(path) => {
                write_private(path, text.as_bytes())?;
                eprintln!("wrote person {} to {}", person.id.0, path.display());
            }
            None => std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot write to standard output: {e}"))?,
        }
        let holders = holders(&store, person.id).await?;
        super::log_access(
            store.as_ref(),
            &holders,
            Some(person.id),
            AccessAction::PersonExport,
            None,
        )
        .await?;
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn delete(args: DeleteArgs) -> Result<ExitCode, CliError> {
    runtime()?.block_on(async move {
        let store = args.data.open_existing().await?;
        let Some(person) = args.person.find(store.as_ref()).await? else {
            return Ok(no_such_person());
        };
        if !args.yes {
            eprintln!(
                "this deletes person {}'s certificate links, medical records and flows in \
                 progress; give --yes to go ahead (`admin person export` first keeps a copy \
                 for the person)",
                person.id.0
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        // Who held the person, read before the deletion.
        let holders = holders(&store, person.id).await?;
        let deletion = store.delete_person(person.id, today_in_japan()).await?;
        if matches!(deletion, Some(PersonDeletion::Done { .. })) {
            // By id in the detail, not as the entry's person: the entry must not
            // keep the person's row alive (the purge waits for every reference).
            let detail = format!("person id {}", person.id.0);
            super::log_access(
                store.as_ref(),
                &holders,
                None,
                AccessAction::PersonDelete,
                Some(detail),
            )
            .await?;
        }
        let result = match deletion {
            None => Ok(no_such_person()),
            Some(PersonDeletion::ConsentStands(institutions)) => {
                let mut codes = Vec::new();
                for id in institutions {
                    codes.push(institution_label(&store, id).await?);
                }
                eprintln!(
                    "person {}'s consent still stands at {}: it must end first (the console's \
                     revocation, or the patient's own in flow C); nothing was deleted",
                    person.id.0,
                    codes.join(", ")
                );
                Ok(ExitCode::from(EXIT_INVALID))
            }
            Some(PersonDeletion::Done {
                removed,
                kept,
                person_removed,
            }) => {
                print!("{}", table(&removed, "removed"));
                print!("{}", table(&kept, "kept for the retention purge"));
                if person_removed {
                    println!("person {} removed", person.id.0);
                } else {
                    println!(
                        "person {} kept: records the law keeps refer to them; `admin purge` \
                         removes them once those have gone and the qualification is lost",
                        person.id.0
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
        };
        store.close().await;
        result
    })
}

/// The institutions holding the person's consent or qualification checks,
/// whose access logs record what the CLI did with the person's data (`None`
/// alone when no institution does).
async fn holders(
    store: &Arc<dyn Store>,
    person: PersonId,
) -> Result<Vec<Option<InstitutionId>>, CliError> {
    let mut institutions: Vec<Option<InstitutionId>> = store
        .consents_of_person(person)
        .await?
        .iter()
        .map(|c| Some(c.institution_id))
        .collect();
    for (institution, _) in store.qualification_checks_of_person(person).await? {
        institutions.push(Some(institution));
    }
    institutions.sort_by_key(|i| i.map(|i| i.0));
    institutions.dedup();
    if institutions.is_empty() {
        institutions.push(None);
    }
    Ok(institutions)
}

async fn institution_label(store: &Arc<dyn Store>, id: InstitutionId) -> Result<String, CliError> {
    Ok(match store.institution(id).await? {
        Some(institution) => institution.code.as_str().to_owned(),
        None => format!("institution {}", id.0),
    })
}

/// Everything held about `person`, each part read from the store.
async fn gather(store: &Arc<dyn Store>, person: &InsuredPerson) -> Result<Value, CliError> {
    let id = person.id;
    let mut institutions = Institutions::default();
    let links: Vec<Value> = store
        .certificate_links(id)
        .await?
        .iter()
        .map(|l| json!({"issuer": l.issuer, "serial": l.serial, "linked_at": instant(l.linked_at)}))
        .collect();
    let mut consents = Vec::new();
    for consent in store.consents_of_person(id).await? {
        let history: Vec<Value> = store
            .consent_history(consent.id)
            .await?
            .iter()
            .map(|h| {
                json!({
                    "at": instant(h.at),
                    "actor": h.actor,
                    "channel": h.channel.code(),
                    "card": h.authentication.as_ref().map(|a| json!({
                        "certificate_issuer": a.certificate_issuer,
                        "certificate_serial": a.certificate_serial,
                        "revocation": a.revocation,
                    })),
                    "old": h.old.as_ref().map(|(c, s)| choices(c, *s)),
                    "new": choices(&h.new.0, h.new.1),
                })
            })
            .collect();
        consents.push(json!({
            "institution": institutions.of(store, consent.institution_id).await?,
            "choices": choices(&consent.choices, consent.status),
            "expires_on": day(consent.expires_on),
            "registered_at": instant(consent.registered_at),
            "updated_at": instant(consent.updated_at),
            "history": history,
        }));
    }
    let mut checks = Vec::new();
    for (institution, check) in store.qualification_checks_of_person(id).await? {
        checks.push(json!({
            "institution": institutions.of(store, institution).await?,
            "checked_at": instant(check.checked_at),
            "source": check.source.code(),
            "qualification": qualification(&check.qualification),
        }));
    }
    let mut access = Vec::new();
    for line in store.access_log_of_person(id).await? {
        let entry = &line.entry;
        let institution = match entry.institution {
            Some(id) => institutions.of(store, id).await?,
            None => Value::Null,
        };
        let (staff_login, staff_name) = match &entry.actor {
            AccessActor::Staff(s) => (Some(s.login.as_str()), Some(s.name.as_str())),
            AccessActor::Cli => (None, None),
        };
        access.push(json!({
            "at": instant(entry.at),
            "institution": institution,
            "actor": if staff_login.is_some() { "staff" } else { "cli" },
            "staff_login": staff_login,
            "staff_name": staff_name,
            "device": entry.device_name,
            "action": entry.action.code(),
        }));
    }
    let records: Vec<Value> = store
        .records_of(id, RecordKind::ALL)
        .await?
        .iter()
        .map(|r| {
            json!({
                "kind": r.kind().code(),
                "date": day(r.date()),
                "provider": r.provider(),
                "name": r.name(),
                "detail": r.detail(),
            })
        })
        .collect();
    Ok(json!({
        "exported_at": instant(OffsetDateTime::now_utc()),
        "person": {"id": id.0, "qualification": qualification(&person.qualification)},
        "certificate_links": links,
        "consents": consents,
        "qualification_checks": checks,
        "access_log": access,
        "medical_records": records,
    }))
}

/// Institutions by id, each read once.
#[derive(Default)]
struct Institutions(BTreeMap<i64, Value>);

impl Institutions {
    async fn of(&mut self, store: &Arc<dyn Store>, id: InstitutionId) -> Result<Value, CliError> {
        if let Some(known) = self.0.get(&id.0) {
            return Ok(known.clone());
        }
        let value = match store.institution(id).await? {
            Some(i) => json!({"code": i.code.as_str(), "name": i.name}),
            None => json!({"id": id.0}),
        };
        self.0.insert(id.0, value.clone());
        Ok(value)
    }
}

fn choices(choices: &ConsentChoices, status: ConsentStatus) -> Value {
    let items: BTreeMap<&str, bool> = choices.items().map(|(i, a)| (i.code(), a)).collect();
    json!({
        "status": status.code(),
        "items": items,
        "prescription_form": choices.prescription_form().map(|f| f.code()),
    })
}

fn qualification(q: &Qualification) -> Value {
    json!({
        "insurer_number": q.insurer_number.as_str(),
        "insurer_name": q.insurer_name,
        "symbol": q.symbol,
        "number": q.number,
        "branch": q.branch,
        "relationship": q.relationship.code(),
        "name": q.name,
        "name_kana": q.name_kana,
        "sex": q.sex.code(),
        "birth_date": day(q.birth_date),
        "address": q.address,
        "postal_code": q.postal_code,
        "acquired_on": day(q.acquired_on),
        "lost_on": q.lost_on.map(day),
        "loss_reason": q.loss_reason,
        "valid_from": q.valid_from.map(day),
        "valid_until": q.valid_until.map(day),
        "burden_ratio": q.burden_ratio.map(|r| r.code()),
        "elderly": q.elderly.as_ref().map(|e| json!({
            "valid_from": day(e.valid_from),
            "valid_until": e.valid_until.map(day),
            "burden_ratio": e.burden_ratio.code(),
        })),
        "limit": q.limit.as_ref().map(|l| json!({
            "category": l.category,
            "applied_category": l.applied_category,
        })),
        "specific_disease": q.specific_disease,
        "validity": q.validity.code(),
    })
}

/// An instant in Japan's time, RFC 3339.
fn instant(at: OffsetDateTime) -> String {
    at.to_offset(JST)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

fn day(d: Date) -> String {
    d.to_string()
}

/// Create `path` 0600 (never over an existing file) with `bytes`, synced.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()).into())
}
