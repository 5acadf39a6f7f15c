//! dsm plugin for OKX (v5 REST): spot (`BTC-USDT`) and perpetual swaps (`BTC-USDT-SWAP`,
//! `BTC-USD-SWAP`) candles from `/api/v5/market/history-candles`; for swaps also funding
//! rates (funding.rs) and mark and index candles (series.rs). No archive source.
//! See fetch.rs for the paging and the column mapping, markets.rs for symbol forms.

mod api;
mod errors;
pub mod fetch;
pub mod funding;
pub mod instruments;
mod markets;
pub mod series;
pub mod trades;

use std::sync::Arc;

use dsm_plugin_kit::{
    deliver, funding as kit_funding, kinds, request, window, Core, FundingOut, Out, TradesOut,
};
use dsm_sdk::{
    listing_module::{Listing, ListingRequest},
    plugin::{DataOut, Host, Plugin, Sink},
    time::now_ms,
    DataKind, DataRequest, FetchReport, FetchRequest, ProviderConfig, ProviderError,
};

pub use markets::Market;
use series::Series;

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

    /// The klines fetch, with batches going to `out` (the host's sink, or a test collector).
    pub fn fetch_into(
        &self,
        req: &FetchRequest,
        out: &mut dyn Out,
    ) -> Result<FetchReport, ProviderError> {
        let market = market_of(&req.market)?;
        self.fetch_candles(req, market, &series::KLINES, market.intervals(), out)
    }

    /// A fetch of any kind, with rows going to `out` (the host's sink, or a test collector):
    /// dispatched by the kind, which the market must list in the manifest.
    pub fn fetch_data_into<O: Out + FundingOut + TradesOut>(
        &self,
        req: &DataRequest,
        out: &mut O,
    ) -> Result<FetchReport, ProviderError> {
        let market = market_of(&req.market)?;
        let offer = kinds::offer("OKX", markets::manifest(), market.info(), req.kind)?;
        if req.kind == DataKind::FUNDING {
            return self.fetch_funding(req, market, out);
        }
        if req.kind == DataKind::TRADES {
            return self.fetch_trades(req, market, out);
        }
        let series = Series::of(req.kind).expect("the manifest lists kinds OKX has a series of");
        self.fetch_candles(&kinds::as_fetch(req), market, series, &offer.intervals, out)
    }

    /// Candles of `series` for `req`, whose interval must be one of `intervals`.
    fn fetch_candles(
        &self,
        req: &FetchRequest,
        market: Market,
        series: &'static Series,
        intervals: &[String],
        out: &mut dyn Out,
    ) -> Result<FetchReport, ProviderError> {
        let place = format!("OKX {}", market.id());
        let name = req.interval.as_str();
        let interval = request::interval_in(&place, name, intervals)?;
        let bar = markets::bar(name).expect("every listed interval has a bar");
        request::symbol_chars(&place, &req.symbol, market.symbol_example())?;
        let inst_id = series.inst_id(&market.inst_id(&req.symbol)?);
        request::live_only("OKX", req.source)?;
        request::non_empty_range(req)?;
        let job = Arc::new(fetch::Job {
            market,
            series,
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

    /// Funding rates of a swap over `req`'s range, as one batch.
    fn fetch_funding(
        &self,
        req: &DataRequest,
        market: Market,
        out: &mut dyn FundingOut,
    ) -> Result<FetchReport, ProviderError> {
        let place = format!("OKX {}", market.id());
        request::symbol_chars(&place, &req.symbol, market.symbol_example())?;
        let inst_id = market.inst_id(&req.symbol)?;
        request::live_only("OKX", req.source)?;
        request::non_empty_range(&kinds::as_fetch(req))?;
        let job = funding::Job {
            market,
            symbol: req.symbol.to_string(),
            inst_id,
            base_url: self.base_url(),
            http: self.core.http()?,
        };
        let (start, end) = (req.start_ms, req.end_ms);
        let found = self.core.block_on(job.fetch(start, end, now_ms()))??;
        kit_funding::deliver(
            out,
            found.rows,
            found.covered,
            (start, end),
            found.requests,
            found.missing.into_iter().collect(),
        )
    }

    /// The instruments of a market (OKX has no archive listing).
    pub fn list_symbols(&self, req: &ListingRequest) -> Result<Listing, ProviderError> {
        let market = market_of(&req.market)?;
        if req.archive {
            return Err(ProviderError::new(
                dsm_sdk::ErrorKind::UNSUPPORTED_SOURCE,
                "OKX has no archive listing",
            ));
        }
        let mut listing = Listing::default();
        if req.instruments {
            let http = self.core.http()?;
            let (rows, requests) =
                self.core
                    .block_on(instruments::list(&http, &self.base_url(), market))??;
            listing.instruments = rows.into();
            listing.requests = requests;
        }
        Ok(listing)
    }

    /// Whether the runtime has started (it starts on the first fetch).
    fn fetch_trades(
        &self,
        req: &DataRequest,
        market: Market,
        out: &mut dyn TradesOut,
    ) -> Result<FetchReport, ProviderError> {
        let place = format!("OKX {}", market.id());
        request::symbol_chars(&place, &req.symbol, market.symbol_example())?;
        let inst_id = market.inst_id(&req.symbol)?;
        request::live_only("OKX", req.source)?;
        request::non_empty_range(&kinds::as_fetch(req))?;
        let job = trades::Job {
            market,
            symbol: req.symbol.to_string(),
            inst_id,
            base_url: self.base_url(),
            http: self.core.http()?,
            host: self.core.host.clone(),
        };
        self.core
            .block_on(job.fetch((req.start_ms, req.end_ms), out))?
    }

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

    fn fetch_data(
        &self,
        req: &DataRequest,
        sink: &mut DataOut<'_, '_>,
    ) -> Result<FetchReport, ProviderError> {
        self.fetch_data_into(req, sink)
    }

    fn list(&self, req: &ListingRequest) -> Result<Listing, ProviderError> {
        self.list_symbols(req)
    }
}

fn market_of(name: &str) -> Result<Market, ProviderError> {
    Market::from_name(name).ok_or_else(|| request::unknown_market("OKX", name, &["spot", "swap"]))
}

dsm_sdk::export_provider! {
    id: "okx",
    manifest: "../manifest.json",
    plugin: OkxProvider,
}
