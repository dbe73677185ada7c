//! Where the card comes from: the PC/SC readers, watched until a card is placed
//! (or the user cancels); or, for demonstrations and tests, a virtual card file.

use crate::channels::Channels;
use crate::model::{Control, Readers, WorkerEvent};
use std::path::PathBuf;
use std::sync::mpsc::TryRecvError;
use std::time::Duration;
use zaitaku_card::{CardTransport, PcscTransport, TransportError, VirtualCard};

/// Names a virtual card file (from `zaitaku card new`, or a demo card) to use
/// instead of a reader.
pub const VIRTUAL_CARD_VAR: &str = "ZAITAKU_AUTHENTICATOR_VIRTUAL_CARD";

/// How often the readers are looked at while waiting: a card placed shows at once
/// to the eye, and PC/SC's answer costs next to nothing.
const POLL: Duration = Duration::from_millis(300);

pub enum CardSource {
    Readers,
    Virtual(PathBuf),
}

pub enum Found {
    Card(Box<dyn CardTransport>),
    Cancelled,
    WindowClosed,
}

impl CardSource {
    pub fn from_env() -> Self {
        match std::env::var_os(VIRTUAL_CARD_VAR) {
            Some(path) if !path.is_empty() => CardSource::Virtual(path.into()),
            _ => CardSource::Readers,
        }
    }

    /// Waits until a card is there, telling the window what the readers say.
    pub fn wait_for_card(&self, channels: &Channels) -> Found {
        let mut shown = None;
        loop {
            match channels.control.try_recv() {
                Ok(Control::Cancel) => return Found::Cancelled,
                Ok(_) | Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => return Found::WindowClosed,
            }
            let (readers, card) = self.look();
            if let Some(card) = card {
                return Found::Card(card);
            }
            if shown.as_ref() != Some(&readers) {
                channels.send(WorkerEvent::Readers(readers.clone()));
                shown = Some(readers);
            }
            std::thread::sleep(POLL);
        }
    }

    /// One look at the readers: what to show, and the card when one is there.
    fn look(&self) -> (Readers, Option<Box<dyn CardTransport>>) {
        match self {
            CardSource::Virtual(path) => match VirtualCard::open(path) {
                Ok(card) => (Readers::Unknown, Some(Box::new(card))),
                Err(err) => (Readers::Trouble(err.to_string()), None),
            },
            CardSource::Readers => match PcscTransport::readers() {
                Ok(list) if list.is_empty() => (Readers::NoReader, None),
                Ok(list) => {
                    let names = list.iter().map(|r| r.name.clone()).collect();
                    if !list.iter().any(|r| r.card.is_usable()) {
                        return (Readers::Waiting(names), None);
                    }
                    match PcscTransport::connect(None, Duration::ZERO) {
                        Ok(card) => {
                            // After a card swap pcscd may hand out a connection that
                            // fails its first command (card reset, "non-existent
                            // transaction"): reconnect to the same reader once.
                            let reader = card.reader_name().to_owned();
                            let card = ReconnectOnce::new(card, move || {
                                PcscTransport::connect(Some(&reader), Duration::ZERO)
                            });
                            (Readers::Waiting(names), Some(Box::new(card)))
                        }
                        // Taken away between the look and the connect.
                        Err(TransportError::NoCard) => (Readers::Waiting(names), None),
                        Err(err) => (readers_trouble(err), None),
                    }
                }
                Err(err) => (readers_trouble(err), None),
            },
        }
    }
}

fn readers_trouble(err: TransportError) -> Readers {
    match err {
        TransportError::ServiceNotRunning => Readers::ServiceNotRunning,
        TransportError::NoReader => Readers::NoReader,
        other => Readers::Trouble(other.to_string()),
    }
}

/// A card connection that is made again, once, when its very first command fails
/// with what a stale connection answers (PC/SC's "card reset" or "removed", or
/// another reader error such as "an attempt was made to end a non-existent
/// transaction"), as pcscd does for a while after one card is swapped for
/// another. Only the first command is sent again (SELECT of the application,
/// which changes nothing on the card); once the card has answered anything, an
/// error is the session's, since a new connection would have lost its state
/// (a verified PIN).
pub struct ReconnectOnce<T, C> {
    card: T,
    reconnect: Option<C>,
    answered: bool,
}

impl<T, C> ReconnectOnce<T, C>
where
    T: CardTransport,
    C: FnOnce() -> Result<T, TransportError>,
{
    pub fn new(card: T, reconnect: C) -> Self {
        ReconnectOnce {
            card,
            reconnect: Some(reconnect),
            answered: false,
        }
    }
}

/// What a connection made stale by a card swap answers (the PIN-less session
/// start makes a second try harmless): not "no service" or "no reader".
fn stale_connection(err: &TransportError) -> bool {
    matches!(
        err,
        TransportError::CardRemoved | TransportError::Reader { .. }
    )
}

impl<T, C> CardTransport for ReconnectOnce<T, C>
where
    T: CardTransport,
    C: FnOnce() -> Result<T, TransportError>,
{
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let first = self.card.transmit(command);
        let answer = match first {
            Err(err) if !self.answered && stale_connection(&err) => {
                let Some(reconnect) = self.reconnect.take() else {
                    return Err(err);
                };
                eprintln!(
                    "zaitaku-authenticator: the card's first answer failed ({err}); reconnecting once"
                );
                match reconnect() {
                    Ok(fresh) => {
                        self.card = fresh;
                        self.card.transmit(command)
                    }
                    // No card there after all: the first error is the one to tell.
                    Err(_) => Err(err),
                }
            }
            other => other,
        };
        if answer.is_ok() {
            self.answered = true;
            self.reconnect = None;
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    /// A connection that answers from a script and counts what it was sent.
    struct Scripted {
        answers: VecDeque<Result<Vec<u8>, TransportError>>,
        sent: Rc<Cell<usize>>,
    }

    impl CardTransport for Scripted {
        fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.sent.set(self.sent.get() + 1);
            self.answers.pop_front().expect("a scripted answer")
        }
    }

    fn scripted(answers: Vec<Result<Vec<u8>, TransportError>>, sent: &Rc<Cell<usize>>) -> Scripted {
        Scripted {
            answers: answers.into(),
            sent: sent.clone(),
        }
    }

    fn not_transacted() -> TransportError {
        TransportError::reader(
            "talking to the card",
            "An attempt was made to end a non-existent transaction.",
        )
    }

    const OK: [u8; 2] = [0x90, 0x00];

    #[test]
    fn a_stale_first_answer_reconnects_once_and_goes_on() {
        for stale in [TransportError::CardRemoved, not_transacted()] {
            let (old, new) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
            let reconnects = Rc::new(Cell::new(0));
            let fresh = scripted(vec![Ok(OK.to_vec()), Ok(OK.to_vec())], &new);
            let counter = reconnects.clone();
            let mut card = ReconnectOnce::new(scripted(vec![Err(stale)], &old), move || {
                counter.set(counter.get() + 1);
                Ok(fresh)
            });
            assert_eq!(card.transmit(b"select").unwrap(), OK);
            assert_eq!(card.transmit(b"read").unwrap(), OK);
            assert_eq!((old.get(), new.get(), reconnects.get()), (1, 2, 1));
        }
    }

    #[test]
    fn only_once_and_only_before_the_card_has_answered() {
        // The fresh connection fails too: that error is told, no third try.
        let (old, new) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let fresh = scripted(
            vec![
                Err(TransportError::CardRemoved),
                Err(TransportError::CardRemoved),
            ],
            &new,
        );
        let mut card = ReconnectOnce::new(
            scripted(vec![Err(TransportError::CardRemoved)], &old),
            move || Ok(fresh),
        );
        assert!(matches!(
            card.transmit(b"select"),
            Err(TransportError::CardRemoved)
        ));
        assert!(matches!(
            card.transmit(b"select"),
            Err(TransportError::CardRemoved)
        ));
        assert_eq!(
            (old.get(), new.get()),
            (1, 2),
            "one reconnect, then the fresh one"
        );

        // A card pulled after it answered (mid-session): no reconnect.
        let sent = Rc::new(Cell::new(0));
        let mut card = ReconnectOnce::new(
            scripted(
                vec![Ok(OK.to_vec()), Err(TransportError::CardRemoved)],
                &sent,
            ),
            || -> Result<Scripted, TransportError> { panic!("reconnected mid-session") },
        );
        card.transmit(b"select").unwrap();
        assert!(matches!(
            card.transmit(b"verify"),
            Err(TransportError::CardRemoved)
        ));

        // Not a stale connection (the service stopped): told as it is.
        let sent = Rc::new(Cell::new(0));
        let mut card = ReconnectOnce::new(
            scripted(vec![Err(TransportError::ServiceNotRunning)], &sent),
            || -> Result<Scripted, TransportError> { panic!("reconnected without cause") },
        );
        assert!(matches!(
            card.transmit(b"select"),
            Err(TransportError::ServiceNotRunning)
        ));

        // No card to reconnect to: the first error is the one told.
        let sent = Rc::new(Cell::new(0));
        let mut card = ReconnectOnce::new(scripted(vec![Err(not_transacted())], &sent), || {
            Err::<Scripted, _>(TransportError::NoCard)
        });
        assert!(matches!(
            card.transmit(b"select"),
            Err(TransportError::Reader { .. })
        ));
    }
}
