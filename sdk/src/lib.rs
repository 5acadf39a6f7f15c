//! dsm-sdk: the stable ABI between the dsm host and its exchange plugins.
//!
//! Only `StableAbi` types cross the boundary (see README.md for the versioning policy).
//! A plugin implements [`plugin::Plugin`] and calls [`export_provider!`]; it writes no unsafe
//! code and no ABI glue.

pub mod calendar;
pub mod config;
pub mod data_module;
pub mod error;
pub mod interval;
pub mod kind;
pub mod listing_module;
pub mod manifest;
pub mod module;
pub mod plugin;
pub mod symbol;
pub mod time;
pub mod types;

pub use abi_stable;
pub use config::{Endpoint, LogLevel, ProviderConfig};
pub use error::{ErrorKind, ProviderError};
pub use kind::DataKind;
pub use manifest::{Manifest, MarketInfo, PluginInfo, MANIFEST_SYMBOL};
pub use module::{
    DataSink, DataSink_TO, HostBox, HostServices, HostServices_TO, KlineSink, KlineSink_TO,
    PluginModule, PluginModule_Ref, Provider, ProviderBox, Provider_TO, SinkControl,
};
pub use types::{
    DataRequest, FetchReport, FetchRequest, FundingBatch, FundingRate, Kline, KlineBatch, Metric,
    MetricBatch, MissingRange, SourceKind, Trade, TradeBatch,
};

/// Version of this SDK crate; the host prints it next to a plugin's in version errors.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
