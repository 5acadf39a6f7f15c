//! `Dsm`: a manager for one provider and market. Creating one reads manifests only; the
//! plugin library is opened on the first fetch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dsm_sdk::{
    abi_stable::std_types::{RResult, RString},
    abi_stable::{sabi_trait::TD_Opaque, sabi_types::RMut},
    FetchRequest, KlineSink_TO, Manifest, MarketInfo, ProviderBox, SourceKind,
};
use once_cell::sync::OnceCell;

use crate::collect::Collector;
use crate::config::DsmConfig;
use crate::discovery::{self, PluginFile};
use crate::error::{DsmError, Result};
use crate::host_services::Services;
use crate::klines::Klines;
use crate::loader;
use crate::request::{self, IntoMillis, KlineRequest};

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
    /// How long opening the plugin library took (in this process, the first time).
    load_time: OnceCell<std::time::Duration>,
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
        let plugin = discovery::find(&id, &dirs)?;
        let market = plugin
            .manifest
            .market(config.market.trim())
            .cloned()
            .ok_or_else(|| DsmError::UnknownMarket {
                provider: id.clone(),
                market: config.market.clone(),
                known: market_names(&plugin.manifest),
            })?;
        config.validate(&plugin.manifest.plugin.endpoints)?;
        let config = DsmConfig {
            provider: id,
            market: market.id.clone(),
            ..config
        };
        Ok(Dsm {
            inner: Arc::new(Inner {
                plugin,
                market,
                config,
                provider: OnceCell::new(),
                load_time: OnceCell::new(),
                cancel: Arc::new(AtomicBool::new(false)),
            }),
        })
    }

    pub fn provider(&self) -> &str {
        &self.inner.config.provider
    }

    pub fn market(&self) -> &MarketInfo {
        &self.inner.market
    }

    pub fn manifest(&self) -> &Manifest {
        &self.inner.plugin.manifest
    }

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
    }

    /// How long opening and checking the plugin library took when this process first did it.
    pub fn load_time(&self) -> Option<std::time::Duration> {
        self.inner.load_time.get().copied()
    }

    /// Stop every fetch of this manager in flight; later fetches fail as cancelled.
    pub fn cancel(&self) {
        self.inner.cancel.store(true, Ordering::Relaxed);
    }

    /// Klines of `symbol` at `interval` over `[start, end)`. Opens the plugin on first use.
    pub fn fetch_market_data(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
    ) -> Result<Klines> {
        let req = self.request(symbol, interval, start, end)?;
        self.fetch_request(&req, &mut |_, _| {})
    }

    /// As [`Dsm::fetch_market_data`], calling `progress(done_ms, total_ms)` as it goes.
    pub fn fetch_with_progress(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<Klines> {
        let req = self.request(symbol, interval, start, end)?;
        self.fetch_request(&req, progress)
    }

    /// The async form, for use inside an application's runtime (tokio or any other): the
    /// blocking fetch runs on its own thread, so the caller's runtime is never blocked.
    pub async fn fetch_async(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
    ) -> Result<Klines> {
        let req = self.request(symbol, interval, start, end)?;
        let this = self.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("dsm-fetch".into())
            .spawn(move || {
                let _ = tx.send(this.fetch_request(&req, &mut |_, _| {}));
            })
            .map_err(|e| DsmError::io("cannot start a fetch thread", e))?;
        rx.await.unwrap_or_else(|_| {
            Err(DsmError::Io {
                context: "fetch thread".into(),
                source: std::io::Error::other("the fetch thread ended without a result"),
            })
        })
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

    fn fetch_request(
        &self,
        req: &KlineRequest,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<Klines> {
        let provider = self.provider_instance()?;
        let now = request::now_ms();
        let mut collector =
            Collector::new(req, now, self.inner.cancel.clone()).with_progress(progress);
        let fetch = FetchRequest {
            market: RString::from(self.inner.market.id.as_str()),
            symbol: RString::from(req.symbol.as_str()),
            interval: RString::from(req.interval_name.as_str()),
            start_ms: req.start_ms,
            end_ms: req.end_ms,
            source: SourceKind::LIVE,
        };
        let sink = KlineSink_TO::from_ptr(RMut::new(&mut collector), TD_Opaque);
        let outcome = provider.fetch(&fetch, sink);
        if let Some(message) = collector.invalid.take() {
            return Err(DsmError::InvalidData {
                provider: self.provider().to_string(),
                message,
            });
        }
        let report = match outcome {
            RResult::ROk(report) => report,
            RResult::RErr(error) => {
                return Err(DsmError::Provider {
                    provider: self.provider().to_string(),
                    error,
                })
            }
        };
        let (klines, _covered) = collector.finish();
        Ok(Klines {
            provider: self.provider().to_string(),
            market: self.inner.market.id.clone(),
            symbol: req.symbol.clone(),
            interval: req.interval_name.clone(),
            start_ms: req.start_ms,
            end_ms: req.end_ms,
            rows: klines,
            requests: report.requests,
        })
    }

    /// The provider instance, loading the plugin library first if this process has not.
    fn provider_instance(&self) -> Result<&ProviderBox> {
        if self.inner.cancel.load(Ordering::Relaxed) {
            return Err(DsmError::Provider {
                provider: self.provider().to_string(),
                error: dsm_sdk::ProviderError::new(
                    dsm_sdk::ErrorKind::CANCELLED,
                    "this manager was cancelled; create a new one to fetch again",
                ),
            });
        }
        self.inner.provider.get_or_try_init(|| {
            let loaded = loader::load(&self.inner.plugin)?;
            let _ = self.inner.load_time.set(loaded.load_time);
            let services = Services::boxed(self.provider(), self.inner.cancel.clone());
            match (loaded.module.new_provider())(self.inner.config.provider_config(), services) {
                RResult::ROk(p) => Ok(p),
                RResult::RErr(error) => Err(DsmError::Provider {
                    provider: self.provider().to_string(),
                    error,
                }),
            }
        })
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
