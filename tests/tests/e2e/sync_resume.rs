//! Issue 13: a `dsm sync` stopped mid-way and run again ends with the same cache bytes and
//! the same lockfile as one that was never stopped. Deterministic: the fake lets a number
//! of requests through and holds the next (the process is then certainly mid-run), and
//! the signal is sent then.

use crate::common;
use crate::sync_env;

use std::time::Duration;

use common::stderr;
use dsm_tests::fake::FakeExchange;
use sync_env::*;

fn args(lock: &std::path::Path) -> Vec<String> {
    let symbols = coins(3);
    [
        "-p",
        "binance",
        "-m",
        "spot",
        "-s",
        &symbols,
        "-i",
        "1h,4h",
        "--start",
        "2024-01-01",
        "--end",
        "2024-03-01",
        "--source",
        "rest",
        "--workers",
        "2",
        "--lock",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([lock.display().to_string()])
    .collect()
}

/// Cache bytes and lockfile text of an uninterrupted sync.
fn uninterrupted() -> (Vec<(String, Vec<u8>)>, String) {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let (cache, lock) = (dir.path().join("cache"), dir.path().join("s.lock"));
    let out = run(sync(&fake.url(), &cache, &[]).args(args(&lock)));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    (cache_bytes(&cache), std::fs::read_to_string(&lock).unwrap())
}

#[test]
fn a_sync_stopped_and_run_again_ends_as_one_never_stopped() {
    let (want_cache, want_lock) = uninterrupted();
    assert_eq!(want_cache.len(), 3 * 2 * 60);
    for (let_through, signal) in [(3, "TERM"), (7, "INT")] {
        let fake = FakeExchange::start();
        let dir = tempfile::tempdir().unwrap();
        let (cache, lock) = (dir.path().join("cache"), dir.path().join("s.lock"));
        fake.hold_after(let_through);
        let child = sync(&fake.url(), &cache, &[])
            .args(args(&lock))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        assert!(
            fake.wait_held(Duration::from_secs(60)),
            "the sync reached the held request"
        );
        // The answered requests complete January of a series (744 candles, one page), but
        // its files are written after the answer: signalled before, a loaded machine had
        // nothing cached yet, and the run was not stopped mid-way.
        common::wait_until("a period of the answered requests is cached", || {
            !common::cache_files(&cache).is_empty()
        });
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), 130, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("run the same command again"),
            "{}",
            stderr(&out)
        );
        let kept = cache_bytes(&cache);
        assert!(
            !kept.is_empty() && kept.len() < want_cache.len(),
            "stopped mid-way"
        );
        fake.release();
        let out = run(sync(&fake.url(), &cache, &[]).args(args(&lock)));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(
            cache_bytes(&cache) == want_cache,
            "the same cache files, byte for byte"
        );
        assert_same_text(&std::fs::read_to_string(&lock).unwrap(), &want_lock);
    }
}

#[test]
fn a_sync_killed_outright_and_run_again_has_the_same_cache_bytes() {
    let (want_cache, want_lock) = uninterrupted();
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let (cache, lock) = (dir.path().join("cache"), dir.path().join("s.lock"));
    fake.hold_after(5);
    let mut child = sync(&fake.url(), &cache, &[])
        .args(args(&lock))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(fake.wait_held(Duration::from_secs(60)));
    child.kill().unwrap(); // SIGKILL: no lockfile is written
    child.wait().unwrap();
    assert!(!lock.exists());
    fake.release();
    let out = run(sync(&fake.url(), &cache, &[]).args(args(&lock)));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        cache_bytes(&cache) == want_cache,
        "the same cache files, byte for byte"
    );
    // The checksums agree; the periods cached before the kill say "cache" (where from was
    // lost with the process).
    let strip = |s: &str| s.replace("\"cache\"]", "\"rest\"]");
    assert_same_text(&strip(&std::fs::read_to_string(&lock).unwrap()), &want_lock);
    assert!(std::fs::read_to_string(&lock)
        .unwrap()
        .contains("\"cache\"]"));
}
