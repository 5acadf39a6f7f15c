//! dsm plugin for Bybit (v5 REST): spot, linear and inverse klines from
//! `/v5/market/kline`. No archive source. See fetch.rs for the windows and the column
//! mapping, markets.rs for symbol forms, errors.rs for retCodes and the 403 ban.

mod errors;
pub mod fetch;
mod markets;

use std::sync::Arc;

use dsm_plugin_kit::{deliver, request, window, Core, Out};
use dsm_sdk::{
    plugin::{Host, Plugin, Sink},
    FetchReport, FetchRequest, ProviderConfig, ProviderError,
};

pub use markets::Market;

/// Endpoint key of the REST API (`DSM_BYBIT_URL` / `DSM_BYBIT_REST_URL`).
pub const ENDPOINT: &str = "rest";
pub const DEFAULT_URL: &str = "https://api.bybit.com";

pub struct BybitProvider {
    core: Core,
}

impl BybitProvider {
    fn base_url(&self) -> String {
        self.core
            .config
            .endpoint(ENDPOINT)
            .unwrap_or(DEFAULT_URL)
            .trim_end_matches('/')
            .to_string()
    }

    /// The fetch, with batches going to `out` (the host's sink, or a test collector).
    pub fn fetch_into(
        &self,
        req: &FetchRequest,
        out: &mut dyn Out,
    ) -> Result<FetchReport, ProviderError> {
        let market = Market::from_name(&req.market).ok_or_else(|| {
            request::unknown_market("Bybit", &req.market, &["spot", "linear", "inverse"])
        })?;
        let place = format!("Bybit {}", market.id());
        let name = req.interval.as_str();
        let interval = request::interval_in(&place, name, market.intervals())?;
        let bybit_interval = markets::bybit_interval(name).expect("every listed interval maps");
        request::symbol_chars(&place, &req.symbol, market.symbol_example())?;
        request::live_only("Bybit", req.source)?;
        request::non_empty_range(req)?;
        let job = Arc::new(fetch::Job {
            market,
            typed: req.symbol.to_string(),
            symbol: market.symbol(&req.symbol),
            interval_name: name.to_string(),
            interval,
            bybit_interval,
            base_url: self.base_url(),
            http: self.core.http()?,
        });
        let (start, end) = (req.start_ms, req.end_ms);
        let windows = window::plan(start, end, interval.min_step_ms(), fetch::PAGE, None);
        let concurrency = self.core.config.concurrency as usize;
        self.core.block_on(deliver::fetch_in_order(
            windows,
            (start, end),
            concurrency,
            out,
            |w| fetch::fetch_window(job.clone(), w),
        ))?
    }

    /// Whether the runtime has started (it starts on the first fetch).
    pub fn is_started(&self) -> bool {
        self.core.is_started()
    }
}

impl Plugin for BybitProvider {
    fn new(config: ProviderConfig, host: Host) -> Result<Self, ProviderError> {
        Ok(BybitProvider {
            core: Core::new("bybit", env!("CARGO_PKG_VERSION"), config, host),
        })
    }

    fn fetch(
        &self,
        req: &FetchRequest,
        sink: &mut Sink<'_, '_>,
    ) -> Result<FetchReport, ProviderError> {
        self.fetch_into(req, sink)
    }
}

dsm_sdk::export_provider! {
    id: "bybit",
    manifest: "../manifest.json",
    plugin: BybitProvider,
}
