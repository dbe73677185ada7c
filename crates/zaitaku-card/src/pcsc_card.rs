//! A real card reader through PC/SC (pcsc-lite, WinSCard, CryptoTokenKit).

use std::ffi::{CStr, CString};
use std::time::{Duration, Instant};

use pcsc::{Card, Context, Protocols, ReaderState, Scope, ShareMode, State};

use crate::transport::{CardTransport, TransportError};

/// Room for any response, including extended-length ones; a signature needs 258 bytes.
const RECEIVE_BUFFER_LEN: usize = pcsc::MAX_BUFFER_SIZE_EXTENDED;

/// A connection to the card in one reader.
pub struct PcscTransport {
    card: Card,
    reader_name: String,
    receive_buffer: Vec<u8>,
}

impl PcscTransport {
    /// Names of the connected readers, card or not.
    pub fn list_readers() -> Result<Vec<String>, TransportError> {
        let context = establish_context()?;
        Ok(reader_names(&context)?
            .iter()
            .map(|name| name.to_string_lossy().into_owned())
            .collect())
    }

    /// Connects to the card in `reader_name`, or else in the first reader
    /// holding a card. Waits up to `wait_for_card` for a card to be presented.
    pub fn connect(
        reader_name: Option<&str>,
        wait_for_card: Duration,
    ) -> Result<PcscTransport, TransportError> {
        let context = establish_context()?;
        let readers = reader_names(&context)?;
        let candidates = match reader_name {
            Some(wanted) => vec![find_reader(&readers, wanted)?],
            None => readers,
        };
        let deadline = Instant::now() + wait_for_card;
        let mut states: Vec<ReaderState> = candidates
            .iter()
            .map(|name| ReaderState::new(name.clone(), State::UNAWARE))
            .collect();
        loop {
            // Zero timeout first: just learn the current state of each reader.
            let remaining = deadline.saturating_duration_since(Instant::now());
            let first_pass = states.iter().all(|s| s.current_state() == State::UNAWARE);
            let timeout = if first_pass {
                Duration::ZERO
            } else {
                remaining
            };
            match context.get_status_change(timeout, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) if first_pass => {}
                Err(pcsc::Error::Timeout) => return Err(TransportError::NoCard),
                Err(err) => return Err(map_error("waiting for a card", err)),
            }
            for state in &states {
                let event = state.event_state();
                if !event.contains(State::PRESENT) || event.contains(State::MUTE) {
                    continue;
                }
                match connect_card(&context, state.name()) {
                    Ok(card) => {
                        return Ok(PcscTransport {
                            card,
                            reader_name: state.name().to_string_lossy().into_owned(),
                            receive_buffer: vec![0; RECEIVE_BUFFER_LEN],
                        });
                    }
                    // Pulled away between the event and the connect: keep waiting.
                    Err(pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard) => {}
                    Err(err) => return Err(map_error("connecting to the card", err)),
                }
            }
            if !first_pass && remaining.is_zero() {
                return Err(TransportError::NoCard);
            }
            for state in &mut states {
                state.sync_current_state();
            }
        }
    }

    pub fn reader_name(&self) -> &str {
        &self.reader_name
    }
}

impl CardTransport for PcscTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.card
            .transmit(command, &mut self.receive_buffer)
            .map(<[u8]>::to_vec)
            .map_err(|err| map_error("talking to the card", err))
    }
}

fn establish_context() -> Result<Context, TransportError> {
    Context::establish(Scope::User).map_err(|err| map_error("starting PC/SC", err))
}

fn reader_names(context: &Context) -> Result<Vec<CString>, TransportError> {
    let readers = context
        .list_readers_owned()
        .map_err(|err| map_error("listing readers", err))?;
    if readers.is_empty() {
        return Err(TransportError::NoReader);
    }
    Ok(readers)
}

/// Exact name first, then a unique case-insensitive substring, so that
/// `--reader sony` works.
fn find_reader(readers: &[CString], wanted: &str) -> Result<CString, TransportError> {
    if let Some(exact) = readers.iter().find(|name| name.to_string_lossy() == wanted) {
        return Ok(exact.clone());
    }
    let wanted_lower = wanted.to_lowercase();
    let mut matches = readers.iter().filter(|name| {
        name.to_string_lossy()
            .to_lowercase()
            .contains(&wanted_lower)
    });
    match (matches.next(), matches.next()) {
        (Some(only), None) => Ok(only.clone()),
        _ => Err(TransportError::ReaderNotFound(wanted.to_owned())),
    }
}

fn connect_card(context: &Context, reader: &CStr) -> Result<Card, pcsc::Error> {
    // Exclusive: no other program may use the card between VERIFY and the signature.
    context.connect(reader, ShareMode::Exclusive, Protocols::ANY)
}

fn map_error(operation: &str, err: pcsc::Error) -> TransportError {
    match err {
        pcsc::Error::NoReadersAvailable | pcsc::Error::ReaderUnavailable => {
            TransportError::NoReader
        }
        pcsc::Error::UnknownReader => {
            TransportError::reader(operation, "the reader was disconnected")
        }
        pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard => TransportError::CardRemoved,
        pcsc::Error::Timeout => TransportError::NoCard,
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => TransportError::reader(
            operation,
            "the PC/SC service is not running (on Linux, start pcscd)",
        ),
        pcsc::Error::SharingViolation => {
            TransportError::reader(operation, "the card is in use by another program")
        }
        other => TransportError::reader(operation, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<CString> {
        list.iter()
            .map(|name| CString::new(*name).expect("no NUL"))
            .collect()
    }

    #[test]
    fn finds_readers_by_exact_name_or_unique_substring() {
        let readers = names(&[
            "SONY FeliCa Port/PaSoRi 4.0 00 00",
            "Generic USB Smart Card Reader 01 00",
            "Generic USB Smart Card Reader 02 00",
        ]);
        let found = find_reader(&readers, "sony").expect("unique substring");
        assert_eq!(found.to_str(), Ok("SONY FeliCa Port/PaSoRi 4.0 00 00"));
        let found = find_reader(&readers, "Generic USB Smart Card Reader 02 00").expect("exact");
        assert_eq!(found.to_str(), Ok("Generic USB Smart Card Reader 02 00"));
        assert!(matches!(
            find_reader(&readers, "generic"),
            Err(TransportError::ReaderNotFound(name)) if name == "generic"
        ));
        assert!(matches!(
            find_reader(&readers, "ACS"),
            Err(TransportError::ReaderNotFound(_))
        ));
    }

    #[test]
    fn pcsc_errors_map_to_transport_errors() {
        assert!(matches!(
            map_error("x", pcsc::Error::RemovedCard),
            TransportError::CardRemoved
        ));
        assert!(matches!(
            map_error("x", pcsc::Error::Timeout),
            TransportError::NoCard
        ));
        assert!(matches!(
            map_error("x", pcsc::Error::NoReadersAvailable),
            TransportError::NoReader
        ));
        let other = map_error("talking to the card", pcsc::Error::CommError);
        assert!(
            other
                .to_string()
                .starts_with("card reader error while talking to the card")
        );
    }
}
