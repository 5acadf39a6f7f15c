//! For the cli_* tests: the built `dsm` with every endpoint of every provider on the fake
//! exchange (or on any 127.0.0.1 URL), a cache directory of the test's own, nothing inherited.
#![allow(dead_code)] // each test file uses a different part

use std::path::Path;
use std::process::{Command, Output};

/// `dsm ARGS` with every endpoint at `url`, the cache in `cache`, short retries.
pub fn dsm(url: &str, cache: &Path, args: &[&str]) -> Command {
    let bin = super::common::dsm_bin();
    let mut cmd = Command::new(bin);
    cmd.args(args);
    env(&mut cmd, url, cache);
    cmd
}

/// The environment of [`dsm`], for commands that run dsm through a shell or `script`.
pub fn env(cmd: &mut Command, url: &str, cache: &Path) {
    for k in [
        "DSM_PLUGIN_PATH",
        "DSM_LOG",
        "DSM_SOURCE",
        "NO_COLOR",
        "DSM_NO_CACHE",
    ] {
        cmd.env_remove(k);
    }
    super::common::on_loopback(cmd, url)
        .env("DSM_CACHE_DIR", cache)
        .env("DSM_BACKOFF_MS", "1")
        .env("DSM_BACKOFF_MAX_MS", "5");
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run dsm")
}

/// A URL on 127.0.0.1 where nothing listens (connection refused).
pub fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// Binance spot, 1h, one day from REST (24 candles).
pub const DAY_1H: [&str; 14] = [
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
    "--source=rest",
];

/// The CSV header row.
pub fn header() -> String {
    dsm_core::output::COLUMNS.join(",")
}

/// Names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Whether `s` holds an ANSI colour (SGR) sequence: ESC [ digits/; m.
pub fn has_colour(s: &str) -> bool {
    s.split('\x1b').skip(1).any(|rest| {
        rest.strip_prefix('[').is_some_and(|r| {
            let end = r.find(|c: char| !(c.is_ascii_digit() || c == ';'));
            end.is_some_and(|i| r[i..].starts_with('m'))
        })
    })
}
