//! Funding rate history: paging one range backwards through a newest-first API (OKX
//! `after`, Bybit `endTime`), the rows as the host's sink requires them (ascending, unique),
//! and delivery as one batch.
//!
//! Funding rows are few (a year of hourly settlements is 8,760 rows of 32 bytes), so a
//! fetch walks its whole range and hands it over in one [`FundingBatch`].

use std::future::Future;

use dsm_sdk::{
    ErrorKind, FetchReport, FundingBatch, FundingRate, MissingRange, ProviderError, SourceKind,
};

use crate::deliver::FundingOut;
use crate::parse::Reordered;

/// One answer of a funding endpoint.
pub struct FundingPage {
    /// The rows received (any order; ones outside the range are dropped).
    pub rows: Vec<FundingRate>,
    /// HTTP requests made for it, retries included.
    pub requests: u64,
}

/// Every funding rate of `[lo, hi)`, ascending and unique, and the requests made.
///
/// `fetch(cursor)` asks for the newest `limit` rows settled before `cursor` (exclusive);
/// it may return older rows than `lo` (APIs without a lower bound). The walk ends on an
/// answer shorter than `limit`, one reaching back to `lo`, or one with nothing new.
pub async fn walk_back<F, Fut>(
    lo: i64,
    hi: i64,
    limit: u32,
    place: &str,
    mut fetch: F,
) -> Result<(Vec<FundingRate>, u64), ProviderError>
where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<FundingPage, ProviderError>>,
{
    let mut cursor = hi;
    let mut rows = Vec::new();
    let mut requests = 0;
    while cursor > lo {
        let page = fetch(cursor).await?;
        requests += page.requests;
        let received = page.rows.len();
        let reached = page.rows.iter().any(|r| r.funding_time <= lo);
        let before = rows.len();
        rows.extend(
            page.rows
                .into_iter()
                .filter(|r| r.funding_time >= lo && r.funding_time < cursor),
        );
        let Some(oldest) = rows[before..].iter().map(|r| r.funding_time).min() else {
            break;
        };
        if received < limit as usize || reached {
            break;
        }
        cursor = oldest;
    }
    ascending(&mut rows, place)?;
    Ok((rows, requests))
}

/// Two rows say the same when every field has the same bits (NaN mark prices included).
fn same(a: &FundingRate, b: &FundingRate) -> bool {
    a.funding_time == b.funding_time
        && a.rate.to_bits() == b.rate.to_bits()
        && a.mark_price.to_bits() == b.mark_price.to_bits()
        && a.interval_ms == b.interval_ms
}

/// As [`crate::parse::ascending`] for candles: sort by funding time, drop exact repeats,
/// and refuse two DIFFERENT rows at one time (`INTEGRITY`, naming `place`).
pub fn ascending(rows: &mut Vec<FundingRate>, place: &str) -> Result<Reordered, ProviderError> {
    let mut out = Reordered::default();
    if rows
        .windows(2)
        .all(|w| w[0].funding_time < w[1].funding_time)
    {
        return Ok(out);
    }
    out.sorted = rows
        .windows(2)
        .any(|w| w[0].funding_time > w[1].funding_time);
    rows.sort_by_key(|r| r.funding_time);
    let before = rows.len();
    let mut conflict = None;
    rows.dedup_by(|later, kept| {
        if later.funding_time != kept.funding_time {
            return false;
        }
        if !same(later, kept) && conflict.is_none() {
            conflict = Some(kept.funding_time);
        }
        true
    });
    if let Some(t) = conflict {
        return Err(ProviderError::new(
            ErrorKind::INTEGRITY,
            format!(
                "{place}: two different funding rates at {t} (ms UTC); the data is \
                 inconsistent and is not used"
            ),
        ));
    }
    out.duplicates = before - rows.len();
    Ok(out)
}

/// Hands `rows` (ascending, unique, inside the coverage) to `out` as one LIVE batch covering
/// `covered`, with progress over the whole `[start_ms, end_ms)`.
pub fn deliver(
    out: &mut dyn FundingOut,
    rows: Vec<FundingRate>,
    covered: (i64, i64),
    (start_ms, end_ms): (i64, i64),
    requests: u64,
    missing: Vec<MissingRange>,
) -> Result<FetchReport, ProviderError> {
    let report = FetchReport {
        requests,
        klines: rows.len() as u64,
        missing: missing.into(),
    };
    out.funding(FundingBatch {
        rows: rows.into(),
        source: SourceKind::LIVE,
        covered_start_ms: covered.0,
        covered_end_ms: covered.1,
    })?;
    out.progress(end_ms - start_ms, end_ms - start_ms);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    const H: i64 = 3_600_000;

    fn row(t: i64) -> FundingRate {
        FundingRate {
            funding_time: t,
            rate: t as f64,
            mark_price: f64::NAN,
            interval_ms: 0,
        }
    }

    fn r(t: i64, rate: f64) -> FundingRate {
        FundingRate { rate, ..row(t) }
    }

    /// Settlements every 8 h from 0 to `last`, newest first; with `lo`, none before it
    /// (OKX's `before`), else older rows too (Bybit's endTime only).
    fn api(
        last: i64,
        lo: Option<i64>,
        limit: usize,
        c: i64,
        seen: &RefCell<Vec<i64>>,
    ) -> FundingPage {
        seen.borrow_mut().push(c);
        let rows: Vec<FundingRate> = (0..=last / (8 * H))
            .rev()
            .map(|i| i * 8 * H)
            .filter(|t| *t < c && lo.is_none_or(|lo| *t >= lo))
            .take(limit)
            .map(row)
            .collect();
        FundingPage { rows, requests: 1 }
    }

    #[tokio::test]
    async fn walks_back_with_and_without_a_lower_bound() {
        for bounded in [true, false] {
            let seen = RefCell::new(Vec::new());
            let (lo, hi) = (80 * H, 800 * H);
            let (got, requests) = walk_back(lo, hi, 30, "x", |c| {
                let p = api(10_000 * H, bounded.then_some(lo), 30, c, &seen);
                async move { Ok(p) }
            })
            .await
            .unwrap();
            let want: Vec<i64> = (10..100).map(|i| i * 8 * H).collect();
            assert_eq!(got.iter().map(|r| r.funding_time).collect::<Vec<_>>(), want);
            // 90 rows in three full pages; the third reaches lo, so no fourth request.
            assert_eq!(requests, 3);
            assert_eq!(*seen.borrow(), [800 * H, 560 * H, 320 * H]);
        }
    }

    #[tokio::test]
    async fn a_short_history_ends_the_walk() {
        let seen = RefCell::new(Vec::new());
        let (got, requests) = walk_back(-1_000 * H, 100 * H, 30, "x", |c| {
            let p = api(10_000 * H, None, 30, c, &seen);
            async move { Ok(p) }
        })
        .await
        .unwrap();
        assert_eq!(got.len(), 13, "0, 8 h, ..., 96 h");
        assert_eq!(requests, 1);
    }

    #[test]
    fn sorts_drops_repeats_with_nan_and_refuses_conflicts() {
        let mut rows = vec![r(2, 0.1), r(1, 0.1), r(2, 0.1)];
        let fixed = ascending(&mut rows, "p").unwrap();
        assert_eq!((fixed.sorted, fixed.duplicates), (true, 1));
        assert_eq!(
            rows.iter().map(|r| r.funding_time).collect::<Vec<_>>(),
            [1, 2]
        );
        let mut rows = vec![r(1, 0.1), r(1, 0.2)];
        let e = ascending(&mut rows, "GET u").unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert!(e
            .message
            .starts_with("GET u: two different funding rates at 1"));
        let mut rows = vec![r(1, 0.1), r(3, 0.1)];
        assert_eq!(ascending(&mut rows, "p").unwrap(), Reordered::default());
    }
}
