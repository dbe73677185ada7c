//! `zaitaku demo`: fictitious institutions, insured persons and virtual cards,
//! made once in the data directory and reused on later starts (so a restart in
//! the middle of a flow loses nothing). Cards come from demo root CAs that
//! only the demo trusts: an RSA-2048 root for today's cards and, as the next
//! generation of JPKI will have its own root, a P-384 root for the P-384 card.

mod data;
mod people;
mod staff;

use crate::setup::{CliError, crl, trust};
use people::{Certificate, INSTITUTIONS, PEOPLE};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use zaitaku_card::keys::{KeyKind, KeyPair};
use zaitaku_card::test_ca::{self, LeafSpec, TestCa};
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::summary::CertificateSummary;
use zaitaku_card::validate::{RevocationPolicy, ValidatorConfig};
use zaitaku_card::{JpkiCard, Origin, Pin, VirtualCard, oids};
use zaitaku_domain::{FlowsFrom, InstitutionCode};
use zaitaku_store::{NewInstitution, Store};
use zaitaku_web::{AppState, DemoCard, DemoSetup};

const MANIFEST: &str = "demo.json";
/// Written before anything else, so a half-made demo is recognised and redone,
/// and a directory that is not a demo's is never touched.
const STARTED: &str = ".demo-setup-started";
/// The root of each card generation, by the kind of key its cards hold (the root's
/// own key is of the same kind). A demo made before the P-384 root lacks its directory.
const CA_DIRS: [(&str, KeyKind); 2] = [
    ("demo-ca", KeyKind::Rsa2048),
    ("demo-ca-p384", KeyKind::P384),
];
const CARDS_DIR: &str = "cards";
const MANIFEST_FORMAT: &str = "zaitaku-demo:1";

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    cards: Vec<ManifestCard>,
}

#[derive(Serialize, Deserialize)]
struct ManifestCard {
    id: String,
    label: String,
    pin: String,
    file: String,
}

pub struct Prepared {
    pub validator: ValidatorConfig,
    pub web: DemoSetup,
}

pub async fn prepare(dir: &Path, store: &Arc<dyn Store>) -> Result<Prepared, CliError> {
    let manifest_path = dir.join(MANIFEST);
    let manifest = if manifest_path.exists() {
        let text = std::fs::read_to_string(&manifest_path)?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a demo manifest: {e}", manifest_path.display()))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(format!("{}: unknown format", manifest_path.display()).into());
        }
        manifest
    } else {
        if !store.institutions().await?.is_empty() && !dir.join(STARTED).exists() {
            return Err(format!(
                "{} holds a database that is not the demo's; give `zaitaku demo` an empty --data-dir",
                dir.display()
            )
            .into());
        }
        if dir.join(STARTED).exists() {
            return Err(format!(
                "{} holds an unfinished demo set-up; remove the directory and start again",
                dir.display()
            )
            .into());
        }
        create(dir, store).await?
    };
    for (ca_dir, _) in CA_DIRS {
        let ca_dir = dir.join(ca_dir);
        if ca_dir.exists() {
            trust_demo_ca(&TestCa::load(&ca_dir)?, &ca_dir, store).await?;
        }
    }
    // The anchor and CRL come from the database, as in `zaitaku serve`; the demo
    // adds only the virtual cards' policy.
    let mut validator = ValidatorConfig::new(Vec::new());
    validator
        .allowed_policies
        .push(oids::ZAITAKU_TEST_CARD_POLICY);
    validator.revocation = RevocationPolicy::Required;
    let cards = manifest
        .cards
        .into_iter()
        .map(|c| DemoCard {
            path: dir.join(CARDS_DIR).join(&c.file),
            id: c.id,
            label: c.label,
            pin: c.pin,
        })
        .collect();
    Ok(Prepared {
        validator,
        web: DemoSetup {
            cards,
            staff: staff::ensure(store).await?,
        },
    })
}

/// The demo's root into the trust anchors and a fresh CRL imported, through the
/// same functions as `admin trust add` and `admin crl import`. CRLs go stale; a
/// fresh one each start keeps the revoked card revoked.
async fn trust_demo_ca(ca: &TestCa, ca_dir: &Path, store: &Arc<dyn Store>) -> Result<(), CliError> {
    let now = SystemTime::now();
    let cert_path = ca_dir.join(test_ca::CA_CERT_FILE);
    let anchors = trust::anchors_from(
        &cert_path.display().to_string(),
        &ca.certificate_der()?,
        now,
    )
    .map_err(|e| e.message().to_owned())?;
    trust::add_anchors(store.as_ref(), &anchors).await?;
    reissue_crl(ca, store).await
}

/// The demo CA's CRL is valid 30 days; a new one each day keeps it fresh
/// however long the demo runs (the demo, like `serve`, refuses a card whose
/// CRL is stale).
const CRL_REISSUE: Duration = Duration::from_secs(86_400);

pub fn keep_crl_fresh(dir: &Path, store: &Arc<dyn Store>) {
    let ca_dirs: Vec<_> = CA_DIRS
        .iter()
        .map(|(name, _)| dir.join(name))
        .filter(|d| d.exists())
        .collect();
    let store = Arc::clone(store);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CRL_REISSUE);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            for ca_dir in &ca_dirs {
                let reissued = match TestCa::load(ca_dir) {
                    Ok(ca) => reissue_crl(&ca, &store).await,
                    Err(e) => Err(e.into()),
                };
                if let Err(e) = reissued {
                    tracing::error!(error = %e, "CRL stale soon: re-issuing a demo CA's CRL failed");
                }
            }
        }
    });
}

/// A new CRL of the demo CA, imported as `admin crl import` would.
async fn reissue_crl(ca: &TestCa, store: &Arc<dyn Store>) -> Result<(), CliError> {
    let now = SystemTime::now();
    let crl_path = ca.write_crl()?;
    let crl = Crl::load(&std::fs::read(&crl_path)?)?;
    match crl::import_crls(
        store.as_ref(),
        &[(crl_path.display().to_string(), crl)],
        now,
    )
    .await?
    {
        // A start within the same second as the last one: that CRL is as new.
        crl::Imported::All(_) | crl::Imported::NotNewer(_) => Ok(()),
        crl::Imported::Refused(why) => Err(why.into()),
    }
}

async fn create(dir: &Path, store: &Arc<dyn Store>) -> Result<Manifest, CliError> {
    eprintln!("Creating demo data in {} …", dir.display());
    std::fs::write(dir.join(STARTED), b"")?;
    let cas = CA_DIRS
        .iter()
        .map(|(ca_dir, kind)| Ok((*kind, TestCa::init_with_key(&dir.join(ca_dir), *kind)?)))
        .collect::<Result<Vec<_>, CliError>>()?;
    let cards_dir = dir.join(CARDS_DIR);
    std::fs::create_dir_all(&cards_dir)?;
    // Key generation is the slow part; one thread per card.
    let keys = std::thread::scope(|s| {
        let handles: Vec<_> = PEOPLE
            .iter()
            .map(|person| s.spawn(|| KeyPair::generate(person.card_key)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("key generation thread panicked"))
            .collect::<Result<Vec<_>, _>>()
    })?;
    data::load(store).await?;
    let now = OffsetDateTime::now_utc();
    let mut cards = Vec::new();
    for (person, key) in PEOPLE.iter().zip(keys) {
        let (_, ca) = cas
            .iter()
            .find(|(kind, _)| *kind == person.card_key)
            .ok_or("no demo root for this kind of card")?;
        // Today's cards are issued for five years, the next generation's for ten.
        let valid_days = if person.card_key == KeyKind::P384 {
            3650
        } else {
            1825
        };
        let mut spec = LeafSpec::jpki_auth(valid_days)?;
        if person.certificate == Certificate::Expired {
            let day = Duration::from_secs(86_400);
            spec.not_before = SystemTime::now() - day * 5 * 366;
            spec.not_after = SystemTime::now() - day * 30;
        }
        let der = ca.issue(&key, &spec)?;
        let file = format!("{}.card", person.id);
        let path = cards_dir.join(&file);
        let pin = Pin::parse(person.pin)?;
        VirtualCard::create(&path, key, der.clone(), &pin)?;
        let summary = summary_of(&der)?;
        if person.certificate == Certificate::Revoked {
            ca.revoke(&summary.serial)?;
        }
        if person.blocked {
            block(&path, person.pin)?;
        }
        let person_id = store
            .person_by_key(&person.key())
            .await?
            .ok_or_else(|| format!("demo person {} is not in insured.csv", person.id))?
            .id;
        if person.linked {
            store
                .link_certificate(&summary.issuer, &summary.serial, person_id, now)
                .await?;
        }
        cards.push(ManifestCard {
            id: person.id.to_owned(),
            label: person.label.to_owned(),
            pin: person.pin.to_owned(),
            file,
        });
    }
    for institution in INSTITUTIONS {
        store
            .insert_institution(&NewInstitution {
                code: InstitutionCode::parse(institution.code)?,
                name: institution.name.to_owned(),
                offered_items: institution.items.to_vec(),
                e_prescription: institution.e_prescription,
                consent_validity_days: 365,
                url_token: zaitaku_web::new_url_token(),
                // Only enrolled devices: the demo index enrols the browser that opens it.
                flows_from: FlowsFrom::Enrolled,
            })
            .await?;
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_owned(),
        cards,
    };
    let tmp = dir.join(format!("{MANIFEST}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(&manifest)?)?;
    std::fs::rename(&tmp, dir.join(MANIFEST))?;
    std::fs::remove_file(dir.join(STARTED))?;
    Ok(manifest)
}

fn summary_of(der: &[u8]) -> Result<CertificateSummary, CliError> {
    let certs = zaitaku_card::pem::load_certificates(der)?;
    let (cert, _) = certs.first().ok_or("issued certificate is unreadable")?;
    Ok(CertificateSummary::of(cert))
}

/// Type three wrong PINs, as a patient who forgot theirs would have.
fn block(path: &Path, right_pin: &str) -> Result<(), CliError> {
    let wrong = if right_pin == "0000" { "9999" } else { "0000" };
    let wrong = Pin::parse(wrong)?;
    let mut card = JpkiCard::open(VirtualCard::open(path)?)?;
    for _ in 0..3 {
        let _ = card.verify_pin(&wrong);
    }
    Ok(())
}

pub async fn print_welcome(origin: &Origin, dir: &Path, state: &AppState) -> Result<(), CliError> {
    let base = origin.as_str();
    println!("Zaitaku demo: {base}/");
    println!("data directory: {}", dir.display());
    println!();
    println!(
        "Institutions (only enrolled devices start flows: open {base}/ first, which enrols \
         that browser; then one of these starts flow A):"
    );
    for i in state.store.institutions().await? {
        let eprescription = if i.asks_prescription_form() {
            ", 電子処方箋"
        } else {
            ""
        };
        println!(
            "  {} ({}, {}{eprescription})\n    {base}/i/{}",
            i.name,
            i.kind.label(),
            i.code.as_str(),
            i.url_token.as_str()
        );
    }
    println!();
    println!("Demo cards (PIN), for the demo card reader or `zaitaku card auth --card FILE URL`:");
    if let Some(demo) = &state.demo {
        for c in &demo.cards {
            println!("  {}  PIN {}  {}", c.label, c.pin, c.path.display());
        }
    }
    println!();
    staff::print_welcome(origin, state);
    println!();
    println!("Press Ctrl+C to stop.");
    Ok(())
}
