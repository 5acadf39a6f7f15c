//! Fresh process: OKX first maps only libdsm_okx.so; then Binance maps its own; Bybit stays
//! unmapped until asked for. The data equals the fake's whatever the order (see
//! load_order_binance_first.rs for the reverse order).

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
fn okx_then_binance_then_bybit() {
    let fake = FakeExchange::start();
    let okx = manager(&fake, "okx", "spot");
    let binance = manager(&fake, "binance", "spot");
    let bybit = manager(&fake, "bybit", "linear");
    assert_eq!(
        mapped_plugins(),
        Vec::<String>::new(),
        "managers load nothing"
    );

    let got = okx.fetch_market_data("BTCUSDT", "1h", JAN1, END).unwrap();
    assert!(got.rows == expected_okx_klines("BTC-USDT", "1h", JAN1, END));
    assert_eq!(mapped_plugins(), ["libdsm_okx.so"]);

    let got = binance
        .fetch_market_data("BTCUSDT", "1h", JAN1, END)
        .unwrap();
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1h", JAN1, END));
    assert_eq!(mapped_plugins(), ["libdsm_binance.so", "libdsm_okx.so"]);
    assert!(!is_mapped("bybit"), "bybit was not asked for yet");

    let got = bybit.fetch_market_data("BTCUSDT", "1h", JAN1, END).unwrap();
    assert!(got.rows == expected_bybit_klines("linear", "BTCUSDT", "1h", JAN1, END));
    assert_eq!(
        mapped_plugins(),
        ["libdsm_binance.so", "libdsm_bybit.so", "libdsm_okx.so"]
    );
    // The second OKX fetch uses the loaded library: still one open each.
    okx.fetch_market_data("ETH-USDT", "1h", JAN1, END).unwrap();
    let loaded = dsm_core::loaded_plugins();
    assert_eq!(loaded.len(), 3, "{loaded:?}");
    assert!(loaded.iter().all(|p| p.opens == 1), "{loaded:?}");
}
