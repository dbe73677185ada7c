//! `zaitaku card …`: the test CA, virtual My Number cards, and the authenticator.

use super::{card_auth, card_present, card_readers};
use crate::setup::{CliError, EXIT_INVALID};
use clap::{Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zaitaku_auth_client::CLI_APP_VERSION;
use zaitaku_card::authenticator::sign_challenge;
use zaitaku_card::keys::{KeyKind, KeyPair};
use zaitaku_card::test_ca::{self, LeafSpec, TestCa};
use zaitaku_card::validate::summary::CertificateSummary;
use zaitaku_card::{CardError, ChallengeNonce, JpkiCard, Origin, Pin, PinStatus, VirtualCard};

/// The key of a test root or a virtual card: today's cards are RSA-2048, the next
/// generation's P-384.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CardKeyArg {
    Rsa2048,
    P384,
}

impl CardKeyArg {
    fn kind(self) -> KeyKind {
        match self {
            CardKeyArg::Rsa2048 => KeyKind::Rsa2048,
            CardKeyArg::P384 => KeyKind::P384,
        }
    }

    /// Certificate lifetime when --valid-days is not given: today's cards are issued
    /// for five years, the next generation's for ten.
    fn default_valid_days(self) -> u32 {
        match self {
            CardKeyArg::Rsa2048 => 1825,
            CardKeyArg::P384 => 3650,
        }
    }
}

#[derive(Subcommand)]
pub enum CardCommand {
    /// Create a test root CA in DIR (trusted only where added with `admin trust add` or given as --trust-anchor).
    CaInit {
        #[arg(long)]
        dir: PathBuf,
        /// The root's own key (signs with SHA-256 when RSA, SHA-384 when P-384).
        /// Either kind of root issues either kind of card.
        #[arg(long, value_enum, default_value_t = CardKeyArg::Rsa2048)]
        key: CardKeyArg,
    },
    /// Issue a virtual card (JPKI-profile certificate from the test CA).
    New {
        /// Directory of the test CA (from `card ca-init`).
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// The card's 4-digit PIN.
        #[arg(long, env = "ZAITAKU_PIN", hide_env_values = true)]
        pin: String,
        /// File to write the card to (must not exist).
        #[arg(long, value_name = "CARD")]
        out: PathBuf,
        /// The card's key: rsa2048 (today's cards) or p384 (the next generation).
        #[arg(long, value_enum, default_value_t = CardKeyArg::Rsa2048)]
        key: CardKeyArg,
        /// Days the certificate is valid [default: 1825 for rsa2048, 3650 for p384,
        /// as today's cards last five years and the next generation's ten]
        #[arg(long)]
        valid_days: Option<u32>,
    },
    /// Show the card's certificate and how many PIN tries are left.
    Status {
        #[arg(long, value_name = "CARD")]
        card: PathBuf,
    },
    /// Sign a challenge with the card; prints a Web eID token (JSON).
    Sign {
        #[arg(long, value_name = "CARD")]
        card: PathBuf,
        #[arg(long, env = "ZAITAKU_PIN", hide_env_values = true)]
        pin: String,
        /// The origin of the site asking, e.g. https://zaitaku.example.jp
        #[arg(long)]
        origin: String,
        /// The challenge nonce (base64) from the site.
        #[arg(long)]
        nonce: String,
    },
    /// Revoke a virtual card's certificate: add it to the test CA's CRL.
    Revoke {
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        #[arg(long, value_name = "CARD")]
        card: PathBuf,
    },
    /// Authenticate with the card at a page's authentication link.
    ///
    /// Fetches the challenge behind the link, shows who asks and why, has the card
    /// sign, and sends the token back. The card signs for the origin of URL itself;
    /// a challenge that names another origin is refused before any PIN is asked for.
    /// The PIN tries left are shown before the PIN is asked for, with a warning at one.
    /// A blocked card is reported to the page and never sent a PIN. A card removed
    /// part-way leaves the link usable for another try.
    #[command(after_help = card_auth::EXIT_STATUS_HELP)]
    Auth(card_auth::AuthArgs),
    /// List the smart card readers (PC/SC) and which hold a card.
    ///
    /// Needs the PC/SC service (pcscd) running, and a build with PC/SC (the default).
    #[command(after_help = card_readers::HELP)]
    Readers,
    /// Put a virtual card in vsmartcard's virtual reader (vpcd), until stopped.
    ///
    /// pcscd, OpenSC and `card auth --reader` then see it as a My Number card in the
    /// reader "Virtual PCD".
    #[command(after_help = card_present::HELP)]
    Present(card_present::PresentArgs),
}

pub fn run(command: CardCommand) -> Result<ExitCode, CliError> {
    match command {
        CardCommand::CaInit { dir, key } => ca_init(&dir, key),
        CardCommand::New {
            ca,
            pin,
            out,
            key,
            valid_days,
        } => new_card(
            &ca,
            &pin,
            &out,
            key,
            valid_days.unwrap_or(key.default_valid_days()),
        ),
        CardCommand::Status { card } => status(&card),
        CardCommand::Sign {
            card,
            pin,
            origin,
            nonce,
        } => sign(&card, &pin, &origin, &nonce),
        CardCommand::Revoke { ca, card } => revoke(&ca, &card),
        CardCommand::Auth(args) => card_auth::run(args),
        CardCommand::Readers => card_readers::run(),
        CardCommand::Present(args) => card_present::run(args),
    }
}

fn ca_init(dir: &Path, key: CardKeyArg) -> Result<ExitCode, CliError> {
    TestCa::init_with_key(dir, key.kind())?;
    println!("created test root CA ({}) in {}", key.kind(), dir.display());
    println!(
        "  private key:  {}",
        dir.join(test_ca::CA_KEY_FILE).display()
    );
    println!(
        "  certificate:  {}",
        dir.join(test_ca::CA_CERT_FILE).display()
    );
    println!("  CRL:          {}", dir.join(test_ca::CRL_FILE).display());
    println!(
        "Trust it for testing only: --trust-anchor {} --allow-policy zaitaku-test",
        dir.join(test_ca::CA_CERT_FILE).display()
    );
    Ok(ExitCode::SUCCESS)
}

fn new_card(
    ca_dir: &Path,
    pin: &str,
    out: &Path,
    key: CardKeyArg,
    valid_days: u32,
) -> Result<ExitCode, CliError> {
    // Cheap checks first: key generation is the slow part.
    let pin = Pin::parse(pin).map_err(|e| format!("--pin: {e}"))?;
    if out.exists() {
        return Err(format!(
            "{} already exists; refusing to overwrite a card",
            out.display()
        )
        .into());
    }
    if valid_days == 0 {
        return Err("--valid-days must be at least 1".into());
    }
    let ca = TestCa::load(ca_dir)?;
    let key = KeyPair::generate(key.kind())?;
    let certificate = ca.issue(&key, &LeafSpec::jpki_auth(valid_days)?)?;
    VirtualCard::create(out, key, certificate.clone(), &pin)?;
    println!("created virtual card {}", out.display());
    print_certificate(&certificate);
    Ok(ExitCode::SUCCESS)
}

fn print_certificate(der: &[u8]) {
    match zaitaku_card::pem::load_certificates(der) {
        Ok(certs) => {
            let summary = CertificateSummary::of(&certs[0].0);
            println!(
                "  certificate CN: {}",
                summary.subject_cn.unwrap_or_default()
            );
            println!("  serial:         {}", summary.serial);
            println!("  issuer:         {}", summary.issuer);
            println!("  valid until:    {}", summary.not_after);
            if let Ok(algorithm) = zaitaku_card::authenticator::card_algorithm(der) {
                println!("  signs tokens:   {algorithm}");
            }
        }
        Err(e) => println!("  certificate: unreadable ({e})"),
    }
}

fn status(path: &Path) -> Result<ExitCode, CliError> {
    let mut card = JpkiCard::open(VirtualCard::open(path)?)?;
    let certificate = card.read_auth_certificate()?;
    let pin = card.pin_status()?;
    println!("virtual card {}", path.display());
    print_certificate(&certificate);
    match pin {
        PinStatus::TriesLeft(n) => println!("  PIN:            {n} tries left"),
        PinStatus::Blocked => {
            println!(
                "  PIN:            blocked (a real card is reset only at the municipal office)"
            )
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn sign(path: &Path, pin: &str, origin: &str, nonce: &str) -> Result<ExitCode, CliError> {
    let pin = Pin::parse(pin).map_err(|e| format!("--pin: {e}"))?;
    let origin = Origin::parse(origin)?;
    let nonce = ChallengeNonce::parse(nonce).map_err(|e| format!("--nonce: {e}"))?;
    let mut card = JpkiCard::open(VirtualCard::open(path)?)?;
    match sign_challenge(&mut card, &pin, &origin, &nonce, CLI_APP_VERSION) {
        Ok(token) => {
            println!("{}", token.to_json());
            Ok(ExitCode::SUCCESS)
        }
        // The check ran and said no: exit 1, like an invalid token.
        Err(e @ (CardError::WrongPin { .. } | CardError::PinBlocked)) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_INVALID))
        }
        Err(e) => Err(e.into()),
    }
}

fn revoke(ca_dir: &Path, card_path: &Path) -> Result<ExitCode, CliError> {
    let ca = TestCa::load(ca_dir)?;
    let card = VirtualCard::open(card_path)?;
    let serial = test_ca::serial_of(card.certificate_der())
        .ok_or("the card's certificate cannot be read")?;
    let serial_hex = zaitaku_card::validate::summary::serial_hex(&serial);
    let crl = ca.revoke(&serial_hex)?;
    println!(
        "revoked certificate serial {serial_hex}; CRL written to {}",
        crl.display()
    );
    Ok(ExitCode::SUCCESS)
}
