//! `zaitaku admin audit verify|head`: check the hash chains of the consent
//! history, the access log and the login log (`zaitaku_store::audit`), and
//! print each chain's head for an operator to keep elsewhere. Verification
//! reads one consistent snapshot, so it runs beside `serve`; its result is
//! stored for the console's access-log page.

use super::data_dir::DataDir;
use crate::setup::{CliError, EXIT_INVALID, runtime};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use time::OffsetDateTime;
use zaitaku_domain::{InstitutionCode, InstitutionId};
use zaitaku_store::audit::verify_chain;
use zaitaku_store::{AuditVerification, Chain, ChainSnapshot, SavedHead, Store};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check every chain (or one institution's): one line per chain; exit 0
    /// when all are intact, 1 when one was edited, deleted or reordered, 2 when
    /// the check could not run.
    Verify(VerifyArgs),
    /// Print each chain's head (sequence and hash), one line per chain, to keep
    /// outside the database and give back to `verify --against`.
    Head(HeadArgs),
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    data: DataDir,
    /// Only this institution's chains (医療機関等コード).
    #[arg(long, value_name = "CODE")]
    institution: Option<String>,
    /// Also check that the heads saved in FILE (the output of `admin audit
    /// head`) are still in their chains: catches a deleted tail.
    #[arg(long, value_name = "FILE")]
    against: Option<PathBuf>,
}

#[derive(Args)]
pub struct HeadArgs {
    #[command(flatten)]
    data: DataDir,
    /// Only this institution's chains (医療機関等コード).
    #[arg(long, value_name = "CODE")]
    institution: Option<String>,
}

pub fn run(command: AuditCommand) -> Result<ExitCode, CliError> {
    match command {
        AuditCommand::Verify(args) => verify(args),
        AuditCommand::Head(args) => head(args),
    }
}

/// The institutions' codes by id, and the one `--institution` names.
struct Codes {
    by_id: BTreeMap<i64, String>,
    chosen: Option<InstitutionId>,
}

impl Codes {
    async fn read(store: &Arc<dyn Store>, institution: Option<&str>) -> Result<Codes, CliError> {
        let by_id = store
            .institutions()
            .await?
            .into_iter()
            .map(|i| (i.id.0, i.code.as_str().to_owned()))
            .collect();
        let chosen = match institution {
            None => None,
            Some(text) => {
                let code = InstitutionCode::parse(text)
                    .map_err(|e| format!("--institution {text}: {e}"))?;
                let found = store
                    .institution_by_code(&code)
                    .await?
                    .ok_or_else(|| format!("no institution with code {text}"))?;
                Some(found.id)
            }
        };
        Ok(Codes { by_id, chosen })
    }

    /// The chain's institution as a line shows it: its code, or `none`.
    fn label(&self, institution: Option<InstitutionId>) -> String {
        match institution {
            None => "none".to_owned(),
            Some(id) => self
                .by_id
                .get(&id.0)
                .cloned()
                .unwrap_or_else(|| format!("id:{}", id.0)),
        }
    }

    fn id_of(&self, label: &str) -> Option<Option<InstitutionId>> {
        if label == "none" {
            return Some(None);
        }
        if let Some(id) = label.strip_prefix("id:") {
            return id.parse().ok().map(|id| Some(InstitutionId(id)));
        }
        self.by_id
            .iter()
            .find(|(_, code)| code.as_str() == label)
            .map(|(id, _)| Some(InstitutionId(*id)))
    }
}

/// One chain's line of `head`: `chain=… institution=… sequence=N hash=…`.
fn head_line(codes: &Codes, snapshot: &ChainSnapshot) -> Option<String> {
    let head = snapshot.head.as_ref()?;
    Some(format!(
        "chain={} institution={} sequence={} hash={}",
        snapshot.chain.table(),
        codes.label(snapshot.institution),
        head.head_seq,
        head.head_hash
    ))
}

/// The heads of a file `head` wrote (blank lines and `#` comments skipped).
fn saved_heads(codes: &Codes, text: &str) -> Result<Vec<SavedHead>, CliError> {
    let mut heads = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "line {} of the saved heads is not `admin audit head` output",
                n + 1
            )
        };
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
        };
        let chain = field("chain").and_then(Chain::parse).ok_or_else(bad)?;
        let institution = field("institution")
            .and_then(|l| codes.id_of(l))
            .ok_or_else(|| format!("{}: unknown institution", bad()))?;
        let seq = field("sequence")
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        let hash = field("hash").ok_or_else(bad)?.to_owned();
        heads.push(SavedHead {
            chain,
            institution,
            seq,
            hash,
        });
    }
    Ok(heads)
}

fn verify(args: VerifyArgs) -> Result<ExitCode, CliError> {
    let saved_text = match &args.against {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        ),
        None => None,
    };
    runtime()?.block_on(async move {
        let store = args.data.open_existing().await?;
        let codes = Codes::read(&store, args.institution.as_deref()).await?;
        let saved = match &saved_text {
            Some(text) => saved_heads(&codes, text)?,
            None => Vec::new(),
        };
        let mut snapshots = store.audit_snapshot(codes.chosen).await?;
        // A saved chain with no rows and no head left: read as empty.
        for s in &saved {
            let wanted = codes.chosen.is_none() || s.institution == codes.chosen;
            let present = snapshots
                .iter()
                .any(|c| c.chain == s.chain && c.institution == s.institution);
            if wanted && !present {
                snapshots.push(ChainSnapshot {
                    chain: s.chain,
                    institution: s.institution,
                    head: None,
                    entries: Vec::new(),
                });
            }
        }
        let mut tampered = Vec::new();
        for snapshot in &snapshots {
            let anchor = saved
                .iter()
                .find(|s| s.chain == snapshot.chain && s.institution == snapshot.institution);
            let finding = verify_chain(snapshot, anchor);
            let line = format!(
                "{} of institution {}: {}",
                snapshot.chain.table(),
                codes.label(snapshot.institution),
                finding.describe()
            );
            println!("{line}");
            if !finding.intact() {
                tampered.push(line);
            }
        }
        if snapshots.is_empty() {
            println!("no chains yet: nothing was logged");
        }
        store
            .record_audit_verification(&AuditVerification {
                at: OffsetDateTime::now_utc(),
                institution: codes.chosen,
                intact: tampered.is_empty(),
                chains: snapshots.len() as i64,
                findings: tampered.join("\n"),
            })
            .await?;
        store.close().await;
        Ok(if tampered.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_INVALID)
        })
    })
}

fn head(args: HeadArgs) -> Result<ExitCode, CliError> {
    runtime()?.block_on(async move {
        let store = args.data.open_existing().await?;
        let codes = Codes::read(&store, args.institution.as_deref()).await?;
        let snapshots = store.audit_snapshot(codes.chosen).await?;
        store.close().await;
        println!(
            "# zaitaku audit heads at {} (keep outside the database; `admin audit verify --against FILE`)",
            OffsetDateTime::now_utc().unix_timestamp()
        );
        for snapshot in &snapshots {
            if let Some(line) = head_line(&codes, snapshot) {
                println!("{line}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
