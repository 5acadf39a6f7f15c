//! Errors a plugin returns: a kind the host can act on, and a message a person can act on.

use std::fmt;

use abi_stable::{std_types::RString, StableAbi};

/// The kind of a [`ProviderError`]. A transparent integer, not an enum, so that kinds can be
/// added in a minor SDK version; unknown kinds display as `unknown`.
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorKind(pub u32);

impl ErrorKind {
    pub const INVALID_SYMBOL: ErrorKind = ErrorKind(1);
    pub const INVALID_INTERVAL: ErrorKind = ErrorKind(2);
    pub const UNSUPPORTED_MARKET: ErrorKind = ErrorKind(3);
    pub const RATE_LIMITED: ErrorKind = ErrorKind(4);
    pub const NETWORK: ErrorKind = ErrorKind(5);
    pub const TIMEOUT: ErrorKind = ErrorKind(6);
    pub const UPSTREAM_STATUS: ErrorKind = ErrorKind(7);
    pub const INTEGRITY: ErrorKind = ErrorKind(8);
    pub const PARSE: ErrorKind = ErrorKind(9);
    pub const CANCELLED: ErrorKind = ErrorKind(10);
    pub const INTERNAL: ErrorKind = ErrorKind(11);
    pub const PANICKED: ErrorKind = ErrorKind(12);
    pub const INVALID_REQUEST: ErrorKind = ErrorKind(13);
    pub const UNSUPPORTED_SOURCE: ErrorKind = ErrorKind(14);

    pub fn name(self) -> &'static str {
        match self {
            Self::INVALID_SYMBOL => "invalid symbol",
            Self::INVALID_INTERVAL => "invalid interval",
            Self::UNSUPPORTED_MARKET => "unsupported market",
            Self::RATE_LIMITED => "rate limited",
            Self::NETWORK => "network error",
            Self::TIMEOUT => "timeout",
            Self::UPSTREAM_STATUS => "upstream error",
            Self::INTEGRITY => "integrity error",
            Self::PARSE => "parse error",
            Self::CANCELLED => "cancelled",
            Self::INTERNAL => "internal error",
            Self::PANICKED => "plugin panicked",
            Self::INVALID_REQUEST => "invalid request",
            Self::UNSUPPORTED_SOURCE => "unsupported source",
            _ => "unknown",
        }
    }
}

/// An error from a plugin. `retry_after_ms` is non-zero when the exchange said how long to wait.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: RString,
    pub retry_after_ms: u64,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            message: RString::from(message.into()),
            retry_after_ms: 0,
        }
    }

    pub fn with_retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = ms;
        self
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for ProviderError {}
