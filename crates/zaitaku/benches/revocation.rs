//! Revocation at national scale: 1,000,000 revoked serials in 1,000 CRLs
//! partitioned like JPKI's (one per municipality), on the embedded SQLite and
//! on PostgreSQL. Measures
//! - the import: `zaitaku admin crl import` of the 1,000 files (parse, one
//!   signature check each, the index written), wall time;
//! - token validation with the revocation look-up, in process, as `serve`
//!   does it (`check_token`, the store's index, `conclude`): p50 and p99;
//! - `zaitaku serve` on that database: its peak memory (VmHWM) and
//!   the CPU an idle process spends reloading every second over 5 s, beside
//!   the same on a database holding one CRL.
//!
//! `cargo bench -p zaitaku --bench revocation`. PostgreSQL is used when
//! ZAITAKU_TEST_DATABASE_URL is set (a fresh schema, dropped afterwards).
//! ZAITAKU_BENCH_CRLS and ZAITAKU_BENCH_ENTRIES change the size.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use zaitaku_card::authenticator::sign_challenge;
use zaitaku_card::test_ca::{self, LeafSpec, TestCa};
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::{
    ChallengeNonce, JpkiCard, Origin, Pin, RevocationPolicy, Validator, ValidatorConfig,
    VirtualCard, oids,
};
use zaitaku_store::postgres::TestSchema;
use zaitaku_store::{SqliteStore, Store};

const ORIGIN: &str = "https://zaitaku.example.jp";
const LOOKUPS: usize = 5_000;
const IDLE: Duration = Duration::from_secs(5);

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn town(i: usize) -> String {
    format!("CN=Town {i:06},OU=CRL,O=Zaitaku Bench,C=JP")
}

fn main() {
    let crls = setting("ZAITAKU_BENCH_CRLS", 1_000);
    let entries = setting("ZAITAKU_BENCH_ENTRIES", 1_000);
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let ca = TestCa::init(&ca_dir).unwrap();
    let anchor_file = ca_dir.join(test_ca::CA_CERT_FILE);

    eprintln!("making {crls} CRLs of {entries} entries …");
    let now = SystemTime::now();
    let crl_dir = dir.path().join("crls");
    std::fs::create_dir_all(&crl_dir).unwrap();
    let files: Vec<PathBuf> = (0..crls)
        .map(|i| {
            let revoked: Vec<(Vec<u8>, SystemTime)> = (0..entries)
                .map(|j| {
                    let serial = ((i * entries + j) as u64 + 1) << 8 | 0x01;
                    (serial.to_be_bytes().to_vec(), now - Duration::from_secs(60))
                })
                .map(|(s, t)| (trim(s), t))
                .collect();
            let der = ca
                .issue_partitioned_crl(
                    &revoked,
                    now - Duration::from_secs(60),
                    Some(now + Duration::from_secs(86_400)),
                    Some(&town(i)),
                )
                .unwrap();
            let path = crl_dir.join(format!("{i:04}.crl"));
            std::fs::write(&path, der).unwrap();
            path
        })
        .collect();
    let one_crl = ca.write_crl().unwrap();

    // A card in the middle town, not revoked.
    let mut spec = LeafSpec::jpki_auth(365).unwrap();
    spec.extra_extensions
        .push(TestCa::distribution_point(&town(crls / 2)).unwrap());
    let key = test_ca::generate_rsa_key().unwrap();
    let cert = ca.issue(key.as_public_key(), &spec).unwrap();
    let card_path = dir.path().join("bench.card");
    let pin = Pin::parse("1234").unwrap();
    VirtualCard::create(&card_path, key, cert, &pin).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "revocation: {} serials in {crls} partitioned CRLs; server = `zaitaku serve`, its own process",
        crls * entries
    );
    let sqlite = |name: &str| {
        let data = dir.path().join(name);
        std::fs::create_dir_all(&data).unwrap();
        Target::Sqlite(data)
    };
    bench(
        "SQLite",
        &sqlite("many"),
        &sqlite("one"),
        &runtime,
        (&anchor_file, &files, &one_crl),
        &ca,
        &card_path,
    );
    match TestSchema::database_url() {
        Some(url) => {
            let (many, one) = runtime.block_on(async {
                (
                    TestSchema::create(&url).await,
                    TestSchema::create(&url).await,
                )
            });
            bench(
                "PostgreSQL",
                &Target::Postgres(many.url()),
                &Target::Postgres(one.url()),
                &runtime,
                (&anchor_file, &files, &one_crl),
                &ca,
                &card_path,
            );
            runtime.block_on(async {
                drop(many);
                drop(one);
            });
        }
        None => println!(
            "PostgreSQL: skipped ({} is not set)",
            zaitaku_store::postgres::TEST_DATABASE_URL_VAR
        ),
    }
}

/// DER INTEGER content: no leading zero bytes (the serials are positive and small).
fn trim(bytes: Vec<u8>) -> Vec<u8> {
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    bytes[first..].to_vec()
}

enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Target {
    fn args(&self) -> Vec<String> {
        match self {
            Target::Sqlite(dir) => vec!["--data-dir".into(), dir.display().to_string()],
            Target::Postgres(url) => vec!["--database-url".into(), url.clone()],
        }
    }

    async fn open(&self) -> Arc<dyn Store> {
        match self {
            Target::Sqlite(dir) => Arc::new(
                SqliteStore::open(&dir.join("zaitaku.sqlite3"))
                    .await
                    .unwrap(),
            ),
            Target::Postgres(url) => {
                Arc::new(zaitaku_store::PostgresStore::connect(url).await.unwrap())
            }
        }
    }
}

fn zaitaku() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zaitaku"));
    command.env_remove("ZAITAKU_DATA_DIR");
    command
}

fn admin(target: &Target, args: &[&str], files: &[PathBuf]) -> Duration {
    let started = Instant::now();
    let out = zaitaku()
        .arg("admin")
        .args(args)
        .args(target.args())
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

#[allow(clippy::too_many_arguments)]
fn bench(
    name: &str,
    many: &Target,
    one: &Target,
    runtime: &tokio::runtime::Runtime,
    (anchor, files, one_crl): (&Path, &[PathBuf], &Path),
    ca: &TestCa,
    card: &Path,
) {
    for target in [many, one] {
        admin(target, &["trust", "add"], &[anchor.to_owned()]);
    }
    let import = admin(many, &["crl", "import"], files);
    admin(one, &["crl", "import"], &[one_crl.to_owned()]);
    println!(
        "{name}: import of {} CRL files {:>8.2} s",
        files.len(),
        import.as_secs_f64()
    );

    let (p50, p99) = runtime.block_on(validation(many, ca, card));
    println!(
        "{name}: token validation with look-up p50 {p50:>6.3} ms  p99 {p99:>6.3} ms ({LOOKUPS} tokens)"
    );

    for (label, target) in [("1,000,000 serials", many), ("one CRL", one)] {
        let (peak, cpu) = serve(target);
        println!(
            "{name}: serve with {label:<17} peak memory {:>6.1} MiB, idle CPU {:>5.3} s per {} s (reload every 1 s)",
            peak as f64 / 1024.0,
            cpu,
            IDLE.as_secs()
        );
    }
}

/// `check_token` + the store's look-up + `conclude`, as a token POST does it.
async fn validation(target: &Target, ca: &TestCa, card: &Path) -> (f64, f64) {
    let store = target.open().await;
    let anchor = TrustAnchor::load_all(&ca.certificate_der().unwrap()).unwrap();
    let mut config = ValidatorConfig::new(anchor);
    config.allowed_policies.push(oids::ZAITAKU_TEST_CARD_POLICY);
    config.revocation = RevocationPolicy::Required;
    let validator = Validator::new(config);
    let origin = Origin::parse(ORIGIN).unwrap();
    let pin = Pin::parse("1234").unwrap();
    let mut jpki = JpkiCard::open(VirtualCard::open(card).unwrap()).unwrap();
    // Tokens are made first: the card's signature is the client's work.
    let tokens: Vec<(ChallengeNonce, String)> = (0..LOOKUPS)
        .map(|_| {
            let nonce = ChallengeNonce::generate().unwrap();
            let token = sign_challenge(&mut jpki, &pin, &origin, &nonce, "bench/1").unwrap();
            (nonce, token.to_json())
        })
        .collect();
    let mut times = Vec::with_capacity(LOOKUPS);
    for (nonce, token) in &tokens {
        let started = Instant::now();
        let pending = validator
            .check_token(token.as_bytes(), &origin, nonce, SystemTime::now())
            .unwrap();
        let covering = zaitaku_web::revocation_lookup::covering(store.as_ref(), pending.query())
            .await
            .unwrap();
        let valid = validator.conclude(pending, &covering).unwrap();
        times.push(started.elapsed());
        std::hint::black_box(valid);
    }
    store.close().await;
    times.sort();
    let ms = |q: f64| {
        times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1e3
    };
    (ms(0.50), ms(0.99))
}

/// Start `zaitaku serve`, let it reload every second for `IDLE`, and read its
/// peak memory (KiB) and the CPU seconds it spent meanwhile.
fn serve(target: &Target) -> (u64, f64) {
    let mut child = zaitaku()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--trust-reload-secs",
            "1",
        ])
        .args(target.args())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("Zaitaku is serving") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let before = cpu_seconds(pid);
    std::thread::sleep(IDLE);
    let cpu = cpu_seconds(pid) - before;
    let peak = peak_kib(pid);
    let _ = child.kill();
    let _ = child.wait();
    (peak, cpu)
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // utime and stime: fields 14 and 15 of the whole line.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
