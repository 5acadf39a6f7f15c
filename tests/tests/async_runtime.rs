//! Fetching from inside an application's own tokio runtime works and does not block it.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use dsm_core::{Dsm, DsmConfig, SourceMode};
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

#[tokio::test(flavor = "current_thread")]
async fn fetch_async_inside_a_single_threaded_runtime_leaves_it_free() {
    let fake = FakeExchange::start();
    fake.set_delay("/api/v3/klines", Duration::from_millis(400));
    let dsm = Dsm::create_with_config(
        config_on(DsmConfig::new("binance", "spot"), &fake.url())
            .plugin_dir(target_dir())
            .source(SourceMode::Rest) // the delayed path: the fetch must await it
            .cache_enabled(false),
    )
    .unwrap();
    // A ticker on the same (only) runtime thread: it can only tick while the fetch awaits.
    let ticks = Arc::new(AtomicU32::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let got = dsm
        .fetch_async("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
        .await
        .unwrap();
    ticker.abort();
    let (s, e) = (1_704_067_200_000, 1_704_153_600_000);
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1h", s, e));
    assert!(
        ticks.load(Ordering::Relaxed) >= 5,
        "the runtime was blocked: {} ticks",
        ticks.load(Ordering::Relaxed)
    );
}
