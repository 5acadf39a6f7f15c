//! The host's error type: each variant says what was wrong and what to do about it.

use std::path::PathBuf;

use dsm_sdk::{ErrorKind, ProviderError};

/// Everything that can go wrong in dsm; the message says what and what to do.
#[derive(Debug, thiserror::Error)]
pub enum DsmError {
    /// Bad input from the user (symbol, interval, time range, names). CLI exit code 2.
    #[error("{0}")]
    InvalidInput(String),

    /// No plugin file provides this provider.
    #[error("{}", not_found_message(.provider, .searched, .problems, .available))]
    ProviderNotFound {
        /// The provider asked for (normalized).
        provider: String,
        /// The directories searched, in order.
        searched: Vec<PathBuf>,
        /// Plugin files found but unusable, with the reason.
        problems: Vec<(PathBuf, String)>,
        /// The providers that were found.
        available: Vec<String>,
    },

    /// The provider exists but does not have this market.
    #[error("provider {provider} has no market {market:?}; its markets: {known}")]
    UnknownMarket {
        /// The provider.
        provider: String,
        /// The market asked for.
        market: String,
        /// The provider's markets and aliases, for the message.
        known: String,
    },

    /// A plugin file could not be read or loaded.
    #[error("plugin {}: {message}", .path.display())]
    Plugin {
        /// The plugin file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// The plugin answered with an error.
    #[error("{provider}: {error}")]
    Provider {
        /// The provider.
        provider: String,
        /// The plugin's error: kind, message, retry-after.
        error: ProviderError,
    },

    /// The plugin returned data that failed validation.
    #[error("{provider}: invalid data from the exchange: {message}")]
    InvalidData {
        /// The provider.
        provider: String,
        /// What failed validation.
        message: String,
    },

    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (e.g. the file).
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl DsmError {
    /// True for errors caused by what the user asked for (CLI exit code 2).
    pub fn is_usage(&self) -> bool {
        match self {
            DsmError::InvalidInput(_)
            | DsmError::UnknownMarket { .. }
            | DsmError::ProviderNotFound { .. } => true,
            DsmError::Provider { error, .. } => {
                error.kind == ErrorKind::INVALID_SYMBOL || error.kind == ErrorKind::INVALID_INTERVAL
            }
            _ => false,
        }
    }

    /// The plugin's error kind, when the error came from a plugin.
    pub fn provider_kind(&self) -> Option<ErrorKind> {
        match self {
            DsmError::Provider { error, .. } => Some(error.kind),
            _ => None,
        }
    }

    /// An [`DsmError::Io`] with its context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        DsmError::Io {
            context: context.into(),
            source,
        }
    }
}

fn not_found_message(
    provider: &str,
    searched: &[PathBuf],
    problems: &[(PathBuf, String)],
    available: &[String],
) -> String {
    let mut s = format!("no plugin provides {provider:?} (looked for libdsm_{provider}.so)");
    if !available.is_empty() {
        s.push_str(&format!("; available providers: {}", available.join(", ")));
    }
    for (path, why) in problems {
        s.push_str(&format!("\n  found {} but {why}", path.display()));
    }
    s.push_str("\n  searched:");
    if searched.is_empty() {
        s.push_str(" no directory (none exists)");
    }
    for dir in searched {
        s.push_str(&format!("\n    {}", dir.display()));
    }
    s.push_str(
        "\n  install the plugin file into one of these directories, or point --plugin-dir / DSM_PLUGIN_PATH at it",
    );
    s
}

/// `Result` with [`DsmError`].
pub type Result<T, E = DsmError> = std::result::Result<T, E>;
