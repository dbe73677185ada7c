//! What a card reader reports about itself, in every build.
//!
//! `PcscTransport::readers` fills these in (feature `pcsc`); they live
//! outside that feature so that a program can format them, and test its
//! formatting, without PC/SC.

/// One connected reader and what is on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderInfo {
    /// The name PC/SC gives the reader, as `--reader=NAME` matches it.
    pub name: String,
    pub card: CardPresence,
}

/// Whether a reader holds a card we could talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardPresence {
    /// A card is there and free.
    Present,
    /// A card is there, but another program is using it.
    InUse,
    /// Something is on the reader but does not answer (upside down, badly placed,
    /// or not a smart card).
    Mute,
    /// The reader is empty.
    Empty,
    /// The reader is listed but cannot be used (being unplugged, driver trouble).
    Unavailable,
}

impl CardPresence {
    /// Whether `card auth --reader` could use the card here.
    pub fn is_usable(self) -> bool {
        self == CardPresence::Present
    }
}
