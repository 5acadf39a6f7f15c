//! For the sync_* tests: `dsm sync` on the fake exchange with a cache and lockfile of the
//! test's own, and readers of what it left.
#![allow(dead_code)] // each test file uses a different part

use std::path::Path;
use std::process::{Command, Output};

use super::common;

/// `dsm sync ARGS` with every endpoint at `url`, the cache in `cache`, short retries.
pub fn sync(url: &str, cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(common::dsm_bin());
    cmd.arg("sync").args(args);
    // A sync without --lock writes ./dsm-sync.lock: into the test's temporary directory
    // (the local cache's parent), never into the source tree.
    if let Some(dir) = cache.parent().filter(|d| d.is_dir()) {
        cmd.current_dir(dir);
    }
    for k in ["DSM_PLUGIN_PATH", "DSM_LOG", "DSM_SOURCE", "DSM_NO_CACHE"] {
        cmd.env_remove(k);
    }
    common::on_loopback(&mut cmd, url)
        .env("DSM_CACHE_DIR", cache)
        .env("DSM_BACKOFF_MS", "1")
        .env("DSM_BACKOFF_MAX_MS", "5");
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run dsm sync")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// `COIN01USDT,...` for the first `n` coins of the fake's universe.
pub fn coins(n: usize) -> String {
    (1..=n)
        .map(|i| format!("COIN{i:02}USDT"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every cache file's path (relative) and bytes, sorted.
pub fn cache_bytes(cache: &Path) -> Vec<(String, Vec<u8>)> {
    common::cache_files(cache)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(cache.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Panics at the first line where `got` and `want` differ (lockfiles are long).
pub fn assert_same_text(got: &str, want: &str) {
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {} differs", i + 1);
    }
    assert_eq!(
        got.lines().count(),
        want.lines().count(),
        "line counts differ"
    );
}
