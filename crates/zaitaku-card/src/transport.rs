//! The byte pipe between the host and a card: a PC/SC reader or the virtual card.

/// Sends one command APDU and returns the raw response: data, then SW1 SW2.
pub trait CardTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;
}

impl<T: CardTransport + ?Sized> CardTransport for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }
}

impl<T: CardTransport + ?Sized> CardTransport for Box<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }
}

/// Failure to exchange bytes with the card, as opposed to a card that
/// answered with an error status word.
///
/// Messages include their cause because a CLI usually prints only the top error.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error(
        "the PC/SC smart card service is not running; start it (on Linux: sudo systemctl start pcscd) and try again"
    )]
    ServiceNotRunning,
    #[error("no smart card reader found; connect a reader and try again")]
    NoReader,
    #[error("the card reader \"{0}\" was not found")]
    ReaderNotFound(String),
    #[error("no card was found in the reader; place your My Number card on the reader")]
    NoCard,
    /// Pulled out, moved off a contactless reader, or no longer answering, in the
    /// middle of a card session: whatever the session had (a verified PIN) is gone.
    #[error("the card was removed or stopped answering; place it on the reader and try again")]
    CardRemoved,
    #[error("card reader error while {operation}: {cause}")]
    Reader {
        operation: String,
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("I/O error while {operation}: {cause}")]
    Io {
        operation: String,
        cause: std::io::Error,
    },
}

impl TransportError {
    pub fn reader(
        operation: impl Into<String>,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> TransportError {
        TransportError::Reader {
            operation: operation.into(),
            cause: cause.into(),
        }
    }

    pub fn io(operation: impl Into<String>, cause: std::io::Error) -> TransportError {
        TransportError::Io {
            operation: operation.into(),
            cause,
        }
    }
}
