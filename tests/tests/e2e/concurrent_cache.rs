//! Two `dsm` processes filling the same cache directory at once: both finish with the same,
//! correct output, and the cache they leave is valid and serves a third run offline.
//!
//! Why no lock is needed: a day is written to a temporary file in its own directory and
//! renamed over the final name (host/src/cache/store.rs), so a reader sees a whole file
//! or none; two writers of one day write the same candles and the last rename wins;
//! `create_dir_all` tolerates a directory made meanwhile by the other process. On object
//! storage (the same test on the fake S3 server) a day is one PUT: S3 shows an object only
//! once its whole body has arrived, and of two PUTs of one key the last wins whole.

use crate::common;

use std::process::{Command, Stdio};

use common::cache_at::{Backend, CacheAt};
use common::*;
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

const DAY: i64 = 86_400_000;

#[test]
fn two_processes_filling_one_cache_agree_and_leave_it_valid() {
    filling_one_cache(Backend::Fs);
}

#[test]
fn two_processes_filling_one_s3_cache_agree_and_leave_it_valid() {
    filling_one_cache(Backend::S3);
}

fn filling_one_cache(backend: Backend) {
    let fake = FakeExchange::start();
    let url = fake.url();
    let work = tempfile::tempdir().unwrap();
    let cache = CacheAt::new(backend);
    // The last 8 whole days (a month boundary often among them) of 1m: daily archive files,
    // one of them withheld so that REST serves it.
    let today = dsm_core::request::now_ms().div_euclid(DAY) * DAY;
    let (start, end) = (today - 8 * DAY, today);
    let withheld = dsm_core::timeparse::format_date(today - 5 * DAY);
    fake.withhold_vision_file(&format!("BTCUSDT-1m-{withheld}.zip"));
    let (s, e) = (start.to_string(), end.to_string());
    let args = |out: &str, source: &str| -> Vec<String> {
        [
            "-q", "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1m", "--start",
            &s, "--end", &e, "--source", source, "-o", out,
        ]
        .map(String::from)
        .to_vec()
    };
    let spawn = |out: &str, source: &str| {
        cache
            .apply(on_loopback(&mut Command::new(dsm_bin()), &url))
            .args(args(out, source))
            .env_remove("DSM_PLUGIN_PATH")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Two is the case to prove; a third raises the odds that writes of one day overlap.
    let outs: Vec<String> = (0..3)
        .map(|i| {
            work.path()
                .join(format!("out{i}.csv"))
                .display()
                .to_string()
        })
        .collect();
    let children: Vec<_> = outs.iter().map(|o| spawn(o, "auto")).collect();
    for child in children {
        let done = child.wait_with_output().unwrap();
        assert!(done.status.success(), "{}", stderr(&done));
    }
    let a = std::fs::read_to_string(&outs[0]).unwrap();
    for other in &outs[1..] {
        let b = std::fs::read_to_string(other).unwrap();
        assert!(a == b, "every process wrote the same candles");
    }
    let want = expected_klines(Market::Spot, "BTCUSDT", "1m", start, end);
    assert_eq!(a.lines().count(), 1 + want.len());
    let opens: Vec<i64> = a
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(opens.iter().zip(&want).all(|(got, k)| *got == k.open_time));

    // The cache is whole and valid, and serves a third run offline, byte for byte.
    assert_eq!(cache.assert_valid(), 8);
    let leftovers = cache.cache().verify(&Default::default()).leftovers;
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(
        cache.keys().len(),
        8,
        "nothing but the days: {:?}",
        cache.keys()
    );
    let third = work.path().join("offline.csv").display().to_string();
    let done = spawn(&third, "cache").wait_with_output().unwrap();
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(std::fs::read_to_string(&third).unwrap() == a);
}
