//! `dsm providers` lists Binance, OKX and Bybit from their manifests without loading any
//! of them; `DSM_OKX_URL` / `DSM_BYBIT_URL` point a CLI fetch at the fake exchange.

use crate::common;

use common::*;
use dsm_tests::fake::{expected_bybit_klines, expected_okx_klines, FakeExchange};
use serde_json::Value;

const ALL: [&str; 13] = [
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w", "1M",
];

fn provider<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed: {doc:#}"))
}

fn market<'a>(p: &'a Value, id: &str) -> &'a Value {
    p["markets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("market {id} not listed: {p:#}"))
}

#[test]
fn providers_json_lists_three_exchanges_and_loads_none() {
    for id in ["binance", "okx", "bybit"] {
        plugin(id);
    }
    let out = run_dsm(&["providers", "--json"], &[("LD_DEBUG", "files")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let binance = provider(&doc, "binance");
    assert_eq!(market(binance, "spot")["archive"], true);

    let okx = provider(&doc, "okx");
    assert_eq!(okx["name"], "OKX");
    assert_eq!(okx["endpoints"], serde_json::json!(["rest"]));
    let spot = market(okx, "spot");
    assert_eq!(spot["symbol_example"], "BTC-USDT");
    assert_eq!(spot["archive"], false);
    assert_eq!(spot["intervals"], serde_json::json!(ALL));
    let swap = market(okx, "swap");
    assert_eq!(swap["symbol_example"], "BTC-USDT-SWAP");
    assert!(swap["aliases"].as_array().unwrap().contains(&"perp".into()));
    assert!(swap["description"].as_str().unwrap().contains("contracts"));

    let bybit = provider(&doc, "bybit");
    for (id, example) in [
        ("spot", "BTCUSDT"),
        ("linear", "BTCUSDT"),
        ("inverse", "BTCUSD"),
    ] {
        let m = market(bybit, id);
        assert_eq!(m["symbol_example"], example);
        assert_eq!(m["intervals"], serde_json::json!(ALL));
        assert_eq!(m["archive"], false);
        assert_eq!(m["max_page"], 1000);
    }

    let err = stderr(&out);
    assert!(err.contains("file="), "LD_DEBUG works");
    assert!(
        !err.lines().any(|l| l.contains("libdsm_")),
        "a plugin was loaded:\n{err}"
    );

    // The table names the symbol forms too.
    let out = run_dsm(&["providers"], &[]);
    let text = stdout(&out);
    assert!(text.contains("symbols like BTC-USDT-SWAP"), "{text}");
    assert!(
        text.contains("okx (OKX)") && text.contains("bybit (Bybit)"),
        "{text}"
    );
}

#[test]
fn provider_url_variables_reach_the_plugins() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let env = [
        ("DSM_OKX_URL", fake.url()),
        ("DSM_BYBIT_URL", fake.url()),
        ("DSM_CACHE_DIR", cache.path().display().to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let range = [
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-02",
        "-f",
        "jsonl",
    ];
    for (p, m, s, want) in [
        (
            "okx",
            "swap",
            "BTCUSD",
            expected_okx_klines("BTC-USD-SWAP", "1h", 1_704_067_200_000, 1_704_153_600_000),
        ),
        (
            "bybit",
            "inverse",
            "BTCUSD",
            expected_bybit_klines(
                "inverse",
                "BTCUSD",
                "1h",
                1_704_067_200_000,
                1_704_153_600_000,
            ),
        ),
    ] {
        let mut args = vec![
            "fetch", "-p", p, "-m", m, "-s", s, "-i", "1h", "--source", "rest",
        ];
        args.extend(range);
        let out = run_dsm(&args, &env);
        assert!(out.status.success(), "{p}: {}", stderr(&out));
        let rows: Vec<Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 24, "{p}");
        let opens: Vec<i64> = rows
            .iter()
            .map(|r| r["open_time"].as_i64().unwrap())
            .collect();
        let want_opens: Vec<i64> = want.iter().map(|k| k.open_time).collect();
        assert_eq!(opens, want_opens, "{p}");
        assert_eq!(rows[0]["close"].as_f64().unwrap(), want[0].close, "{p}");
    }
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.path == "/api/v5/market/history-candles"));
    assert!(fake.requests().iter().any(|r| r.path == "/v5/market/kline"));
}
