//! A real card reader through PC/SC (pcsc-lite, WinSCard, CryptoTokenKit).

use std::ffi::{CStr, CString};
use std::time::{Duration, Instant};

use pcsc::{Card, Context, Protocols, ReaderState, Scope, ShareMode, State};

use crate::reader::{CardPresence, ReaderInfo};
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

    /// The connected readers and what is on each, without touching any card.
    /// No reader at all is [`TransportError::NoReader`].
    pub fn readers() -> Result<Vec<ReaderInfo>, TransportError> {
        let context = establish_context()?;
        let mut states: Vec<ReaderState> = reader_names(&context)?
            .into_iter()
            .map(|name| ReaderState::new(name, State::UNAWARE))
            .collect();
        // From UNAWARE, PC/SC answers at once with each reader's current state.
        context
            .get_status_change(Duration::ZERO, &mut states)
            .map_err(|err| map_error("asking the readers for their state", err))?;
        Ok(states
            .iter()
            .map(|state| ReaderInfo {
                name: state.name().to_string_lossy().into_owned(),
                card: presence(state.event_state()),
            })
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
        let response = self
            .card
            .transmit(command, &mut self.receive_buffer)
            .map_err(|err| map_error("talking to the card", err))?;
        // Not even a status word: the card went silent mid-command. Some reader
        // drivers (vsmartcard's vpcd when its card is pulled out) report this as
        // success with nothing received rather than as a removed card.
        if response.is_empty() {
            return Err(TransportError::CardRemoved);
        }
        Ok(response.to_vec())
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

/// What a reader's PC/SC state says about its card.
fn presence(state: State) -> CardPresence {
    if state.intersects(State::UNAVAILABLE | State::UNKNOWN | State::IGNORE) {
        CardPresence::Unavailable
    } else if !state.contains(State::PRESENT) {
        CardPresence::Empty
    } else if state.contains(State::MUTE) {
        CardPresence::Mute
    } else if state.intersects(State::INUSE | State::EXCLUSIVE) {
        CardPresence::InUse
    } else {
        CardPresence::Present
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
        // Pulled out, lifted off a contactless reader, powered down or reset: the
        // session (and any verified PIN) is gone either way.
        pcsc::Error::RemovedCard
        | pcsc::Error::NoSmartcard
        | pcsc::Error::ResetCard
        | pcsc::Error::UnpoweredCard
        | pcsc::Error::UnresponsiveCard => TransportError::CardRemoved,
        pcsc::Error::Timeout => TransportError::NoCard,
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => TransportError::ServiceNotRunning,
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
    fn reader_states_say_whether_a_usable_card_is_there() {
        let cases = [
            (State::EMPTY, CardPresence::Empty),
            (State::EMPTY | State::CHANGED, CardPresence::Empty),
            (State::PRESENT, CardPresence::Present),
            (State::PRESENT | State::CHANGED, CardPresence::Present),
            (State::PRESENT | State::INUSE, CardPresence::InUse),
            (State::PRESENT | State::EXCLUSIVE, CardPresence::InUse),
            (State::PRESENT | State::MUTE, CardPresence::Mute),
            (State::UNAVAILABLE, CardPresence::Unavailable),
            (State::UNKNOWN | State::CHANGED, CardPresence::Unavailable),
            (State::IGNORE, CardPresence::Unavailable),
        ];
        for (state, expected) in cases {
            assert_eq!(presence(state), expected, "{state:?}");
        }
        assert!(presence(State::PRESENT).is_usable());
        assert!(!presence(State::PRESENT | State::INUSE).is_usable());
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
        for pulled in [
            pcsc::Error::NoSmartcard,
            pcsc::Error::ResetCard,
            pcsc::Error::UnpoweredCard,
            pcsc::Error::UnresponsiveCard,
        ] {
            assert!(
                matches!(map_error("x", pulled), TransportError::CardRemoved),
                "{pulled:?}"
            );
        }
        for stopped in [pcsc::Error::NoService, pcsc::Error::ServiceStopped] {
            let error = map_error("listing readers", stopped);
            assert!(
                matches!(error, TransportError::ServiceNotRunning),
                "{stopped:?}"
            );
            assert!(error.to_string().contains("pcscd"), "{error}");
        }
        let other = map_error("talking to the card", pcsc::Error::CommError);
        assert!(
            other
                .to_string()
                .starts_with("card reader error while talking to the card")
        );
    }
}
