//! `zaitaku card auth`: the desktop authenticator of docs/auth-protocol.md.
//!
//! Fetch the challenge behind a page's authentication link, show the user who is
//! asking, have the card sign for the link's own origin, post the token back.

use super::card::APP_VERSION;
use super::card_session::sign_with_card;
use super::{CliError, EXIT_INVALID};
use clap::{ArgGroup, Args};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zaitaku_card::{CardTransport, ChallengeNonce, Origin, Pin, VirtualCard, WebEidToken};

const PROTOCOL: &str = "zaitaku-auth:1";

/// Answers are a few hundred bytes; the protocol caps bodies at 16 KiB.
const MAX_ANSWER_BYTES: u64 = 16 * 1024;

/// Per request. The PIN is typed between the two requests, so this does not rush the user.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long `--reader` waits for a card to be placed, unless `--wait` says otherwise.
const DEFAULT_CARD_WAIT_SECS: u64 = 30;

/// Longest server-supplied text shown to the user.
const MAX_SHOWN_CHARS: usize = 120;

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

fn authenticate(link: &AuthLink, source: &CardSource, pin: Option<Pin>) -> Result<ExitCode, Stop> {
    let client = Client::new();
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
        &link.origin,
        &challenge.nonce,
        get_pin,
        &mut std::io::stderr(),
    );
    match signed {
        Ok(token) => client.send_token(link, &token, &challenge),
        Err(e) => match e.page_error() {
            // A blocked card: the page settles the challenge with that screen.
            Some(code) => Err(tell_page(&client, link, &challenge, code, e.to_string())),
            // Wrong PIN, card removed…: the challenge stays open for another try until it expires.
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

/// An authentication link `{origin}/auth/{ref}`, taken apart.
struct AuthLink {
    origin: Origin,
    url: String,
}

impl AuthLink {
    /// The origin is taken from the link itself: it is what the card signs for.
    fn parse(text: &str) -> Result<Self, String> {
        // The link is not echoed: its reference is a live capability until used.
        let bad = |why: &str| format!("the link must look like https://host/auth/REF: {why}");
        let authority = text.find("://").ok_or_else(|| bad("no scheme"))? + 3;
        let path = text[authority..]
            .find('/')
            .map(|i| authority + i)
            .ok_or_else(|| bad("no /auth/ path"))?;
        let origin = Origin::parse(&text[..path]).map_err(|e| bad(&e.to_string()))?;
        let reference = text[path..]
            .strip_prefix("/auth/")
            .ok_or_else(|| bad("the path must be /auth/REF"))?;
        let reference_ok = !reference.is_empty()
            && reference.len() <= 128
            && reference
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !reference_ok {
            return Err(bad(
                "REF must be letters, digits, '-' or '_', with nothing after it",
            ));
        }
        Ok(AuthLink {
            url: format!("{origin}/auth/{reference}"),
            origin,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeAnswer {
    protocol: String,
    origin: String,
    institution: Institution,
    purpose: String,
    purpose_label: String,
    nonce: String,
    matching_code: String,
    claim: String,
    expires_at: String,
}

#[derive(Deserialize, Serialize)]
struct Institution {
    name: String,
    code: String,
}

/// A challenge that passed our checks; its origin is the link's.
struct Challenge {
    institution: Institution,
    purpose: String,
    purpose_label: String,
    nonce: ChallengeNonce,
    /// Shown here and on the page: the staff check they are the same.
    matching_code: String,
    /// Handed out to this authenticator alone; later calls prove it by it.
    claim: String,
    expires_at: OffsetDateTime,
}

impl Challenge {
    fn from_answer(body: &[u8], link: &AuthLink) -> Result<Self, String> {
        let answer: ChallengeAnswer = serde_json::from_slice(body)
            .map_err(|e| format!("the server's challenge is not of the expected form: {e}"))?;
        if answer.protocol != PROTOCOL {
            return Err(format!(
                "the server speaks protocol {:?}, not {PROTOCOL:?}; update zaitaku",
                shown(&answer.protocol)
            ));
        }
        // A challenge fetched through one site but issued for another is a relay.
        if answer.origin != link.origin.as_str() {
            return Err(format!(
                "the challenge is for {:?} but the link is on {}; refusing to sign (possible relay)",
                shown(&answer.origin),
                link.origin
            ));
        }
        let nonce = ChallengeNonce::parse(&answer.nonce)
            .map_err(|e| format!("the server's challenge is unusable: {e}"))?;
        let expires_at = OffsetDateTime::parse(&answer.expires_at, &Rfc3339)
            .map_err(|_| "the server's challenge has no valid expiry time".to_owned())?;
        if answer.institution.name.trim().is_empty() {
            return Err("the server's challenge names no institution".to_owned());
        }
        let url_safe = |text: &str| {
            !text.is_empty()
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !url_safe(&answer.claim) || !answer.matching_code.bytes().all(|b| b.is_ascii_digit()) {
            return Err("the server's challenge has no usable claim or matching code".to_owned());
        }
        Ok(Challenge {
            institution: answer.institution,
            purpose: answer.purpose,
            purpose_label: answer.purpose_label,
            nonce,
            matching_code: answer.matching_code,
            claim: answer.claim,
            expires_at,
        })
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
    eprintln!("  site:         {}", link.origin);
    eprintln!(
        "  institution:  {} ({})",
        shown(&challenge.institution.name),
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

/// Server text made safe for a terminal: no control or bidi-override characters
/// that could redraw or reorder what the user reads, and not too long.
fn shown(text: &str) -> String {
    let is_bidi = |c: char| matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    text.chars()
        .filter(|&c| !c.is_control() && !is_bidi(c))
        .take(MAX_SHOWN_CHARS)
        .collect()
}

/// `{"error": code, "message": …}`, the protocol's error answer.
#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    result: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
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

/// One HTTP answer, body cut at [`MAX_ANSWER_BYTES`].
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    /// The server's own words for a failure when it sent them, else the bare status.
    fn describe_failure(&self) -> String {
        match serde_json::from_slice::<ErrorAnswer>(&self.body) {
            Ok(e) => format!(
                "{} ({}, HTTP {})",
                shown(&e.message),
                shown(&e.error),
                self.status
            ),
            Err(_) => format!("the server answered HTTP {}", self.status),
        }
    }
}

struct Client {
    agent: ureq::Agent,
}

impl Client {
    fn new() -> Self {
        let config = ureq::Agent::config_builder()
            // Error answers carry JSON the user must see.
            .http_status_as_error(false)
            // The protocol has no redirects; following one could carry the token elsewhere.
            .max_redirects(0)
            .timeout_global(Some(HTTP_TIMEOUT))
            .user_agent(APP_VERSION)
            .accept("application/json")
            .build();
        Client {
            agent: config.into(),
        }
    }

    fn fetch_challenge(&self, link: &AuthLink) -> Result<Challenge, Stop> {
        let answer = read_answer(self.agent.get(&link.url).call(), &link.origin)?;
        if answer.status != 200 {
            return Err(Stop::Incomplete(format!(
                "the server refused the link: {}",
                answer.describe_failure()
            )));
        }
        Challenge::from_answer(&answer.body, link).map_err(Stop::Incomplete)
    }

    /// Post the token and report the server's verdict.
    fn send_token(
        &self,
        link: &AuthLink,
        token: &WebEidToken,
        challenge: &Challenge,
    ) -> Result<ExitCode, Stop> {
        let request = self
            .agent
            .post(format!("{}?claim={}", link.url, challenge.claim))
            .header("Content-Type", "application/json")
            .send(token.to_json());
        let answer = read_answer(request, &link.origin)?;
        let verdict = serde_json::from_slice::<TokenAnswer>(&answer.body).ok();
        match (answer.status, verdict) {
            (200, Some(v)) if v.result == "accepted" => {
                eprintln!("accepted: {}", shown(&v.message));
                let result = Accepted {
                    result: "accepted",
                    institution: &challenge.institution,
                    purpose: &challenge.purpose,
                };
                println!("{}", serde_json::to_string(&result).unwrap_or_default());
                Ok(ExitCode::SUCCESS)
            }
            (422, Some(v)) if v.result == "rejected" => {
                eprintln!("rejected ({}): {}", shown(&v.error), shown(&v.message));
                let result = Rejected {
                    result: "rejected",
                    error: &v.error,
                };
                println!("{}", serde_json::to_string(&result).unwrap_or_default());
                Ok(ExitCode::from(EXIT_INVALID))
            }
            (200 | 422, _) => Err(Stop::Incomplete(format!(
                "the server's answer to the token (HTTP {}) could not be read",
                answer.status
            ))),
            _ => Err(Stop::Incomplete(format!(
                "the server did not take the token: {}",
                answer.describe_failure()
            ))),
        }
    }

    /// `POST {link}/error`: the authenticator could not produce a token.
    fn report_error(
        &self,
        link: &AuthLink,
        challenge: &Challenge,
        code: &str,
    ) -> Result<(), String> {
        let request = self
            .agent
            .post(format!("{}/error?claim={}", link.url, challenge.claim))
            .header("Content-Type", "application/json")
            .send(json!({ "code": code }).to_string());
        match read_answer(request, &link.origin) {
            Ok(answer) if answer.status == 200 => Ok(()),
            Ok(answer) => Err(answer.describe_failure()),
            Err(Stop::Incomplete(why)) => Err(why),
            Err(Stop::Usage(why)) => Err(why.to_string()),
        }
    }
}

fn read_answer(
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    origin: &Origin,
) -> Result<Answer, Stop> {
    // Name the origin, never the link: its reference is not for logs.
    let failed = |e: ureq::Error| Stop::Incomplete(format!("could not talk to {origin}: {e}"));
    let mut response = sent.map_err(failed)?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_vec()
        .map_err(failed)?;
    Ok(Answer { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(text: &str) -> Result<String, String> {
        AuthLink::parse(text).map(|l| format!("{} {}", l.origin, l.url))
    }

    #[test]
    fn links_give_their_origin() {
        assert_eq!(
            link("https://zaitaku.example.jp/auth/Ab-_9").unwrap(),
            "https://zaitaku.example.jp https://zaitaku.example.jp/auth/Ab-_9"
        );
        assert_eq!(
            link("http://127.0.0.1:8080/auth/x").unwrap(),
            "http://127.0.0.1:8080 http://127.0.0.1:8080/auth/x"
        );
    }

    #[test]
    fn anything_else_is_not_a_link() {
        for bad in [
            "zaitaku.example.jp/auth/x",
            "https://zaitaku.example.jp",
            "https://zaitaku.example.jp/",
            "https://zaitaku.example.jp/auth/",
            "https://zaitaku.example.jp/auth/x/",
            "https://zaitaku.example.jp/auth/x?y=1",
            "https://zaitaku.example.jp/auth/x#f",
            "https://zaitaku.example.jp/login/x",
            "https://zaitaku.example.jp/auth/x/error",
            "http://zaitaku.example.jp/auth/x",
            "https://user@zaitaku.example.jp/auth/x",
            "https://zaitaku.example.jp:443/auth/x",
            "ftp://zaitaku.example.jp/auth/x",
        ] {
            assert!(link(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn bad_links_are_not_echoed() {
        let err = link("https://zaitaku.example.jp/auth/secret-ref/").unwrap_err();
        assert!(!err.contains("secret-ref"), "{err}");
    }

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        assert_eq!(
            shown("在宅\u{1b}[2J\u{202E}クリニック\n"),
            "在宅[2Jクリニック"
        );
        assert_eq!(shown(&"あ".repeat(500)).chars().count(), MAX_SHOWN_CHARS);
    }

    fn challenge_json(origin: &str) -> String {
        json!({
            "protocol": PROTOCOL,
            "origin": origin,
            "institution": { "name": "在宅ひまわりクリニック", "code": "1310123450" },
            "purpose": "register",
            "purposeLabel": "同意登録",
            "nonce": ChallengeNonce::generate().unwrap().as_str(),
            "matchingCode": "0427",
            "claim": "Zm9vYmFy-_claim",
            "expiresAt": "2026-11-24T09:00:00Z",
        })
        .to_string()
    }

    #[test]
    fn challenges_must_name_the_links_origin() {
        let link = AuthLink::parse("https://zaitaku.example.jp/auth/x").unwrap();
        let ok = Challenge::from_answer(
            challenge_json("https://zaitaku.example.jp").as_bytes(),
            &link,
        )
        .unwrap();
        assert_eq!(ok.purpose, "register");
        let err = Challenge::from_answer(challenge_json("https://evil.example").as_bytes(), &link)
            .err()
            .unwrap();
        assert!(err.contains("refusing to sign"), "{err}");
        let slash = challenge_json("https://zaitaku.example.jp/");
        assert!(Challenge::from_answer(slash.as_bytes(), &link).is_err());
    }
}
