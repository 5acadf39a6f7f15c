//! dsm plugin for Binance: spot, USD-M (`um`) and COIN-M (`cm`) klines over REST (source
//! LIVE) and from the Binance Vision archive (source ARCHIVE, see [`vision`]); on um and cm
//! also funding rates ([`funding`]) and mark, index and premium index klines (the kline
//! code paths with a [`Series`]).

mod errors;
pub mod funding;
pub mod listing;
mod markets;
pub mod metrics;
#[doc(hidden)] // public for the fallback test only
pub mod page;
mod plan;
mod request;
mod rest;
mod rows;
mod series;
pub mod trades;
pub mod vision;
pub mod weights;

use std::sync::Arc;

use dsm_plugin_kit::{
    budget, Concurrency, Core, FundingOut, Interval, MetricsOut, TradesOut, WeightGate,
};
use dsm_sdk::{
    plugin::{DataOut, Host, Plugin, Sink},
    DataKind, DataRequest, FetchReport, FetchRequest, ProviderConfig, ProviderError, SourceKind,
};

pub use dsm_plugin_kit::Out;
pub use markets::Market;
pub use series::Series;
pub use weights::Weights;

/// The REST base URL of `market`: the config's endpoint, else Binance's.
fn base_url(config: &ProviderConfig, market: Market) -> String {
    let url = config.endpoint(market.id());
    url.unwrap_or(market.default_base_url())
        .trim_end_matches('/')
        .to_string()
}

pub struct BinanceProvider {
    core: Core,
    /// One used-weight budget per market (each API host counts its own), shared with every
    /// other instance of the process (see [`weights`]).
    gates: [Arc<WeightGate>; 3],
    /// Vision requests in flight at once, and their slots (see [`vision::concurrency`]).
    archive_concurrency: usize,
    archive_slots: Arc<Concurrency>,
}

impl BinanceProvider {
    /// The weight budget of `market`'s API host (the process's one).
    pub fn gate(&self, market: Market) -> Arc<WeightGate> {
        let i = Market::ALL.iter().position(|m| *m == market).unwrap_or(0);
        self.gates[i].clone()
    }

    fn base_url(&self, market: Market) -> String {
        base_url(&self.core.config, market)
    }

    /// The fetch, with batches going to `out` (the host's sink, or a test collector).
    pub fn fetch_into(
        &self,
        req: &FetchRequest,
        out: &mut dyn Out,
    ) -> Result<FetchReport, ProviderError> {
        let req = request::as_data(req);
        let checked = request::check(&req)?;
        self.candles(&req, Series::Klines, checked.market, checked.interval, out)
    }

    /// A fetch of any kind the manifest lists, into `out` (the host's sink or
    /// `kit::testing::Collect`); candle kinds go to its [`Out`] side, funding to its
    /// [`FundingOut`] side, trades and metrics to theirs.
    pub fn fetch_data_into<O: Out + FundingOut + TradesOut + MetricsOut>(
        &self,
        req: &DataRequest,
        out: &mut O,
    ) -> Result<FetchReport, ProviderError> {
        let checked = request::check(req)?;
        let market = checked.market;
        if let Some(series) = Series::of(req.kind) {
            return self.candles(req, series, market, checked.interval, out);
        }
        let range = (req.start_ms, req.end_ms);
        if matches!(req.kind, DataKind::AGG_TRADES | DataKind::TRADES) {
            if req.source != SourceKind::ARCHIVE {
                let job = Arc::new(trades::rest::Job {
                    market,
                    symbol: req.symbol.to_string(),
                    aggregated: req.kind == DataKind::AGG_TRADES,
                    base_url: self.base_url(market),
                    http: self.core.http()?,
                    gate: self.gate(market),
                    host: self.core.host.clone(),
                });
                return self.core.block_on(trades::rest::fetch(job, range, out))?;
            }
            let vision = self.vision(req, Series::Klines, market)?;
            let layout = trades::rows::Layout {
                aggregated: req.kind == DataKind::AGG_TRADES,
                market,
            };
            let fut = trades::archive::fetch(vision, layout, range, out);
            return self.core.block_on(fut)?;
        }
        if req.kind == DataKind::METRICS {
            let vision = self.vision(req, Series::Klines, market)?;
            return self
                .core
                .block_on(metrics::archive::fetch(vision, range, out))?;
        }
        if req.kind != DataKind::FUNDING {
            // Only reachable if the manifest lists a kind this code does not serve.
            return Err(ProviderError::new(
                dsm_sdk::ErrorKind::INTERNAL,
                format!("the binance plugin lists {} but cannot fetch it", req.kind),
            ));
        }
        if req.source == SourceKind::ARCHIVE {
            let vision = self.vision(req, Series::Klines, market)?;
            let concurrency = self.archive_concurrency;
            return self
                .core
                .block_on(funding::archive::fetch(vision, range, concurrency, out))?;
        }
        let job = Arc::new(funding::rest::Job {
            market,
            symbol: req.symbol.to_string(),
            base_url: self.base_url(market),
            http: self.core.http()?,
            gate: self.gate(market),
            host: self.core.host.clone(),
        });
        self.core.block_on(funding::rest::fetch(job, range, out))?
    }

    /// A checked candle request of `series` from REST or Vision.
    fn candles(
        &self,
        req: &DataRequest,
        series: Series,
        market: Market,
        interval: Option<Interval>,
        out: &mut dyn Out,
    ) -> Result<FetchReport, ProviderError> {
        let concurrency = self.core.config.concurrency as usize;
        let range = (req.start_ms, req.end_ms);
        if req.source == SourceKind::ARCHIVE {
            let vision = self.vision(req, series, market)?;
            return self.core.block_on(vision::fetch(vision, range, out))?;
        }
        let interval = interval.expect("candle kinds have an interval");
        let job = Arc::new(page::Job {
            market,
            series,
            symbol: req.symbol.to_string(),
            interval: req.interval.to_string(),
            min_step_ms: interval.min_step_ms(),
            base_url: self.base_url(market),
            http: self.core.http()?,
            gate: self.gate(market),
            host: self.core.host.clone(),
        });
        self.core
            .block_on(rest::fetch(job, interval, range, concurrency, out))?
    }

    /// What a fetch from Binance Vision (endpoint key `vision`) shares.
    fn vision(
        &self,
        req: &DataRequest,
        series: Series,
        market: Market,
    ) -> Result<Arc<vision::fetch::Vision>, ProviderError> {
        let base = self.core.config.endpoint("vision");
        Ok(Arc::new(vision::fetch::Vision {
            http: self.core.http()?,
            host: self.core.host.clone(),
            base_url: base
                .unwrap_or(vision::paths::DEFAULT_BASE_URL)
                .trim_end_matches('/')
                .to_string(),
            market,
            series,
            symbol: req.symbol.to_string(),
            interval: req.interval.to_string(),
            dataset: vision::dataset_word(req.kind),
            max_zip: vision::max_zip(req.kind),
            requests: Default::default(),
            limits: vision::zip_limits(req.kind),
            concurrency: self.archive_concurrency,
            slots: self.archive_slots.clone(),
        }))
    }

    /// A provider whose archive requests in flight are at most `archive_concurrency`
    /// (`Plugin::new` reads it from `DSM_BINANCE_ARCHIVE_CONCURRENCY`).
    pub fn with_archive_concurrency(
        config: ProviderConfig,
        host: Host,
        archive_concurrency: usize,
    ) -> Self {
        Self::with_limits(config, host, archive_concurrency, Weights::default())
    }

    /// A provider with the archive's limit and the weight budgets as given (`Plugin::new`
    /// reads both from the environment). The budgets and the archive's slots are the
    /// process's: every instance with the same endpoints and settings shares them.
    pub fn with_limits(
        config: ProviderConfig,
        host: Host,
        archive_concurrency: usize,
        weights: Weights,
    ) -> Self {
        let archive_concurrency = archive_concurrency.max(1);
        let vision_url = config
            .endpoint("vision")
            .unwrap_or(vision::paths::DEFAULT_BASE_URL)
            .trim_end_matches('/')
            .to_string();
        BinanceProvider {
            gates: Market::ALL.map(|m| weights.gate(m, &base_url(&config, m))),
            archive_concurrency,
            archive_slots: budget::slots(&vision_url, archive_concurrency as u32),
            core: Core::new("binance", env!("CARGO_PKG_VERSION"), config, host),
        }
    }

    /// Whether the runtime has started (it starts on the first fetch).
    pub fn is_started(&self) -> bool {
        self.core.is_started()
    }
}

impl Plugin for BinanceProvider {
    fn new(config: ProviderConfig, host: Host) -> Result<Self, ProviderError> {
        let env = |k: &str| std::env::var(k).ok();
        let archive = vision::concurrency::from_env(env)?;
        Ok(Self::with_limits(
            config,
            host,
            archive,
            Weights::from_env(env)?,
        ))
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

    fn list(
        &self,
        req: &dsm_sdk::listing_module::ListingRequest,
    ) -> Result<dsm_sdk::listing_module::Listing, ProviderError> {
        self.list_symbols(req)
    }
}

dsm_sdk::export_provider! {
    id: "binance",
    manifest: "../manifest.json",
    plugin: BinanceProvider,
}
