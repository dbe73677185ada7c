//! `zaitaku card auth`: the desktop authenticator of docs/auth-protocol.md.
//!
//! Fetch the challenge behind a page's authentication link, show the user who is
//! asking, have the card sign for the link's own origin, post the token back.

use super::card_session::sign_with_card;
use crate::setup::{CliError, EXIT_INVALID};
use clap::{ArgGroup, Args};
use serde::Serialize;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use zaitaku_auth_client::{
    AuthLink, CLI_APP_VERSION, Challenge, Client, ClientError, Institution, Verdict, shown,
};
use zaitaku_card::{CardTransport, Pin, VirtualCard};

/// How long `--reader` waits for a card to be placed, unless `--wait` says otherwise.
const DEFAULT_CARD_WAIT_SECS: u64 = 30;

pub const EXIT_STATUS_HELP: &str = "\
Exit status: 0 the server accepted the card; 1 the authentication did not complete \
(link refused or expired, wrong or blocked PIN, card removed, no card or reader, PC/SC \
service not running, token rejected, network or server error); 2 usage error (bad options \
or link, malformed --pin, unreadable card file, no PC/SC support in this build).

Messages go to standard error. Standard output gets one JSON line once the server has \
judged the token: {\"result\":\"accepted\",\"institution\":{…},\"purpose\":…} or \
{\"result\":\"rejected\",\"error\":CODE}.";

/// Options of `card auth`.
#[derive(Args)]
#[command(group = ArgGroup::new("card_source").required(true).args(["card", "reader"]))]
pub struct AuthArgs {
    /// Use this virtual card file (from `card new`).
    #[arg(long, value_name = "CARD")]
    card: Option<PathBuf>,
    /// Use the card in a PC/SC reader: the first reader holding a card, or the one
    /// whose name contains NAME (--reader=NAME). Needs a build with PC/SC (the default).
    #[arg(
        long,
        value_name = "NAME",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    reader: Option<String>,
    /// With --reader: how long to wait for the card to be placed on a reader
    /// [default: 30].
    // Not `requires = "reader"`: clap lets a required argument be missing when it
    // conflicts with one present, and --reader conflicts with --card.
    #[arg(
        long,
        value_name = "SECONDS",
        conflicts_with = "card",
        value_parser = clap::value_parser!(u64).range(0..=3600)
    )]
    wait: Option<u64>,
    /// The card's 4-digit PIN. Without it and ZAITAKU_PIN, one line is read from
    /// standard input once the request has been shown.
    #[arg(long, env = "ZAITAKU_PIN", hide_env_values = true)]
    pin: Option<String>,
    /// The authentication link the page shows: {origin}/auth/{ref}
    url: String,
}

pub fn run(args: AuthArgs) -> Result<ExitCode, CliError> {
    // Everything that can be checked without the network or the card comes first.
    let wait = Duration::from_secs(args.wait.unwrap_or(DEFAULT_CARD_WAIT_SECS));
    let source = CardSource::from_args(args.card, args.reader, wait)?;
    let link = AuthLink::parse(&args.url)?;
    let pin = match args.pin {
        Some(text) => Some(Pin::parse(&text).map_err(|e| format!("--pin: {e}"))?),
        None => None,
    };
    match authenticate(&link, &source, pin) {
        Ok(code) => Ok(code),
        Err(Stop::Usage(err)) => Err(err),
        Err(Stop::Incomplete(message)) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}

/// Why `card auth` stopped before the server judged a token.
enum Stop {
    /// Unreadable card file: exit 2, like any command that could not run.
    Usage(CliError),
    /// The authentication was begun but did not complete: exit 1.
    Incomplete(String),
}

impl From<ClientError> for Stop {
    fn from(err: ClientError) -> Self {
        Stop::Incomplete(err.to_string())
    }
}

fn authenticate(link: &AuthLink, source: &CardSource, pin: Option<Pin>) -> Result<ExitCode, Stop> {
    let client = Client::new(CLI_APP_VERSION);
    let challenge = client.fetch_challenge(link)?;
    show_challenge(link, &challenge);

    let transport = source.connect()?;
    let get_pin = || match pin {
        Some(pin) => Ok(pin),
        None => prompt_pin(),
    };
    // The session releases the card (file lock, exclusive reader) before the network is used again.
    let signed = sign_with_card(
        transport,
        link.origin(),
        &challenge.nonce,
        get_pin,
        &mut std::io::stderr(),
    );
    match signed {
        Ok(token) => report_verdict(client.send_token(link, &token, &challenge)?, &challenge),
        Err(e) => match e.page_error() {
            // A blocked card: the page settles the challenge with that screen.
            Some(code) => Err(tell_page(&client, link, &challenge, code, e.to_string())),
            // Wrong PIN, card removed…: nothing is told to the page. The challenge stays
            // claimed by this run until it expires, so another `card auth` on the link is
            // refused (409 already_claimed): a new try starts again on the page.
            None => Err(Stop::Incomplete(e.to_string())),
        },
    }
}

/// Tell the page why no token will come (`code`), and stop with `message`.
fn tell_page(
    client: &Client,
    link: &AuthLink,
    challenge: &Challenge,
    code: &str,
    mut message: String,
) -> Stop {
    if let Err(why) = client.report_error(link, challenge, code) {
        message.push_str(&format!(" (the page could not be told: {why})"));
    }
    Stop::Incomplete(message)
}

fn prompt_pin() -> Result<Pin, String> {
    eprint!("暗証番号 (4 digits): ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    // A PIN is 4 characters; a bounded read keeps a runaway pipe from filling memory.
    std::io::stdin()
        .lock()
        .take(64)
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the PIN: {e}"))?;
    // A terminal echoes the user's Enter; piped input leaves the prompt's line open.
    if !std::io::stdin().is_terminal() {
        eprintln!();
    }
    let text = line.strip_suffix('\n').unwrap_or(&line);
    let text = text.strip_suffix('\r').unwrap_or(text);
    Pin::parse(text).map_err(|e| e.to_string())
}

/// Where the card is.
enum CardSource {
    Virtual(PathBuf),
    /// A reader name, or any reader holding a card; how long to wait for the card.
    #[cfg(feature = "pcsc")]
    Reader {
        name: Option<String>,
        wait: Duration,
    },
}

impl CardSource {
    fn from_args(
        card: Option<PathBuf>,
        reader: Option<String>,
        wait: Duration,
    ) -> Result<Self, CliError> {
        match (card, reader) {
            (Some(path), None) => Ok(CardSource::Virtual(path)),
            (None, Some(name)) => Self::reader(name, wait),
            // clap's argument group already demands exactly one.
            _ => Err("give exactly one of --card and --reader".into()),
        }
    }

    #[cfg(feature = "pcsc")]
    fn reader(name: String, wait: Duration) -> Result<Self, CliError> {
        Ok(CardSource::Reader {
            name: (!name.is_empty()).then_some(name),
            wait,
        })
    }

    #[cfg(not(feature = "pcsc"))]
    fn reader(_name: String, _wait: Duration) -> Result<Self, CliError> {
        Err(super::card_readers::NO_PCSC.into())
    }

    /// The card's transport; for a reader, once a card is there (or the wait is over).
    fn connect(&self) -> Result<Box<dyn CardTransport>, Stop> {
        match self {
            CardSource::Virtual(path) => match VirtualCard::open(path) {
                Ok(card) => Ok(Box::new(card)),
                Err(e) => Err(Stop::Usage(e.into())),
            },
            #[cfg(feature = "pcsc")]
            CardSource::Reader { name, wait } => {
                eprintln!(
                    "Place your My Number card on the reader (waiting up to {} s)…",
                    wait.as_secs()
                );
                let reader = zaitaku_card::PcscTransport::connect(name.as_deref(), *wait)
                    .map_err(|e| Stop::Incomplete(super::card_readers::connect_failed(e, *wait)))?;
                eprintln!("card reader: {}", reader.reader_name());
                Ok(Box::new(reader))
            }
        }
    }
}

/// What the user must see before typing a PIN: who asks, and for what.
fn show_challenge(link: &AuthLink, challenge: &Challenge) {
    let expires = challenge
        .expires_at
        .to_offset(zaitaku_domain::JST)
        .format(&Rfc3339)
        .unwrap_or_default();
    eprintln!("Authentication request");
    eprintln!("  site:         {}", link.origin());
    eprintln!(
        "  institution:  {} ({})",
        shown(&challenge.institution.requester()),
        shown(&challenge.institution.code)
    );
    eprintln!(
        "  purpose:      {} ({})",
        shown(&challenge.purpose_label),
        shown(&challenge.purpose)
    );
    eprintln!("  expires:      {expires}");
    eprintln!("  matching code: {}", challenge.matching_code);
    eprintln!(
        "Enter the PIN only if you are dealing with this institution at this site, and the page shows the same matching code."
    );
}

/// The verdict line on standard output; a struct keeps `result` first.
#[derive(Serialize)]
struct Accepted<'a> {
    result: &'static str,
    institution: &'a Institution,
    purpose: &'a str,
}

#[derive(Serialize)]
struct Rejected<'a> {
    result: &'static str,
    error: &'a str,
}

/// Print the server's verdict on the token: a line for the user, a JSON line for scripts.
fn report_verdict(verdict: Verdict, challenge: &Challenge) -> Result<ExitCode, Stop> {
    match verdict {
        Verdict::Accepted { message } => {
            eprintln!("accepted: {}", shown(&message));
            let result = Accepted {
                result: "accepted",
                institution: &challenge.institution,
                purpose: &challenge.purpose,
            };
            println!("{}", serde_json::to_string(&result).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Rejected { error, message } => {
            eprintln!("rejected ({}): {}", shown(&error), shown(&message));
            let result = Rejected {
                result: "rejected",
                error: &error,
            };
            println!("{}", serde_json::to_string(&result).unwrap_or_default());
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}
