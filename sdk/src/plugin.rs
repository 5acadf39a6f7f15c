//! What a plugin author implements ([`Plugin`]) and the glue [`export_provider!`] writes.
//!
//! Panics never cross the boundary: every call into the plugin runs inside `catch_unwind`
//! and a panic becomes a `PANICKED` error.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use abi_stable::{
    sabi_trait::TD_Opaque,
    sabi_types::RMut,
    std_types::{RResult, RStr},
};

use crate::{
    config::{LogLevel, ProviderConfig},
    data_module::{DataProvider, DataProviderBox, DataProvider_TO, KLINES_ONLY},
    error::{ErrorKind, ProviderError},
    listing_module::{Lister, ListerBox, Lister_TO, Listing, ListingRequest, PROVIDER_CANNOT_LIST},
    module::{DataSink_TO, HostBox, KlineSink_TO, Provider, ProviderBox, Provider_TO, SinkControl},
    types::{
        DataRequest, FetchReport, FetchRequest, FundingBatch, KlineBatch, MetricBatch, TradeBatch,
    },
};

/// The version of this SDK as a literal, for `concat!` in [`export_provider!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __sdk_version {
    () => {
        "0.1.0"
    };
}

/// An exchange backend. Implement this and call [`export_provider!`].
pub trait Plugin: Send + Sync + Sized + 'static {
    /// Create the provider. Keep it cheap: open runtimes and connections on first use.
    fn new(config: ProviderConfig, host: Host) -> Result<Self, ProviderError>;

    /// Fetch the request's range, handing candles to `sink` in batches (blocking).
    fn fetch(
        &self,
        request: &FetchRequest,
        sink: &mut Sink<'_, '_>,
    ) -> Result<FetchReport, ProviderError>;

    /// Fetch a request of another data kind than klines (those the manifest lists for the
    /// market), handing rows to `sink`. The default serves none.
    fn fetch_data(
        &self,
        request: &DataRequest,
        sink: &mut DataOut<'_, '_>,
    ) -> Result<FetchReport, ProviderError> {
        let _ = (request, sink);
        Err(ProviderError::new(
            ErrorKind::UNSUPPORTED_SOURCE,
            KLINES_ONLY,
        ))
    }

    /// List the market's instruments and archive symbols (see
    /// [`crate::listing_module`]). The default lists nothing.
    fn list(&self, request: &ListingRequest) -> Result<Listing, ProviderError> {
        let _ = request;
        Err(ProviderError::new(
            ErrorKind::UNSUPPORTED_SOURCE,
            PROVIDER_CANNOT_LIST,
        ))
    }
}

/// The host's services, cheap to clone.
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostBox>,
    level: LogLevel,
}

impl Host {
    pub fn new(inner: HostBox, level: LogLevel) -> Self {
        Host {
            inner: Arc::new(inner),
            level,
        }
    }

    /// Whether a message at `level` would be logged (skip building it otherwise).
    pub fn enabled(&self, level: LogLevel) -> bool {
        level <= self.level
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        if self.enabled(level) {
            self.inner.log(level, RStr::from_str(message));
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

/// The host's receiver of candles for one fetch.
pub struct Sink<'a, 'b> {
    inner: KlineSink_TO<'a, RMut<'b, ()>>,
}

impl Sink<'_, '_> {
    /// Hand a batch to the host; `Err(CANCELLED)` when the host wants no more.
    pub fn push(&mut self, batch: KlineBatch) -> Result<(), ProviderError> {
        answer(self.inner.push(batch))
    }

    pub fn progress(&mut self, done_ms: i64, total_ms: i64) {
        self.inner.progress(done_ms, total_ms);
    }
}

/// The host's receiver of rows of any kind for one [`Plugin::fetch_data`] call.
pub struct DataOut<'a, 'b> {
    inner: DataSink_TO<'a, RMut<'b, ()>>,
}

fn answer(control: SinkControl) -> Result<(), ProviderError> {
    match control {
        SinkControl::CONTINUE => Ok(()),
        _ => Err(ProviderError::new(
            ErrorKind::CANCELLED,
            "the host stopped the fetch",
        )),
    }
}

impl DataOut<'_, '_> {
    /// Candles of a candle-shaped kind (mark, index, premium).
    pub fn push_klines(&mut self, batch: KlineBatch) -> Result<(), ProviderError> {
        answer(self.inner.push_klines(batch))
    }

    pub fn push_funding(&mut self, batch: FundingBatch) -> Result<(), ProviderError> {
        answer(self.inner.push_funding(batch))
    }

    /// Trades or aggregated trades.
    pub fn push_trades(&mut self, batch: TradeBatch) -> Result<(), ProviderError> {
        answer(self.inner.push_trades(batch))
    }

    pub fn push_metrics(&mut self, batch: MetricBatch) -> Result<(), ProviderError> {
        answer(self.inner.push_metrics(batch))
    }

    pub fn progress(&mut self, done_ms: i64, total_ms: i64) {
        self.inner.progress(done_ms, total_ms);
    }
}

/// Wraps a plugin so that every call is guarded against panics.
struct Guarded<P>(P);

impl<P: Plugin> Provider for Guarded<P> {
    fn fetch(
        &self,
        request: &FetchRequest,
        sink: KlineSink_TO<'_, RMut<'_, ()>>,
    ) -> RResult<FetchReport, ProviderError> {
        let mut sink = Sink { inner: sink };
        guard("fetch", || self.0.fetch(request, &mut sink))
    }
}

impl<P: Plugin> DataProvider for Guarded<P> {
    fn fetch_data(
        &self,
        request: &DataRequest,
        sink: DataSink_TO<'_, RMut<'_, ()>>,
    ) -> RResult<FetchReport, ProviderError> {
        let mut sink = DataOut { inner: sink };
        guard("fetch_data", || self.0.fetch_data(request, &mut sink))
    }
}

impl<P: Plugin> Lister for Guarded<P> {
    fn list(&self, request: &ListingRequest) -> RResult<Listing, ProviderError> {
        guard("list", || self.0.list(request))
    }
}

fn guard<T>(what: &str, f: impl FnOnce() -> Result<T, ProviderError>) -> RResult<T, ProviderError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => RResult::ROk(v),
        Ok(Err(e)) => RResult::RErr(e),
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            RResult::RErr(ProviderError::new(
                ErrorKind::PANICKED,
                format!("the plugin panicked in {what}: {detail}"),
            ))
        }
    }
}

/// The body of the exported constructor (called by [`export_provider!`]'s glue).
#[doc(hidden)]
pub fn new_provider<P: Plugin>(
    config: ProviderConfig,
    host: HostBox,
) -> RResult<ProviderBox, ProviderError> {
    guard("new_provider", move || {
        let host = Host::new(host, config.log_level);
        let plugin = P::new(config, host)?;
        Ok(Provider_TO::from_value(Guarded(plugin), TD_Opaque))
    })
}

/// The body of the exported data-provider constructor (see [`crate::data_module`]).
#[doc(hidden)]
pub fn new_data_provider<P: Plugin>(
    config: ProviderConfig,
    host: HostBox,
) -> RResult<DataProviderBox, ProviderError> {
    guard("new_data_provider", move || {
        let host = Host::new(host, config.log_level);
        let plugin = P::new(config, host)?;
        Ok(DataProvider_TO::from_value(Guarded(plugin), TD_Opaque))
    })
}

/// The body of the exported lister constructor (see [`crate::listing_module`]).
#[doc(hidden)]
pub fn new_lister<P: Plugin>(
    config: ProviderConfig,
    host: HostBox,
) -> RResult<ListerBox, ProviderError> {
    guard("new_lister", move || {
        let host = Host::new(host, config.log_level);
        let plugin = P::new(config, host)?;
        Ok(Lister_TO::from_value(Guarded(plugin), TD_Opaque))
    })
}

/// `&str` to a byte array in const context, for the manifest static.
#[doc(hidden)]
pub const fn str_to_array<const N: usize>(s: &str) -> [u8; N] {
    let bytes = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Write all of a plugin's glue: the manifest symbol, the root module and the panic-guarded
/// constructor.
///
/// ```ignore
/// dsm_sdk::export_provider! {
///     id: "binance",                 // must equal the manifest's "id"
///     manifest: "../manifest.json",  // relative to this file: the "plugin" part
///     plugin: BinanceProvider,       // implements dsm_sdk::plugin::Plugin
/// }
/// ```
#[macro_export]
macro_rules! export_provider {
    (id: $id:literal, manifest: $path:literal, plugin: $plugin:ty $(,)?) => {
        const __DSM_MANIFEST_JSON: &str = concat!(
            "{\"format\":1,\"sdk_version\":\"",
            $crate::__sdk_version!(),
            "\",\"version\":\"",
            env!("CARGO_PKG_VERSION"),
            "\",\"plugin\":",
            include_str!($path),
            "}"
        );

        /// The manifest, read by the host from this file without loading it.
        #[no_mangle]
        #[used]
        pub static DSM_PLUGIN_MANIFEST: [u8; __DSM_MANIFEST_JSON.len()] =
            $crate::plugin::str_to_array(__DSM_MANIFEST_JSON);

        extern "C" fn __dsm_new_provider(
            config: $crate::ProviderConfig,
            host: $crate::module::HostBox,
        ) -> $crate::abi_stable::std_types::RResult<$crate::ProviderBox, $crate::ProviderError>
        {
            $crate::plugin::new_provider::<$plugin>(config, host)
        }

        extern "C" fn __dsm_new_data_provider(
            config: $crate::ProviderConfig,
            host: $crate::module::HostBox,
        ) -> $crate::abi_stable::std_types::RResult<
            $crate::data_module::DataProviderBox,
            $crate::ProviderError,
        > {
            $crate::plugin::new_data_provider::<$plugin>(config, host)
        }

        extern "C" fn __dsm_data_module() -> $crate::data_module::DataModuleV1_Ref {
            use $crate::abi_stable::prefix_type::PrefixTypeTrait;
            $crate::data_module::DataModuleV1 {
                new_data_provider: __dsm_new_data_provider,
            }
            .leak_into_prefix()
        }

        /// The data-kinds module (version 1), found by the host by this name.
        #[no_mangle]
        pub static DSM_DATA_MODULE_V1: $crate::data_module::DataModuleExport =
            $crate::data_module::DataModuleExport {
                layout: <$crate::data_module::DataModuleV1_Ref as $crate::abi_stable::StableAbi>::LAYOUT,
                module: __dsm_data_module,
            };

        extern "C" fn __dsm_new_lister(
            config: $crate::ProviderConfig,
            host: $crate::module::HostBox,
        ) -> $crate::abi_stable::std_types::RResult<
            $crate::listing_module::ListerBox,
            $crate::ProviderError,
        > {
            $crate::plugin::new_lister::<$plugin>(config, host)
        }

        extern "C" fn __dsm_listing_module() -> $crate::listing_module::ListingModuleV1_Ref {
            use $crate::abi_stable::prefix_type::PrefixTypeTrait;
            $crate::listing_module::ListingModuleV1 {
                new_lister: __dsm_new_lister,
            }
            .leak_into_prefix()
        }

        /// The symbol-listing module (version 1), found by the host by this name.
        #[no_mangle]
        pub static DSM_LISTING_MODULE_V1: $crate::listing_module::ListingModuleExport =
            $crate::listing_module::ListingModuleExport {
                layout: <$crate::listing_module::ListingModuleV1_Ref as $crate::abi_stable::StableAbi>::LAYOUT,
                module: __dsm_listing_module,
            };

        fn __dsm_root_module() -> $crate::PluginModule_Ref {
            use $crate::abi_stable::prefix_type::PrefixTypeTrait;
            $crate::PluginModule {
                plugin_id: $crate::abi_stable::std_types::RStr::from_str($id),
                sdk_version: $crate::abi_stable::std_types::RStr::from_str(
                    $crate::__sdk_version!(),
                ),
                new_provider: __dsm_new_provider,
            }
            .leak_into_prefix()
        }

        // What abi_stable's #[export_root_module] writes; spelled out so that plugins need
        // no direct abi_stable dependency.
        #[no_mangle]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi_stable::library::LibHeader = {
            extern "C" fn __dsm_erased_module() -> $crate::abi_stable::library::RootModuleResult {
                $crate::abi_stable::library::__call_root_module_loader(__dsm_root_module)
            }
            unsafe {
                $crate::abi_stable::library::LibHeader::from_constructor::<$crate::PluginModule_Ref>(
                    __dsm_erased_module,
                    $crate::abi_stable::library::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_literal_matches_crate() {
        assert_eq!(crate::__sdk_version!(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn str_to_array_copies_every_byte() {
        let a: [u8; 3] = super::str_to_array("abc");
        assert_eq!(&a, b"abc");
    }
}
