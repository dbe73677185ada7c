//! Where and how the log goes: standard error, plain text or JSON lines.

use clap::ValueEnum;

/// The shape of the log lines on standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, fields), for log shippers.
    Json,
}

/// Logs go to standard error; `RUST_LOG` tunes them (default: info). The
/// format changes only the shape: the events and their fields are the same.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // No span lists: Zaitaku opens no spans today, and a span's fields
        // would be one more place for data to leak into the log unreviewed.
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}
