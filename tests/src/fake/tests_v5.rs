//! The fake's OKX and Bybit answers, checked over real HTTP.

use serde_json::Value;

use super::tests_rest::{get, T};
use super::*;

const H: i64 = 3_600_000;

fn okx_rows(v: &Value) -> Vec<Vec<String>> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn okx_pages_newest_first_with_exclusive_bounds() {
    let fx = FakeExchange::start();
    let q = format!(
        "/api/v5/market/history-candles?instId=BTC-USDT&bar=1H&after={}&before={}&limit=5",
        T + 10 * H,
        T
    );
    let r = get(&fx, &q);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["code"], "0");
    let rows = okx_rows(&v);
    let ts: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    // Newest first; `after` and `before` both exclusive; the newest 5.
    assert_eq!(ts, [9, 8, 7, 6, 5].map(|i| T + i * H));
    assert!(rows.iter().all(|r| r.len() == 9 && r[8] == "1"));
    // What the okx plugin makes of them.
    let want = expected_okx_klines("BTC-USDT", "1h", T + 5 * H, T + 10 * H);
    let got: Vec<(i64, f64, f64)> = rows
        .iter()
        .rev()
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[5].parse().unwrap(),
                r[7].parse().unwrap(),
            )
        })
        .collect();
    let w: Vec<(i64, f64, f64)> = want
        .iter()
        .map(|k| (k.open_time, k.volume, k.quote_volume))
        .collect();
    assert_eq!(got, w);
    assert_eq!(want[0].close_time, T + 6 * H - 1);
    // Default limit 100; max 300.
    let r = get(
        &fx,
        "/api/v5/market/history-candles?instId=BTC-USDT-SWAP&bar=1m",
    );
    assert_eq!(okx_rows(&r.json()).len(), 100);
    let r = get(
        &fx,
        "/api/v5/market/history-candles?instId=BTC-USDT&limit=301",
    );
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("51000")));
}

#[test]
fn okx_forming_candle_and_errors() {
    let fx = FakeExchange::start();
    let r = get(
        &fx,
        "/api/v5/market/candles?instId=BTC-USD-SWAP&bar=1Dutc&limit=2",
    );
    let rows = okx_rows(&r.json());
    assert_eq!((rows[0][8].as_str(), rows[1][8].as_str()), ("0", "1"));
    // Inverse swap: volCcyQuote is USD = contracts x 100.
    let contracts: f64 = rows[1][5].parse().unwrap();
    assert_eq!(rows[1][7].parse::<f64>().unwrap(), contracts * 100.0);
    let r = get(&fx, "/api/v5/market/history-candles?instId=BTC-USDX&bar=1H");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["code"], "51001");
    assert_eq!(r.json()["data"], serde_json::json!([]));
    let r = get(&fx, "/api/v5/market/history-candles?instId=BTC-USDT&bar=1h");
    assert_eq!(
        (r.status, r.json()["msg"].as_str()),
        (400, Some("Parameter bar error"))
    );
    let r = get(&fx, "/api/v5/market/history-candles?bar=1H");
    assert_eq!(r.json()["code"], "50014");
    // UTC+8 days open at 16:00 UTC; UTC days at midnight.
    let q = |bar: &str| {
        let r = get(
            &fx,
            &format!("/api/v5/market/history-candles?instId=ETH-USDT&bar={bar}&after={T}&limit=1"),
        );
        okx_rows(&r.json())[0][0].parse::<i64>().unwrap()
    };
    assert_eq!(q("1D"), T - 8 * H);
    assert_eq!(q("1Dutc"), T - 24 * H);
}

#[test]
fn okx_rate_limit_is_20_per_2_seconds() {
    let fx = FakeExchange::start();
    // The counters' clock stands still: all 21 requests fall in one 2 s window.
    fx.set_v5_rate_clock(Some(1_000_000));
    let path = "/api/v5/market/history-candles?instId=BTC-USDT&bar=1H&limit=1";
    for _ in 0..20 {
        assert_eq!(get(&fx, path).status, 200);
    }
    let r = get(&fx, path);
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["code"], "50011");
    assert!(r.json().get("data").is_none());
    fx.push_faults(
        okx::HISTORY,
        [Fault::OkxError {
            status: 503,
            code: 50001,
            msg: "Service temporarily unavailable".into(),
        }],
    );
    // 2 s later the window has room again, and the next request meets the fault.
    fx.set_v5_rate_clock(Some(1_002_000));
    let r = get(&fx, path);
    assert_eq!((r.status, r.json()["code"].as_str()), (503, Some("50001")));
}

#[test]
fn bybit_newest_limit_of_the_window() {
    let fx = FakeExchange::start();
    let q = format!(
        "/v5/market/kline?category=inverse&symbol=BTCUSD&interval=60&start={T}&end={}&limit=3",
        T + 10 * H
    );
    let r = get(&fx, &q);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (v["retCode"].as_i64(), v["retMsg"].as_str()),
        (Some(0), Some("OK"))
    );
    assert_eq!(v["result"]["category"], "inverse");
    let list = v["result"]["list"].as_array().unwrap();
    let ts: Vec<i64> = list
        .iter()
        .map(|r| r[0].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ts, [10, 9, 8].map(|i| T + i * H), "newest 3, end inclusive");
    assert!(r.headers.contains_key("x-bapi-limit-status"));
    let want = expected_bybit_klines("inverse", "BTCUSD", "1h", T + 8 * H, T + 11 * H);
    assert_eq!(want.len(), 3);
    let row = &list[2];
    let f = |i: usize| row[i].as_str().unwrap().parse::<f64>().unwrap();
    assert_eq!(
        (want[0].open, want[0].volume, want[0].quote_volume),
        (f(1), f(5), f(6))
    );
    // Spot and linear of the same symbol differ (own seeds), and differ from Binance.
    let spot = expected_bybit_klines("spot", "BTCUSDT", "1h", T, T + H);
    let linear = expected_bybit_klines("linear", "BTCUSDT", "1h", T, T + H);
    let binance = expected_klines(Market::Spot, "BTCUSDT", "1h", T, T + H);
    assert!(spot[0].open != linear[0].open && spot[0].open != binance[0].open);
}

#[test]
fn bybit_errors() {
    let fx = FakeExchange::start();
    let code = |q: &str| {
        let r = get(&fx, q);
        assert_eq!(r.status, 200);
        let v = r.json();
        (
            v["retCode"].as_i64().unwrap(),
            v["retMsg"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        code("/v5/market/kline?category=spot&symbol=BTCUSD&interval=60"),
        (10001, "Not supported symbols".into())
    );
    assert_eq!(
        code("/v5/market/kline?category=options&symbol=BTCUSDT&interval=60"),
        (10001, "Illegal category".into())
    );
    assert_eq!(
        code("/v5/market/kline?category=spot&symbol=BTCUSDT&interval=61").0,
        10001
    );
    fx.push_faults(
        bybit::KLINE,
        [
            Fault::BybitRetCode {
                code: 10006,
                msg: "Too many visits!".into(),
            },
            Fault::Status(403),
        ],
    );
    let r = get(
        &fx,
        "/v5/market/kline?category=spot&symbol=BTCUSDT&interval=60",
    );
    assert_eq!(r.json()["retCode"], 10006);
    assert!(r.headers.contains_key("x-bapi-limit-reset-timestamp"));
    assert_eq!(
        get(&fx, "/v5/market/kline?symbol=BTCUSDT&interval=60").status,
        403
    );
    // Default category linear.
    assert_eq!(code("/v5/market/kline?symbol=BTCUSDT&interval=D").0, 0);
}
