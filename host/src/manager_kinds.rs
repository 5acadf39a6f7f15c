//! Fetching any data kind: what a market offers of it, typed fetches for candles and
//! funding, and one generic stream of Arrow record batches (the CLI's and Python's path).

use std::sync::Arc;

use arrow_array::RecordBatch;
use dsm_sdk::{kind::Shape, manifest::KindOffer, DataKind, ErrorKind, ProviderError};

use crate::error::{DsmError, Result};
use crate::kinds::{slices, Candles, Funding, Kind, Metrics, Trades, SLICE_ROWS};
use crate::klines::{FundingRates, Klines};
use crate::manager::Dsm;
use crate::manager_stream::{spawn_stream, FetchStream};
use crate::report::{FetchSummary, PeriodData, ServedPeriod, Source};
use crate::request::{self, IntoMillis, KlineRequest, SeriesRequest};

/// A validated request of any kind: the kind, its interval (candle kinds) and the range.
#[derive(Debug, Clone, PartialEq)]
pub struct KindRequest {
    /// What is fetched.
    pub kind: DataKind,
    /// The interval's name for candle kinds, `""` otherwise.
    pub interval_name: String,
    /// Symbol and range.
    pub series: SeriesRequest,
    /// What the market offers of the kind.
    pub offer: KindOffer,
}

impl KindRequest {
    /// What one cache file and one emitted batch of this request hold.
    pub fn period(&self) -> crate::cache::Period {
        let iv = crate::interval::Interval::parse(&self.interval_name).ok();
        crate::kinds::period_of(self.kind, iv)
    }
}

/// One period of any kind as an Arrow record batch (the kind's schema), or a slice of it:
/// a period of more than [`crate::kinds::SLICE_ROWS`] rows (a day of trades) comes as
/// several, in order, the last with `last` set, so that no whole day is converted at once.
#[derive(Debug, Clone)]
pub struct PeriodRecords {
    /// Start of the period (UTC day or month).
    pub period_start: i64,
    /// Where its rows came from.
    pub source: Source,
    /// The rows (of this slice).
    pub batch: RecordBatch,
    /// Whether this fetch wrote the period to the cache.
    pub cached: bool,
    /// Whether this is the period's last slice (its only one, for most periods).
    pub last: bool,
}

impl crate::handoff::Rows for PeriodRecords {
    fn rows(&self) -> usize {
        self.batch.num_rows()
    }
}

impl Dsm {
    /// What this market offers of `kind`, or a usage error naming the markets that have it.
    pub fn offer(&self, kind: DataKind) -> Result<KindOffer> {
        let market = self.inner_market();
        if let Some(offer) = market.offer(kind) {
            return Ok(offer);
        }
        if market.klines_only() {
            return Err(DsmError::InvalidInput(format!(
                "{kind} is not available from {}: {} (its plugin lists no data kinds)",
                self.provider(),
                dsm_sdk::data_module::KLINES_ONLY
            )));
        }
        let elsewhere: Vec<&str> = self
            .manifest()
            .plugin
            .markets
            .iter()
            .filter(|m| m.offer(kind).is_some())
            .map(|m| m.id.as_str())
            .collect();
        let hint = match elsewhere.is_empty() {
            true => format!("no market of {} has it", self.provider()),
            false => format!(
                "it is on {} market(s) {}",
                self.provider(),
                elsewhere.join(", ")
            ),
        };
        Err(DsmError::InvalidInput(format!(
            "{kind} is not available on {} market {}; {hint}",
            self.provider(),
            market.id
        )))
    }

    /// Check a request of any kind against this market without fetching; `interval` is
    /// ignored for kinds without one.
    pub fn kind_request(
        &self,
        kind: DataKind,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
    ) -> Result<KindRequest> {
        let offer = self.offer(kind)?;
        let symbol = request::normalize_symbol(symbol)?;
        let interval_name = match kind.has_interval() {
            true => request::interval_in(&offer.intervals, kind, &self.market().id, interval)?.0,
            false => String::new(),
        };
        let (start, end) = (start.into_millis()?, end.into_millis()?);
        let series = request::normalize_range(&symbol, start, end, request::now_ms())?;
        Ok(KindRequest {
            kind,
            interval_name,
            series,
            offer,
        })
    }

    /// Funding rate history of a perpetual over `[start, end)`.
    pub fn fetch_funding(
        &self,
        symbol: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
    ) -> Result<FundingRates> {
        let req = self.kind_request(DataKind::FUNDING, symbol, "", start, end)?;
        let (rows, summary) = self.collect(&Funding, &req)?;
        Ok(FundingRates {
            provider: self.provider().to_string(),
            market: self.market().id.clone(),
            symbol: req.series.symbol,
            start_ms: req.series.start_ms,
            end_ms: req.series.end_ms,
            rows,
            summary,
        })
    }

    /// Candles of a candle-shaped kind (klines, mark, index, premium) over `[start, end)`.
    pub fn fetch_candles(
        &self,
        kind: DataKind,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
    ) -> Result<Klines> {
        let req = self.kind_request(kind, symbol, interval, start, end)?;
        let (rows, summary) = self.collect(&candles_of(&req)?, &req)?;
        Ok(Klines {
            kind,
            provider: self.provider().to_string(),
            market: self.market().id.clone(),
            symbol: req.series.symbol,
            interval: req.interval_name,
            start_ms: req.series.start_ms,
            end_ms: req.series.end_ms,
            rows,
            summary,
        })
    }

    /// Any kind, period by period as Arrow record batches (large periods in slices, see
    /// [`PeriodRecords`]), handed to `emit` in order (memory bounded by a period); `progress(done_ms, total_ms)` as requests complete.
    pub fn fetch_records(
        &self,
        req: &KindRequest,
        emit: &mut dyn FnMut(PeriodRecords) -> Result<()>,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<FetchSummary> {
        let (offer, series) = (&req.offer, &req.series);
        match req.kind.shape() {
            Shape::Candles => self.records_of(&candles_of(req)?, offer, series, emit, progress),
            Shape::Funding => self.records_of(&Funding, offer, series, emit, progress),
            Shape::Trades => self.records_of(&Trades::new(req.kind), offer, series, emit, progress),
            Shape::Metrics => self.records_of(&Metrics, offer, series, emit, progress),
        }
    }

    /// Klines of a checked [`Dsm::request`] as record batches, as [`Dsm::fetch_records`]
    /// hands them (for an embedder that builds its own columns: Python).
    pub fn fetch_kline_records(
        &self,
        req: &KlineRequest,
        emit: &mut dyn FnMut(PeriodRecords) -> Result<()>,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<FetchSummary> {
        let offer = self.offer(DataKind::KLINES)?;
        let kind = Candles::klines(req.interval);
        self.records_of(&kind, &offer, &req.series(), emit, progress)
    }

    /// Every row of `req`, in order.
    fn collect<K: Kind>(&self, kind: &K, req: &KindRequest) -> Result<(Vec<K::Row>, FetchSummary)> {
        let mut rows = Vec::new();
        let mut keep = |p: ServedPeriod<K::Row>| p.extend_into(kind, &mut rows);
        let summary = self.run_kind(kind, &req.offer, &req.series, &mut keep, &mut |_, _| {})?;
        Ok((rows, summary))
    }

    /// The failover's periods as record batches: rows made into batches of at most
    /// [`SLICE_ROWS`]; a period served from the cache (a kind with a column form) as the
    /// file's own batches, never made rows.
    fn records_of<K: Kind>(
        &self,
        kind: &K,
        offer: &KindOffer,
        series: &SeriesRequest,
        emit: &mut dyn FnMut(PeriodRecords) -> Result<()>,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<FetchSummary> {
        let schema = kind.schema();
        let mut each = |p: ServedPeriod<K::Row>| {
            let mut send = |batch, last| {
                emit(PeriodRecords {
                    period_start: p.period_start,
                    source: p.source,
                    batch,
                    cached: p.cached,
                    last,
                })
            };
            let rows = match p.data {
                PeriodData::Batches(batches) => {
                    let n = batches.len();
                    for (i, batch) in batches.into_iter().enumerate() {
                        send(batch, i + 1 == n)?;
                    }
                    return Ok(());
                }
                PeriodData::Rows(rows) => rows,
            };
            // Made one slice at a time; a period without rows is still one record (empty).
            let n = rows.len().div_ceil(SLICE_ROWS).max(1);
            let mut batches = slices(kind, Arc::clone(&schema), &rows);
            for i in 0..n {
                let batch = batches
                    .next()
                    .unwrap_or_else(|| kind.to_batch(Arc::clone(&schema), &[]));
                send(batch, i + 1 == n)?;
            }
            Ok(())
        };
        self.run_kind(kind, offer, series, &mut each, progress)
    }
}

impl Dsm {
    /// [`Dsm::fetch_records`] on its own thread, as a stream a few periods ahead of the
    /// reader at most (bounded in rows: `handoff`; the form the CLI writes from).
    pub fn stream_records(
        &self,
        req: &KindRequest,
        mut progress: impl FnMut(i64, i64) + Send + 'static,
    ) -> Result<FetchStream<PeriodRecords>> {
        let (this, req) = (self.clone(), req.clone());
        spawn_stream(move |emit| this.fetch_records(&req, emit, &mut progress))
    }
}

fn candles_of(req: &KindRequest) -> Result<Candles> {
    let iv =
        crate::interval::Interval::parse(&req.interval_name).map_err(|_| DsmError::Provider {
            provider: "dsm".into(),
            error: ProviderError::new(ErrorKind::INVALID_INTERVAL, "no interval"),
        })?;
    Ok(Candles::new(req.kind, iv))
}
