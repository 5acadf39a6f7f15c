//! The entry point for listing symbols, version 1: a third module a plugin exports beside
//! its root module and its data module, under its own symbol (the same reasoning as
//! [`crate::data_module`]: a method appended to `Provider` would make every plugin built
//! before it unloadable). A plugin without the symbol cannot list symbols; the host says
//! so ([`CANNOT_LIST`]). A later change is a `DSM_LISTING_MODULE_V2` beside this one,
//! never an edit of it.

#![allow(non_camel_case_types, non_local_definitions)] // what abi_stable's macros generate

use abi_stable::{
    sabi_trait,
    std_types::{RBox, ROption, RResult, RString, RVec},
    type_layout::TypeLayout,
    StableAbi,
};

use crate::{config::ProviderConfig, error::ProviderError, kind::DataKind, module::HostBox};

/// The symbol of [`ListingModuleExport`] in a plugin file (NUL-terminated, as dlsym wants).
pub const LISTING_MODULE_V1_SYMBOL: &[u8] = b"DSM_LISTING_MODULE_V1\0";

/// What the host says of a plugin without the symbol.
pub const CANNOT_LIST: &str =
    "this plugin cannot list symbols (built before dsm-sdk had listings); rebuild it";

/// What the default [`crate::plugin::Plugin::list`] answers.
pub const PROVIDER_CANNOT_LIST: &str = "this provider cannot list symbols";

/// What to list for one market.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct ListingRequest {
    pub market: RString,
    /// The exchange's instruments (its REST listing).
    pub instruments: bool,
    /// The archive's symbol directories for `kind` (delisted symbols included).
    pub archive: bool,
    /// Also each archive symbol's first and last day of `kind` at `interval` (needs an
    /// interval for kinds that have one).
    pub dates: bool,
    pub kind: DataKind,
    /// Empty for kinds without an interval.
    pub interval: RString,
}

/// One instrument as the exchange describes it; `None` where it says nothing.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Default)]
pub struct Instrument {
    pub symbol: RString,
    /// The exchange's own word (TRADING, BREAK, live, Trading, ...).
    pub status: ROption<RString>,
    pub base: ROption<RString>,
    pub quote: ROption<RString>,
    /// PERPETUAL, CURRENT_QUARTER, SWAP, LinearPerpetual, ...; `None` on spot.
    pub contract_type: ROption<RString>,
    /// Listing (onboard) time, ms UTC.
    pub listed_ms: ROption<i64>,
    /// Delivery or delisting time, ms UTC; `None` for a perpetual with no date set.
    pub delivery_ms: ROption<i64>,
}

/// One symbol directory of the archive, with its first and last published day (the
/// day's start, ms UTC) when dates were asked for and any file exists.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq)]
pub struct ArchiveSpan {
    pub symbol: RString,
    pub kind: DataKind,
    pub interval: RString,
    pub first_day_ms: ROption<i64>,
    pub last_day_ms: ROption<i64>,
}

/// The answer to a [`ListingRequest`]. `warnings`: what failed without failing the
/// listing (e.g. REST geo-blocked while the archive answered).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Default)]
pub struct Listing {
    pub instruments: RVec<Instrument>,
    pub archive: RVec<ArchiveSpan>,
    pub warnings: RVec<RString>,
    /// HTTP requests made, retries included.
    pub requests: u64,
}

/// A lister: made by [`ListingModuleV1::new_lister`], one per manager.
#[sabi_trait]
pub trait Lister: Send + Sync {
    /// List what `request` asks for. Blocking.
    #[sabi(last_prefix_field)]
    fn list(&self, request: &ListingRequest) -> RResult<Listing, ProviderError>;
}

pub type ListerBox = Lister_TO<'static, RBox<()>>;

/// Version 1 of the listing module.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ListingModuleV1_Ref)))]
#[sabi(missing_field(panic))]
pub struct ListingModuleV1 {
    /// Create a lister. Never panics across the boundary.
    #[sabi(last_prefix_field)]
    pub new_lister:
        extern "C" fn(config: ProviderConfig, host: HostBox) -> RResult<ListerBox, ProviderError>,
}

/// What the symbol holds: the module's layout as the plugin was built and the module.
/// Frozen: never changed.
#[repr(C)]
pub struct ListingModuleExport {
    pub layout: &'static TypeLayout,
    pub module: extern "C" fn() -> ListingModuleV1_Ref,
}

/// The layout a host expects behind [`LISTING_MODULE_V1_SYMBOL`].
pub fn expected_layout() -> &'static TypeLayout {
    <ListingModuleV1_Ref as StableAbi>::LAYOUT
}
