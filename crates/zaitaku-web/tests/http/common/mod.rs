//! Test kit: the whole service on 127.0.0.1:0 with a fresh SQLite file, a test CA
//! and virtual cards, and a small HTTP client that keeps a session cookie.

pub mod console;
pub mod flow;
pub mod http;
pub mod qr;

use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;
use time::macros::date;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use zaitaku_card::authenticator::sign_challenge;
use zaitaku_card::keys::{KeyKind, KeyPair};
use zaitaku_card::test_ca::{LeafSpec, TestCa};
use zaitaku_card::validate::ValidatorConfig;
use zaitaku_card::validate::crl::Crl;
use zaitaku_card::validate::summary::CertificateSummary;
use zaitaku_card::validate::trust::TrustAnchor;
use zaitaku_card::{ChallengeNonce, JpkiCard, Origin, Pin, Validator, VirtualCard, oids};
use zaitaku_domain::{
    BurdenRatio, ConsentItem, EPrescriptionUsage, FlowsFrom, Institution, InstitutionCode,
    InsurerNumber, PersonId, Qualification, QualificationValidity, Relationship, Sex,
};
use zaitaku_store::postgres::TestSchema;
use zaitaku_store::{NewInstitution, SqliteStore, Store};
use zaitaku_web::{AppState, DemoCard, DemoSetup, Lifetimes, ValidatorHandle};

pub use http::{Claimed, Client, Response};

pub const PIN: &str = "1234";

pub struct Kit {
    pub dir: TempDir,
    pub ca: TestCa,
    /// The next generation's root (P-384), trusted beside `ca` (RSA-2048).
    pub next_ca: TestCa,
    pub store: Arc<dyn Store>,
    /// The PostgreSQL schema of this kit's store, when the tests run on PostgreSQL.
    _schema: Option<TestSchema>,
    pub origin: Origin,
    pub base: String,
    pub clinic_e: Institution,
    pub clinic: Institution,
    pub pharmacy: Institution,
    pub nursing: Institution,
    /// The device cookie of [`Kit::client`]'s browsers, enrolled at the four institutions.
    pub device_secret: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The counters, kept across a relaunch like a process's would not be:
    /// tests compare before and after.
    pub metrics: zaitaku_web::Metrics,
    /// `http://127.0.0.1:PORT` of the metrics listener (`/metrics`).
    pub metrics_base: String,
    metrics_server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

#[derive(Default)]
pub struct Options {
    pub demo_cards: Vec<DemoCard>,
    pub demo_staff: Vec<zaitaku_web::DemoStaffLogin>,
    pub demo: bool,
    pub lifetimes: Lifetimes,
    /// The public origin, when not the listening address (e.g. https behind a proxy).
    pub origin: Option<Origin>,
    /// The HTTP server's timeouts and connection cap.
    pub limits: zaitaku_web::ServerLimits,
    /// The caps on flows, challenges and polls, the rates per client, the trusted proxies.
    pub caps: zaitaku_web::Limits,
    /// Refuse cards whose revocation could not be checked, as `serve` does.
    pub require_revocation: bool,
}

/// Long enough for a challenge made with `Options::short_challenges` to expire.
pub const SHORT_CHALLENGE_WAIT_MS: u64 = 3100;

impl Options {
    /// Challenges that time out within a test. Expiry is stored to the second,
    /// so one lives 2–3 s: long enough to sign a renewed one on a loaded machine.
    pub fn short_challenges() -> Options {
        Options {
            lifetimes: zaitaku_web::Lifetimes {
                challenge: time::Duration::seconds(3),
                ..zaitaku_web::Lifetimes::default()
            },
            ..Options::default()
        }
    }
}

pub struct Card {
    pub path: PathBuf,
    pub person: Option<PersonId>,
}

/// A record for a new person: each call gets its own number, since an insured
/// person is known by insurer number, symbol, number and branch.
pub fn qualification(name: &str) -> Qualification {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(5678);
    let number = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Qualification {
        insurer_number: InsurerNumber::parse("01130012").unwrap(),
        insurer_name: "全国健康保険協会東京支部".into(),
        symbol: Some("1234".into()),
        number: number.to_string(),
        branch: Some("00".into()),
        relationship: Relationship::Insured,
        name: name.into(),
        name_kana: "テスト".into(),
        sex: Sex::Female,
        birth_date: date!(1950 - 01 - 02),
        address: "東京都".into(),
        postal_code: "100-0001".into(),
        acquired_on: date!(2020 - 04 - 01),
        lost_on: None,
        loss_reason: None,
        valid_from: Some(date!(2020 - 04 - 01)),
        valid_until: None,
        burden_ratio: Some(BurdenRatio::parse("030").unwrap()),
        elderly: None,
        limit: None,
        specific_disease: None,
        validity: QualificationValidity::Valid,
    }
}

async fn institution(
    store: &Arc<dyn Store>,
    code: &str,
    name: &str,
    usage: EPrescriptionUsage,
) -> Institution {
    store
        .insert_institution(&NewInstitution {
            code: InstitutionCode::parse(code).unwrap(),
            name: name.into(),
            offered_items: vec![
                ConsentItem::Medication,
                ConsentItem::Clinical,
                ConsentItem::HealthCheckup,
            ],
            e_prescription: usage,
            consent_validity_days: 365,
            url_token: zaitaku_web::new_url_token(),
            flows_from: FlowsFrom::Enrolled,
        })
        .await
        .unwrap()
}

/// Enrol the browser holding device cookie `secret` at `institution`.
async fn enrol(
    store: &Arc<dyn Store>,
    secret: &str,
    institution: &Institution,
    name: &str,
) -> zaitaku_store::DeviceRecord {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::COOKIE,
        format!("zaitaku_device={secret}").parse().unwrap(),
    );
    let credential = zaitaku_web::devices::Credential::sent(&headers, false).unwrap();
    zaitaku_web::devices::enrol(
        store.as_ref(),
        &credential,
        institution.id,
        zaitaku_domain::DeviceName::parse(name).unwrap(),
        zaitaku_store::DeviceActor::AdminCli,
    )
    .await
    .unwrap()
    .device()
    .clone()
}

/// Which store the web tests run on: `ZAITAKU_TEST_STORE=postgres` puts every
/// kit on its own schema of the `ZAITAKU_TEST_DATABASE_URL` database (the whole
/// HTTP suite then runs on PostgreSQL); otherwise a fresh SQLite file.
pub const STORE_VAR: &str = "ZAITAKU_TEST_STORE";

async fn test_store(dir: &TempDir) -> (Arc<dyn Store>, Option<TestSchema>) {
    match std::env::var(STORE_VAR).as_deref() {
        Ok("postgres") => {
            let url = TestSchema::database_url().unwrap_or_else(|| {
                panic!(
                    "{STORE_VAR}=postgres needs {}",
                    zaitaku_store::postgres::TEST_DATABASE_URL_VAR
                )
            });
            let schema = TestSchema::create(&url).await;
            let store: Arc<dyn Store> = Arc::new(schema.store().await);
            (store, Some(schema))
        }
        Ok("sqlite") | Err(_) => {
            let store = SqliteStore::open(&dir.path().join("db.sqlite3"))
                .await
                .unwrap();
            (Arc::new(store), None)
        }
        Ok(other) => panic!("{STORE_VAR}={other}: give sqlite or postgres"),
    }
}

impl Kit {
    pub async fn start() -> Kit {
        Kit::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Kit {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::init(&dir.path().join("ca")).unwrap();
        let next_ca = TestCa::init_with_key(&dir.path().join("ca-p384"), KeyKind::P384).unwrap();
        let (store, schema) = test_store(&dir).await;
        let clinic_e = institution(
            &store,
            "1310123458",
            "電子処方クリニック",
            EPrescriptionUsage::Both,
        )
        .await;
        let clinic = institution(
            &store,
            "1310234560",
            "紙の診療所",
            EPrescriptionUsage::NotUsed,
        )
        .await;
        let pharmacy = institution(
            &store,
            "1340112349",
            "テスト薬局",
            EPrescriptionUsage::NotUsed,
        )
        .await;
        let nursing = institution(
            &store,
            "1360100125",
            "テスト訪問看護ステーション",
            EPrescriptionUsage::NotUsed,
        )
        .await;
        let device_secret = zaitaku_web::new_url_token().as_str().to_owned();
        for institution in [&clinic_e, &clinic, &pharmacy, &nursing] {
            enrol(&store, &device_secret, institution, "テスト端末").await;
        }
        let mut kit = Kit {
            device_secret,
            dir,
            ca,
            next_ca,
            store,
            _schema: schema,
            origin: Origin::parse("http://127.0.0.1:1").unwrap(),
            base: String::new(),
            clinic_e,
            clinic,
            pharmacy,
            nursing,
            shutdown: None,
            server: None,
            metrics: Default::default(),
            metrics_base: String::new(),
            metrics_server: None,
        };
        kit.launch(options).await;
        kit
    }

    /// Start (or restart) the server on the same database file.
    pub async fn launch(&mut self, options: Options) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        self.base = format!("http://{addr}");
        self.origin = match options.origin {
            Some(ref origin) => origin.clone(),
            None => Origin::parse(&self.base).unwrap(),
        };
        let state = AppState {
            store: self.store.clone(),
            validator: ValidatorHandle::new(Validator::new(
                self.validator_config(options.require_revocation),
            )),
            origin: self.origin.clone(),
            demo: (options.demo || !options.demo_cards.is_empty()).then(|| {
                Arc::new(DemoSetup {
                    cards: options.demo_cards,
                    staff: options.demo_staff,
                })
            }),
            lifetimes: options.lifetimes,
            wakeups: Default::default(),
            guards: zaitaku_web::Guards::new(options.caps),
            metrics: self.metrics.clone(),
        };
        let metrics = TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.metrics_base = format!("http://{}", metrics.local_addr().unwrap());
        self.metrics_server = Some(tokio::spawn(zaitaku_web::metrics::serve(
            metrics,
            state.clone(),
        )));
        let (tx, rx) = oneshot::channel();
        self.shutdown = Some(tx);
        self.server = Some(tokio::spawn(zaitaku_web::serve_with(
            listener,
            state,
            options.limits,
            async {
                let _ = rx.await;
            },
        )));
    }

    pub async fn stop(&mut self) {
        if let Some(metrics) = self.metrics_server.take() {
            metrics.abort();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

    fn validator_config(&self, require_revocation: bool) -> ValidatorConfig {
        let mut config = ValidatorConfig::new(Vec::new());
        if require_revocation {
            config.revocation = zaitaku_card::validate::RevocationPolicy::Required;
        }
        config.allowed_policies.push(oids::ZAITAKU_TEST_CARD_POLICY);
        for ca in [&self.ca, &self.next_ca] {
            let anchors = TrustAnchor::load_all(&ca.certificate_der().unwrap()).unwrap();
            config.trust_anchors.extend(anchors);
            let crl = std::fs::read(ca.write_crl().unwrap()).unwrap();
            config.crls.push(Crl::load(&crl).unwrap());
        }
        config
    }

    /// A browser that is an enrolled device of the kit's four institutions
    /// (they let only their devices start flows); `client().stranger()` is not.
    pub fn client(&self) -> Client {
        Client::new(&self.base).with_device(&self.device_secret)
    }

    /// Enrol the browser holding device cookie `secret` at `institution`, named `name`.
    pub async fn enrol_device(
        &self,
        secret: &str,
        institution: &Institution,
        name: &str,
    ) -> zaitaku_store::DeviceRecord {
        enrol(&self.store, secret, institution, name).await
    }

    /// Let anyone who knows `institution`'s URL start flows there (the kit's
    /// institutions let only their devices); the institution as it now stands.
    pub async fn open_to_anyone(&self, institution: &Institution) -> Institution {
        let changes = zaitaku_store::InstitutionChanges {
            flows_from: Some(zaitaku_domain::FlowsFrom::Anyone),
            ..Default::default()
        };
        self.store
            .update_institution(&institution.code, &changes)
            .await
            .unwrap()
            .expect("the kit's institution")
    }

    pub fn url(&self, institution: &Institution) -> String {
        format!("/i/{}", institution.url_token.as_str())
    }

    /// A card from the kit's CA, linked to a new person with `qualification`.
    pub async fn linked_card(&self, name: &str, qualification: Qualification) -> Card {
        self.linked_card_of(name, qualification, &self.ca, KeyKind::Rsa2048)
            .await
    }

    /// A card with a `key` key from `ca`, linked to a new person with `qualification`.
    pub async fn linked_card_of(
        &self,
        name: &str,
        qualification: Qualification,
        ca: &TestCa,
        key: KeyKind,
    ) -> Card {
        let person = self.store.insert_person(&qualification).await.unwrap();
        let (path, summary) =
            self.new_card_with_key(name, ca, LeafSpec::jpki_auth(365).unwrap(), key);
        self.store
            .link_certificate(
                &summary.issuer,
                &summary.serial,
                person,
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        Card {
            path,
            person: Some(person),
        }
    }

    /// A card issued by `ca` with `spec`, linked to nobody.
    pub fn new_card(
        &self,
        name: &str,
        ca: &TestCa,
        spec: LeafSpec,
    ) -> (PathBuf, CertificateSummary) {
        self.new_card_with_key(name, ca, spec, KeyKind::Rsa2048)
    }

    /// A card with a `key` key, issued by `ca` with `spec`, linked to nobody.
    pub fn new_card_with_key(
        &self,
        name: &str,
        ca: &TestCa,
        spec: LeafSpec,
        key: KeyKind,
    ) -> (PathBuf, CertificateSummary) {
        let key = KeyPair::generate(key).unwrap();
        let der = ca.issue(&key, &spec).unwrap();
        let path = self.dir.path().join(format!("{name}.card"));
        VirtualCard::create(&path, key, der.clone(), &Pin::parse(PIN).unwrap()).unwrap();
        let certs = zaitaku_card::pem::load_certificates(&der).unwrap();
        (path, CertificateSummary::of(&certs[0].0))
    }

    pub fn revoke(&self, summary: &CertificateSummary) {
        self.ca.revoke(&summary.serial).unwrap();
    }
}

/// Have the card sign the challenge behind an authentication link, for `origin`.
pub async fn sign(card: &std::path::Path, origin: &Origin, nonce: &str) -> String {
    let (card, origin, nonce) = (card.to_owned(), origin.clone(), nonce.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut jpki = JpkiCard::open(VirtualCard::open(&card).unwrap()).unwrap();
        let nonce = ChallengeNonce::parse(&nonce).unwrap();
        sign_challenge(
            &mut jpki,
            &Pin::parse(PIN).unwrap(),
            &origin,
            &nonce,
            "test/1",
        )
        .unwrap()
        .to_json()
    })
    .await
    .unwrap()
}
