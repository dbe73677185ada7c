//! `zaitaku card readers`: the PC/SC readers, and which hold a card.

use crate::setup::{CliError, EXIT_INVALID};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use zaitaku_card::{CardPresence, ReaderInfo, TransportError};

/// What a build without the `pcsc` feature says when asked for a reader.
#[cfg(not(feature = "pcsc"))]
pub(super) const NO_PCSC: &str =
    "this build has no PC/SC support; rebuild without --no-default-features";

pub(super) const HELP: &str = "\
Output: one line per reader, its state then its name. States: \"card\" (a card is there \
and free), \"no card\", \"card in use\" (another program has it), \"no answer\" (something \
is on the reader but does not answer: turn the card or place it again), \"unavailable\".

Exit status: 0 readers listed; 1 the PC/SC service is not running or no reader is \
connected; 2 this build has no PC/SC support (it was built with --no-default-features).";

#[cfg(feature = "pcsc")]
pub(super) fn run() -> Result<ExitCode, CliError> {
    let readers = zaitaku_card::PcscTransport::readers();
    let code = report(
        readers,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    Ok(ExitCode::from(code))
}

#[cfg(not(feature = "pcsc"))]
pub(super) fn run() -> Result<ExitCode, CliError> {
    Err(NO_PCSC.into())
}

/// Writes the list to `out`, or the reason there is none to `err`; returns the exit status.
#[cfg_attr(not(feature = "pcsc"), allow(dead_code))]
fn report(
    readers: Result<Vec<ReaderInfo>, TransportError>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    // Nothing useful can be done about a closed stdout or stderr.
    match readers {
        Ok(readers) if !readers.is_empty() => {
            let _ = out.write_all(format_readers(&readers).as_bytes());
            if readers.len() > 1 {
                let _ = writeln!(
                    err,
                    "`card auth --reader` uses the first reader holding a card; \
                     --reader=NAME picks one by any unique part of its name"
                );
            }
            0
        }
        Ok(_) => {
            let _ = writeln!(err, "error: {}", TransportError::NoReader);
            EXIT_INVALID
        }
        Err(error) => {
            let _ = writeln!(err, "error: {error}");
            EXIT_INVALID
        }
    }
}

/// Why `card auth --reader` reached no card, in the user's terms. Nothing goes to
/// the page: the challenge stays usable once the card or reader is there.
#[cfg_attr(not(feature = "pcsc"), allow(dead_code))]
pub(super) fn connect_failed(err: TransportError, wait: Duration) -> String {
    match err {
        TransportError::NoCard => format!(
            "no card was placed on the reader within {} s; place your My Number card on the reader and try again",
            wait.as_secs()
        ),
        other => other.to_string(),
    }
}

/// One line per reader: its state, padded, then its name.
fn format_readers(readers: &[ReaderInfo]) -> String {
    readers
        .iter()
        .map(|reader| format!("{:<11}  {}\n", label(reader.card), shown(&reader.name)))
        .collect()
}

fn label(card: CardPresence) -> &'static str {
    match card {
        CardPresence::Present => "card",
        CardPresence::InUse => "card in use",
        CardPresence::Mute => "no answer",
        CardPresence::Empty => "no card",
        CardPresence::Unavailable => "unavailable",
    }
}

/// A reader name comes from a driver: keep control characters out of the terminal.
fn shown(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(name: &str, card: CardPresence) -> ReaderInfo {
        ReaderInfo {
            name: name.to_owned(),
            card,
        }
    }

    fn run(readers: Result<Vec<ReaderInfo>, TransportError>) -> (u8, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = report(readers, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn one_line_per_reader_marking_the_ones_holding_a_card() {
        let (code, out, err) = run(Ok(vec![
            reader("SONY FeliCa Port/PaSoRi 4.0 00 00", CardPresence::Present),
            reader("Generic USB Smart Card Reader 01 00", CardPresence::Empty),
            reader("ACS ACR39U ICC Reader 00 00", CardPresence::InUse),
            reader("NTT Com SCR3310-NTTCom 00 00", CardPresence::Mute),
            reader("Broken\u{1b}[2J Reader 00 00", CardPresence::Unavailable),
        ]));
        assert_eq!(code, 0);
        assert_eq!(
            out,
            "card         SONY FeliCa Port/PaSoRi 4.0 00 00\n\
             no card      Generic USB Smart Card Reader 01 00\n\
             card in use  ACS ACR39U ICC Reader 00 00\n\
             no answer    NTT Com SCR3310-NTTCom 00 00\n\
             unavailable  Broken[2J Reader 00 00\n"
        );
        assert!(err.contains("--reader=NAME"), "{err}");
    }

    #[test]
    fn a_single_reader_needs_no_hint() {
        let (code, out, err) = run(Ok(vec![reader(
            "SONY FeliCa Port/PaSoRi 4.0 00 00",
            CardPresence::Empty,
        )]));
        assert_eq!(code, 0);
        assert_eq!(out, "no card      SONY FeliCa Port/PaSoRi 4.0 00 00\n");
        assert_eq!(err, "");
    }

    #[test]
    fn no_service_or_no_reader_is_said_plainly_and_exits_1() {
        let (code, out, err) = run(Err(TransportError::ServiceNotRunning));
        assert_eq!(code, EXIT_INVALID);
        assert_eq!(out, "");
        assert_eq!(
            err,
            "error: the PC/SC smart card service is not running; \
             start it (on Linux: sudo systemctl start pcscd) and try again\n"
        );

        for no_reader in [Err(TransportError::NoReader), Ok(Vec::new())] {
            let (code, out, err) = run(no_reader);
            assert_eq!(code, EXIT_INVALID);
            assert_eq!(out, "");
            assert_eq!(
                err,
                "error: no smart card reader found; connect a reader and try again\n"
            );
        }

        let (code, _, err) = run(Err(TransportError::reader(
            "listing readers",
            "Internal communications error",
        )));
        assert_eq!(code, EXIT_INVALID);
        assert!(
            err.starts_with("error: card reader error while listing readers:"),
            "{err}"
        );
    }

    #[test]
    fn a_card_that_never_came_names_the_wait() {
        assert_eq!(
            connect_failed(TransportError::NoCard, Duration::from_secs(30)),
            "no card was placed on the reader within 30 s; \
             place your My Number card on the reader and try again"
        );
        assert_eq!(
            connect_failed(TransportError::ServiceNotRunning, Duration::from_secs(30)),
            TransportError::ServiceNotRunning.to_string()
        );
        assert_eq!(
            connect_failed(
                TransportError::ReaderNotFound("sony".to_owned()),
                Duration::ZERO
            ),
            "the card reader \"sony\" was not found"
        );
    }
}
