//! The host's sink for one fetch: validates every batch a plugin hands over, keeps closed
//! candles only, and tracks what the plugin covered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dsm_sdk::{Kline, KlineBatch, KlineSink, SinkControl};

use crate::interval::Interval;
use crate::request::KlineRequest;
use crate::timeparse::format_time;

/// Collects and checks the candles of one request.
pub struct Collector<'a> {
    req: &'a KlineRequest,
    now_ms: i64,
    cancel: Arc<AtomicBool>,
    on_progress: Option<&'a mut dyn FnMut(i64, i64)>,
    pub klines: Vec<Kline>,
    /// Ranges the plugin said it fetched in full.
    pub covered: Vec<(i64, i64)>,
    /// The first validation failure; the fetch is stopped when one occurs.
    pub invalid: Option<String>,
}

impl<'a> Collector<'a> {
    pub fn new(req: &'a KlineRequest, now_ms: i64, cancel: Arc<AtomicBool>) -> Self {
        Collector {
            req,
            now_ms,
            cancel,
            on_progress: None,
            klines: Vec::new(),
            covered: Vec::new(),
            invalid: None,
        }
    }

    pub fn with_progress(mut self, f: &'a mut dyn FnMut(i64, i64)) -> Self {
        self.on_progress = Some(f);
        self
    }

    /// Merge the batches into one sorted list of unique candles.
    pub fn finish(mut self) -> (Vec<Kline>, Vec<(i64, i64)>) {
        // Batches normally arrive in order; sorting is then a cheap linear check.
        self.klines.sort_by_key(|k| k.open_time);
        self.klines.dedup_by_key(|k| k.open_time);
        (self.klines, self.covered)
    }

    fn accept(&mut self, batch: KlineBatch) -> Result<(), String> {
        let iv = self.req.interval;
        let mut prev: Option<i64> = None;
        for k in batch.klines.iter() {
            check_kline(k, iv, self.req)?;
            if let Some(p) = prev {
                if k.open_time <= p {
                    return Err(format!(
                        "candles out of order or repeated at {}",
                        format_time(k.open_time)
                    ));
                }
            }
            prev = Some(k.open_time);
            if iv.next(k.open_time) <= self.now_ms {
                self.klines.push(*k);
            }
        }
        self.covered
            .push((batch.covered_start_ms, batch.covered_end_ms));
        Ok(())
    }
}

/// One candle's checks: aligned, inside the range, prices and volumes sane.
pub fn check_kline(k: &Kline, iv: Interval, req: &KlineRequest) -> Result<(), String> {
    let at = format_time(k.open_time);
    if !iv.is_aligned(k.open_time) {
        return Err(format!("candle at {at} is not aligned to {iv}"));
    }
    if k.open_time < req.start_ms || k.open_time >= req.end_ms {
        return Err(format!("candle at {at} lies outside the requested range"));
    }
    let prices = [k.open, k.high, k.low, k.close];
    if prices.iter().any(|p| !p.is_finite() || *p < 0.0) {
        return Err(format!("candle at {at} has a negative or non-finite price"));
    }
    if k.low > k.open.min(k.close) || k.high < k.open.max(k.close) {
        return Err(format!(
            "candle at {at} has open/close outside [low, high]: o={} h={} l={} c={}",
            k.open, k.high, k.low, k.close
        ));
    }
    let volumes = [
        k.volume,
        k.quote_volume,
        k.taker_buy_base_volume,
        k.taker_buy_quote_volume,
    ];
    if volumes.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(format!(
            "candle at {at} has a negative or non-finite volume"
        ));
    }
    if k.close_time < k.open_time {
        return Err(format!("candle at {at} closes before it opens"));
    }
    Ok(())
}

impl KlineSink for Collector<'_> {
    fn push(&mut self, batch: KlineBatch) -> SinkControl {
        if self.cancel.load(Ordering::Relaxed) {
            return SinkControl::STOP;
        }
        match self.accept(batch) {
            Ok(()) => SinkControl::CONTINUE,
            Err(e) => {
                self.invalid = Some(e);
                SinkControl::STOP
            }
        }
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        if let Some(f) = self.on_progress.as_mut() {
            f(done_ms, total_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::MINUTE;

    fn req() -> KlineRequest {
        KlineRequest {
            symbol: "BTCUSDT".into(),
            interval_name: "1m".into(),
            interval: Interval::Fixed(MINUTE),
            start_ms: 0,
            end_ms: 10 * MINUTE,
        }
    }

    fn k(t: i64) -> Kline {
        Kline {
            open_time: t,
            open: 2.0,
            high: 3.0,
            low: 1.0,
            close: 2.5,
            close_time: t + MINUTE - 1,
            ..Default::default()
        }
    }

    fn batch(ks: Vec<Kline>) -> KlineBatch {
        KlineBatch {
            klines: ks.into(),
            source: dsm_sdk::SourceKind::LIVE,
            covered_start_ms: 0,
            covered_end_ms: 10 * MINUTE,
        }
    }

    #[test]
    fn keeps_closed_candles_only() {
        let r = req();
        let mut c = Collector::new(&r, 3 * MINUTE + 5, Default::default());
        assert_eq!(
            c.push(batch((0..4).map(|i| k(i * MINUTE)).collect())),
            SinkControl::CONTINUE
        );
        let (ks, covered) = c.finish();
        assert_eq!(ks.len(), 3, "the candle opened at 3m is still forming");
        assert_eq!(covered, vec![(0, 10 * MINUTE)]);
    }

    #[test]
    fn rejects_bad_batches_with_the_reason() {
        let r = req();
        let cases: Vec<(Kline, &str)> = vec![
            (k(30_000), "not aligned"),
            (k(20 * MINUTE), "outside the requested range"),
            (Kline { high: 1.5, ..k(0) }, "outside [low, high]"),
            (
                Kline {
                    volume: -1.0,
                    ..k(0)
                },
                "volume",
            ),
            (
                Kline {
                    low: f64::NAN,
                    ..k(0)
                },
                "non-finite price",
            ),
        ];
        for (bad, why) in cases {
            let mut c = Collector::new(&r, i64::MAX, Default::default());
            assert_eq!(c.push(batch(vec![bad])), SinkControl::STOP);
            let msg = c.invalid.unwrap();
            assert!(msg.contains(why), "{msg} should say {why}");
        }
        let mut c = Collector::new(&r, i64::MAX, Default::default());
        c.push(batch(vec![k(MINUTE), k(0)]));
        assert!(c.invalid.unwrap().contains("out of order"));
    }

    #[test]
    fn stops_when_cancelled() {
        let r = req();
        let cancel = Arc::new(AtomicBool::new(true));
        let mut c = Collector::new(&r, i64::MAX, cancel);
        assert_eq!(c.push(batch(vec![k(0)])), SinkControl::STOP);
    }
}
