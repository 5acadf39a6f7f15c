//! Open files stay bounded during a large archive fetch and are all released afterwards:
//! sockets by the configured concurrency and pool, cache files by the writer's threads.
//! The fake runs in its own process so that only dsm's descriptors are counted.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use dsm_core::{Dsm, DsmConfig, SourceMode};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn descriptors_are_bounded_during_a_fetch_and_released_after() {
    let mut fake = Command::new(target_dir().join("fake-exchange"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the fake-exchange binary (cargo build --workspace)");
    let mut url = String::new();
    BufReader::new(fake.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_string();
    let cache = tempfile::tempdir().unwrap();

    let baseline = open_fds();
    let (stop, peak) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(open_fds(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    // The archive's own limit, read by the plugin from this process's environment (the
    // only test of this binary, so no other test reads the environment meanwhile).
    std::env::set_var("DSM_BINANCE_ARCHIVE_CONCURRENCY", "4");
    let dsm = Dsm::create_with_config(
        config_on(DsmConfig::new("binance", "spot"), &url)
            .plugin_dir(target_dir())
            .cache_dir(cache.path())
            .source(SourceMode::Auto)
            .concurrency(4)
            .pool_size(4),
    )
    .unwrap();
    // Loose days (daily files, 4 downloads at a time) and REST for the last partial day.
    let got = dsm
        .fetch_market_data("BTCUSDT", "1m", "2024-03-02", "2024-03-30T06:00:00Z")
        .unwrap();
    assert_eq!(got.len(), 28 * 1440 + 360);
    drop(dsm);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let _ = fake.kill();
    let _ = fake.wait();

    let peak = peak.load(Ordering::Relaxed);
    eprintln!("open files: baseline {baseline}, peak {peak}");
    // At most: 4 requests in flight (REST or archive, never both at once) + 4 idle connections, the plugin runtime's own
    // descriptors (epoll, wakers), 8 cache writers each with a file and its directory.
    let bound = baseline + 4 + 4 + 8 + 2 * 8;
    assert!(
        peak <= bound,
        "peak {peak} open files, baseline {baseline}, bound {bound}"
    );
    assert!(peak > baseline, "the sampler saw the fetch's descriptors");
    assert_eq!(
        open_fds(),
        baseline,
        "every descriptor released once the manager is gone"
    );
}
