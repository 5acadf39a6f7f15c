//! SIGKILL at varied points of a large fetch with the real Binance plugin (monthly and
//! daily archive files, a month's daily fallback, REST pages) against the fake exchange:
//! after every kill `dsm cache verify` passes, and a rerun completes the cache with every
//! day exactly once. Each kill lands mid-run whatever the machine's speed: the fake answers
//! a varied number of requests, then holds the next one until the process is killed.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::*;
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

const DAY: i64 = 86_400_000;

/// A small deterministic generator: the test needs varied kill times, not secure ones.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn killed_binance_fetches_leave_a_valid_cache_and_a_rerun_completes_it() {
    let fake = FakeExchange::start();
    let url = fake.url();
    // 2023-10-01 .. 2023-12-08 of 1h: October from its monthly file, November from its daily
    // files (monthly withheld), December days from daily files, one of them from REST
    // (withheld); of 1m: a month and a week, the same way.
    fake.withhold_vision_file("BTCUSDT-1m-2023-11.zip");
    fake.withhold_vision_file("BTCUSDT-1m-2023-12-03.zip");
    let (start, end) = ("2023-10-01", "2023-12-08");
    let days = ((ms(end) - ms(start)) / DAY) as usize;
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap().to_string();
    let out = tempfile::tempdir().unwrap();
    let out_csv = out.path().join("candles.csv").to_str().unwrap().to_string();
    let fetch = |source: &str| -> Vec<String> {
        [
            "--cache-dir",
            &c,
            "-q",
            "fetch",
            "-p",
            "binance",
            "-m",
            "spot",
            "-s",
            "BTCUSDT",
            "-i",
            "1m",
            "--start",
            start,
            "--end",
            end,
            "--source",
            source,
        ]
        .map(String::from)
        .to_vec()
    };
    let command = |source: &str| {
        let mut cmd = Command::new(dsm_bin());
        on_loopback(&mut cmd, &url)
            .args(fetch(source))
            .env_remove("DSM_PLUGIN_PATH");
        cmd
    };

    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for round in 0..16 {
        // A run makes some 80 requests from an empty cache (2 per archive file, REST pages)
        // and 4 rounds of at most 11 answers fill at most 24 of its days before the clear
        // below: request `pass + 1` always comes, and the process waits for it when killed.
        let pass = (next(&mut seed) % 12) as usize;
        fake.hold_after(pass);
        // Its messages go to a file in the test's directory, not /dev/null.
        let log = std::fs::File::create(out.path().join("dsm.log")).unwrap();
        let mut child = command("auto")
            .args(["-o", &out_csv])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let held = loop {
            if fake.wait_held(Duration::from_millis(20)) {
                break true;
            }
            if child.try_wait().unwrap().is_some() {
                break false;
            }
        };
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        fake.release();
        assert!(
            held,
            "round {round}: the run ended before its request {}",
            pass + 1
        );
        let verify = run_dsm(&["--cache-dir", &c, "cache", "verify"], &[]);
        assert!(
            verify.status.success(),
            "round {round}: {}{}",
            stdout(&verify),
            stderr(&verify)
        );
        // Checked again by the library itself: every file a kill left is whole.
        assert_cache_valid(cache.path());
        if round % 4 == 3 {
            // Start over now and then, so that kills keep landing in the middle of a fill;
            // `cache clear` also removes what the kills left behind.
            let clear = run_dsm(&["--cache-dir", &c, "cache", "clear"], &[]);
            assert!(clear.status.success(), "{}", stderr(&clear));
            assert!(cache_files(cache.path()).is_empty());
        }
    }
    // The rerun completes the cache; then the cache alone serves every candle exactly once.
    let out = command("auto").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = command("cache").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let opens: Vec<i64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let want = expected_klines(Market::Spot, "BTCUSDT", "1m", ms(start), ms(end));
    assert_eq!(opens.len(), days * 1440, "every minute once");
    assert!(opens.iter().zip(&want).all(|(t, k)| *t == k.open_time));
    let verify = run_dsm(&["--cache-dir", &c, "cache", "verify"], &[]);
    assert!(
        stdout(&verify).contains(&format!("{days} files checked, 0 bad")),
        "{}",
        stdout(&verify)
    );
}
