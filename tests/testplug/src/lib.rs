//! A dsm plugin for tests: no network; candles computed from their open time. The symbol
//! `PANIC` makes `fetch` panic, so tests can prove a panic never crosses the boundary.
//! Symbols starting `HOLE` play an exchange that publishes late: the first call for such a
//! symbol in a process lacks the candles opening at 10:00 and 11:00 UTC of every day; later
//! calls have them.
//! `DSM_TESTPLUG_PAUSE_FROM` (ms): a fetch starting at or after that time never answers, so
//! a test can kill the host at a point it is certainly in the middle of its run.
//! Data kinds (`fetch_data`): funding rates settle every 8 h, 3 ms past the hour, with a
//! mark price (none for symbols starting `NOMARK`); mark candles are the klines with zero
//! volumes; premium candles are small negative fractions; two trades a second (one
//! aggregated trade); a metrics row every 5 minutes.

use std::collections::HashSet;
use std::sync::Mutex;

use dsm_sdk::{
    plugin::{DataOut, Host, Plugin, Sink},
    DataKind, DataRequest, ErrorKind, FetchReport, FetchRequest, FundingBatch, FundingRate,
    Kline, KlineBatch, LogLevel, Metric, MetricBatch, ProviderConfig, ProviderError,
    SourceKind, Trade, TradeBatch,
};

const HOUR: i64 = 3_600_000;

pub struct TestProvider {
    host: Host,
}

fn interval_ms(interval: &str) -> Option<i64> {
    match interval {
        "1m" => Some(60_000),
        "1h" => Some(3_600_000),
        "1d" => Some(86_400_000),
        _ => None,
    }
}

impl Plugin for TestProvider {
    fn new(_config: ProviderConfig, host: Host) -> Result<Self, ProviderError> {
        Ok(TestProvider { host })
    }

    fn fetch(
        &self,
        req: &FetchRequest,
        sink: &mut Sink<'_, '_>,
    ) -> Result<FetchReport, ProviderError> {
        if req.symbol.as_str() == "PANIC" {
            panic!("testplug was asked to panic");
        }
        self.host.log(LogLevel::INFO, "testplug fetch");
        pause_if_asked(req.start_ms)?;
        let late = req.symbol.starts_with("HOLE") && first_call(req.symbol.as_str());
        let klines = candles(req.interval.as_str(), (req.start_ms, req.end_ms), late)?;
        let n = klines.len() as u64;
        sink.push(KlineBatch {
            klines: klines.into(),
            source: SourceKind::LIVE,
            covered_start_ms: req.start_ms,
            covered_end_ms: req.end_ms,
        })?;
        Ok(report(n))
    }

    fn fetch_data(
        &self,
        req: &DataRequest,
        out: &mut DataOut<'_, '_>,
    ) -> Result<FetchReport, ProviderError> {
        pause_if_asked(req.start_ms)?;
        let range = (req.start_ms, req.end_ms);
        let (covered_start_ms, covered_end_ms) = range;
        let n = match req.kind {
            DataKind::FUNDING => {
                let rows = funding(req.symbol.as_str(), range);
                let n = rows.len() as u64;
                out.push_funding(FundingBatch {
                    rows: rows.into(),
                    source: SourceKind::LIVE,
                    covered_start_ms,
                    covered_end_ms,
                })?;
                n
            }
            DataKind::MARK | DataKind::PREMIUM => {
                let mut klines = candles(req.interval.as_str(), range, false)?;
                for k in &mut klines {
                    k.volume = 0.0;
                    k.quote_volume = 0.0;
                    k.taker_buy_base_volume = 0.0;
                    k.taker_buy_quote_volume = 0.0;
                    if req.kind == DataKind::PREMIUM {
                        let scale = |p: f64| -p / 1e6;
                        (k.open, k.high, k.low, k.close) =
                            (scale(k.open), scale(k.low), scale(k.high), scale(k.close));
                    }
                }
                let n = klines.len() as u64;
                out.push_klines(KlineBatch {
                    klines: klines.into(),
                    source: SourceKind::LIVE,
                    covered_start_ms,
                    covered_end_ms,
                })?;
                n
            }
            DataKind::TRADES | DataKind::AGG_TRADES => {
                let rows = trades(req.kind == DataKind::AGG_TRADES, range);
                let n = rows.len() as u64;
                out.push_trades(TradeBatch {
                    rows: rows.into(),
                    source: SourceKind::LIVE,
                    covered_start_ms,
                    covered_end_ms,
                })?;
                n
            }
            DataKind::METRICS => {
                let rows = metrics(range);
                let n = rows.len() as u64;
                out.push_metrics(MetricBatch {
                    rows: rows.into(),
                    source: SourceKind::LIVE,
                    covered_start_ms,
                    covered_end_ms,
                })?;
                n
            }
            other => {
                return Err(ProviderError::new(
                    ErrorKind::UNSUPPORTED_SOURCE,
                    format!("testplug has no {other}"),
                ))
            }
        };
        Ok(report(n))
    }
}

fn report(rows: u64) -> FetchReport {
    FetchReport {
        requests: 0,
        klines: rows,
        missing: Default::default(),
    }
}

/// The candles of `[start, end)`; `late`: without those opening at 10:00 and 11:00 UTC.
fn candles(
    interval: &str,
    (start, end): (i64, i64),
    late: bool,
) -> Result<Vec<Kline>, ProviderError> {
    let step = interval_ms(interval)
        .ok_or_else(|| ProviderError::new(ErrorKind::INVALID_INTERVAL, "bad interval"))?;
    let first = (start + step - 1).div_euclid(step) * step;
    let hour_of_day = |t: i64| t.rem_euclid(86_400_000) / HOUR;
    Ok((0..)
        .map(|i| first + i * step)
        .take_while(|t| *t < end)
        .filter(|t| !(late && step < 86_400_000 && matches!(hour_of_day(*t), 10 | 11)))
        .map(|t| {
            let p = (t / step % 1000) as f64 + 100.0;
            Kline {
                open_time: t,
                open: p,
                high: p + 2.0,
                low: p - 1.0,
                close: p + 1.0,
                volume: 10.0,
                close_time: t + step - 1,
                quote_volume: 10.0 * p,
                trades: 7,
                taker_buy_base_volume: 5.0,
                taker_buy_quote_volume: 5.0 * p,
            }
        })
        .collect())
}

/// Two trades a second (both in the same millisecond, 250 ms past it), ids dense from
/// the epoch; aggregated trades merge each pair.
fn trades(aggregated: bool, (start, end): (i64, i64)) -> Vec<Trade> {
    let first = (start - 250 + 999).div_euclid(1000);
    (first..)
        .map(|s| (s, s * 1000 + 250))
        .take_while(|(_, t)| *t < end)
        .flat_map(|(s, time)| {
            let price = 100.0 + (s % 100) as f64 / 8.0;
            let one = |id: i64, qty: f64| Trade {
                id,
                time,
                price,
                qty,
                quote_qty: if aggregated { f64::NAN } else { price * qty },
                first_id: if aggregated { 2 * s } else { -1 },
                last_id: if aggregated { 2 * s + 1 } else { -1 },
                buyer_maker: (s % 2) as u8,
                best_match: 1,
            };
            match aggregated {
                true => vec![one(s, 1.5)],
                false => vec![one(2 * s, 0.5), one(2 * s + 1, 1.0)],
            }
        })
        .collect()
}

/// A metrics row every 5 minutes.
fn metrics((start, end): (i64, i64)) -> Vec<Metric> {
    let step = 300_000;
    let first = (start + step - 1).div_euclid(step) * step;
    (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t < end)
        .map(|t| Metric {
            time: t,
            open_interest: 1000.0 + (t / step % 50) as f64,
            open_interest_value: 1e6,
            top_trader_account_ratio: 1.5,
            top_trader_position_ratio: 2.0,
            account_ratio: 1.25,
            taker_buy_sell_ratio: 0.75,
        })
        .collect()
}

/// Funding settled every 8 h, 3 ms past the hour, inside `[start, end)`.
fn funding(symbol: &str, (start, end): (i64, i64)) -> Vec<FundingRate> {
    let step = 8 * HOUR;
    let first = (start - 3 + step - 1).div_euclid(step) * step;
    (0..)
        .map(|i| first + i * step)
        .map(|t| (t, t + 3))
        .take_while(|(_, at)| *at < end)
        .filter(|(_, at)| *at >= start)
        .map(|(t, at)| FundingRate {
            funding_time: at,
            rate: ((t / step) % 7 - 3) as f64 * 0.0001,
            mark_price: if symbol.starts_with("NOMARK") {
                f64::NAN
            } else {
                (t / step % 1000) as f64 + 100.5
            },
            interval_ms: step,
        })
        .collect()
}

/// Waits for the test to kill the process when `DSM_TESTPLUG_PAUSE_FROM` is at or before
/// `start_ms`; then fails, so a process a failed test left behind ends by itself.
fn pause_if_asked(start_ms: i64) -> Result<(), ProviderError> {
    let from = std::env::var("DSM_TESTPLUG_PAUSE_FROM").ok();
    if from
        .and_then(|v| v.parse::<i64>().ok())
        .is_some_and(|f| f <= start_ms)
    {
        std::thread::sleep(std::time::Duration::from_secs(300));
        return Err(ProviderError::new(
            ErrorKind::TIMEOUT,
            "paused for DSM_TESTPLUG_PAUSE_FROM and never killed",
        ));
    }
    Ok(())
}

/// Whether this is the process's first call for `symbol`.
fn first_call(symbol: &str) -> bool {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    seen.get_or_insert_with(HashSet::new)
        .insert(symbol.to_string())
}

dsm_sdk::export_provider! {
    id: "testplug",
    manifest: "../manifest.json",
    plugin: TestProvider,
}
