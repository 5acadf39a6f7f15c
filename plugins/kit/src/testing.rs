//! A stand-in for the host's services, for plugin unit tests and tools.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use dsm_sdk::{
    abi_stable::{
        sabi_trait::TD_Opaque,
        sabi_types::RMut,
        std_types::{RResult, RStr},
    },
    data_module::DataProviderBox,
    plugin::{Host, Plugin},
    DataKind, DataRequest, DataSink, DataSink_TO, Endpoint, FetchReport, FundingBatch, FundingRate,
    HostServices, HostServices_TO, Kline, KlineBatch, LogLevel, Metric, MetricBatch,
    ProviderConfig, ProviderError, SinkControl, SourceKind, Trade, TradeBatch,
};

use crate::deliver::{FundingOut, MetricsOut, Out, TradesOut};

/// Settings with the one endpoint `rest` on `url` (a test server on 127.0.0.1), for
/// plugins whose only endpoint that is; the rest default.
pub fn config_on(url: &str) -> ProviderConfig {
    ProviderConfig {
        endpoints: vec![Endpoint {
            key: "rest".into(),
            url: url.into(),
        }]
        .into(),
        ..ProviderConfig::default()
    }
}

/// A live-source request of `kind` over `range` (`[start_ms, end_ms)`).
pub fn data_request(
    kind: DataKind,
    market: &str,
    symbol: &str,
    interval: &str,
    range: (i64, i64),
) -> DataRequest {
    DataRequest {
        kind,
        market: market.into(),
        symbol: symbol.into(),
        interval: interval.into(),
        start_ms: range.0,
        end_ms: range.1,
        source: SourceKind::LIVE,
    }
}

/// Runs `fetch` into a fresh [`Collect`]: its answer and what it delivered.
pub fn collect<R>(fetch: impl FnOnce(&mut Collect) -> R) -> (R, Collect) {
    let mut out = Collect::default();
    let answer = fetch(&mut out);
    (answer, out)
}

/// Collects what a fetch delivers, for plugin tests.
#[derive(Default)]
pub struct Collect {
    pub batches: Vec<KlineBatch>,
    pub funding: Vec<FundingBatch>,
    pub trades: Vec<TradeBatch>,
    pub metrics: Vec<MetricBatch>,
    pub progress: Vec<(i64, i64)>,
}

impl Collect {
    /// Every candle delivered, in delivery order.
    pub fn klines(&self) -> Vec<Kline> {
        self.batches
            .iter()
            .flat_map(|b| b.klines.iter().copied())
            .collect()
    }
}

impl Collect {
    /// Every funding rate delivered, in delivery order.
    pub fn funding_rates(&self) -> Vec<FundingRate> {
        self.funding
            .iter()
            .flat_map(|b| b.rows.iter().copied())
            .collect()
    }
}

impl Collect {
    /// Every trade delivered, in delivery order.
    pub fn trade_rows(&self) -> Vec<Trade> {
        self.trades
            .iter()
            .flat_map(|b| b.rows.iter().copied())
            .collect()
    }

    /// Every metric row delivered, in delivery order.
    pub fn metric_rows(&self) -> Vec<Metric> {
        self.metrics
            .iter()
            .flat_map(|b| b.rows.iter().copied())
            .collect()
    }
}

impl TradesOut for Collect {
    fn trades(&mut self, batch: TradeBatch) -> Result<(), ProviderError> {
        self.trades.push(batch);
        Ok(())
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        self.progress.push((done_ms, total_ms));
    }
}

impl MetricsOut for Collect {
    fn metrics(&mut self, batch: MetricBatch) -> Result<(), ProviderError> {
        self.metrics.push(batch);
        Ok(())
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        self.progress.push((done_ms, total_ms));
    }
}

impl FundingOut for Collect {
    fn funding(&mut self, batch: FundingBatch) -> Result<(), ProviderError> {
        self.funding.push(batch);
        Ok(())
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        self.progress.push((done_ms, total_ms));
    }
}

impl Out for Collect {
    fn batch(&mut self, batch: KlineBatch) -> Result<(), ProviderError> {
        self.batches.push(batch);
        Ok(())
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        self.progress.push((done_ms, total_ms));
    }
}

/// Collects log lines and holds a cancellation flag the test can raise.
#[derive(Clone, Default)]
pub struct TestHost {
    pub logs: Arc<Mutex<Vec<(LogLevel, String)>>>,
    pub cancelled: Arc<AtomicBool>,
}

impl TestHost {
    pub fn new() -> Self {
        Self::default()
    }

    /// The [`Host`] a plugin receives, logging everything up to `level`.
    pub fn host(&self, level: LogLevel) -> Host {
        Host::new(HostServices_TO::from_value(self.clone(), TD_Opaque), level)
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    /// Log lines at exactly `level`.
    pub fn lines(&self, level: LogLevel) -> Vec<String> {
        let logs = self.logs.lock().unwrap();
        logs.iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, m)| m.clone())
            .collect()
    }
}

impl HostServices for TestHost {
    fn log(&self, level: LogLevel, message: RStr<'_>) {
        self.logs.lock().unwrap().push((level, message.to_string()));
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// The host's side of `DataSink`, for tests that call a plugin through the ABI as the host
/// does (`DataProvider::fetch_data` across abi_stable's types).
pub struct AbiSink {
    pub klines: Vec<KlineBatch>,
    pub funding: Vec<FundingBatch>,
    pub trades: Vec<TradeBatch>,
    pub metrics: Vec<MetricBatch>,
    /// What every push answers.
    pub answer: SinkControl,
}

impl Default for AbiSink {
    fn default() -> Self {
        AbiSink {
            klines: Vec::new(),
            funding: Vec::new(),
            trades: Vec::new(),
            metrics: Vec::new(),
            answer: SinkControl::CONTINUE,
        }
    }
}

impl AbiSink {
    /// Every candle pushed, in push order.
    pub fn all_klines(&self) -> Vec<Kline> {
        self.klines
            .iter()
            .flat_map(|b| b.klines.iter().copied())
            .collect()
    }
}

impl DataSink for AbiSink {
    fn push_klines(&mut self, batch: KlineBatch) -> SinkControl {
        self.klines.push(batch);
        self.answer
    }
    fn push_funding(&mut self, batch: FundingBatch) -> SinkControl {
        self.funding.push(batch);
        self.answer
    }
    fn push_trades(&mut self, batch: TradeBatch) -> SinkControl {
        self.trades.push(batch);
        self.answer
    }
    fn push_metrics(&mut self, batch: MetricBatch) -> SinkControl {
        self.metrics.push(batch);
        self.answer
    }
    fn progress(&mut self, _done_ms: i64, _total_ms: i64) {}
}

/// Plugin `P`'s data provider made the way `export_provider!`'s constructor makes it.
pub fn data_provider<P: Plugin>(config: ProviderConfig) -> DataProviderBox {
    let host = HostServices_TO::from_value(TestHost::new(), TD_Opaque);
    match dsm_sdk::plugin::new_data_provider::<P>(config, host) {
        RResult::ROk(p) => p,
        RResult::RErr(e) => panic!("{e}"),
    }
}

/// One `fetch_data` call through the ABI into `sink`.
pub fn fetch_through_abi(
    provider: &DataProviderBox,
    request: &DataRequest,
    sink: &mut AbiSink,
) -> Result<FetchReport, ProviderError> {
    let sink = DataSink_TO::from_ptr(RMut::new(sink), TD_Opaque);
    provider.fetch_data(request, sink).into_result()
}
