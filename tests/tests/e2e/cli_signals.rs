//! Issue 9 item 14: SIGINT or SIGTERM during `dsm fetch` stops it, removes the temporary
//! output, keeps the completed cached days, says how many and exits 130. Deterministic: three
//! days are cached first, the fake then holds every REST answer, and the signal is sent once
//! the output's temporary file holds the cached days (the process is then waiting on the
//! held request), not after a guessed sleep.

use crate::cli_env;
use crate::common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cli_env::*;
use common::{cache_files, stderr, wait_until};
use dsm_tests::fake::FakeExchange;

/// OKX (REST only, so nothing but the held REST path can serve the uncached days).
fn okx(start: &str, end: &str) -> Vec<String> {
    [
        "fetch", "-p", "okx", "-m", "spot", "-s", "BTC-USDT", "-i", "1h", "--start", start,
        "--end", end,
    ]
    .map(String::from)
    .to_vec()
}

/// Whether the output's temporary file (`.out.csv.XXXX.tmp`) holds `lines` full lines.
fn temp_output_with(dir: &Path, lines: usize) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        e.file_name().to_string_lossy().starts_with(".out.csv.")
            && std::fs::read(e.path())
                .is_ok_and(|b| b.iter().filter(|c| **c == b'\n').count() >= lines)
    })
}

fn interrupted_by(signal: &str) {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = okx("2024-01-01", "2024-01-04");
    let args: Vec<&str> = first.iter().map(String::as_str).collect();
    let o = run(&mut dsm(&fake.url(), cache.path(), &args));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(cache_files(cache.path()).len(), 3);

    // From now on the exchange answers nothing (within the test's lifetime).
    for path in ["/api/v5/market/history-candles", "/api/v5/market/candles"] {
        fake.set_delay(path, Duration::from_secs(3600));
    }
    fake.clear_requests();
    let out = dir.path().join("out.csv");
    let mut more = okx("2024-01-01", "2024-01-07");
    more.extend(["-o".into(), out.display().to_string()]);
    let args: Vec<&str> = more.iter().map(String::as_str).collect();
    let mut child = dsm(&fake.url(), cache.path(), &args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The header and three cached days of 24 rows (each day is flushed as it is written).
    wait_until("the cached days reach the temporary output", || {
        temp_output_with(dir.path(), 1 + 3 * 24)
    });
    wait_until("a request is held by the fake", || {
        !fake.requests().is_empty()
    });
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("dsm did not stop within 30 s of SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let err = stderr(&child.wait_with_output().unwrap());
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted: 3 of 6 days cached; run the same command again to resume"),
        "{err}"
    );
    assert_eq!(
        names(dir.path()),
        Vec::<String>::new(),
        "no output, no temporary file"
    );
    assert_eq!(cache_files(cache.path()).len(), 3, "the cached days stay");
    common::assert_cache_valid(cache.path());
}

#[test]
fn sigint_stops_cleans_up_and_exits_130() {
    interrupted_by("INT");
}

#[test]
fn sigterm_stops_cleans_up_and_exits_130() {
    interrupted_by("TERM");
}
