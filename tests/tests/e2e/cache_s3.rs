//! The cache on object storage, end to end: `dsm fetch --cache-dir s3://...` against the
//! fake exchange and the fake S3 server (both real HTTP on 127.0.0.1), served back with
//! `--source cache`, listed, verified and cleared through the CLI; and a writer killed
//! while its upload is in flight.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::cache_at::{Backend, CacheAt};
use common::*;
use dsm_tests::fake::FakeExchange;

/// `dsm args` with every exchange endpoint at `url` and the cache's environment.
fn run(url: &str, cache: &CacheAt, args: &[&str]) -> std::process::Output {
    let env = cache.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run_dsm_on(url, args, &env)
}

const FETCH: [&str; 13] = [
    "-q",
    "fetch",
    "-p",
    "binance",
    "-m",
    "spot",
    "-s",
    "BTCUSDT",
    "-i",
    "1h",
    "--start",
    "2024-01-01",
    "--end",
];

#[test]
fn a_fetch_fills_an_s3_cache_that_serves_lists_verifies_and_clears() {
    let fake = FakeExchange::start();
    let cache = CacheAt::new(Backend::S3);
    let work = tempfile::tempdir().unwrap();
    let out = |n: &str| work.path().join(n).display().to_string();
    let location = cache.location();
    // --cache-dir on the command line (DSM_CACHE_DIR, set too, loses to it).
    let first = out("first.csv");
    let mut args = FETCH.to_vec();
    args.extend(["2024-01-04", "--cache-dir", &location, "-o", &first]);
    let o = run(&fake.url(), &cache, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        cache.keys(),
        (1..=3)
            .map(|d| format!("binance/spot/klines/BTCUSDT/1h/2024-01-0{d}.arrow"))
            .collect::<Vec<_>>(),
        "one object per day, nothing else (no write check left behind)"
    );
    assert_eq!(cache.assert_valid(), 3);

    // Served from the bucket alone (every exchange endpoint dead), byte for byte.
    let again = out("again.csv");
    let mut args = FETCH.to_vec();
    args.extend(["2024-01-04", "--source", "cache", "-o", &again]);
    let o = run(NOWHERE, &cache, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let a = std::fs::read(&first).unwrap();
    assert!(a == std::fs::read(&again).unwrap());
    assert_eq!(String::from_utf8_lossy(&a).lines().count(), 1 + 72);

    let o = run(NOWHERE, &cache, &["cache", "ls"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ls = stdout(&o);
    assert!(
        ls.contains("BTCUSDT") && ls.contains("2024-01-01 .. 2024-01-03"),
        "{ls}"
    );
    let o = run(NOWHERE, &cache, &["cache", "verify"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("3 files checked, 0 bad"),
        "{}",
        stdout(&o)
    );

    // A flipped byte in the stored object (damage at the provider) is named by verify,
    // and offline the day is a gap, not data.
    let file = cache
        .s3()
        .bucket_dir()
        .join("desk/cache/binance/spot/klines/BTCUSDT/1h/2024-01-02.arrow");
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&file, &bytes).unwrap();
    let o = run(NOWHERE, &cache, &["cache", "verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!(
            "BAD {location}/binance/spot/klines/BTCUSDT/1h/2024-01-02.arrow: checksum mismatch"
        )),
        "{}",
        stdout(&o)
    );
    let mut args = FETCH.to_vec();
    args.extend(["2024-01-04", "--source", "cache"]);
    let o = run(NOWHERE, &cache, &args);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("2024-01-02"), "{}", stderr(&o));
    // Online, the damaged day is fetched again and replaced.
    let o = run(&fake.url(), &cache, &args[..args.len() - 2]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(cache.assert_valid(), 3);

    let o = run(NOWHERE, &cache, &["cache", "clear", "-s", "btcusdt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("removed 3 files"), "{}", stdout(&o));
    assert!(cache.keys().is_empty(), "{:?}", cache.keys());
}

#[test]
fn a_bad_s3_location_is_a_usage_error_naming_it() {
    let o = run_dsm(
        &[
            "fetch",
            "-p",
            "binance",
            "-m",
            "spot",
            "-s",
            "BTCUSDT",
            "-i",
            "1h",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
            "--cache-dir",
            "s3://B/x",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("s3://B/x") && stderr(&o).contains("bucket"),
        "{}",
        stderr(&o)
    );
}

/// The writer is killed (SIGKILL) while the fake S3 server holds its upload of a day after
/// the first part of the body arrived: deterministic, whatever the machine's speed. What
/// the bucket shows afterwards is whole days only (the held one absent, or whole if its
/// body had all arrived), and a rerun completes the cache.
#[test]
fn a_writer_killed_mid_upload_leaves_nothing_torn_in_the_bucket() {
    use std::os::unix::process::ExitStatusExt;
    let fake = FakeExchange::start();
    let cache = CacheAt::new(Backend::S3);
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("o.csv").display().to_string();
    // 1m: a day is ~130 KB, many body chunks.
    let args = [
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
        "2024-01-01",
        "--end",
        "2024-01-04",
        "-o",
        &out,
    ];
    for round in 0..3 {
        // An empty bucket each round, so the held day is surely uploaded (days written in
        // an earlier round would not be).
        cache.cache().clear(&Default::default()).unwrap();
        let day = format!("2024-01-0{}.arrow", round + 1);
        cache.s3().hold_next_put(&day);
        let mut cmd = Command::new(dsm_bin());
        let mut child = cache
            .apply(on_loopback(&mut cmd, &fake.url()))
            .args(args)
            .env_remove("DSM_PLUGIN_PATH")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let held = cache.s3().wait_held(Duration::from_secs(120));
        child.kill().unwrap();
        assert!(held, "round {round}: no upload of {day} reached the server");
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "killed mid-upload, not finished");
        let _ = child.stderr.take();
        cache.s3().release();
        // Whole days only: every object a valid period file, nothing partial or stray.
        cache.assert_valid();
        for key in cache.keys() {
            assert!(
                key.ends_with(".arrow") && !key.contains(".dsm-tmp"),
                "{key}"
            );
        }
        assert!(
            !std::path::Path::new(&out).exists(),
            "no output from a killed run"
        );
    }
    let mut cmd = Command::new(dsm_bin());
    let done = cache
        .apply(on_loopback(&mut cmd, &fake.url()))
        .args(args)
        .env_remove("DSM_PLUGIN_PATH")
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(cache.assert_valid(), 3);
    assert_eq!(cache.keys().len(), 3);
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * 1440);
}

#[test]
fn cache_ls_on_s3_reads_the_footers_not_the_objects() {
    let fake = FakeExchange::start();
    let cache = CacheAt::new(Backend::S3);
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("days.csv").display().to_string();
    let location = cache.location();
    // Two days of 1m: objects of ~130 KB, whose footers are ~1.5 KB.
    let mut args: Vec<&str> = FETCH
        .iter()
        .map(|a| if *a == "1h" { "1m" } else { a })
        .collect();
    args.extend(["2024-01-03", "--cache-dir", &location, "-o", &out]);
    let o = run(&fake.url(), &cache, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let root = cache.s3().bucket_dir().join("desk/cache");
    let stored: u64 = cache
        .keys()
        .iter()
        .map(|k| std::fs::metadata(root.join(k)).unwrap().len())
        .sum();
    assert!(stored > 200_000, "two days of 1m: {stored} bytes");

    let before = cache.s3().bytes_served();
    let o = run(NOWHERE, &cache, &["cache", "ls"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = cache.s3().bytes_served() - before;
    let ls = stdout(&o);
    assert!(
        ls.contains("BTCUSDT") && ls.contains(" 2880 ") && ls.contains("2024-01-01 .. 2024-01-02"),
        "the rows come from the footers: {ls}"
    );
    assert!(
        read * 4 < stored,
        "cache ls downloaded {read} of the {stored} bytes stored"
    );

    // A day of 1h is smaller than the tail asked for: S3 answers with all of it, once.
    let mut args = FETCH.to_vec();
    args.extend(["2024-01-02", "--cache-dir", &location, "-o", &out]);
    let o = run(&fake.url(), &cache, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let (before, failed) = (cache.s3().bytes_served(), cache.s3().failed_gets());
    let o = run(NOWHERE, &cache, &["cache", "ls"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(" 24 "), "{}", stdout(&o));
    let small = std::fs::metadata(root.join("binance/spot/klines/BTCUSDT/1h/2024-01-01.arrow"))
        .unwrap()
        .len();
    assert_eq!(cache.s3().failed_gets(), failed, "no GET of ls failed");
    assert!(cache.s3().bytes_served() - before <= read + small);

    // verify still reads every byte (it checks the checksums).
    let before = cache.s3().bytes_served();
    let o = run(NOWHERE, &cache, &["cache", "verify"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("3 files checked, 0 bad"),
        "{}",
        stdout(&o)
    );
    assert!(cache.s3().bytes_served() - before >= stored + small);
}
