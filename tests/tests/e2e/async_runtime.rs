//! Fetching from inside an application's own tokio runtime works and does not block it.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use dsm_core::{Dsm, DsmConfig, SourceMode};
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

#[tokio::test(flavor = "current_thread")]
async fn fetch_async_inside_a_single_threaded_runtime_leaves_it_free() {
    let fake = Arc::new(FakeExchange::start());
    // Every request is held unanswered until a task on this runtime's only thread releases
    // it: the fetch can finish only if it leaves that thread free while it awaits.
    fake.hold_after(0);
    let dsm = Dsm::create_with_config(
        config_on(DsmConfig::new("binance", "spot"), &fake.url())
            .plugin_dir(target_dir())
            .source(SourceMode::Rest)
            .cache_enabled(false)
            // Were the thread blocked, the held request would end by this timeout, not hang.
            .request_timeout(Duration::from_secs(20))
            .retries(0),
    )
    .unwrap();
    let released = Arc::new(AtomicBool::new(false));
    let releaser = {
        let (fake, released) = (fake.clone(), released.clone());
        tokio::spawn(async move {
            while !fake.wait_held(Duration::ZERO) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            released.store(true, Ordering::SeqCst);
            fake.release();
        })
    };
    let got = dsm
        .fetch_async("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
        .await
        .expect("the fetch finishes once this runtime's other task releases its request");
    releaser.await.unwrap();
    let (s, e) = (1_704_067_200_000, 1_704_153_600_000);
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1h", s, e));
    assert!(released.load(Ordering::SeqCst));
}
