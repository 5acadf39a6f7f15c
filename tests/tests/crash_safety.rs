//! SIGKILL at random moments while the cache fills never leaves a file that
//! `dsm cache verify` rejects, and a rerun completes the cache.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// A small deterministic generator: the test needs varied kill times, not secure ones.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn killed_fetches_leave_a_valid_cache_and_a_rerun_completes_it() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    let fetch = [
        "--cache-dir",
        c,
        "-q",
        "fetch",
        "-p",
        "testplug",
        "-m",
        "spot",
        "-s",
        "TEST",
        "-i",
        "1m",
        "--start",
        "2023-01-01",
        "--end",
        "2023-07-01",
        "-o",
        "/dev/null",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..25 {
        let mut child = on_loopback(&mut Command::new(dsm_bin()), NOWHERE)
            .args(fetch)
            .env_remove("DSM_PLUGIN_PATH")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + next(&mut seed) % 120));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let verify = run_dsm(&["--cache-dir", c, "cache", "verify"], &[]);
        assert!(
            verify.status.success(),
            "round {round}: {}",
            stdout(&verify)
        );
    }
    let files = std::fs::read_dir(cache.path().join("testplug/spot/klines/TEST/1m"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(
        files > 0 && files < 181,
        "kills landed mid-fill: {files} files"
    );

    let out = run_dsm(&fetch[..fetch.len() - 2], &[("DSM_CACHE_DIR", c)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let opens: Vec<i64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        opens.len(),
        181 * 1440,
        "every minute of the half year once"
    );
    assert!(opens.windows(2).all(|w| w[1] - w[0] == 60_000));
    let verify = run_dsm(&["--cache-dir", c, "cache", "verify"], &[]);
    assert!(
        stdout(&verify).contains("181 files checked, 0 bad"),
        "{}",
        stdout(&verify)
    );
}
