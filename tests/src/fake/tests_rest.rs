//! The fake's REST answers, checked over real HTTP.

use dsm_sdk::Kline;
use serde_json::Value;

use super::*;

/// 2024-01-01T00:00:00Z.
pub(crate) const T: i64 = 1_704_067_200_000;
const MIN: i64 = 60_000;

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn code(&self) -> i64 {
        self.json()["code"].as_i64().unwrap()
    }

    fn opens(&self) -> Vec<i64> {
        self.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_i64().unwrap())
            .collect()
    }
}

pub(crate) fn get(fx: &FakeExchange, path_and_query: &str) -> Reply {
    let resp = reqwest::blocking::get(format!("{}{path_and_query}", fx.url())).unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Reply {
        status,
        headers,
        body: resp.text().unwrap(),
    }
}

fn parse_rows(v: &Value) -> Vec<Kline> {
    let f = |x: &Value| x.as_str().unwrap().parse::<f64>().unwrap();
    let rows = v.as_array().unwrap();
    rows.iter()
        .map(|r| Kline {
            open_time: r[0].as_i64().unwrap(),
            open: f(&r[1]),
            high: f(&r[2]),
            low: f(&r[3]),
            close: f(&r[4]),
            volume: f(&r[5]),
            close_time: r[6].as_i64().unwrap(),
            quote_volume: f(&r[7]),
            trades: r[8].as_u64().unwrap(),
            taker_buy_base_volume: f(&r[9]),
            taker_buy_quote_volume: f(&r[10]),
        })
        .collect()
}

fn decimals(s: &Value) -> usize {
    s.as_str()
        .unwrap()
        .split_once('.')
        .map_or(0, |(_, d)| d.len())
}

#[test]
fn rows_have_numbers_and_strings_where_binance_has_them() {
    let fx = FakeExchange::start();
    for (path, sym, price_dp, vol_dp) in [
        ("/api/v3/klines", "BTCUSDT", 8, 8),
        ("/fapi/v1/klines", "ETHUSDT", 2, 3),
        ("/dapi/v1/klines", "BTCUSD_PERP", 2, 0),
    ] {
        let r = get(
            &fx,
            &format!("{path}?symbol={sym}&interval=1m&startTime={T}&limit=2"),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!r.body.contains(' '), "compact JSON");
        let v = r.json();
        let row = v[0].as_array().unwrap();
        assert_eq!(row.len(), 12);
        for (i, cell) in row.iter().enumerate() {
            assert_eq!(
                cell.is_number(),
                [0, 6, 8].contains(&i),
                "{path} column {i}: {cell}"
            );
        }
        assert_eq!(row[11], "0");
        assert_eq!(decimals(&row[1]), price_dp, "{path} {}", row[1]);
        assert_eq!(decimals(&row[5]), vol_dp, "{path} {}", row[5]);
        assert_eq!(row[6].as_i64().unwrap(), T + MIN - 1);
    }
}

#[test]
fn bounds_are_inclusive_and_limits_pick_the_right_end() {
    let fx = FakeExchange::start();
    let q = |path: &str, extra: &str| {
        get(&fx, &format!("{path}?symbol=BTCUSDT&interval=1m{extra}")).opens()
    };
    let both = format!("&startTime={T}&endTime={}", T + 2 * MIN);
    assert_eq!(q("/api/v3/klines", &both), vec![T, T + MIN, T + 2 * MIN]);
    assert_eq!(
        q("/api/v3/klines", &format!("&startTime={}&limit=2", T + 1)),
        vec![T + MIN, T + 2 * MIN]
    );
    let win = format!("&startTime={T}&endTime={}&limit=3", T + 10 * MIN);
    assert_eq!(q("/fapi/v1/klines", &win), vec![T, T + MIN, T + 2 * MIN]);
    assert_eq!(
        q("/api/v3/klines", &format!("&endTime={}&limit=2", T + 1)),
        vec![T - MIN, T]
    );
    let cm = get(
        &fx,
        &format!("/dapi/v1/klines?symbol=ETHUSD_PERP&interval=1m{win}"),
    )
    .opens();
    assert_eq!(
        cm,
        vec![T + 8 * MIN, T + 9 * MIN, T + 10 * MIN],
        "COIN-M: newest in the window"
    );
    assert_eq!(
        get(
            &fx,
            "/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1&endTime=2"
        )
        .body,
        "[]"
    );
    assert_eq!(
        get(&fx, "/api/v3/klines?symbol=BTCUSDT&interval=1m")
            .opens()
            .len(),
        500
    );
}

#[test]
fn the_newest_candle_is_still_forming() {
    let fx = FakeExchange::start();
    let v = get(&fx, "/fapi/v1/klines?symbol=BTCUSDT&interval=1h&limit=3").json();
    let last = &v.as_array().unwrap()[2];
    let now = candles::now_ms();
    assert!(last[0].as_i64().unwrap() <= now && last[6].as_i64().unwrap() > now);
    let future = get(
        &fx,
        &format!(
            "/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={}",
            now + 7_200_000
        ),
    );
    assert_eq!(future.body, "[]");
}

#[test]
fn months_are_calendar_months() {
    let fx = FakeExchange::start();
    let opens = get(
        &fx,
        &format!("/api/v3/klines?symbol=BNBUSDT&interval=1M&startTime={T}&limit=3"),
    )
    .opens();
    let day = 86_400_000;
    assert_eq!(opens, vec![T, T + 31 * day, T + 60 * day]);
}

#[test]
fn errors_have_binance_codes() {
    let fx = FakeExchange::start();
    let cases = [
        ("/api/v3/klines?symbol=NOPE&interval=1m", -1121),
        ("/dapi/v1/klines?symbol=BTCUSDT&interval=1m", -1121),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1s", -1120),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1H", -1120),
        ("/api/v3/klines?interval=1m", -1102),
        ("/api/v3/klines?symbol=BTCUSDT", -1102),
        (
            "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1001",
            -1130,
        ),
        (
            "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1501",
            -1130,
        ),
        ("/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=0", -1130),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=x", -1100),
        (
            "/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=5&endTime=4",
            -1023,
        ),
    ];
    for (pq, code) in cases {
        let r = get(&fx, pq);
        assert_eq!((r.status, r.code()), (400, code), "{pq}: {}", r.body);
    }
    let r = get(&fx, "/api/v3/klines?symbol=NOPE&interval=1m");
    assert_eq!(r.body, r#"{"code":-1121,"msg":"Invalid symbol."}"#);
    let day = 86_400_000;
    let cm = "/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1d";
    assert_eq!(
        get(
            &fx,
            &format!("{cm}&startTime={T}&endTime={}", T + 200 * day)
        )
        .status,
        200
    );
    assert_eq!(
        get(
            &fx,
            &format!("{cm}&startTime={T}&endTime={}", T + 200 * day + 1)
        )
        .status,
        400
    );
    assert_eq!(
        get(&fx, "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1500")
            .opens()
            .len(),
        1500
    );
    assert_eq!(
        get(&fx, "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000")
            .opens()
            .len(),
        1000
    );
    assert_eq!(get(&fx, "/api/v3/nothing").status, 404);
}

#[test]
fn expected_klines_equal_what_is_served() {
    let fx = FakeExchange::start();
    for (market, path, sym, iv) in [
        (Market::Spot, "/api/v3/klines", "DOGEUSDT", "1s"),
        (Market::Spot, "/api/v3/klines", "BTCUSDT", "1M"),
        (Market::Um, "/fapi/v1/klines", "BNBUSDT", "15m"),
        (Market::Cm, "/dapi/v1/klines", "BTCUSD_250328", "1h"),
        (Market::Cm, "/dapi/v1/klines", "ETHUSD_PERP", "1w"),
    ] {
        let r = get(
            &fx,
            &format!(
                "{path}?symbol={sym}&interval={iv}&startTime={}&limit=300",
                T - 1
            ),
        );
        let served = parse_rows(&r.json());
        assert!(!served.is_empty(), "{path} {iv}");
        let end = served.last().unwrap().open_time + 1;
        let expected = expected_klines(market, sym, iv, served[0].open_time, end);
        assert_eq!(served, expected, "{path} {sym} {iv}");
    }
}

#[test]
fn thirty_days_of_minutes_page_through_quickly() {
    let fx = FakeExchange::start();
    let client = reqwest::blocking::Client::new();
    let (start, end) = (T, T + 30 * 1440 * MIN);
    let (mut t, mut all) = (start, Vec::new());
    let began = Instant::now();
    while t < end {
        let url = format!(
            "{}/api/v3/klines?symbol=ETHUSDT&interval=1m&startTime={t}&endTime={}&limit=1000",
            fx.url(),
            end - 1
        );
        let v: Value =
            serde_json::from_str(&client.get(url).send().unwrap().text().unwrap()).unwrap();
        let page = parse_rows(&v);
        t = page.last().unwrap().close_time + 1;
        all.extend(page);
    }
    assert_eq!(all.len(), 30 * 1440);
    assert_eq!(
        all,
        expected_klines(Market::Spot, "ETHUSDT", "1m", start, end)
    );
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(fx.requests().len(), 44);
}

#[test]
fn requests_are_logged_in_order() {
    let fx = FakeExchange::start();
    get(&fx, "/api/v3/ping");
    get(&fx, "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=5");
    get(&fx, "/api/v3/klines?symbol=NOPE&interval=1m");
    let log = fx.requests();
    let seen: Vec<_> = log
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/api/v3/ping", 200),
            ("GET", "/fapi/v1/klines", 200),
            ("GET", "/api/v3/klines", 400)
        ]
    );
    assert_eq!(log[1].query, "symbol=BTCUSDT&interval=1m&limit=5");
    assert_eq!(log[1].param("limit").as_deref(), Some("5"));
    assert!(log[0].at <= log[1].at);
    fx.clear_requests();
    assert!(fx.requests().is_empty());
    assert_eq!(get(&fx, "/fapi/v1/ping").body, "{}");
}
