//! OKX's data kinds at the plugin boundary, against the fake exchange on 127.0.0.1: funding
//! rates paged backwards with the three-month depth reported as missing, mark and index
//! candles through the candle fetch (forming ones dropped), klines via fetch_data, and the
//! errors for kinds a market lacks.

use dsm_okx::OkxProvider;
use dsm_plugin_kit::testing::{collect, config_on, data_request as request, Collect, TestHost};
use dsm_sdk::time::{now_ms, DAY_MS, HOUR_MS};
use dsm_sdk::{
    plugin::Plugin, DataKind, DataRequest, ErrorKind, FetchReport, LogLevel, ProviderConfig,
    ProviderError, SourceKind,
};
use dsm_tests::fake::{
    expected_okx_candles, expected_okx_funding, expected_okx_klines, okx_realized_rate_is_empty,
    FakeExchange, OKX_FUNDING_DEPTH_MS,
};

const JAN1: i64 = 1_704_067_200_000; // 2024-01-01
const FUNDING: &str = "/api/v5/public/funding-rate-history";

fn setup() -> (OkxProvider, FakeExchange) {
    let fake = FakeExchange::start();
    let config = ProviderConfig {
        concurrency: 4,
        ..config_on(&fake.url())
    };
    let provider = OkxProvider::new(config, TestHost::new().host(LogLevel::WARN)).unwrap();
    (provider, fake)
}

fn fetch(p: &OkxProvider, req: &DataRequest) -> (Result<FetchReport, ProviderError>, Collect) {
    collect(|out| p.fetch_data_into(req, out))
}

#[test]
fn funding_within_three_months_pages_backwards_in_one_batch() {
    let (p, fake) = setup();
    let now = now_ms();
    let (start, end) = (now - 60 * DAY_MS, now - DAY_MS);
    let (report, out) = fetch(
        &p,
        &request(DataKind::FUNDING, "swap", "BTCUSDT", "", (start, end)),
    );
    let report = report.unwrap();
    let want = expected_okx_funding("BTC-USDT-SWAP", start, end);
    assert!(
        (350..=356).contains(&want.len()),
        "59 days of 4 h: {}",
        want.len()
    );
    let got = out.funding_rates();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            (g.funding_time, g.rate, g.interval_ms),
            (w.funding_time, w.rate, 0)
        );
        assert!(g.mark_price.is_nan(), "OKX sends no mark price");
    }
    // Rows whose realizedRate is empty carry fundingRate; there are some in this range.
    assert!(got
        .iter()
        .any(|r| okx_realized_rate_is_empty("BTC-USDT-SWAP", r.funding_time)));
    assert_eq!(out.funding.len(), 1);
    let batch = &out.funding[0];
    assert_eq!((batch.covered_start_ms, batch.covered_end_ms), (start, end));
    assert!(report.missing.is_empty(), "{:?}", report.missing);
    assert_eq!(report.klines as usize, want.len());
    // 100 rows a page, newest first: four pages, `after` walking back, `before` the start.
    let reqs = fake.requests_on(FUNDING);
    assert_eq!(reqs.len(), want.len().div_ceil(100));
    assert_eq!(report.requests as usize, reqs.len());
    let afters: Vec<i64> = reqs
        .iter()
        .map(|r| r.param("after").unwrap().parse().unwrap())
        .collect();
    assert_eq!(afters[0], end);
    assert!(afters.windows(2).all(|w| w[1] < w[0]), "{afters:?}");
    for r in &reqs {
        assert_eq!(r.param("instId").as_deref(), Some("BTC-USDT-SWAP"));
        assert_eq!(r.param("before"), Some((start - 1).to_string()));
        assert_eq!(r.param("limit").as_deref(), Some("100"));
    }
    assert_eq!(out.progress.last(), Some(&(end - start, end - start)));
}

#[test]
fn funding_older_than_three_months_is_reported_missing_not_failed() {
    let (p, _fake) = setup();
    let now = now_ms();
    let (start, end) = (now - 120 * DAY_MS, now - 60 * DAY_MS);
    let (report, out) = fetch(
        &p,
        &request(DataKind::FUNDING, "swap", "BTC-USD-SWAP", "", (start, end)),
    );
    let report = report.unwrap();
    let got = out.funding_rates();
    let first = got[0].funding_time;
    let horizon = now - OKX_FUNDING_DEPTH_MS;
    assert!(
        first >= horizon && first < horizon + 8 * HOUR_MS + 60_000,
        "{first}"
    );
    let want = expected_okx_funding("BTC-USD-SWAP", first, end);
    assert_eq!(
        got.iter()
            .map(|r| (r.funding_time, r.rate))
            .collect::<Vec<_>>(),
        want.iter()
            .map(|r| (r.funding_time, r.rate))
            .collect::<Vec<_>>()
    );
    let batch = &out.funding[0];
    assert_eq!((batch.covered_start_ms, batch.covered_end_ms), (first, end));
    assert_eq!(report.missing.len(), 1);
    let m = &report.missing[0];
    assert_eq!((m.start_ms, m.end_ms), (start, first));
    assert!(m.reason.contains("last three months only"), "{}", m.reason);

    // Wholly older: nothing served, all missing, one request.
    let (start, end) = (now - 200 * DAY_MS, now - 150 * DAY_MS);
    let (report, out) = fetch(
        &p,
        &request(DataKind::FUNDING, "swap", "BTC-USD-SWAP", "", (start, end)),
    );
    let report = report.unwrap();
    assert!(out.funding_rates().is_empty());
    assert_eq!(out.funding[0].covered_start_ms, end);
    assert_eq!(
        (report.missing[0].start_ms, report.missing[0].end_ms),
        (start, end)
    );
    assert_eq!(report.requests, 1);
}

#[test]
fn mark_candles_page_through_their_endpoint() {
    let (p, fake) = setup();
    let (start, end) = (JAN1 + 5 * 60_000, JAN1 + DAY_MS + 17 * 60_000);
    let (report, out) = fetch(
        &p,
        &request(DataKind::MARK, "swap", "BTC-USDT-SWAP", "1m", (start, end)),
    );
    let report = report.unwrap();
    let want = expected_okx_candles("mark", "BTC-USDT-SWAP", "1m", start, end);
    assert_eq!(want.len(), 1435 + 17);
    assert!(out.klines() == want, "mark candles differ from the fake's");
    assert!(out
        .klines()
        .iter()
        .all(|k| k.volume == 0.0 && k.quote_volume == 0.0));
    assert_ne!(want, expected_okx_klines("BTC-USDT-SWAP", "1m", start, end));
    let reqs = fake.requests_on("/api/v5/market/history-mark-price-candles");
    assert_eq!(
        reqs.len(),
        15 + 1,
        "a day of 100-row pages, then the last 17"
    );
    assert_eq!(report.requests as usize, reqs.len());
    assert!(reqs
        .iter()
        .all(|r| r.param("instId").as_deref() == Some("BTC-USDT-SWAP")));
    assert!(fake
        .requests_on("/api/v5/market/history-candles")
        .is_empty());
    // Batches cover the request exactly, day by day.
    assert_eq!(out.batches[0].covered_start_ms, start);
    assert_eq!(out.batches.last().unwrap().covered_end_ms, end);
}

#[test]
fn index_candles_take_the_underlying_and_drop_the_forming_one() {
    let (p, fake) = setup();
    let now = now_ms();
    let today = now - now.rem_euclid(DAY_MS);
    let (start, end) = (today - 30 * DAY_MS, today + DAY_MS);
    let (report, out) = fetch(
        &p,
        &request(DataKind::INDEX, "swap", "BTCUSD", "1d", (start, end)),
    );
    report.unwrap();
    let want = expected_okx_candles("index", "BTC-USD-SWAP", "1d", start, end);
    assert_eq!(want.len(), 30, "today's candle is forming");
    assert!(out.klines() == want);
    let reqs = fake.requests_on("/api/v5/market/history-index-candles");
    assert!(reqs
        .iter()
        .all(|r| r.param("instId").as_deref() == Some("BTC-USD")));
    assert_eq!(reqs[0].param("bar").as_deref(), Some("1Dutc"));
}

#[test]
fn klines_through_fetch_data_are_the_klines() {
    let (p, _fake) = setup();
    let range = (JAN1, JAN1 + 3 * DAY_MS);
    let (report, out) = fetch(
        &p,
        &request(DataKind::KLINES, "spot", "BTC-USDT", "1h", range),
    );
    report.unwrap();
    assert!(out.klines() == expected_okx_klines("BTC-USDT", "1h", range.0, range.1));
}

#[test]
fn kinds_a_market_lacks_are_refused_naming_where_they_are() {
    let (p, fake) = setup();
    let range = (JAN1, JAN1 + DAY_MS);
    let err = |kind, market, interval| {
        fetch(&p, &request(kind, market, "BTC-USDT", interval, range))
            .0
            .unwrap_err()
    };
    let e = err(DataKind::FUNDING, "spot", "");
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(
        e.message
            .contains("OKX spot has no funding data; it is available on OKX swap"),
        "{e}"
    );
    let e = err(DataKind::MARK, "spot", "1h");
    assert!(e.message.contains("available on OKX swap"), "{e}");
    let e = err(DataKind::PREMIUM, "swap", "1h");
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(
        e.message.starts_with("OKX serves premium on no market"),
        "{e}"
    );
    let e = err(DataKind(42), "swap", "1h");
    assert!(e.message.contains("does not know data kind 42"), "{e}");
    let e = err(DataKind::MARK, "swap", "8h");
    assert_eq!(e.kind, ErrorKind::INVALID_INTERVAL);
    let mut archive = request(DataKind::FUNDING, "swap", "BTC-USDT", "", range);
    archive.source = SourceKind::ARCHIVE;
    assert_eq!(
        fetch(&p, &archive).0.unwrap_err().kind,
        ErrorKind::UNSUPPORTED_SOURCE
    );
    assert!(fake.requests().is_empty(), "refused before any request");
}

#[test]
fn funding_errors_and_the_rate_limit_answer() {
    let (p, fake) = setup();
    let now = now_ms();
    let range = (now - 10 * DAY_MS, now);
    let e = fetch(
        &p,
        &request(DataKind::FUNDING, "swap", "DOGE-USDT-SWAP", "", range),
    )
    .0
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::INVALID_SYMBOL);
    assert!(e.message.contains("no instrument DOGE-USDT-SWAP"), "{e}");
    // 50011 (HTTP 429) on the funding path is waited out like on candles.
    fake.clear_requests();
    fake.push_faults(
        FUNDING,
        [dsm_tests::fake::Fault::OkxError {
            status: 429,
            code: 50011,
            msg: "Too Many Requests".into(),
        }],
    );
    let (report, out) = fetch(
        &p,
        &request(DataKind::FUNDING, "swap", "BTC-USD-SWAP", "", range),
    );
    let report = report.unwrap();
    assert_eq!(
        out.funding_rates().len(),
        expected_okx_funding("BTC-USD-SWAP", range.0, range.1).len()
    );
    let statuses: Vec<u16> = fake.requests_on(FUNDING).iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
    assert_eq!(report.requests, 2, "the retry is counted");
}
