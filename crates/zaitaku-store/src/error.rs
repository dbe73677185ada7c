/// A storage failure. The message is for logs: it never carries personal data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed: the driver's message (statement errors name
    /// tables and columns, never bound values), or a store call that panicked.
    #[error("database error: {0}")]
    Database(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A stored value no longer parses: a bug or a hand edit, never user input.
    #[error("stored {what} is malformed")]
    Corrupt { what: &'static str },
    #[error("{what} already exists")]
    Duplicate { what: &'static str },
}

/// Why a challenge could not be settled; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// Already used, failed, cancelled or expired.
    #[error("the challenge is no longer pending")]
    ChallengeNotPending,
    /// The flow left its authentication step (went back, or was settled).
    #[error("the flow is no longer waiting for this challenge")]
    FlowMoved,
    #[error(transparent)]
    Store(#[from] StoreError),
}
