//! The root module a plugin exports, and the trait objects that cross the boundary.
#![allow(non_camel_case_types, non_local_definitions)] // what abi_stable's macros generate

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, RResult, RStr},
    StableAbi,
};

use crate::{
    config::{LogLevel, ProviderConfig},
    error::ProviderError,
    types::{FetchReport, FetchRequest, FundingBatch, KlineBatch, MetricBatch, TradeBatch},
};

/// What the sink answers to a batch. Transparent so answers can be added.
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkControl(pub u32);

impl SinkControl {
    pub const CONTINUE: SinkControl = SinkControl(0);
    /// The host wants no more data (cancelled, or it has what it needs).
    pub const STOP: SinkControl = SinkControl(1);
}

/// The host's receiver of candles for one fetch.
#[sabi_trait]
pub trait KlineSink {
    /// Hand over a batch; the plugin stops fetching when the answer is `STOP`.
    fn push(&mut self, batch: KlineBatch) -> SinkControl;

    /// Progress in milliseconds of the requested range covered so far.
    #[sabi(last_prefix_field)]
    fn progress(&mut self, done_ms: i64, total_ms: i64);
}

/// The host's receiver of rows of any kind for one `DataProvider::fetch_data` call. Each
/// shape has its method; a kind of a new shape appends one (with a default that stops).
#[sabi_trait]
pub trait DataSink {
    /// Candle-shaped kinds (mark, index, premium): the same rows as klines.
    fn push_klines(&mut self, batch: KlineBatch) -> SinkControl;

    fn push_funding(&mut self, batch: FundingBatch) -> SinkControl;

    /// Trades and aggregated trades.
    fn push_trades(&mut self, batch: TradeBatch) -> SinkControl;

    fn push_metrics(&mut self, batch: MetricBatch) -> SinkControl;

    /// Progress in milliseconds of the requested range covered so far.
    #[sabi(last_prefix_field)]
    fn progress(&mut self, done_ms: i64, total_ms: i64);
}

/// Services the host offers a plugin for its whole life (the SQLite model: the host hands
/// the plugin a table of functions instead of the plugin linking its own copy).
#[sabi_trait]
pub trait HostServices: Send + Sync {
    /// Log through the host's logger. The plugin's own `tracing` is not the host's.
    fn log(&self, level: LogLevel, message: RStr<'_>);

    /// True once the host wants every request of this provider to end early.
    #[sabi(last_prefix_field)]
    fn is_cancelled(&self) -> bool;
}

/// A provider instance: one per manager; it owns its runtime and connection pool, which
/// end when it is dropped.
#[sabi_trait]
pub trait Provider: Send + Sync {
    /// Fetch `request`, handing candles to `sink` in batches. Blocking.
    #[sabi(last_prefix_field)]
    fn fetch(
        &self,
        request: &FetchRequest,
        sink: KlineSink_TO<'_, abi_stable::sabi_types::RMut<'_, ()>>,
    ) -> RResult<FetchReport, ProviderError>;
}

pub type ProviderBox = Provider_TO<'static, RBox<()>>;
pub type HostBox = HostServices_TO<'static, RBox<()>>;

/// The root module of every plugin. A prefix type: fields may be appended in minor versions.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModule_Ref)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// The provider id; the host checks it against the manifest read from the file.
    pub plugin_id: RStr<'static>,
    /// The dsm-sdk version the plugin was built with.
    pub sdk_version: RStr<'static>,
    /// Create a provider. Never panics across the boundary.
    #[sabi(last_prefix_field)]
    pub new_provider:
        extern "C" fn(config: ProviderConfig, host: HostBox) -> RResult<ProviderBox, ProviderError>,
}

impl RootModule for PluginModule_Ref {
    declare_root_module_statics! {PluginModule_Ref}
    const BASE_NAME: &'static str = "dsm_plugin";
    const NAME: &'static str = "dsm_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
