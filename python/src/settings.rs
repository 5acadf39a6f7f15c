//! A manager's settings from Python: a preset, then the `DSM_*` environment, then the
//! keywords the user gave (already checked and normalized by `dsm/_config.py`).

use std::path::PathBuf;
use std::time::Duration;

use dsm_core::{DsmConfig, SourceMode};
use dsm_sdk::LogLevel;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{invalid, to_py};

/// The settings keys `dsm/_config.py` sends (its `_to_native` is the other half).
pub const KEYS: &[&str] = &[
    "request_timeout_ms",
    "connect_timeout_ms",
    "retries",
    "pool_size",
    "concurrency",
    "max_retry_after_ms",
    "log_level",
    "log_http",
    "cache_dir",
    "cache_enabled",
    "source",
    "endpoints",
    "plugin_dirs",
    "package_plugin_dir",
    "allow_insecure_plugins",
];

/// The config for `provider` / `market` with `preset` (default, production, development).
pub fn build(
    py: Python<'_>,
    provider: &str,
    market: &str,
    preset: &str,
    settings: &Bound<'_, PyDict>,
) -> PyResult<DsmConfig> {
    let base = match preset {
        "default" => DsmConfig::new(provider, market),
        "production" => DsmConfig::for_production(provider, market),
        "development" => DsmConfig::for_development(provider, market),
        other => {
            return Err(invalid(
                py,
                format!("preset {other:?} is not one of default, production, development"),
            ))
        }
    };
    DsmConfig::check_env().map_err(|e| to_py(py, e))?;
    let mut c = base
        .with_env(|k| std::env::var(k).ok(), DsmConfig::env_vars())
        .map_err(|e| to_py(py, e))?;
    let mut user_dirs: Vec<PathBuf> = Vec::new();
    let mut package_dir: Option<PathBuf> = None;
    for (key, value) in settings.iter() {
        let key: String = key.extract()?;
        let ms = |v: &Bound<'_, PyAny>| -> PyResult<Duration> {
            Ok(Duration::from_millis(v.extract()?))
        };
        match key.as_str() {
            "request_timeout_ms" => c.request_timeout = ms(&value)?,
            "connect_timeout_ms" => c.connect_timeout = ms(&value)?,
            "max_retry_after_ms" => c.max_retry_after = ms(&value)?,
            "retries" => c.retries = value.extract()?,
            "pool_size" => c.pool_size = value.extract()?,
            "concurrency" => c.concurrency = value.extract()?,
            "log_level" => c.log_level = level(py, &value.extract::<String>()?)?,
            "log_http" => c.log_http = value.extract()?,
            "cache_dir" => c.cache_dir = Some(value.extract::<PathBuf>()?),
            "cache_enabled" => c.cache_enabled = value.extract()?,
            "source" => {
                let s: String = value.extract()?;
                c.source = SourceMode::parse(&s).ok_or_else(|| {
                    invalid(
                        py,
                        format!("source {s:?} is not one of auto, cache, archive, rest"),
                    )
                })?;
            }
            "endpoints" => {
                for (k, url) in value.cast::<PyDict>()?.iter() {
                    c = c.endpoint(&k.extract::<String>()?, &url.extract::<String>()?);
                }
            }
            "plugin_dirs" => user_dirs = value.extract()?,
            "package_plugin_dir" => package_dir = Some(value.extract()?),
            "allow_insecure_plugins" => c.allow_insecure_plugins = value.extract()?,
            other => {
                return Err(invalid(
                    py,
                    format!("unknown setting {other:?}; known: {}", KEYS.join(", ")),
                ))
            }
        }
    }
    // Search order: the user's directories, DSM_PLUGIN_PATH, then the package's own plugins.
    user_dirs.append(&mut c.plugin_dirs);
    if package_dir.is_some() {
        user_dirs.extend(dsm_core::discovery::env_plugin_dirs());
    }
    user_dirs.extend(package_dir);
    c.plugin_dirs = user_dirs;
    Ok(c)
}

/// A level name `dsm/_config.py` normalized: error, warn, info, debug, trace.
pub fn level(py: Python<'_>, name: &str) -> PyResult<LogLevel> {
    Ok(match name {
        "error" => LogLevel::ERROR,
        "warn" => LogLevel::WARN,
        "info" => LogLevel::INFO,
        "debug" => LogLevel::DEBUG,
        "trace" => LogLevel::TRACE,
        other => {
            return Err(invalid(
                py,
                format!("log level {other:?} is not one of error, warn, info, debug, trace"),
            ))
        }
    })
}
