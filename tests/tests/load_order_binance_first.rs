//! Fresh process: the reverse of load_order_okx_first.rs. Binance first, then OKX, then
//! Bybit; each maps only its own library and the data is the same as in the other order
//! (both equal the fake's).

mod common;

use std::time::Duration;

use common::*;
use dsm_core::{Dsm, DsmConfig, SourceMode};
use dsm_tests::fake::{
    expected_bybit_klines, expected_klines, expected_okx_klines, FakeExchange, Market,
};

const JAN1: i64 = 1_704_067_200_000;
const END: i64 = JAN1 + 2 * 86_400_000;

fn manager(fake: &FakeExchange, provider: &str, market: &str) -> Dsm {
    let c = config_on(DsmConfig::new(provider, market), &fake.url())
        .plugin_dir(target_dir())
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .source(SourceMode::Rest)
        .cache_enabled(false);
    Dsm::create_with_config(c).unwrap()
}

#[test]
fn binance_then_okx_then_bybit() {
    let fake = FakeExchange::start();
    assert_eq!(mapped_plugins(), Vec::<String>::new());

    let got = manager(&fake, "binance", "spot")
        .fetch_market_data("BTCUSDT", "1h", JAN1, END)
        .unwrap();
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1h", JAN1, END));
    assert_eq!(mapped_plugins(), ["libdsm_binance.so"]);

    let got = manager(&fake, "okx", "spot")
        .fetch_market_data("BTCUSDT", "1h", JAN1, END)
        .unwrap();
    assert!(got.rows == expected_okx_klines("BTC-USDT", "1h", JAN1, END));
    assert_eq!(mapped_plugins(), ["libdsm_binance.so", "libdsm_okx.so"]);
    assert!(!is_mapped("bybit"));

    let got = manager(&fake, "bybit", "linear")
        .fetch_market_data("BTCUSDT", "1h", JAN1, END)
        .unwrap();
    assert!(got.rows == expected_bybit_klines("linear", "BTCUSDT", "1h", JAN1, END));
    assert_eq!(
        mapped_plugins(),
        ["libdsm_binance.so", "libdsm_bybit.so", "libdsm_okx.so"]
    );
    // Each provider's data is its own: the three exchanges' candles differ.
    let okx = expected_okx_klines("BTC-USDT", "1h", JAN1, END);
    let binance = expected_klines(Market::Spot, "BTCUSDT", "1h", JAN1, END);
    assert!(okx[0].open != binance[0].open);
}
