//! dsm plugin for OKX (v5 REST): spot (`BTC-USDT`) and perpetual swaps (`BTC-USDT-SWAP`,
//! `BTC-USD-SWAP`) candles from `/api/v5/market/history-candles`. No archive source.
//! See fetch.rs for the paging and the column mapping, markets.rs for symbol forms.

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

/// Endpoint key of the REST API (`DSM_OKX_URL` / `DSM_OKX_REST_URL`).
pub const ENDPOINT: &str = "rest";
pub const DEFAULT_URL: &str = "https://www.okx.com";

pub struct OkxProvider {
    core: Core,
}

impl OkxProvider {
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
        let market = Market::from_name(&req.market)
            .ok_or_else(|| request::unknown_market("OKX", &req.market, &["spot", "swap"]))?;
        let place = format!("OKX {}", market.id());
        let name = req.interval.as_str();
        let interval = request::interval_in(&place, name, market.intervals())?;
        let bar = markets::bar(name).expect("every listed interval has a bar");
        request::symbol_chars(&place, &req.symbol, market.symbol_example())?;
        let inst_id = market.inst_id(&req.symbol)?;
        request::live_only("OKX", req.source)?;
        request::non_empty_range(req)?;
        let job = Arc::new(fetch::Job {
            market,
            symbol: req.symbol.to_string(),
            inst_id,
            interval_name: name.to_string(),
            interval,
            bar,
            base_url: self.base_url(),
            http: self.core.http()?,
            host: self.core.host.clone(),
        });
        let (start, end) = (req.start_ms, req.end_ms);
        let chunks = window::plan_chunks(start, end, interval.min_step_ms(), fetch::PAGE);
        let concurrency = self.core.config.concurrency as usize;
        self.core.block_on(deliver::fetch_in_order(
            chunks,
            (start, end),
            concurrency,
            out,
            |w| fetch::fetch_chunk(job.clone(), w),
        ))?
    }

    /// Whether the runtime has started (it starts on the first fetch).
    pub fn is_started(&self) -> bool {
        self.core.is_started()
    }
}

impl Plugin for OkxProvider {
    fn new(config: ProviderConfig, host: Host) -> Result<Self, ProviderError> {
        Ok(OkxProvider {
            core: Core::new("okx", env!("CARGO_PKG_VERSION"), config, host),
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
    id: "okx",
    manifest: "../manifest.json",
    plugin: OkxProvider,
}
