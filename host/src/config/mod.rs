//! `DsmConfig`: every setting of a manager, with presets and environment overrides.
//! Each field reaches the plugin through [`DsmConfig::provider_config`].
//!
//! The rule (README.md, "Configuration"): builder calls win over the environment, which wins
//! over the preset. The variables that say where to find things (DSM_PLUGIN_PATH,
//! DSM_*_URL, DSM_CACHE_DIR) are read when a manager is created, whatever the preset; the
//! tuning variables only by [`DsmConfig::from_env`].

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use dsm_sdk::{abi_stable::std_types::RString, Endpoint, LogLevel, ProviderConfig};

use crate::error::{DsmError, Result};
use crate::report::SourceMode;

/// The endpoint key `DSM_<PROVIDER>_URL` sets: the provider's main endpoint, which is the
/// first one its manifest lists.
pub const MAIN_ENDPOINT: &str = "main";

/// Settings of one manager (one provider and market).
#[derive(Debug, Clone, PartialEq)]
pub struct DsmConfig {
    /// Provider id, e.g. `binance` (case-insensitive).
    pub provider: String,
    /// Market id or alias, e.g. `spot`, `um`.
    pub market: String,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout, body included.
    pub request_timeout: Duration,
    /// Retries after the first attempt on network errors, timeouts and 5xx.
    pub retries: u32,
    /// First backoff between retries (exponential, with jitter).
    pub backoff_base: Duration,
    /// Longest backoff between retries.
    pub backoff_max: Duration,
    /// The longest Retry-After (429/418) waited out before failing with a rate-limit error.
    pub max_retry_after: Duration,
    /// Idle connections kept per host.
    pub pool_size: u32,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Most verbose level of the plugin's log messages passed to the host's `tracing`.
    pub log_level: LogLevel,
    /// Log every HTTP request (at debug level).
    pub log_http: bool,
    /// Endpoint overrides by the manifest's keys (`spot`, `um`, `vision`, ...). The
    /// `DSM_*_URL` variables fill in the keys not set here when a manager is created.
    pub endpoints: BTreeMap<String, String>,
    /// Extra plugin directories searched first, then `DSM_PLUGIN_PATH`, then the default
    /// search path.
    pub plugin_dirs: Vec<PathBuf>,
    /// Cache root; `None` = `Cache::default_dir()` (DSM_CACHE_DIR, XDG_CACHE_HOME, ~/.cache).
    pub cache_dir: Option<PathBuf>,
    /// Read and write the cache (off: every fetch goes to the exchange, nothing is stored).
    pub cache_enabled: bool,
    /// Which sources fetches use.
    pub source: SourceMode,
    /// Read the cache first even when `source` is `archive` or `rest` (which then name the
    /// network source only): what `dsm sync` does, so a re-run fetches only what the cache
    /// lacks. Off by default (`--source rest` of a fetch asks REST for everything).
    pub cache_first: bool,
    /// Candles the exchange did not have are asked for again on later fetches while the
    /// hole was seen less than this long after its period ended (the exchange may still
    /// publish them); after that the hole is final. Default 7 days.
    pub hole_recheck_window: Duration,
    /// Ask again for every recorded hole of the fetched range, however old.
    pub recheck_holes: bool,
    /// Load plugin files that other users could have written (refused by default).
    pub allow_insecure_plugins: bool,
}

impl DsmConfig {
    /// Defaults for interactive use: the SDK's `ProviderConfig::default()` (30 s timeout,
    /// 3 retries, pool 10, warnings logged), the one place they are written.
    pub fn new(provider: &str, market: &str) -> Self {
        let d = ProviderConfig::default();
        DsmConfig {
            provider: provider.to_string(),
            market: market.to_string(),
            connect_timeout: Duration::from_millis(d.connect_timeout_ms),
            request_timeout: Duration::from_millis(d.request_timeout_ms),
            retries: d.retries,
            backoff_base: Duration::from_millis(d.backoff_base_ms),
            backoff_max: Duration::from_millis(d.backoff_max_ms),
            max_retry_after: Duration::from_millis(d.max_retry_after_ms),
            pool_size: d.pool_size,
            concurrency: d.concurrency,
            log_level: d.log_level,
            log_http: d.log_http,
            endpoints: BTreeMap::new(),
            plugin_dirs: Vec::new(),
            cache_dir: None,
            cache_enabled: true,
            source: SourceMode::Auto,
            cache_first: false,
            hole_recheck_window: Duration::from_millis(7 * dsm_sdk::time::DAY_MS as u64),
            recheck_holes: false,
            allow_insecure_plugins: false,
        }
    }

    /// Long-running services: 60 s timeout, 5 retries, pool 20, errors only.
    pub fn for_production(provider: &str, market: &str) -> Self {
        DsmConfig {
            request_timeout: Duration::from_secs(60),
            retries: 5,
            pool_size: 20,
            log_level: LogLevel::ERROR,
            ..Self::new(provider, market)
        }
    }

    /// Development: 15 s timeout, 2 retries, pool 5, debug logs including HTTP.
    pub fn for_development(provider: &str, market: &str) -> Self {
        DsmConfig {
            request_timeout: Duration::from_secs(15),
            retries: 2,
            pool_size: 5,
            log_level: LogLevel::DEBUG,
            log_http: true,
            ..Self::new(provider, market)
        }
    }

    /// Defaults ([`DsmConfig::new`]) overridden by every `DSM_*` environment variable,
    /// tuning included (see README.md); what `Dsm::create` and the `dsm` command use.
    pub fn from_env(provider: &str, market: &str) -> Result<Self> {
        Self::check_env()?;
        Self::new(provider, market).with_env(|k| std::env::var(k).ok(), Self::env_vars())
    }

    /// Refuse a `DSM_*` variable whose value is not UTF-8: read as unset, it would leave a
    /// setting (a cache directory, a timeout) at its default without a word.
    pub fn check_env() -> Result<()> {
        Self::check_vars(std::env::vars_os())
    }

    fn check_vars(vars: impl Iterator<Item = (OsString, OsString)>) -> Result<()> {
        for (name, value) in vars {
            if name.as_encoded_bytes().starts_with(b"DSM_")
                && (name.to_str().is_none() || value.to_str().is_none())
            {
                return Err(DsmError::InvalidInput(format!(
                    "environment variable {} is set to {:?}, which is not UTF-8 text: \
                     dsm reads its DSM_* settings as UTF-8; set it to a UTF-8 value or unset it",
                    name.to_string_lossy(),
                    value.to_string_lossy()
                )));
            }
        }
        Ok(())
    }

    /// Apply environment overrides to this config. `get` reads one variable; `all` lists
    /// every variable (for the `DSM_<PROVIDER>_<KEY>_URL` overrides).
    pub fn with_env(
        mut self,
        get: impl Fn(&str) -> Option<String>,
        all: impl Iterator<Item = (String, String)>,
    ) -> Result<Self> {
        let ms = |name: &str| -> Result<Option<Duration>> {
            get(name)
                .map(|v| parse_num(name, &v).map(Duration::from_millis))
                .transpose()
        };
        let num = |name: &str| -> Result<Option<u32>> {
            get(name)
                .map(|v| parse_num(name, &v).map(|n| n.min(u32::MAX as u64) as u32))
                .transpose()
        };
        if let Some(v) = ms("DSM_CONNECT_TIMEOUT_MS")? {
            self.connect_timeout = v;
        }
        if let Some(v) = ms("DSM_REQUEST_TIMEOUT_MS")? {
            self.request_timeout = v;
        }
        if let Some(v) = num("DSM_RETRIES")? {
            self.retries = v;
        }
        if let Some(v) = ms("DSM_BACKOFF_MS")? {
            self.backoff_base = v;
        }
        if let Some(v) = ms("DSM_BACKOFF_MAX_MS")? {
            self.backoff_max = v;
        }
        if let Some(v) = ms("DSM_MAX_RETRY_AFTER_MS")? {
            self.max_retry_after = v;
        }
        if let Some(v) = num("DSM_POOL_SIZE")? {
            self.pool_size = v;
        }
        if let Some(v) = num("DSM_CONCURRENCY")? {
            self.concurrency = v;
        }
        if let Some(v) = get("DSM_PLUGIN_LOG") {
            self.log_level = parse_level(&v)?;
        }
        if let Some(v) = get("DSM_LOG_HTTP") {
            self.log_http = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("DSM_CACHE_DIR").filter(|v| !v.is_empty()) {
            self.cache_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("DSM_NO_CACHE") {
            self.cache_enabled = !matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("DSM_SOURCE") {
            self.source = SourceMode::parse(&v).ok_or_else(|| {
                DsmError::InvalidInput(format!(
                    "DSM_SOURCE={v:?} is not one of auto, cache, archive, rest"
                ))
            })?;
        }
        if let Some(v) = get("DSM_HOLE_RECHECK_HOURS") {
            let hours = parse_num("DSM_HOLE_RECHECK_HOURS", &v)?;
            self.hole_recheck_window = Duration::from_secs(hours.saturating_mul(3600));
        }
        if let Some(v) = get("DSM_RECHECK_HOLES") {
            self.recheck_holes = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("DSM_ALLOW_INSECURE_PLUGINS") {
            self.allow_insecure_plugins = matches!(v.as_str(), "1" | "true" | "yes");
        }
        // DSM_PLUGIN_PATH is read by the search itself (`discovery::search_dirs`).
        self.add_env_endpoints(all);
        Ok(self)
    }

    /// The environment's `DSM_*` variables, the only ones a config reads: the others are
    /// skipped before being converted (every manager created reads the environment twice),
    /// and one that is not UTF-8 is skipped with a warning where `std::env::vars` would
    /// panic ([`DsmConfig::from_env`] refuses it first: [`DsmConfig::check_env`]).
    pub fn env_vars() -> impl Iterator<Item = (String, String)> {
        std::env::vars_os().filter_map(|(name, value)| {
            let name = name.into_string().ok().filter(|n| n.starts_with("DSM_"))?;
            match value.into_string() {
                Ok(value) => Some((name, value)),
                Err(_) => {
                    tracing::warn!("{name} is not UTF-8 text: ignored");
                    None
                }
            }
        })
    }

    /// Fill in endpoints not set yet from `DSM_<PROVIDER>_<KEY>_URL` and `DSM_<PROVIDER>_URL`.
    fn add_env_endpoints(&mut self, all: impl Iterator<Item = (String, String)>) {
        let provider = self.provider.trim().to_ascii_uppercase();
        let main = format!("DSM_{provider}_URL");
        let prefix = format!("DSM_{provider}_");
        for (name, value) in all {
            let key = if name == main {
                Some(MAIN_ENDPOINT.to_string())
            } else {
                name.strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix("_URL"))
                    .map(str::to_ascii_lowercase)
            };
            if let Some(key) = key {
                self.endpoints.entry(key).or_insert(value);
            }
        }
    }

    /// Whole-request timeout, body included.
    pub fn request_timeout(mut self, v: Duration) -> Self {
        self.request_timeout = v;
        self
    }
    /// TCP + TLS connect timeout.
    pub fn connect_timeout(mut self, v: Duration) -> Self {
        self.connect_timeout = v;
        self
    }
    /// Retries after the first attempt on network errors, timeouts and 5xx.
    pub fn retries(mut self, v: u32) -> Self {
        self.retries = v;
        self
    }
    /// First and longest backoff between retries.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }
    /// The longest 429/418 Retry-After waited out.
    pub fn max_retry_after(mut self, v: Duration) -> Self {
        self.max_retry_after = v;
        self
    }
    /// Idle connections kept per host.
    pub fn pool_size(mut self, v: u32) -> Self {
        self.pool_size = v;
        self
    }
    /// Requests in flight at once.
    pub fn concurrency(mut self, v: u32) -> Self {
        self.concurrency = v;
        self
    }
    /// Most verbose plugin log level passed on.
    pub fn log_level(mut self, v: LogLevel) -> Self {
        self.log_level = v;
        self
    }
    /// Log every HTTP request (at debug level).
    pub fn log_http(mut self, v: bool) -> Self {
        self.log_http = v;
        self
    }
    /// Override an endpoint by its manifest key, e.g. `endpoint("spot", "http://127.0.0.1:8080")`.
    pub fn endpoint(mut self, key: &str, url: &str) -> Self {
        self.endpoints.insert(
            key.to_ascii_lowercase(),
            url.trim_end_matches('/').to_string(),
        );
        self
    }
    /// Cache root (default: DSM_CACHE_DIR, else $XDG_CACHE_HOME/dsm, else ~/.cache/dsm).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }
    /// Read and write the cache (default on).
    pub fn cache_enabled(mut self, on: bool) -> Self {
        self.cache_enabled = on;
        self
    }
    /// Which sources fetches use (default auto).
    pub fn source(mut self, source: SourceMode) -> Self {
        self.source = source;
        self
    }
    /// How long after a period ends its holes (candles the exchange did not have) are asked
    /// for again: the exchange may still publish them.
    pub fn hole_recheck_window(mut self, v: Duration) -> Self {
        self.hole_recheck_window = v;
        self
    }
    /// Ask again for every hole of the range, however old.
    pub fn recheck_holes(mut self, on: bool) -> Self {
        self.recheck_holes = on;
        self
    }
    /// Load plugin files that other users could have written.
    pub fn allow_insecure_plugins(mut self, allow: bool) -> Self {
        self.allow_insecure_plugins = allow;
        self
    }
    /// Search this directory for plugins before DSM_PLUGIN_PATH and the default path (repeatable, in order).
    pub fn plugin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugin_dirs.push(dir.into());
        self
    }

    /// At manager creation: add the `DSM_*_URL` endpoints of the process environment (any
    /// preset), then resolve `MAIN_ENDPOINT` to the manifest's first endpoint key.
    pub(crate) fn resolve_endpoints(&mut self, endpoint_keys: &[String]) {
        self.resolve_endpoints_with(endpoint_keys, Self::env_vars());
    }

    fn resolve_endpoints_with(
        &mut self,
        endpoint_keys: &[String],
        vars: impl Iterator<Item = (String, String)>,
    ) {
        self.add_env_endpoints(vars);
        self.resolve_main_endpoint(endpoint_keys);
    }

    /// Resolve `MAIN_ENDPOINT` to the manifest's first endpoint key.
    fn resolve_main_endpoint(&mut self, endpoint_keys: &[String]) {
        if let Some(url) = self.endpoints.remove(MAIN_ENDPOINT) {
            match endpoint_keys.first() {
                Some(first) => {
                    self.endpoints.entry(first.clone()).or_insert(url);
                }
                None => {
                    self.endpoints.insert(MAIN_ENDPOINT.into(), url);
                }
            }
        }
    }

    pub(crate) fn validate(&self, endpoint_keys: &[String]) -> Result<()> {
        if self.request_timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(DsmError::InvalidInput(
                "timeouts must be greater than zero".into(),
            ));
        }
        if self.concurrency == 0 || self.pool_size == 0 {
            return Err(DsmError::InvalidInput(
                "concurrency and pool size must be at least 1".into(),
            ));
        }
        for (key, url) in &self.endpoints {
            if !endpoint_keys.iter().any(|k| k == key) {
                return Err(DsmError::InvalidInput(format!(
                    "endpoint override {key:?} (DSM_{}_{}_URL) is not an endpoint of {}; known: {}",
                    self.provider.to_ascii_uppercase(),
                    key.to_ascii_uppercase(),
                    self.provider,
                    endpoint_keys.join(", ")
                )));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(DsmError::InvalidInput(format!(
                    "endpoint override {key:?} must be an http:// or https:// URL, got {url:?}"
                )));
            }
        }
        Ok(())
    }

    /// The settings as the plugin receives them.
    pub fn provider_config(&self) -> ProviderConfig {
        ProviderConfig {
            connect_timeout_ms: self.connect_timeout.as_millis() as u64,
            request_timeout_ms: self.request_timeout.as_millis() as u64,
            retries: self.retries,
            backoff_base_ms: self.backoff_base.as_millis() as u64,
            backoff_max_ms: self.backoff_max.as_millis() as u64,
            max_retry_after_ms: self.max_retry_after.as_millis() as u64,
            pool_size: self.pool_size,
            concurrency: self.concurrency,
            log_level: self.log_level,
            log_http: self.log_http,
            endpoints: self
                .endpoints
                .iter()
                .map(|(k, v)| Endpoint {
                    key: RString::from(k.as_str()),
                    url: RString::from(v.trim_end_matches('/')),
                })
                .collect(),
        }
    }
}

fn parse_num(name: &str, value: &str) -> Result<u64> {
    value.trim().parse().map_err(|_| {
        DsmError::InvalidInput(format!(
            "{name}={value:?} is not a whole non-negative number"
        ))
    })
}

/// Parse a log level name (`error`, `warn`, `info`, `debug`, `trace`).
pub fn parse_level(value: &str) -> Result<LogLevel> {
    match value.trim().to_ascii_lowercase().as_str() {
        "error" => Ok(LogLevel::ERROR),
        "warn" | "warning" => Ok(LogLevel::WARN),
        "info" => Ok(LogLevel::INFO),
        "debug" => Ok(LogLevel::DEBUG),
        "trace" => Ok(LogLevel::TRACE),
        other => Err(DsmError::InvalidInput(format!(
            "log level {other:?} is not one of error, warn, info, debug, trace"
        ))),
    }
}

#[cfg(test)]
mod tests;
