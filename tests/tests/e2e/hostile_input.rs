//! Hostile or broken input to `dsm fetch`: each a usage error (exit 2) that says what is
//! wrong, before any request reaches the exchange and before any file or directory is made.
//! And a fetch writes nothing outside its cache directory and its output file.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use dsm_tests::fake::FakeExchange;

/// Every file and directory below `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() && !p.is_symlink() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A sandbox: a temp dir holding the cache dir, the output file and HOME / XDG dirs (none
/// of which exist beforehand), and a fake exchange behind every Binance endpoint.
struct Sandbox {
    root: tempfile::TempDir,
    fake: FakeExchange,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            root: tempfile::tempdir().unwrap(),
            fake: FakeExchange::start(),
        }
    }

    fn p(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// `dsm fetch` with `args` (provider, market, symbol, interval, start, end), output to
    /// `out.csv` and the cache in `cache/`.
    fn fetch(&self, args: [&str; 6]) -> Output {
        let [p, m, s, i, start, end] = args;
        let out = self.p("out.csv");
        let cache = self.p("cache");
        let url = self.fake.url();
        let (home, xdg_cache, xdg_data) = (self.p("home"), self.p("xdg-cache"), self.p("xdg-data"));
        run_dsm_on(
            &url,
            &[
                "fetch",
                "-p",
                p,
                "-m",
                m,
                "-s",
                s,
                "-i",
                i,
                "--start",
                start,
                "--end",
                end,
                "-o",
                out.to_str().unwrap(),
            ],
            &[
                ("DSM_CACHE_DIR", cache.to_str().unwrap()),
                ("HOME", home.to_str().unwrap()),
                ("XDG_CACHE_HOME", xdg_cache.to_str().unwrap()),
                ("XDG_DATA_HOME", xdg_data.to_str().unwrap()),
            ],
        )
    }
}

const GOOD: [&str; 6] = [
    "binance",
    "spot",
    "BTCUSDT",
    "1h",
    "2024-01-01",
    "2024-01-02",
];

/// `GOOD` with argument `at` replaced by `value`.
fn with(at: usize, value: &str) -> [String; 6] {
    let mut a = GOOD.map(String::from);
    a[at] = value.to_string();
    a
}

#[test]
fn hostile_arguments_are_usage_errors_before_any_request_or_file() {
    let long = "X".repeat(31);
    let (p, m, s, i, start, end) = (0, 1, 2, 3, 4, 5);
    let cases: Vec<([String; 6], &str)> = vec![
        // Symbols: path separators, dots, URL metacharacters, control characters, length.
        (with(s, "../../etc/passwd"), "symbol"),
        (with(s, "BTC/USDT"), "symbol"),
        (with(s, "BTC\\USDT"), "symbol"),
        (with(s, ".."), "symbol"),
        (with(s, "BTC.USDT"), "symbol"),
        (with(s, "BTCUSDT?symbol=ETHUSDT"), "symbol"),
        (with(s, "BTCUSDT&limit=1"), "symbol"),
        (with(s, "BTC%2FUSDT"), "symbol"),
        (with(s, "BTCUSDT#x"), "symbol"),
        (with(s, "BTC USDT"), "symbol"),
        (with(s, "BTC\nUSDT"), "symbol"),
        (with(s, "BTC\tUSDT\u{7}"), "symbol"),
        (with(s, "BTCÜSDT"), "symbol"),
        (with(s, ""), "symbol"),
        (with(s, &long), "symbol"),
        // Intervals.
        (with(i, "7m"), "interval"),
        (with(i, "1x"), "interval"),
        (with(i, ""), "interval"),
        (with(i, "../1m"), "interval"),
        (with(i, "1m/../../x"), "interval"),
        // Ranges, years, malformed dates.
        (with(start, "2024-01-03"), "must be before the end"),
        (with(start, "2024-01-02"), "must be before the end"),
        (with(start, "1900-01-01"), "year 1900"),
        (with(end, "2101-01-01"), "year 2101"),
        (with(start, "99999-01-01"), "not valid"),
        (with(start, "0"), "year 1970"),
        (with(start, "99999999999999999999"), "number too large"),
        (with(start, "2024-13-01"), "no such date"),
        (with(start, "2024-02-30"), "no such date"),
        (with(start, "2024-01-01T25:00:00Z"), "HH:MM"),
        (with(start, "2024/01/01"), "YYYY-MM-DD"),
        (with(start, "yesterday"), "YYYY-MM-DD"),
        (with(start, "2024-01-01T00:00:00+99:00"), "not valid"),
        (with(start, ""), "not valid"),
        // Providers and markets.
        (with(p, "nope"), "no plugin provides \"nope\""),
        (with(p, "../binance"), "provider name"),
        (with(p, "/usr/lib/x"), "provider name"),
        (with(m, "nope"), "has no market \"nope\""),
        (with(m, "../spot"), "has no market"),
    ];
    let sandbox = Sandbox::new();
    for (args, says) in &cases {
        let a: [&str; 6] = std::array::from_fn(|k| args[k].as_str());
        let out = sandbox.fetch(a);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{a:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(says),
            "{a:?} should say {says:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{a:?}: {err}");
        assert!(stdout(&out).is_empty(), "{a:?}");
        assert!(
            sandbox.fake.requests().is_empty(),
            "{a:?}: {:?}",
            sandbox.fake.requests()
        );
        assert!(
            tree(sandbox.root.path()).is_empty(),
            "{a:?} made files: {:?}",
            tree(sandbox.root.path())
        );
    }
}

#[test]
fn a_future_start_is_a_usage_error_too() {
    let sandbox = Sandbox::new();
    let out = sandbox.fetch(with(4, "2099-01-01").each_ref().map(|s| s.as_str()));
    let out2 = {
        let mut a = with(4, "2099-01-01");
        a[5] = "2099-02-01".into();
        sandbox.fetch(a.each_ref().map(|s| s.as_str()))
    };
    for out in [out, out2] {
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    }
    assert!(sandbox.fake.requests().is_empty());
    assert!(tree(sandbox.root.path()).is_empty());
}

#[test]
fn a_fetch_writes_only_its_cache_directory_and_its_output_file() {
    let sandbox = Sandbox::new();
    let out = sandbox.fetch(GOOD);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = tree(sandbox.root.path());
    assert!(
        written
            .iter()
            .all(|p| p == "out.csv" || p == "cache" || p.starts_with("cache/")),
        "{written:?}"
    );
    assert!(written.contains(&"out.csv".to_string()));
    assert!(
        written.contains(&"cache/binance/spot/klines/BTCUSDT/1h/2024-01-01.arrow".to_string()),
        "{written:?}"
    );
    assert_eq!(stdout(&out), "");
}
