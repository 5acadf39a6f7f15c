//! The entry point for data kinds beyond klines, version 1: a second module a plugin
//! exports beside its root module, under its own symbol.
//!
//! Why not a method appended to `Provider`: abi_stable's load-time check accepts a plugin
//! whose prefix types have *more* fields than the host's (an older host, a newer plugin),
//! but refuses one with fewer, so a host with an appended method could no longer load any
//! plugin built before it (tests/tests/e2e/old_sdk_plugin.rs shows both). A new entry point is
//! instead a new versioned symbol: a plugin without it serves klines only, and the host
//! checks the module's layout itself before using it. A later change to this module is a
//! `DSM_DATA_MODULE_V2` beside this one, never an edit of it.

#![allow(non_camel_case_types, non_local_definitions)] // what abi_stable's macros generate

use abi_stable::{
    sabi_trait,
    sabi_types::RMut,
    std_types::{RBox, RResult},
    type_layout::TypeLayout,
    StableAbi,
};

use crate::{
    config::ProviderConfig,
    error::ProviderError,
    module::{DataSink_TO, HostBox},
    types::{DataRequest, FetchReport},
};

/// The symbol of [`DataModuleExport`] in a plugin file (NUL-terminated, as dlsym wants).
pub const DATA_MODULE_V1_SYMBOL: &[u8] = b"DSM_DATA_MODULE_V1\0";

/// What the host says of a plugin without the symbol, asked for another kind than klines.
pub const KLINES_ONLY: &str =
    "this plugin serves klines only (built before dsm-sdk had data kinds)";

/// A provider of data kinds: made by [`DataModuleV1::new_data_provider`], one per manager.
#[sabi_trait]
pub trait DataProvider: Send + Sync {
    /// Fetch `request` (any kind the manifest lists but klines), handing rows to `sink`.
    /// Blocking.
    #[sabi(last_prefix_field)]
    fn fetch_data(
        &self,
        request: &DataRequest,
        sink: DataSink_TO<'_, RMut<'_, ()>>,
    ) -> RResult<FetchReport, ProviderError>;
}

pub type DataProviderBox = DataProvider_TO<'static, RBox<()>>;

/// Version 1 of the data module.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = DataModuleV1_Ref)))]
#[sabi(missing_field(panic))]
pub struct DataModuleV1 {
    /// Create a data provider. Never panics across the boundary.
    #[sabi(last_prefix_field)]
    pub new_data_provider: extern "C" fn(
        config: ProviderConfig,
        host: HostBox,
    ) -> RResult<DataProviderBox, ProviderError>,
}

/// What the symbol holds: the module's layout as the plugin was built (the host compares
/// it with its own before calling anything) and the module. Frozen: never changed.
#[repr(C)]
pub struct DataModuleExport {
    pub layout: &'static TypeLayout,
    pub module: extern "C" fn() -> DataModuleV1_Ref,
}

/// The layout a host expects behind [`DATA_MODULE_V1_SYMBOL`].
pub fn expected_layout() -> &'static TypeLayout {
    <DataModuleV1_Ref as StableAbi>::LAYOUT
}
