//! The card session: open the card, read its certificate, learn the PIN tries
//! left, get the PIN, sign. It takes any [`CardTransport`], so the same code runs
//! on a virtual card, a PC/SC reader, and (in tests) a simulated reader; and any
//! [`SessionEvents`], so a terminal and a window drive the same steps.

use std::fmt;
use zaitaku_card::authenticator::sign_challenge_with_certificate;
use zaitaku_card::{
    CardError, CardTransport, ChallengeNonce, JpkiCard, Origin, Pin, PinStatus, TransportError,
    WebEidToken,
};

/// How the session talks to the user.
pub trait SessionEvents {
    /// The card is readable and not blocked: its PIN tries left, told before the
    /// PIN is asked for (1 means one more wrong PIN blocks the card).
    fn tries_left(&mut self, tries_left: u8);
    /// The PIN from the user. An error (unreadable, cancelled) says why there is
    /// none; the card is then sent nothing.
    fn pin(&mut self) -> Result<Pin, String>;
}

/// Why the card gave no token.
#[derive(Debug)]
pub enum SessionError {
    /// Blocked before the PIN was asked for (then no PIN was asked for or sent), or by
    /// this attempt's wrong PIN.
    PinBlocked,
    /// The card left the reader or stopped answering part-way. Nothing was signed;
    /// the challenge is still good for another try.
    CardRemoved,
    /// The challenge is still good for another try.
    WrongPin { tries_left: u8 },
    /// The PIN could not be had from the user; the card was not sent one.
    NoPin(String),
    /// Anything else the card or the transport said.
    Card(CardError),
}

impl SessionError {
    /// The error code the page is told (`POST {link}/error`), for what no later try
    /// can mend. Everything else leaves the challenge open for another try.
    pub fn page_error(&self) -> Option<&'static str> {
        match self {
            SessionError::PinBlocked => Some("pin_blocked"),
            _ => None,
        }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::PinBlocked => CardError::PinBlocked.fmt(f),
            SessionError::CardRemoved => TransportError::CardRemoved.fmt(f),
            SessionError::WrongPin { tries_left } => CardError::WrongPin {
                tries_left: *tries_left,
            }
            .fmt(f),
            SessionError::NoPin(why) => f.write_str(why),
            SessionError::Card(err) => write!(f, "card: {err}"),
        }
    }
}

impl From<CardError> for SessionError {
    fn from(err: CardError) -> Self {
        match err {
            CardError::Transport(TransportError::CardRemoved) => SessionError::CardRemoved,
            CardError::PinBlocked => SessionError::PinBlocked,
            CardError::WrongPin { tries_left } => SessionError::WrongPin { tries_left },
            other => SessionError::Card(other),
        }
    }
}

/// Has the card on `transport` sign the challenge `nonce` for `origin`.
///
/// SELECT AP, read the certificate (no PIN needed: a card that cannot give it is not
/// worth a PIN try), ask for the tries left and tell `events`, then ask `events` for
/// the PIN, VERIFY and sign. A blocked card is never asked for a PIN, let alone sent
/// one. The transport is dropped on return, which releases the card (file lock,
/// exclusive reader connection).
pub fn sign_with_card<T: CardTransport>(
    transport: T,
    origin: &Origin,
    nonce: &ChallengeNonce,
    app_version: &str,
    events: &mut dyn SessionEvents,
) -> Result<WebEidToken, SessionError> {
    let mut card = JpkiCard::open(transport)?;
    let certificate = card.read_auth_certificate()?;
    match card.pin_status()? {
        PinStatus::Blocked => return Err(SessionError::PinBlocked),
        PinStatus::TriesLeft(tries_left) => events.tries_left(tries_left),
    }
    let pin = events.pin().map_err(SessionError::NoPin)?;
    // VERIFY asks for the status again first, so a card blocked meanwhile (by another
    // program, between the two reads) is still not sent the PIN.
    Ok(sign_challenge_with_certificate(
        &mut card,
        &certificate,
        &pin,
        origin,
        nonce,
        app_version,
    )?)
}
