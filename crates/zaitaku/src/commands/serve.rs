//! `zaitaku serve` and `zaitaku demo`: run the web service.

use super::crl_health::CrlMaxAge;
use super::retention_schedule::PurgeSchedule;
use super::serve_config::ConfigOptions;
use super::serve_lifetimes::LifetimeOptions;
use super::serve_limits::LimitOptions;
use super::trust_reload;
use super::verify::validator_config;
use crate::demo;
use crate::setup::database::{DATABASE_FILE, Database};
use crate::setup::lock;
use crate::setup::logging::LogFormat;
use crate::setup::{CliError, DEFAULT_DATA_DIR, runtime};
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use zaitaku_card::{Origin, Validator, ValidatorConfig};
use zaitaku_store::Store;
use zaitaku_web::{AppState, ValidatorHandle};

#[derive(Args)]
pub struct ListenOptions {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", env = "ZAITAKU_LISTEN")]
    listen: SocketAddr,
    /// Directory for the embedded database (created on first start).
    #[arg(long, value_name = "DIR", env = "ZAITAKU_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Seconds between reloads of the trust anchors and CRLs from the database
    /// (`zaitaku admin trust add`, `admin crl import` reach a running service so).
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_TRUST_RELOAD_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    trust_reload_secs: u64,
    /// Serve plain http on an address other than loopback (e.g. 0.0.0.0) without
    /// an https --public-origin. Refused otherwise: passwords, health data and
    /// cookies would cross the network unencrypted.
    #[arg(long, env = "ZAITAKU_ALLOW_PLAIN_HTTP", value_parser = clap::builder::BoolishValueParser::new())]
    allow_plain_http: bool,
    /// Seconds a client has to send a request's headers, from the connection
    /// being ready for them; also how long an idle keep-alive connection stays open.
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    header_timeout_secs: u64,
    /// Seconds without a byte either way after which a connection is closed
    /// (more than the status page's 25-second long-poll).
    #[arg(long, value_name = "SECONDS", env = "ZAITAKU_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(30..=3_600))]
    idle_timeout_secs: u64,
    /// Connections served at once; more wait to be accepted.
    #[arg(long, value_name = "N", env = "ZAITAKU_MAX_CONNECTIONS", default_value_t = 512,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_connections: u64,
    #[command(flatten)]
    limit_options: LimitOptions,
    #[command(flatten)]
    lifetime_options: LifetimeOptions,
    /// Log lines on standard error: text, or json (one object per line, for
    /// log shippers). The same events either way, with no personal data.
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        env = "ZAITAKU_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of its
    /// own. Off by default. For the operator's network only, never public.
    #[arg(long, value_name = "ADDR", env = "ZAITAKU_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

impl ListenOptions {
    fn limits(&self) -> zaitaku_web::ServerLimits {
        zaitaku_web::ServerLimits {
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_connections: self.max_connections as usize,
            ..Default::default()
        }
    }
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    listen: ListenOptions,
    /// The database: postgres://USER@HOST/DB (several `serve` processes may
    /// share it) or sqlite:PATH. Default: the SQLite file in the data directory.
    #[arg(long, value_name = "URL", env = "ZAITAKU_DATABASE_URL")]
    database_url: Option<String>,
    /// The origin browsers use, e.g. https://zaitaku.example.jp; tokens must be
    /// signed for it. Default: http://<listen address>, allowed on loopback only.
    #[arg(long, value_name = "URL", env = "ZAITAKU_PUBLIC_ORIGIN")]
    public_origin: Option<String>,
    /// Connections to the database: PostgreSQL's pool (default 8), or SQLite's
    /// readers beside its one writer (default 4).
    #[arg(long, value_name = "N", env = "ZAITAKU_POOL_SIZE",
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pool_size: Option<u32>,
    /// Root CA certificate(s) of the cards to accept, PEM or DER (repeatable;
    /// comma-separated in the variable), in addition to those added with
    /// `zaitaku admin trust add`.
    #[arg(
        long = "trust-anchor",
        value_name = "PEM",
        env = "ZAITAKU_TRUST_ANCHORS",
        value_delimiter = ','
    )]
    trust_anchors: Vec<PathBuf>,
    /// CRL to consult, PEM or DER (repeatable; comma-separated in the
    /// variable), in addition to those imported with `zaitaku admin crl import`.
    #[arg(
        long = "crl",
        value_name = "FILE",
        env = "ZAITAKU_CRLS",
        value_delimiter = ','
    )]
    crls: Vec<PathBuf>,
    /// Also accept this certificate policy OID (repeatable; comma-separated in
    /// the variable); "zaitaku-test" names the virtual cards' policy. JPKI's
    /// authentication policy is always accepted.
    #[arg(
        long = "allow-policy",
        value_name = "OID",
        env = "ZAITAKU_ALLOW_POLICIES",
        value_delimiter = ','
    )]
    allow_policies: Vec<String>,
    /// Refuse cards whose revocation could not be checked. The default; kept
    /// for scripts written when it was not.
    #[arg(long, conflicts_with = "allow_unchecked_revocation", env = "ZAITAKU_REQUIRE_REVOCATION",
          value_parser = clap::builder::BoolishValueParser::new())]
    require_revocation: bool,
    /// Accept cards whose revocation could not be checked (no CRL for their
    /// issuer and partition, or only a stale one). Not for production.
    #[arg(long, env = "ZAITAKU_ALLOW_UNCHECKED_REVOCATION",
          value_parser = clap::builder::BoolishValueParser::new())]
    allow_unchecked_revocation: bool,
    #[command(flatten)]
    crl_max_age: CrlMaxAge,
    #[command(flatten)]
    purge: PurgeSchedule,
    #[command(flatten)]
    config: ConfigOptions,
}

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    listen: ListenOptions,
}

impl ServeArgs {
    pub fn log_format(&self) -> LogFormat {
        self.listen.log_format
    }
}

impl DemoArgs {
    pub fn log_format(&self) -> LogFormat {
        self.listen.log_format
    }
}

pub fn serve(args: ServeArgs) -> Result<ExitCode, CliError> {
    // Fail closed unless told otherwise; --require-revocation is the default.
    let mut config = validator_config(
        &args.trust_anchors,
        &args.crls,
        &args.allow_policies,
        args.require_revocation || !args.allow_unchecked_revocation,
    )?;
    config.crl_max_age = args.crl_max_age.duration();
    let data_dir = args
        .listen
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let database = Database::choose(args.database_url.as_deref(), &data_dir)?;
    // A fresh directory cannot hold anchors: say so before creating anything.
    if config.trust_anchors.is_empty() && !database.exists() {
        return Err(no_anchor(&database));
    }
    runtime()?.block_on(async move {
        let listener = bind(args.listen.listen).await?;
        let origin = public_origin(args.public_origin.as_deref(), &listener)?;
        plain_http_check(&args.listen, &origin)?;
        // Held while the service runs: `admin restore` sees the service by it.
        // Taken after the checks above, so a refusal creates nothing.
        let _lock = match &database {
            Database::Sqlite(path) => Some(lock::hold_for_service(path)?),
            Database::Postgres(_) => None,
        };
        let store = database.open_with_pool_size(args.pool_size).await?;
        let validator = trusted_validator(&store, config, &args.listen).await?;
        if validator.current().config().trust_anchors.is_empty() {
            return Err(no_anchor(&database));
        }
        args.purge.spawn(&store);
        if let Some(file) = args.config.file() {
            tracing::info!(file = %file.display(), "settings read from a config file");
        }
        let state = AppState {
            store,
            validator,
            origin: origin.clone(),
            demo: None,
            lifetimes: args.listen.lifetime_options.lifetimes(),
            wakeups: Default::default(),
            guards: zaitaku_web::Guards::new(args.listen.limit_options.limits()),
            metrics: Default::default(),
        };
        // The listening address too: behind a proxy it differs from the origin.
        eprintln!(
            "Zaitaku is serving {} on {} (database {})",
            origin.as_str(),
            listener.local_addr()?,
            database.describe()
        );
        run(listener, state, &args.listen).await
    })
}

pub fn demo(args: DemoArgs) -> Result<ExitCode, CliError> {
    let data_dir = args
        .listen
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("zaitaku-demo-data"));
    runtime()?.block_on(async move {
        let listener = bind(args.listen.listen).await?;
        let origin = public_origin(None, &listener)?;
        plain_http_check(&args.listen, &origin)?;
        let _lock = lock::hold_for_service(&data_dir.join(DATABASE_FILE))?;
        let store = open_store(&data_dir).await?;
        let setup = demo::prepare(&data_dir, &store).await?;
        demo::keep_crl_fresh(&data_dir, &store);
        let validator = trusted_validator(&store, setup.validator, &args.listen).await?;
        let state = AppState {
            store,
            validator,
            origin: origin.clone(),
            demo: Some(Arc::new(setup.web)),
            lifetimes: args.listen.lifetime_options.lifetimes(),
            wakeups: Default::default(),
            guards: zaitaku_web::Guards::new(args.listen.limit_options.limits()),
            metrics: Default::default(),
        };
        demo::print_welcome(&origin, &data_dir, &state).await?;
        run(listener, state, &args.listen).await
    })
}

/// The validator from `base` and the database, reloaded in the background.
async fn trusted_validator(
    store: &Arc<dyn Store>,
    base: ValidatorConfig,
    options: &ListenOptions,
) -> Result<ValidatorHandle, CliError> {
    let trust = trust_reload::load(store.as_ref(), &base).await?;
    tracing::info!(
        anchors = trust.config.trust_anchors.len(),
        crls = trust.crls.len(),
        "trust anchors and CRLs loaded"
    );
    trust.raise_alarms(std::time::SystemTime::now());
    let handle = ValidatorHandle::with_stored_anchors(
        Validator::new(trust.config.clone()),
        trust.stored_anchors.clone(),
    );
    trust_reload::spawn(
        Arc::clone(store),
        base,
        handle.clone(),
        trust,
        Duration::from_secs(options.trust_reload_secs),
    );
    Ok(handle)
}

fn no_anchor(database: &Database) -> CliError {
    let place = match database {
        Database::Sqlite(path) => match path.parent() {
            Some(dir) if path.file_name() == Some(DATABASE_FILE.as_ref()) => {
                format!("--data-dir {}", dir.display())
            }
            _ => format!("--database-url sqlite:{}", path.display()),
        },
        Database::Postgres(_) => "--database-url URL".to_owned(),
    };
    format!(
        "no trust anchor: add the root CA of the cards to accept with \
         `zaitaku admin trust add FILE {place}`, or give --trust-anchor FILE"
    )
    .into()
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, CliError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}").into())
}

/// Open (creating if missing) the SQLite database in `data_dir`.
pub async fn open_store(data_dir: &Path) -> Result<Arc<dyn Store>, CliError> {
    Database::Sqlite(data_dir.join(DATABASE_FILE)).open().await
}

/// Plain http is for loopback: on any other address (0.0.0.0 included) the
/// origin must be https (TLS at a proxy in front), or plain http explicitly allowed.
fn plain_http_check(options: &ListenOptions, origin: &Origin) -> Result<(), CliError> {
    let addr = options.listen;
    if zaitaku_domain::is_loopback_ip(addr.ip())
        || origin.as_str().starts_with("https://")
        || options.allow_plain_http
    {
        return Ok(());
    }
    Err(format!(
        "refusing to serve plain http on {addr}, which is not a loopback address: \
         browsers on the network would send passwords and health data unencrypted. \
         Give --public-origin https://… (with TLS at a proxy in front), listen on \
         127.0.0.1, or pass --allow-plain-http (ZAITAKU_ALLOW_PLAIN_HTTP=1) if plain \
         http on this network is intended"
    )
    .into())
}

/// The configured origin, or http://<bound address> where that is loopback.
fn public_origin(configured: Option<&str>, listener: &TcpListener) -> Result<Origin, CliError> {
    if let Some(text) = configured {
        return Origin::parse(text).map_err(|e| format!("--public-origin {text:?}: {e}").into());
    }
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() || zaitaku_domain::is_loopback_ip(addr.ip()) {
        match addr {
            SocketAddr::V4(_) => "127.0.0.1".to_owned(),
            SocketAddr::V6(_) => "[::1]".to_owned(),
        }
    } else {
        return Err(format!(
            "listening on {addr}: give --public-origin https://… (plain http is for loopback only)"
        )
        .into());
    };
    let text = format!("http://{host}:{}", addr.port());
    Origin::parse(&text).map_err(|e| format!("{text}: {e}").into())
}

async fn run(
    listener: TcpListener,
    state: AppState,
    options: &ListenOptions,
) -> Result<ExitCode, CliError> {
    if let Some(addr) = options.metrics_listen {
        let metrics = bind(addr).await?;
        eprintln!(
            "Prometheus metrics on http://{}/metrics",
            metrics.local_addr()?
        );
        if !zaitaku_domain::is_loopback_ip(addr.ip()) {
            tracing::warn!(
                %addr,
                "the metrics listener is not on loopback: keep it off the public network"
            );
        }
        // Stops with the runtime, when the service below has stopped.
        tokio::spawn(zaitaku_web::metrics::serve(metrics, state.clone()));
    }
    zaitaku_web::serve_with(listener, state, options.limits(), shutdown_signal()).await?;
    eprintln!("Zaitaku stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
