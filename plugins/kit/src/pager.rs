//! Paging backwards through a window of an API that answers newest first.
//!
//! OKX (`after`), Bybit (`end`) and Binance COIN-M return, for a cursor, the NEWEST `limit`
//! candles before it. [`backwards`] walks such an API from the window's end to its start,
//! moving the cursor to the oldest candle received, and returns the window ascending.

use std::future::Future;

use dsm_sdk::{Kline, ProviderError};

use crate::deliver::Fetched;
use crate::window::Window;

/// One answer of the API, for [`backwards`].
pub struct Page {
    /// The candles received (any order; ones outside the window are dropped). A plugin may
    /// leave out rows it does not deliver (e.g. a candle still forming).
    pub klines: Vec<Kline>,
    /// Rows the answer held, dropped ones included: fewer than `limit` ends the window.
    pub received: usize,
    /// HTTP requests made for it, retries included.
    pub requests: u64,
}

/// Every candle of `[lo, hi)`, ascending, and the requests made.
///
/// `fetch(cursor)` asks for the newest `limit` candles opening before `cursor` (exclusive)
/// and, if the API has a lower bound, not before `lo`. The walk ends when an answer holds
/// fewer than `limit` rows, holds nothing inside the window, or when no earlier candle can
/// open inside the window (the oldest one received is less than `min_step_ms` after `lo`),
/// so a window that fits in one page takes one request.
pub async fn backwards<F, Fut>(
    lo: i64,
    hi: i64,
    limit: u32,
    min_step_ms: i64,
    mut fetch: F,
) -> Result<(Vec<Kline>, u64), ProviderError>
where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<Page, ProviderError>>,
{
    let mut cursor = hi;
    let mut pages: Vec<Vec<Kline>> = Vec::new();
    let mut requests = 0;
    while cursor > lo {
        let page = fetch(cursor).await?;
        requests += page.requests;
        let mut rows: Vec<Kline> = page
            .klines
            .into_iter()
            .filter(|k| k.open_time >= lo && k.open_time < cursor)
            .collect();
        rows.sort_by_key(|k| k.open_time);
        rows.dedup_by_key(|k| k.open_time);
        let Some(oldest) = rows.first().map(|k| k.open_time) else {
            break;
        };
        pages.push(rows);
        if page.received < limit as usize || oldest.saturating_sub(min_step_ms) < lo {
            break;
        }
        cursor = oldest;
    }
    pages.reverse();
    Ok((pages.concat(), requests))
}

/// Window `w` fetched completely by paging backwards from its end (see [`backwards`]).
pub async fn window<F, Fut>(
    w: Window,
    limit: u32,
    min_step_ms: i64,
    fetch: F,
) -> Result<Fetched, ProviderError>
where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<Page, ProviderError>>,
{
    let (klines, requests) = backwards(w.start_ms, w.end_ms, limit, min_step_ms, fetch).await?;
    Ok(Fetched {
        window: w,
        klines,
        requests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    const MIN: i64 = 60_000;

    fn k(t: i64) -> Kline {
        Kline {
            open_time: t,
            ..Kline::default()
        }
    }

    /// An API with a candle every minute from 0 to `last`, answering newest first.
    fn api(last: i64, limit: usize, cursors: &RefCell<Vec<i64>>, c: i64) -> Page {
        cursors.borrow_mut().push(c);
        let rows: Vec<Kline> = (0..=last / MIN)
            .rev()
            .map(|i| i * MIN)
            .filter(|t| *t < c)
            .take(limit)
            .map(k)
            .collect();
        Page {
            received: rows.len(),
            klines: rows,
            requests: 1,
        }
    }

    #[tokio::test]
    async fn walks_back_exactly_and_returns_ascending() {
        let cursors = RefCell::new(Vec::new());
        let (lo, hi) = (30 * MIN, 280 * MIN);
        let (got, requests) = backwards(lo, hi, 100, MIN, |c| {
            let p = api(10_000 * MIN, 100, &cursors, c);
            async move { Ok(p) }
        })
        .await
        .unwrap();
        let want: Vec<i64> = (30..280).map(|i| i * MIN).collect();
        assert_eq!(got.iter().map(|k| k.open_time).collect::<Vec<_>>(), want);
        // 250 candles: 100 + 100 + 50 (the third page reaches past lo).
        assert_eq!(requests, 3);
        assert_eq!(*cursors.borrow(), [280 * MIN, 180 * MIN, 80 * MIN]);
    }

    #[tokio::test]
    async fn exact_multiple_of_a_page_needs_no_extra_request() {
        let cursors = RefCell::new(Vec::new());
        let (got, requests) = backwards(0, 200 * MIN, 100, MIN, |c| {
            let p = api(10_000 * MIN, 100, &cursors, c);
            async move { Ok(p) }
        })
        .await
        .unwrap();
        assert_eq!(got.len(), 200);
        assert_eq!(requests, 2);
    }

    #[tokio::test]
    async fn short_history_ends_early() {
        let cursors = RefCell::new(Vec::new());
        // Listed at 0; the window starts long before.
        let (got, requests) = backwards(-500 * MIN, 50 * MIN, 100, MIN, |c| {
            let p = api(10_000 * MIN, 100, &cursors, c);
            async move { Ok(p) }
        })
        .await
        .unwrap();
        assert_eq!(got.len(), 50);
        assert_eq!(requests, 1);
    }
}
