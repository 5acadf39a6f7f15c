//! `Dsm`: a manager for one provider and market. Creating one reads manifests only; the
//! plugin library is opened on the first fetch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dsm_sdk::{
    abi_stable::std_types::RResult,
    data_module::{DataProviderBox, KLINES_ONLY},
    listing_module::{ListerBox, CANNOT_LIST},
    manifest::KindOffer,
    DataKind, ErrorKind, Manifest, MarketInfo, ProviderBox, ProviderError,
};
use once_cell::sync::OnceCell;

use crate::cache::Cache;
use crate::config::DsmConfig;
use crate::discovery::{self, PluginFile};
use crate::error::{DsmError, Result};
use crate::failover::Failover;
use crate::host_services::Services;
use crate::kinds::{Candles, Kind};
use crate::klines::Klines;
use crate::loader;
use crate::report::{FetchSummary, PeriodBatch, ServedPeriod};
use crate::request::{self, IntoMillis, KlineRequest, SeriesRequest};

/// A data source manager for one provider and market. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct Dsm {
    inner: Arc<Inner>,
}

struct Inner {
    plugin: PluginFile,
    market: MarketInfo,
    config: DsmConfig,
    /// This manager's provider instance (its runtime and connection pool), made on first use.
    provider: OnceCell<ProviderBox>,
    /// Its provider of other data kinds, made on first use of one.
    data_provider: OnceCell<DataProviderBox>,
    /// Its lister of symbols, made on first use.
    lister: OnceCell<ListerBox>,
    /// How long opening the plugin library took (in this process, the first time).
    load_time: OnceCell<std::time::Duration>,
    cache: Option<Cache>,
    cancel: Arc<AtomicBool>,
}

impl Dsm {
    /// A manager with default settings and `DSM_*` environment overrides.
    /// Names are case-insensitive (`"BINANCE"`, `"SPOT"`); market aliases are accepted.
    pub fn create(provider: &str, market: &str) -> Result<Dsm> {
        Self::create_with_config(DsmConfig::from_env(provider, market)?)
    }

    /// A manager with explicit settings. Reads plugin manifests; loads nothing.
    pub fn create_with_config(config: DsmConfig) -> Result<Dsm> {
        let id = discovery::normalize_provider(&config.provider)?;
        let dirs = discovery::search_dirs(&config.plugin_dirs);
        let plugin = discovery::find(&id, &dirs, config.allow_insecure_plugins)?;
        let market = plugin
            .manifest
            .market(config.market.trim())
            .cloned()
            .ok_or_else(|| DsmError::UnknownMarket {
                provider: id.clone(),
                market: config.market.clone(),
                known: market_names(&plugin.manifest),
            })?;
        let mut config = config;
        config.resolve_endpoints(&plugin.manifest.plugin.endpoints);
        config.validate(&plugin.manifest.plugin.endpoints)?;
        let config = DsmConfig {
            provider: id,
            market: market.id.clone(),
            ..config
        };
        let cache = match config.cache_enabled {
            true => Some(Cache::at(
                config.cache_dir.clone().unwrap_or_else(Cache::default_dir),
            )?),
            false => None,
        };
        Ok(Dsm {
            inner: Arc::new(Inner {
                plugin,
                market,
                config,
                provider: OnceCell::new(),
                data_provider: OnceCell::new(),
                lister: OnceCell::new(),
                load_time: OnceCell::new(),
                cache,
                cancel: Arc::new(AtomicBool::new(false)),
            }),
        })
    }

    /// The provider id.
    pub fn provider(&self) -> &str {
        &self.inner.config.provider
    }

    /// The market, as the manifest describes it (intervals, symbol example).
    pub fn market(&self) -> &MarketInfo {
        &self.inner.market
    }

    /// The plugin's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.plugin.manifest
    }

    /// The settings in effect (environment endpoints resolved).
    pub fn config(&self) -> &DsmConfig {
        &self.inner.config
    }

    /// The plugin file this manager uses.
    pub fn plugin_path(&self) -> &std::path::Path {
        &self.inner.plugin.path
    }

    /// Whether this manager has opened its plugin and made its provider (first fetch done).
    pub fn is_loaded(&self) -> bool {
        self.inner.provider.get().is_some()
            || self.inner.data_provider.get().is_some()
            || self.inner.lister.get().is_some()
    }

    /// How long opening and checking the plugin library took when this process first did it.
    pub fn load_time(&self) -> Option<std::time::Duration> {
        self.inner.load_time.get().copied()
    }

    /// Stop every fetch of this manager in flight; later fetches fail as cancelled.
    pub fn cancel(&self) {
        self.inner.cancel.store(true, Ordering::Relaxed);
    }

    /// Klines of `symbol` at `interval` over `[start, end)` through the failover (cache,
    /// archive, REST, as the config's `source` allows). Opens the plugin only if the network
    /// is needed.
    pub fn fetch_market_data(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
    ) -> Result<Klines> {
        self.fetch_with_progress(symbol, interval, start, end, &mut |_, _| {})
    }

    /// As [`Dsm::fetch_market_data`], calling `progress(done_ms, total_ms)` as it goes
    /// (`done_ms` of the requested `total_ms`, request by request).
    pub fn fetch_with_progress(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<Klines> {
        let req = self.request(symbol, interval, start, end)?;
        let (rows, summary) = self.collect_klines(&req, progress)?;
        Ok(self.klines(&req, rows, summary))
    }

    /// Every candle of `req` in one vector, reserved for the range: a period served from
    /// the cache is made rows once, straight from the file's columns.
    pub(crate) fn collect_klines(
        &self,
        req: &KlineRequest,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<(Vec<dsm_sdk::Kline>, FetchSummary)> {
        let kind = Candles::klines(req.interval);
        let offer = self.offer(DataKind::KLINES)?;
        let mut rows = crate::memory::huge_vec(expected_rows(req));
        let summary = self.run_kind(
            &kind,
            &offer,
            &req.series(),
            &mut |p| p.extend_into(&kind, &mut rows),
            progress,
        )?;
        Ok((rows, summary))
    }

    /// The fetch of [`Dsm::fetch_market_data`], handing each period's candles to `emit` in
    /// order as they are ready instead of collecting them (for an embedder that builds its own
    /// columns). Returns the request as normalized and the fetch's report.
    pub fn fetch_each(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
        emit: &mut dyn FnMut(PeriodBatch) -> Result<()>,
    ) -> Result<(KlineRequest, FetchSummary)> {
        let req = self.request(symbol, interval, start, end)?;
        let summary = self.run(&req, emit, &mut |_, _| {})?;
        Ok((req, summary))
    }

    /// Check a request against this market without fetching.
    pub fn request(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
    ) -> Result<KlineRequest> {
        let (start, end) = (start.into_millis()?, end.into_millis()?);
        request::normalize(
            &self.inner.market,
            symbol,
            interval,
            start,
            end,
            request::now_ms(),
        )
    }

    /// The cache this manager uses, if caching is on.
    pub fn cache(&self) -> Option<&Cache> {
        self.inner.cache.as_ref()
    }

    pub(crate) fn run(
        &self,
        req: &KlineRequest,
        emit: &mut dyn FnMut(PeriodBatch) -> Result<()>,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<FetchSummary> {
        let offer = self.offer(DataKind::KLINES)?;
        let kind = Candles::klines(req.interval);
        self.run_kind(
            &kind,
            &offer,
            &req.series(),
            &mut |p| emit(p.into_batch(&kind)?),
            progress,
        )
    }

    /// The failover for one series of any kind.
    pub(crate) fn run_kind<K: Kind>(
        &self,
        kind: &K,
        offer: &KindOffer,
        req: &SeriesRequest,
        emit: &mut dyn FnMut(ServedPeriod<K::Row>) -> Result<()>,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<FetchSummary> {
        let provider = || self.provider_instance();
        let data_provider = || self.data_provider_instance();
        Failover {
            provider: &provider,
            data_provider: &data_provider,
            provider_id: self.provider(),
            market: &self.inner.market.id,
            offer,
            kind,
            req,
            cache: self.inner.cache.as_ref(),
            mode: self.inner.config.source,
            cache_first: self.inner.config.cache_first,
            now: request::now_ms(),
            hole_recheck_window_ms: i64::try_from(
                self.inner.config.hole_recheck_window.as_millis(),
            )
            .unwrap_or(i64::MAX),
            recheck_holes: self.inner.config.recheck_holes,
            cancel: self.inner.cancel.clone(),
        }
        .run(emit, progress)
    }

    pub(crate) fn klines(
        &self,
        req: &KlineRequest,
        rows: Vec<dsm_sdk::Kline>,
        summary: FetchSummary,
    ) -> Klines {
        Klines {
            kind: DataKind::KLINES,
            provider: self.provider().to_string(),
            market: self.inner.market.id.clone(),
            symbol: req.symbol.clone(),
            interval: req.interval_name.clone(),
            start_ms: req.start_ms,
            end_ms: req.end_ms,
            rows,
            summary,
        }
    }

    pub(crate) fn inner_market(&self) -> &MarketInfo {
        &self.inner.market
    }

    /// The provider instance, loading the plugin library first if this process has not.
    fn provider_instance(&self) -> Result<&ProviderBox> {
        self.check_not_cancelled()?;
        self.inner.provider.get_or_try_init(|| {
            let loaded = self.load()?;
            let services = Services::boxed(self.provider(), self.inner.cancel.clone());
            let made =
                (loaded.module.new_provider())(self.inner.config.provider_config(), services);
            self.made(made)
        })
    }

    /// The data provider instance (kinds beyond klines), loading the library if needed; a
    /// plugin built before data kinds has none.
    fn data_provider_instance(&self) -> Result<&DataProviderBox> {
        self.check_not_cancelled()?;
        self.inner.data_provider.get_or_try_init(|| {
            let loaded = self.load()?;
            let Some(module) = loaded.data else {
                return Err(DsmError::Provider {
                    provider: self.provider().to_string(),
                    error: ProviderError::new(ErrorKind::UNSUPPORTED_SOURCE, KLINES_ONLY),
                });
            };
            let services = Services::boxed(self.provider(), self.inner.cancel.clone());
            let made = (module.new_data_provider())(self.inner.config.provider_config(), services);
            self.made(made)
        })
    }

    /// The lister (symbol listings), loading the library if needed; a plugin built before
    /// listings has none.
    pub(crate) fn lister_instance(&self) -> Result<&ListerBox> {
        self.check_not_cancelled()?;
        self.inner.lister.get_or_try_init(|| {
            let loaded = self.load()?;
            let Some(module) = loaded.listing else {
                return Err(DsmError::Provider {
                    provider: self.provider().to_string(),
                    error: ProviderError::new(ErrorKind::UNSUPPORTED_SOURCE, CANNOT_LIST),
                });
            };
            let services = Services::boxed(self.provider(), self.inner.cancel.clone());
            let made = (module.new_lister())(self.inner.config.provider_config(), services);
            self.made(made)
        })
    }

    fn load(&self) -> Result<loader::LoadedModule> {
        let loaded = loader::load(&self.inner.plugin)?;
        let _ = self.inner.load_time.set(loaded.load_time);
        Ok(loaded)
    }

    fn made<T>(&self, made: RResult<T, ProviderError>) -> Result<T> {
        match made {
            RResult::ROk(p) => Ok(p),
            RResult::RErr(error) => Err(DsmError::Provider {
                provider: self.provider().to_string(),
                error,
            }),
        }
    }

    fn check_not_cancelled(&self) -> Result<()> {
        if self.inner.cancel.load(Ordering::Relaxed) {
            return Err(DsmError::Provider {
                provider: self.provider().to_string(),
                error: ProviderError::new(
                    ErrorKind::CANCELLED,
                    "this manager was cancelled; create a new one to fetch again",
                ),
            });
        }
        Ok(())
    }
}

fn market_names(m: &Manifest) -> String {
    m.plugin
        .markets
        .iter()
        .map(|mk| {
            if mk.aliases.is_empty() {
                mk.id.clone()
            } else {
                format!("{} ({})", mk.id, mk.aliases.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl std::fmt::Debug for Dsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dsm")
            .field("provider", &self.provider())
            .field("market", &self.inner.market.id)
            .field("plugin", &self.inner.plugin.path)
            .field("loaded", &self.is_loaded())
            .finish()
    }
}

/// The candles a request can have (reserved up front; at most ~8 million).
fn expected_rows(req: &KlineRequest) -> usize {
    let step = req.interval.min_step_ms().max(1);
    let n = (req.end_ms.saturating_sub(req.start_ms) / step).max(0) as usize + 1;
    n.min(8 << 20)
}
