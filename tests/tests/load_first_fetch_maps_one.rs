//! The first fetch maps exactly the plugin asked for, once (fresh process).

mod common;

use std::sync::{Arc, Barrier};

use common::*;
use dsm_core::{Dsm, DsmConfig};

const H: i64 = 3_600_000;
const JAN1: i64 = 1_704_067_200_000;

#[test]
fn sixteen_racing_threads_cause_one_load_and_all_get_the_data() {
    let dsm = Dsm::create_with_config(
        DsmConfig::new("testplug", "spot")
            .plugin_dir(target_dir())
            .cache_enabled(false),
    )
    .unwrap();
    assert_eq!(mapped_plugins(), Vec::<String>::new());
    let barrier = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (dsm, barrier) = (dsm.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                dsm.fetch_market_data("TEST", "1h", JAN1, JAN1 + 48 * H)
            })
        })
        .collect();
    let expected = testplug_klines(H, JAN1, JAN1 + 48 * H);
    for t in threads {
        let got = t.join().unwrap().unwrap();
        assert_eq!(got.rows, expected);
    }
    assert_eq!(mapped_plugins(), vec!["libdsm_testplug.so".to_string()]);
    let loaded = dsm_core::loaded_plugins();
    assert_eq!(loaded.len(), 1, "{loaded:?}");
    assert_eq!(
        (loaded[0].provider.as_str(), loaded[0].opens),
        ("testplug", 1)
    );
    assert!(dsm.is_loaded() && dsm.load_time().is_some());

    // A second manager of the same provider reuses the library: still one open.
    let again = Dsm::create_with_config(
        DsmConfig::new("testplug", "spot")
            .plugin_dir(target_dir())
            .cache_enabled(false),
    )
    .unwrap();
    again
        .fetch_market_data("TEST", "1d", JAN1, JAN1 + 72 * H)
        .unwrap();
    assert_eq!(dsm_core::loaded_plugins()[0].opens, 1);
    assert!(!is_mapped("binance"), "binance was never asked for");
}
