//! `zaitaku card present`: a virtual card in vsmartcard's virtual reader, so that
//! pcscd, OpenSC and `card auth --reader` see it as a My Number card in a reader.

use crate::setup::CliError;
use clap::Args;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use zaitaku_card::apdu::{Response, StatusWord};
use zaitaku_card::vpcd::{self, Request, VpcdConnection};
use zaitaku_card::{CardTransport, VirtualCard};

/// How long a wait on vpcd lasts before signals are looked at again.
const POLL: Duration = Duration::from_millis(100);

/// Between attempts to reach vpcd while it is not up.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// A pulled card stays out at least this long, as a hand takes longer than
/// pcscd's poll of the reader (every 0.4 s): put back at once, pcscd would never
/// see it gone and keep the old card's state.
const MIN_TIME_OUT: Duration = Duration::from_secs(2);

pub const HELP: &str = "\
vpcd is the virtual reader of vsmartcard (Debian: vsmartcard-vpcd), a pcscd driver that \
waits for a card on 127.0.0.1:35963; pcscd names the reader \"Virtual PCD\". The card \
answers with a My Number card's ATR and the JPKI application's commands; its PIN counter \
is kept in the card file. If vpcd is not up yet, or pcscd restarts, the card waits and \
connects again.

Pulling the card out: send SIGUSR1 (kill -USR1 PID) to pull it out, and again to put it \
back (it stays out at least 2 s, so that pcscd sees it gone); or --remove-after-apdus N \
pulls it out when command N+1 arrives, unanswered. \
Ctrl+C or SIGTERM takes the card out and stops.";

/// Options of `card present`.
#[derive(Args)]
pub struct PresentArgs {
    /// The virtual card file (from `card new`, or a demo card).
    #[arg(long, value_name = "CARD")]
    card: PathBuf,
    /// Where vpcd listens.
    #[arg(long, value_name = "HOST:PORT", default_value_t = format!("127.0.0.1:{}", vpcd::DEFAULT_PORT))]
    vpcd: String,
    /// Pull the card out when command APDU N+1 arrives, without answering it, as a
    /// card lifted off the reader mid-way (once); SIGUSR1 puts it back.
    #[arg(long, value_name = "N")]
    remove_after_apdus: Option<u64>,
    /// Append one line per command to FILE: its header (CLA INS P1 P2), its data
    /// length, and the status word answered; never the data (no PIN), plus power,
    /// removal and connection events.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
}

pub fn run(args: PresentArgs) -> Result<ExitCode, CliError> {
    // A card that cannot be opened is said before waiting on any reader.
    drop(VirtualCard::open(&args.card)?);
    let log = match &args.log {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open the log {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let signals = Signals::watch()?;
    let mut presenter = Presenter {
        card_path: args.card,
        vpcd: args.vpcd,
        remove_after_apdus: args.remove_after_apdus,
        log,
        apdus: 0,
        card: None,
    };
    presenter.run(&signals);
    Ok(ExitCode::SUCCESS)
}

/// What the signals asked for, set by the signal thread.
struct Signals {
    stop: Arc<AtomicBool>,
    /// SIGUSR1 count: each one pulls out or puts back.
    toggles: Arc<AtomicUsize>,
}

impl Signals {
    /// Registers the handlers before returning, so no signal sent after the
    /// first message is lost.
    #[cfg(unix)]
    fn watch() -> Result<Signals, CliError> {
        use tokio::signal::unix::{SignalKind, signal};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let (mut interrupt, mut terminate, mut user1) = {
            let _context = runtime.enter();
            (
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
                signal(SignalKind::user_defined1())?,
            )
        };
        let signals = Signals::new();
        let (stop, toggles) = (Arc::clone(&signals.stop), Arc::clone(&signals.toggles));
        std::thread::spawn(move || {
            runtime.block_on(async move {
                loop {
                    tokio::select! {
                        _ = interrupt.recv() => break,
                        _ = terminate.recv() => break,
                        _ = user1.recv() => { toggles.fetch_add(1, Ordering::SeqCst); }
                    }
                }
                stop.store(true, Ordering::SeqCst);
            });
        });
        Ok(signals)
    }

    /// Without Unix signals: Ctrl+C stops; removal is `--remove-after-apdus` only.
    #[cfg(not(unix))]
    fn watch() -> Result<Signals, CliError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let signals = Signals::new();
        let stop = Arc::clone(&signals.stop);
        std::thread::spawn(move || {
            let _ = runtime.block_on(tokio::signal::ctrl_c());
            stop.store(true, Ordering::SeqCst);
        });
        Ok(signals)
    }

    fn new() -> Signals {
        Signals {
            stop: Arc::new(AtomicBool::new(false)),
            toggles: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

struct Presenter {
    card_path: PathBuf,
    vpcd: String,
    remove_after_apdus: Option<u64>,
    log: Option<File>,
    /// Commands answered since the start.
    apdus: u64,
    /// The powered card: its session (selected file, verified PIN) lives as long
    /// as this, and the card file stays locked meanwhile.
    card: Option<VirtualCard>,
}

impl Presenter {
    fn run(&mut self, signals: &Signals) {
        let mut toggles_seen = 0;
        let mut inserted = true;
        let mut pulled_at: Option<Instant> = None;
        let mut connection: Option<VpcdConnection> = None;
        let mut waiting_said = false;
        while !signals.stopped() {
            let toggles = signals.toggles.load(Ordering::SeqCst);
            if toggles != toggles_seen {
                toggles_seen = toggles;
                inserted = !inserted;
                if inserted {
                    self.event("card put back");
                } else {
                    connection = None;
                    pulled_at = Some(Instant::now());
                    self.pull_out("card pulled out (SIGUSR1 puts it back)");
                }
            }
            let out_long_enough = pulled_at.is_none_or(|at| at.elapsed() >= MIN_TIME_OUT);
            if !inserted || !out_long_enough {
                std::thread::sleep(POLL);
                continue;
            }
            let Some(vpcd) = connection.as_mut() else {
                match VpcdConnection::connect(self.vpcd.as_str(), POLL) {
                    Ok(opened) => {
                        connection = Some(opened);
                        waiting_said = false;
                        self.event(&format!(
                            "card inserted in the virtual reader (vpcd at {})",
                            self.vpcd
                        ));
                    }
                    Err(err) => {
                        if !waiting_said {
                            eprintln!(
                                "cannot reach vpcd at {} ({err}); waiting for it. Is pcscd running, \
                                 with vsmartcard-vpcd installed (Debian: apt-get install pcscd vsmartcard-vpcd)?",
                                self.vpcd
                            );
                            waiting_said = true;
                        }
                        sleep_unless_stopped(RECONNECT_EVERY, signals);
                    }
                }
                continue;
            };
            let outcome = match vpcd.next_request() {
                Ok(None) => Ok(()),
                Ok(Some(request)) => self.answer(vpcd, request),
                Err(err) => Err(Removal::Lost(err)),
            };
            match outcome {
                Ok(()) => {}
                Err(Removal::Automatic) => {
                    connection = None;
                    inserted = false;
                    pulled_at = Some(Instant::now());
                }
                Err(Removal::Lost(err)) => {
                    connection = None;
                    self.card = None;
                    self.event(&format!(
                        "lost vpcd ({err}); the card is out of the reader until vpcd is back"
                    ));
                }
            }
        }
        drop(connection);
        self.pull_out("stopped: card taken out of the reader");
    }

    fn answer(&mut self, vpcd: &mut VpcdConnection, request: Request) -> Result<(), Removal> {
        match request {
            Request::PowerOff => {
                self.card = None;
                self.log_line("power off");
            }
            Request::PowerOn | Request::Reset => {
                // A fresh card session: nothing selected, no PIN verified.
                self.card = None;
                self.card = self.open_card();
                self.log_line(if request == Request::PowerOn {
                    "power on"
                } else {
                    "reset"
                });
            }
            Request::Atr => vpcd.send(&vpcd::JPKI_ATR)?,
            Request::Apdu(command) => {
                if self.remove_after_apdus == Some(self.apdus) {
                    // Once: put back, the card stays in.
                    self.remove_after_apdus = None;
                    self.pull_out(&format!(
                        "card pulled out before answering {} (SIGUSR1 puts it back)",
                        header(&command)
                    ));
                    return Err(Removal::Automatic);
                }
                self.apdus += 1;
                let response = self.transmit(&command);
                vpcd.send(&response)?;
                let sw = Response::parse(&response)
                    .map(|r| r.sw.to_string())
                    .unwrap_or_default();
                self.log_line(&format!("{} -> {sw}", header(&command)));
            }
            Request::Unknown(_) => {}
        }
        Ok(())
    }

    /// The card's answer; a card that cannot be opened or saved answers `6F 00`.
    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        if self.card.is_none() {
            // vpcd powers the card on before its first command; be lenient anyway.
            self.card = self.open_card();
        }
        let failed = || StatusWord::UNKNOWN_ERROR.to_bytes().to_vec();
        let Some(card) = self.card.as_mut() else {
            return failed();
        };
        match card.transmit(command) {
            Ok(response) => response,
            Err(err) => {
                eprintln!("error: {err}");
                failed()
            }
        }
    }

    fn open_card(&self) -> Option<VirtualCard> {
        match VirtualCard::open(&self.card_path) {
            Ok(card) => Some(card),
            Err(err) => {
                eprintln!("error: {err}");
                None
            }
        }
    }

    fn pull_out(&mut self, message: &str) {
        self.card = None;
        self.event(message);
    }

    /// Said on standard error and in the log.
    fn event(&mut self, message: &str) {
        eprintln!("{message}");
        self.log_line(message);
    }

    fn log_line(&mut self, line: &str) {
        if let Some(log) = &mut self.log {
            // The log serves tests and debugging; a full disk must not stop the card.
            let _ = writeln!(log, "{line}");
        }
    }
}

/// Why the connection to vpcd ended.
enum Removal {
    /// `--remove-after-apdus` pulled the card out.
    Automatic,
    /// vpcd went away (pcscd stopped or restarted).
    Lost(std::io::Error),
}

impl From<std::io::Error> for Removal {
    fn from(err: std::io::Error) -> Removal {
        Removal::Lost(err)
    }
}

fn sleep_unless_stopped(duration: Duration, signals: &Signals) {
    let mut slept = Duration::ZERO;
    while slept < duration && !signals.stopped() {
        std::thread::sleep(POLL);
        slept += POLL;
    }
}

/// `CLA INS P1 P2` and the lengths, never the data: a VERIFY's data is the PIN.
fn header(command: &[u8]) -> String {
    let head: Vec<String> = command
        .iter()
        .take(4)
        .map(|byte| format!("{byte:02X}"))
        .collect();
    let mut text = head.join(" ");
    match command.len() {
        0..=4 => {}
        5 => text.push_str(&format!(" le={}", le(command[4]))),
        n => {
            let lc = usize::from(command[4]);
            text.push_str(&format!(" lc={lc}"));
            if n == 5 + lc + 1 {
                text.push_str(&format!(" le={}", le(command[n - 1])));
            }
        }
    }
    text
}

fn le(byte: u8) -> usize {
    if byte == 0 { 256 } else { usize::from(byte) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_shows_headers_and_lengths_but_never_a_pin() {
        assert_eq!(
            header(&[0x00, 0x20, 0x00, 0x80, 0x04, b'1', b'2', b'3', b'4']),
            "00 20 00 80 lc=4"
        );
        assert_eq!(header(&[0x00, 0x20, 0x00, 0x80]), "00 20 00 80");
        assert_eq!(
            header(&[0x00, 0xB0, 0x01, 0x04, 0x00]),
            "00 B0 01 04 le=256"
        );
        let mut sign = vec![0x80, 0x2A, 0x00, 0x80, 0x33];
        sign.extend([0xAA; 0x33]);
        sign.push(0x00);
        assert_eq!(header(&sign), "80 2A 00 80 lc=51 le=256");
    }
}
