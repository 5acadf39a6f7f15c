//! dsm: verified historical crypto market data, with each exchange in a plugin that is
//! opened only when it is first used.
//!
//! ```no_run
//! let dsm = dsm_core::Dsm::create("BINANCE", "SPOT")?;   // reads manifests, loads nothing
//! let klines = dsm.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")?;
//! println!("{} candles", klines.len());
//! # Ok::<(), dsm_core::DsmError>(())
//! ```
//!
//! The API: [`Dsm`] (a manager for one provider and market), [`DsmConfig`], the results
//! ([`Klines`], [`PeriodBatch`], [`FetchSummary`], [`Gap`], [`Source`]), [`DsmError`], and
//! these modules for tools built on the library (the `dsm` command uses them):
//!
//! - [`discovery`]: the plugin search path and the providers found, from manifests alone
//! - [`cache`]: the cache layout; list, verify and clear cached files
//! - [`dataset`]: export the cache as a Hive-partitioned Parquet dataset (DuckDB, Spark)
//! - [`sync`]: many series in one run, sharding, lockfiles (`dsm sync`)
//! - [`symbols`]: a market's instruments and archive symbols ([`Dsm::symbols`])
//! - [`timeparse`], [`request`], [`interval`]: times, requests and intervals as users write them
//! - [`output`], [`output_arrow`], [`columnar`]: CSV / JSON Lines, Parquet / Arrow files,
//!   Arrow record batches
//!
//! Plugins are found along [`discovery::search_dirs`]: [`DsmConfig::plugin_dir`],
//! `DSM_PLUGIN_PATH`, beside the executable (and its `../lib/dsm/plugins`, where
//! `cargo xtask install` puts them), `~/.local/share/dsm/plugins`, and the `lib/dsm/plugins`
//! of `~/.local` and `/usr/local`.
#![deny(missing_docs)]

pub mod cache;
pub mod columnar;
mod config;
pub mod dataset;
pub mod discovery;
mod error;
mod failover;
mod handoff;
mod host_services;
pub mod interval;
pub mod kinds;
mod klines;
mod loader;
mod manager;
mod manager_kinds;
mod manager_stream;
mod manifest_file;
pub mod memory;
pub mod output;
pub mod output_arrow;
mod report;
pub mod request;
pub mod symbols;
pub mod sync;
pub mod timeparse;
mod validate;

/// The Arrow crates of the record batches the library hands out.
pub use arrow_array;
#[doc(no_inline)]
pub use arrow_schema;
pub use config::DsmConfig;
pub use dsm_sdk::{
    DataKind, ErrorKind, FundingRate, Kline, LogLevel, Manifest, MarketInfo, ProviderError,
};
pub use error::{DsmError, Result};
pub use klines::{FundingRates, Klines};
pub use loader::{loaded_plugins, LoadedPlugin};
pub use manager::Dsm;
pub use manager_kinds::{KindRequest, PeriodRecords};
pub use manager_stream::FetchStream;
#[doc(hidden)] // for the fuzz tests
pub use manifest_file::manifest_from_bytes;
pub use manifest_file::read_manifest;
pub use report::{FetchSummary, Gap, PeriodBatch, Source, SourceMode};
pub use request::IntoMillis;
pub use symbols::{SymbolListing, SymbolQuery, SymbolRow};

/// One call: create a manager (defaults and environment) and fetch.
pub fn fetch_market_data(
    provider: &str,
    market: &str,
    symbol: &str,
    interval: &str,
    start: impl IntoMillis,
    end: impl IntoMillis,
) -> Result<Klines> {
    Dsm::create(provider, market)?.fetch_market_data(symbol, interval, start, end)
}

/// Every provider found along the search path (with `extra_dirs` first), from manifests
/// alone, and every plugin file that could not be read or is not safe to load.
pub fn list_providers(extra_dirs: &[std::path::PathBuf]) -> discovery::Listing {
    discovery::list(&discovery::search_dirs(extra_dirs), false)
}
