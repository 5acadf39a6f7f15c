//! Bybit's data kinds at the plugin boundary, against the fake exchange on 127.0.0.1:
//! funding history paged backwards by endTime across an 8 h -> 4 h switch, mark, index and
//! premium klines through the kline fetch (the forming one handed on for the host to drop),
//! and the errors for kinds a market lacks.

use dsm_bybit::BybitProvider;
use dsm_plugin_kit::testing::{collect, config_on, data_request as request, Collect, TestHost};
use dsm_sdk::time::{now_ms, DAY_MS, HOUR_MS};
use dsm_sdk::{
    plugin::Plugin, DataKind, DataRequest, ErrorKind, FetchReport, LogLevel, ProviderConfig,
    ProviderError,
};
use dsm_tests::fake::{
    expected_bybit_candles, expected_bybit_funding, expected_bybit_klines, FakeExchange,
};

const JAN1: i64 = 1_704_067_200_000; // 2024-01-01
/// 2024-03-01, when the fake's linear BTCUSDT goes from 8 h to 4 h funding.
const SWITCH: i64 = 1_709_251_200_000;
const FUNDING: &str = "/v5/market/funding/history";

fn setup() -> (BybitProvider, FakeExchange) {
    let fake = FakeExchange::start();
    let config = ProviderConfig {
        concurrency: 4,
        ..config_on(&fake.url())
    };
    let provider = BybitProvider::new(config, TestHost::new().host(LogLevel::WARN)).unwrap();
    (provider, fake)
}

fn fetch(p: &BybitProvider, req: &DataRequest) -> (Result<FetchReport, ProviderError>, Collect) {
    collect(|out| p.fetch_data_into(req, out))
}

#[test]
fn funding_pages_backwards_by_end_time_across_an_interval_switch() {
    let (p, fake) = setup();
    // 40 days of 8 h (120) before the switch, 60 of 4 h (360) after: three pages of 200.
    let (start, end) = (SWITCH - 40 * DAY_MS + 1, SWITCH + 60 * DAY_MS);
    let req = request(DataKind::FUNDING, "linear", "BTC-USDT", "", (start, end));
    let (report, out) = fetch(&p, &req);
    let report = report.unwrap();
    let want = expected_bybit_funding("linear", "BTCUSDT", start, end);
    assert_eq!(
        want.len(),
        119 + 360,
        "the first 8 h settlement is before start"
    );
    let got = out.funding_rates();
    assert_eq!(
        got.iter()
            .map(|r| (r.funding_time, r.rate))
            .collect::<Vec<_>>(),
        want.iter()
            .map(|r| (r.funding_time, r.rate))
            .collect::<Vec<_>>()
    );
    assert!(got
        .iter()
        .all(|r| r.mark_price.is_nan() && r.interval_ms == 0));
    let gaps: Vec<i64> = got
        .windows(2)
        .map(|w| (w[1].funding_time - w[0].funding_time) / HOUR_MS)
        .collect();
    assert!(gaps.contains(&8) && gaps.contains(&4) && gaps.iter().all(|g| *g == 8 || *g == 4));
    let batch = &out.funding[0];
    assert_eq!(
        (
            out.funding.len(),
            batch.covered_start_ms,
            batch.covered_end_ms
        ),
        (1, start, end)
    );
    assert!(report.missing.is_empty());
    // endTime only (startTime alone is refused), each page's oldest - 1.
    let reqs = fake.requests_on(FUNDING);
    assert_eq!(
        reqs.len(),
        3,
        "200 + 200 + the page reaching back past start"
    );
    assert_eq!(report.requests, 3);
    assert_eq!(reqs[0].param("endTime"), Some((end - 1).to_string()));
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(r.param("startTime"), None);
        assert_eq!(r.param("limit").as_deref(), Some("200"));
        assert_eq!(r.param("category").as_deref(), Some("linear"));
        assert_eq!(r.param("symbol").as_deref(), Some("BTCUSDT"));
        if i > 0 {
            let page_oldest = got[got.len() - 200 * i].funding_time;
            assert_eq!(r.param("endTime"), Some((page_oldest - 1).to_string()));
        }
    }
}

#[test]
fn funding_of_inverse_and_a_short_history() {
    let (p, fake) = setup();
    // BTCUSD inverse is listed 2020-08-01: a range from before has what there is.
    let (start, end) = (1_590_000_000_000, 1_596_240_000_000 + 10 * DAY_MS);
    let (report, out) = fetch(
        &p,
        &request(DataKind::FUNDING, "inverse", "BTCUSD", "", (start, end)),
    );
    report.unwrap();
    assert_eq!(out.funding_rates().len(), 30);
    assert_eq!(
        out.funding_rates()[0].funding_time,
        expected_bybit_funding("inverse", "BTCUSD", start, end)[0].funding_time
    );
    assert_eq!(
        fake.requests_on(FUNDING).len(),
        1,
        "one short page ends the walk"
    );
}

#[test]
fn mark_index_premium_klines_go_through_their_endpoints() {
    let (p, fake) = setup();
    // 2500 minutes: windows of 1000, three requests per kind.
    let (start, end) = (JAN1, JAN1 + 2500 * 60_000);
    for (kind, name, path) in [
        (DataKind::MARK, "mark", "/v5/market/mark-price-kline"),
        (DataKind::INDEX, "index", "/v5/market/index-price-kline"),
        (
            DataKind::PREMIUM,
            "premium",
            "/v5/market/premium-index-price-kline",
        ),
    ] {
        fake.clear_requests();
        let req = request(kind, "linear", "BTCUSDT", "1m", (start, end));
        let (report, out) = fetch(&p, &req);
        let report = report.unwrap();
        let want = expected_bybit_candles(name, "linear", "BTCUSDT", "1m", start, end);
        assert_eq!(want.len(), 2500);
        assert!(
            out.klines() == want,
            "{name} candles differ from the fake's"
        );
        let reqs = fake.requests_on(path);
        assert_eq!((reqs.len(), report.requests), (3, 3), "{name}");
        assert_eq!(fake.requests().len(), 3, "{name}: nothing else asked");
        assert_eq!(reqs[0].param("interval").as_deref(), Some("1"));
    }
    let klines = expected_bybit_klines("linear", "BTCUSDT", "1m", start, end);
    let mark = expected_bybit_candles("mark", "linear", "BTCUSDT", "1m", start, end);
    assert_ne!(klines[0].open, mark[0].open);
}

#[test]
fn the_forming_candle_is_handed_on_with_its_close_time() {
    let (p, _fake) = setup();
    let now = now_ms();
    let hour = now - now.rem_euclid(HOUR_MS);
    let req = request(
        DataKind::MARK,
        "inverse",
        "BTCUSD",
        "1h",
        (hour - 5 * HOUR_MS, hour + HOUR_MS),
    );
    let (report, out) = fetch(&p, &req);
    report.unwrap();
    let got = out.klines();
    assert_eq!(got.len(), 6, "five closed and the forming one");
    let forming = got.last().unwrap();
    assert_eq!(forming.open_time, hour);
    // The host drops it by its close time, which is in the future.
    assert_eq!(forming.close_time, hour + HOUR_MS - 1);
    assert!(forming.close_time > now);
    assert!(got[..5].iter().all(|k| k.close_time < now));
}

#[test]
fn kinds_a_market_lacks_are_refused_naming_where_they_are() {
    let (p, fake) = setup();
    let range = (JAN1, JAN1 + DAY_MS);
    let err = |kind, market, interval| {
        fetch(&p, &request(kind, market, "BTCUSDT", interval, range))
            .0
            .unwrap_err()
    };
    let e = err(DataKind::FUNDING, "spot", "");
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    assert!(
        e.message
            .contains("Bybit spot has no funding data; it is available on Bybit linear, inverse"),
        "{e}"
    );
    let e = err(DataKind::PREMIUM, "inverse", "1h");
    assert!(e.message.contains("available on Bybit linear ("), "{e}");
    let e = err(DataKind::INDEX, "spot", "1h");
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
    let e = err(DataKind::MARK, "linear", "8h");
    assert_eq!(e.kind, ErrorKind::INVALID_INTERVAL);
    assert!(fake.requests().is_empty(), "refused before any request");
    // Klines still come through fetch_data.
    let (report, out) = fetch(
        &p,
        &request(DataKind::KLINES, "spot", "BTCUSDT", "1h", range),
    );
    report.unwrap();
    assert!(out.klines() == expected_bybit_klines("spot", "BTCUSDT", "1h", range.0, range.1));
}

#[test]
fn funding_errors_and_the_throttle_answer() {
    let (p, fake) = setup();
    let range = (JAN1, JAN1 + 10 * DAY_MS);
    let e = fetch(
        &p,
        &request(DataKind::FUNDING, "linear", "DOGEUSDT", "", range),
    )
    .0
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::INVALID_SYMBOL);
    assert!(e.message.contains("does not know symbol DOGEUSDT"), "{e}");
    // 10006 on the funding path is waited out like on klines.
    fake.clear_requests();
    fake.push_faults(
        FUNDING,
        [dsm_tests::fake::Fault::BybitRetCode {
            code: 10006,
            msg: "Too many visits!".into(),
        }],
    );
    let (report, out) = fetch(
        &p,
        &request(DataKind::FUNDING, "linear", "ETHUSDT", "", range),
    );
    let report = report.unwrap();
    assert_eq!(out.funding_rates().len(), 30, "10 days of 8 h");
    assert_eq!(fake.requests_on(FUNDING).len(), 2);
    assert_eq!(report.requests, 2, "the retry is counted");
}
