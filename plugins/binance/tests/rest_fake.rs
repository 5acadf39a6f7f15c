//! The REST path against a minimal fake Binance on 127.0.0.1 (the full fake exchange and
//! end-to-end tests live in tests/): exact windows, ascending delivery, COIN-M's newest-first
//! pages and 200-day limit, error mapping.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::{extract::Query, http::StatusCode, response::IntoResponse, routing::get, Router};
use dsm_binance::{BinanceProvider, Out};
use dsm_plugin_kit::testing::TestHost;
use dsm_sdk::{
    plugin::Plugin, Endpoint, ErrorKind, FetchRequest, KlineBatch, LogLevel, ProviderConfig,
    ProviderError, SourceKind,
};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;
const JAN_2024: i64 = 1_704_067_200_000;

fn step_of(interval: &str) -> i64 {
    match interval {
        "1m" => MIN,
        "1h" => 60 * MIN,
        "1d" => DAY,
        _ => panic!("fake knows no interval {interval}"),
    }
}

/// Answers like Binance: open times in [startTime, endTime] inclusive, `limit` of them,
/// oldest first, or newest first on dapi; dapi rejects spans over 200 days.
fn klines(q: &HashMap<String, String>, max_page: i64, newest_first: bool) -> impl IntoResponse {
    let bad = |code: i64, msg: &str| {
        let body = format!(r#"{{"code":{code},"msg":"{msg}"}}"#);
        (
            StatusCode::BAD_REQUEST,
            [("x-mbx-used-weight-1m", "1")],
            body,
        )
    };
    if !["BTCUSDT", "BTCUSD_PERP"].contains(&q["symbol"].as_str()) {
        return bad(-1121, "Invalid symbol.");
    }
    let num = |k: &str| q[k].parse::<i64>().unwrap();
    let (start, end, limit) = (num("startTime"), num("endTime"), num("limit"));
    if limit > max_page {
        return bad(-1130, "Data sent for parameter 'limit' is not valid.");
    }
    if newest_first && end - start > 200 * DAY {
        return bad(-1127, "More than 200 days between startTime and endTime.");
    }
    let step = step_of(&q["interval"]);
    let opens: Vec<i64> = ((start + step - 1).div_euclid(step)..=end.div_euclid(step))
        .map(|i| i * step)
        .collect();
    let take = opens.len().min(limit as usize);
    let page = if newest_first {
        &opens[opens.len() - take..]
    } else {
        &opens[..take]
    };
    let rows: Vec<String> = page
        .iter()
        .map(|t| {
            let p = (t / step % 1000) as f64 + 100.0;
            format!(
                r#"[{t},"{p}","{}","{}","{}","10.5",{},"20.25",7,"1.5","2.5","0"]"#,
                p + 2.0,
                p - 1.0,
                p + 1.0,
                t + step - 1
            )
        })
        .collect();
    (
        StatusCode::OK,
        [("x-mbx-used-weight-1m", "5")],
        format!("[{}]", rows.join(",")),
    )
}

async fn serve(hits: Arc<AtomicU32>) -> String {
    let route = |max_page: i64, newest_first: bool| {
        let hits = hits.clone();
        get(move |Query(q): Query<HashMap<String, String>>| {
            let n = hits.fetch_add(1, Ordering::SeqCst);
            async move {
                // Uneven delays so that windows complete out of order.
                tokio::time::sleep(Duration::from_millis(u64::from(n * 7 % 30))).await;
                klines(&q, max_page, newest_first)
            }
        })
    };
    let app = Router::new()
        .route("/api/v3/klines", route(1000, false))
        .route("/fapi/v1/klines", route(1500, false))
        .route("/dapi/v1/klines", route(1500, true));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A fake server on its own runtime thread, and a provider pointed at it.
fn setup() -> (BinanceProvider, Arc<AtomicU32>, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hits = Arc::new(AtomicU32::new(0));
    let base = rt.block_on(serve(hits.clone()));
    let endpoints = ["spot", "um", "cm"].map(|k| Endpoint {
        key: k.into(),
        url: format!("{base}/").into(),
    });
    let config = ProviderConfig {
        concurrency: 4,
        endpoints: endpoints.to_vec().into(),
        ..ProviderConfig::default()
    };
    let provider = BinanceProvider::new(config, TestHost::new().host(LogLevel::WARN)).unwrap();
    (provider, hits, rt)
}

#[derive(Default)]
struct Collect {
    batches: Vec<KlineBatch>,
    progress: Vec<(i64, i64)>,
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

fn request(market: &str, symbol: &str, interval: &str, start_ms: i64, end_ms: i64) -> FetchRequest {
    FetchRequest {
        market: market.into(),
        symbol: symbol.into(),
        interval: interval.into(),
        start_ms,
        end_ms,
        source: SourceKind::LIVE,
    }
}

/// Every aligned open time in [start, end) exactly once, ascending; batches contiguous.
fn assert_exact(out: &Collect, start: i64, end: i64, step: i64) {
    let got: Vec<i64> = out
        .batches
        .iter()
        .flat_map(|b| b.klines.iter().map(|k| k.open_time))
        .collect();
    let want: Vec<i64> = ((start + step - 1) / step..(end + step - 1) / step)
        .map(|i| i * step)
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "open times differ");
    assert_eq!(out.batches[0].covered_start_ms, start);
    assert_eq!(out.batches.last().unwrap().covered_end_ms, end);
    assert!(out
        .batches
        .windows(2)
        .all(|p| p[0].covered_end_ms == p[1].covered_start_ms));
    assert!(out.batches.iter().all(|b| b.source == SourceKind::LIVE));
    assert_eq!(*out.progress.last().unwrap(), (end - start, end - start));
}

#[test]
fn spot_minutes_unaligned_range_is_exact() {
    let (p, hits, _rt) = setup();
    assert!(!p.is_started());
    let (start, end) = (JAN_2024 + 30_000, JAN_2024 + 3 * DAY + 30_000);
    let mut out = Collect::default();
    let report = p
        .fetch_into(&request("spot", "BTCUSDT", "1m", start, end), &mut out)
        .unwrap();
    assert_exact(&out, start, end, MIN);
    assert_eq!(out.batches.len(), 5); // 4320 minutes in pages of 1000
    assert_eq!(report.klines, 4320);
    assert_eq!(report.requests, 5);
    assert_eq!(hits.load(Ordering::SeqCst), 5);
    let k = out.batches[0].klines[0];
    assert_eq!(
        (k.close_time, k.volume, k.trades),
        (k.open_time + MIN - 1, 10.5, 7)
    );
}

#[test]
fn usdm_uses_pages_of_1500() {
    let (p, hits, _rt) = setup();
    let mut out = Collect::default();
    let (start, end) = (JAN_2024, JAN_2024 + 3 * DAY);
    p.fetch_into(&request("um", "BTCUSDT", "1m", start, end), &mut out)
        .unwrap();
    assert_exact(&out, start, end, MIN);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[test]
fn coin_m_newest_first_pages_are_exact() {
    let (p, _, _rt) = setup();
    let mut out = Collect::default();
    let (start, end) = (JAN_2024 + 1, JAN_2024 + 100 * DAY);
    p.fetch_into(&request("cm", "BTCUSD_PERP", "1h", start, end), &mut out)
        .unwrap();
    assert_exact(&out, start, end, 60 * MIN);
}

#[test]
fn coin_m_daily_respects_200_days() {
    let (p, hits, _rt) = setup();
    let mut out = Collect::default();
    let (start, end) = (JAN_2024 - 1_000 * DAY, JAN_2024);
    p.fetch_into(&request("cm", "BTCUSD_PERP", "1d", start, end), &mut out)
        .unwrap();
    assert_exact(&out, start, end, DAY);
    assert_eq!(hits.load(Ordering::SeqCst), 5);
}

#[test]
fn unknown_symbol_is_invalid_symbol() {
    let (p, _, _rt) = setup();
    let e = p
        .fetch_into(
            &request("spot", "NOPE", "1m", JAN_2024, JAN_2024 + DAY),
            &mut Collect::default(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::INVALID_SYMBOL);
    assert!(
        e.message
            .starts_with("Binance spot does not know symbol NOPE (code -1121"),
        "{e}"
    );
}

/// ARCHIVE goes to Vision (tests/vision.rs); a source the plugin does not know is refused.
#[test]
fn unknown_source_is_unsupported_and_starts_nothing() {
    let (p, hits, _rt) = setup();
    let mut req = request("spot", "BTCUSDT", "1m", JAN_2024, JAN_2024 + DAY);
    req.source = SourceKind(9);
    let e = p.fetch_into(&req, &mut Collect::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(!p.is_started());
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

/// A window larger than a page (never planned, but handled): the rest is fetched after the
/// newest rows on COIN-M and after the oldest elsewhere.
#[test]
fn full_page_falls_back_to_the_rest_of_the_window() {
    use dsm_binance::page::{fetch_window, Job};
    use dsm_plugin_kit::{HttpClient, WeightGate, Window};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hits = Arc::new(AtomicU32::new(0));
    let base = rt.block_on(serve(hits.clone()));
    let host = TestHost::new().host(LogLevel::WARN);
    let http = Arc::new(HttpClient::new(&ProviderConfig::default(), host.clone(), "t").unwrap());
    for (market, symbol) in [
        (dsm_binance::Market::Cm, "BTCUSD_PERP"),
        (dsm_binance::Market::Spot, "BTCUSDT"),
    ] {
        let job = Arc::new(Job {
            market,
            symbol: symbol.into(),
            interval: "1h".into(),
            min_step_ms: 60 * MIN,
            base_url: base.clone(),
            http: http.clone(),
            gate: Arc::new(WeightGate::new("x-mbx-used-weight-1m", 2400, 10)),
            host: host.clone(),
        });
        let w = Window {
            start_ms: JAN_2024,
            end_ms: JAN_2024 + 3200 * 60 * MIN,
            capacity: 3200,
        };
        let before = hits.load(Ordering::SeqCst);
        let page = rt.block_on(fetch_window(job, w)).unwrap();
        let got: Vec<i64> = page.klines.iter().map(|k| k.open_time).collect();
        let want: Vec<i64> = (0..3200).map(|i| JAN_2024 + i * 60 * MIN).collect();
        assert!(got == want, "{market:?}: {} rows", got.len());
        assert_eq!(
            page.requests,
            u64::from(hits.load(Ordering::SeqCst) - before)
        );
        assert!(page.requests >= 3, "{market:?}");
    }
}
