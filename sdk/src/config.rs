//! Settings the host hands to a plugin when it creates a provider.

use abi_stable::{
    std_types::{RString, RVec},
    StableAbi,
};

/// Log levels, ordered from most to least severe. Transparent so levels can be added.
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogLevel(pub u32);

impl LogLevel {
    pub const ERROR: LogLevel = LogLevel(1);
    pub const WARN: LogLevel = LogLevel(2);
    pub const INFO: LogLevel = LogLevel(3);
    pub const DEBUG: LogLevel = LogLevel(4);
    pub const TRACE: LogLevel = LogLevel(5);

    pub fn name(self) -> &'static str {
        match self {
            Self::ERROR => "error",
            Self::WARN => "warn",
            Self::INFO => "info",
            Self::DEBUG => "debug",
            Self::TRACE => "trace",
            _ => "unknown",
        }
    }
}

/// An endpoint override: `key` as in the manifest's `endpoints` (e.g. `spot`, `vision`).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub key: RString,
    pub url: RString,
}

/// Every network and behaviour setting of a provider. The host fills all of them; a plugin
/// must honour each (a setting that does nothing is a bug).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    pub connect_timeout_ms: u64,
    /// Whole-request timeout, body included.
    pub request_timeout_ms: u64,
    /// Retries after the first attempt on network errors, timeouts and 5xx.
    pub retries: u32,
    /// First backoff delay; doubled each retry, with jitter, capped by `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Longest Retry-After the plugin waits out before giving up with a rate-limit error.
    pub max_retry_after_ms: u64,
    /// Idle connections kept per host.
    pub pool_size: u32,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Most verbose level the plugin should send to the host's log callback.
    pub log_level: LogLevel,
    /// Log every HTTP request and response status at debug level.
    pub log_http: bool,
    pub endpoints: RVec<Endpoint>,
}

impl ProviderConfig {
    /// The override for `key`, if the host set one.
    pub fn endpoint(&self, key: &str) -> Option<&str> {
        self.endpoints
            .iter()
            .find(|e| e.key.as_str() == key)
            .map(|e| e.url.as_str())
    }
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            connect_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            retries: 3,
            backoff_base_ms: 200,
            backoff_max_ms: 10_000,
            max_retry_after_ms: 300_000,
            pool_size: 10,
            concurrency: 4,
            log_level: LogLevel::WARN,
            log_http: false,
            endpoints: RVec::new(),
        }
    }
}
