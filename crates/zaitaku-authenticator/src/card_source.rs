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
                        Ok(card) => (Readers::Waiting(names), Some(Box::new(card))),
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
