//! SIGKILL at varied points while the cache fills never leaves a file that
//! `dsm cache verify` rejects, and a rerun completes the cache.
//!
//! Deterministic whatever the machine's speed: each kill waits for an event of the run (N
//! more finished day files, N = 0 meaning its first temporary file; or K lines in the
//! output's temporary file), never a guessed time, and testplug pauses the run at a month
//! start past that event (`DSM_TESTPLUG_PAUSE_FROM`), so the process is certainly still
//! running, at or before that month, when it is killed.

use crate::common;

use std::fs::File;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;

const START: &str = "2023-01-01";
const END: &str = "2023-07-01";
const DAY: i64 = 86_400_000;
const DAYS: usize = 181;
const SIGKILL: i32 = 9;
const SERIES: &str = "testplug/spot/klines/TEST/1m";
/// Where a run may be paused: the month starts after the first.
const PAUSES: [&str; 5] = [
    "2023-02-01",
    "2023-03-01",
    "2023-04-01",
    "2023-05-01",
    "2023-06-01",
];

/// A small deterministic generator: the test needs varied kill points, not secure ones.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// What a round waits for before its SIGKILL.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// This many more finished day files than before the run (0: its first temporary file).
    NewFiles(usize),
    /// This many lines in the output's temporary file.
    Lines(usize),
}

/// Where a round pauses (ms) and what it waits for; `None` when the cache is too full for a
/// run that writes before its pause and has days left after it.
fn plan(round: usize, seed: &mut u64, cached: &[i64]) -> Option<(i64, Event)> {
    let days: Vec<i64> = (0..DAYS as i64).map(|d| ms(START) + d * DAY).collect();
    let uncached = |lo: i64, hi: i64| {
        days.iter()
            .filter(|d| (lo..hi).contains(*d) && !cached.contains(d))
            .count()
    };
    let valid: Vec<i64> = PAUSES
        .iter()
        .map(|p| ms(p))
        .filter(|&p| uncached(ms(START), p) > 0 && uncached(p, ms(END)) > 0)
        .collect();
    let pause = *valid.get(next(seed) as usize % valid.len().max(1))?;
    // Every day before the pause is written (the uncached ones) and output before it.
    let event = if round.is_multiple_of(2) {
        // The first temporary file, one file, two, or any number up to all of them.
        let n = uncached(ms(START), pause) as u64;
        let pick = match round / 2 % 4 {
            k @ 0..=2 => k as u64,
            _ => next(seed) % (n + 1),
        };
        Event::NewFiles(pick.min(n) as usize)
    } else {
        let lines = 1 + (pause - ms(START)) / DAY * 1440;
        Event::Lines(1 + (next(seed) % lines as u64) as usize)
    };
    Some((pause, event))
}

/// The starts of the finished day files of the series.
fn day_files(series: &Path) -> Vec<i64> {
    let mut out: Vec<i64> = names(series)
        .iter()
        .filter_map(|n| n.strip_suffix(".arrow"))
        .map(ms)
        .collect();
    out.sort();
    out
}

fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn is_cache_temp(name: &str) -> bool {
    name.starts_with(".dsm-tmp-") && name.ends_with(".tmp")
}

/// Counts the lines of the output's temporary file as it grows, reading each byte once.
struct OutputLines {
    dir: PathBuf,
    file: Option<File>,
    lines: usize,
}

impl OutputLines {
    fn count(&mut self) -> usize {
        if self.file.is_none() {
            let temp = names(&self.dir)
                .into_iter()
                .find(|n| n.starts_with(".candles.csv.") && n.ends_with(".tmp"));
            self.file = temp.and_then(|n| File::open(self.dir.join(n)).ok());
        }
        let mut buf = Vec::new();
        if let Some(f) = self.file.as_mut() {
            f.read_to_end(&mut buf).unwrap();
        }
        self.lines += buf.iter().filter(|b| **b == b'\n').count();
        self.lines
    }
}

/// A running `dsm`, killed on drop too, so a failed assertion leaves no process behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls (every millisecond; the poll only notices, the event decides) until `event` has
/// happened in the run; a run that ends first, or a generous deadline, fails the test.
fn wait_for(run: &mut Running, event: Event, series: &Path, out: &Path, log: &Path, round: usize) {
    let before = day_files(series).len();
    let pid = run.0.id();
    let own_temp = format!(".{pid}.");
    let mut lines = OutputLines {
        dir: out.to_path_buf(),
        file: None,
        lines: 0,
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let happened = match event {
            Event::NewFiles(n) => {
                let files = day_files(series).len();
                files >= before + n.max(1)
                    || (n == 0
                        && names(series)
                            .iter()
                            .any(|f| is_cache_temp(f) && f.contains(&own_temp)))
            }
            Event::Lines(k) => lines.count() >= k,
        };
        if happened {
            return;
        }
        let ended = run.0.try_wait().unwrap();
        if let Some(status) = ended {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("round {round}: the run ended before {event:?} ({status}): {log}");
        }
        assert!(Instant::now() < deadline, "round {round}: never {event:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// After a kill: nothing cached was lost, nothing lies past the pause, the leftovers are
/// temporary files of killed processes, every file is whole, and no output file appeared.
fn check_after_kill(c: &str, series: &Path, out: &Path, had: &[i64], pause: i64, round: usize) {
    let now = day_files(series);
    assert!(had.iter().all(|d| now.contains(d)), "round {round}: lost");
    assert!(now.iter().all(|d| *d < pause), "round {round}: past pause");
    for name in names(series) {
        let day = name.strip_suffix(".arrow").is_some();
        assert!(day || is_cache_temp(&name), "round {round}: {name}");
    }
    let verify = run_dsm(&["--cache-dir", c, "cache", "verify"], &[]);
    let report = stdout(&verify);
    assert!(verify.status.success(), "round {round}: {report}");
    let counted = format!("{} files checked, 0 bad", now.len());
    assert!(report.contains(&counted), "round {round}: {report}");
    assert!(!report.contains("being written"), "round {round}: {report}");
    // Checked again by the library itself: every file a kill left is whole.
    assert_eq!(assert_cache_valid(Path::new(c)), now.len());
    // The killed run's output is a temporary file, never the destination.
    for name in names(out) {
        let temp = name.starts_with(".candles.csv.") && name.ends_with(".tmp");
        assert!(temp, "round {round}: output {name}");
        std::fs::remove_file(out.join(name)).unwrap();
    }
}

#[test]
fn killed_fetches_leave_a_valid_cache_and_a_rerun_completes_it() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let series = cache.join(SERIES);
    let c = cache.to_str().unwrap();
    let out_csv = out.join("candles.csv");
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
        START,
        "--end",
        END,
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..20 {
        let mut had = day_files(&series);
        let (pause, event) = match plan(round, &mut seed, &had) {
            Some(p) => p,
            None => {
                // Start over: `cache clear` also removes what the kills left behind.
                let clear = run_dsm(&["--cache-dir", c, "cache", "clear"], &[]);
                assert!(clear.status.success(), "{}", stderr(&clear));
                assert!(names(&series).is_empty(), "{:?}", names(&series));
                had.clear();
                plan(round, &mut seed, &had).expect("a plan for an empty cache")
            }
        };
        let log = work.path().join("dsm.log");
        let log_file = File::create(&log).unwrap();
        let mut run = Running(
            on_loopback(&mut Command::new(dsm_bin()), NOWHERE)
                .args(fetch)
                .args(["-o", out_csv.to_str().unwrap()])
                .env_remove("DSM_PLUGIN_PATH")
                .env("DSM_TESTPLUG_PAUSE_FROM", pause.to_string())
                .stdout(log_file.try_clone().unwrap())
                .stderr(log_file)
                .spawn()
                .unwrap(),
        );
        wait_for(&mut run, event, &series, &out, &log, round);
        run.0.kill().unwrap(); // SIGKILL
        let status = run.0.wait().unwrap();
        assert_eq!(status.signal(), Some(SIGKILL), "round {round}: {status}");
        check_after_kill(c, &series, &out, &had, pause, round);
        let date = dsm_core::timeparse::format_date(pause);
        let files = day_files(&series).len();
        eprintln!("round {round}: paused at {date}, killed on {event:?}: {files} files");
    }

    // The rerun completes the cache (and removes the leftovers of the killed runs).
    let rerun = run_dsm(
        &[&fetch[..], &["-o", out_csv.to_str().unwrap()]].concat(),
        &[],
    );
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    let want: Vec<i64> = testplug_klines(60_000, ms(START), ms(END))
        .iter()
        .map(|k| k.open_time)
        .collect();
    assert_eq!(want.len(), DAYS * 1440, "every minute of the half year");
    assert_eq!(opens(&std::fs::read_to_string(&out_csv).unwrap()), want);
    assert_eq!(names(&out), ["candles.csv"]);
    let verify = run_dsm(&["--cache-dir", c, "cache", "verify"], &[]);
    assert!(
        stdout(&verify).contains("181 files checked, 0 bad, 0 of an older format, 0 temporary"),
        "{}",
        stdout(&verify)
    );
    // The cache alone then serves the full range.
    let cached = run_dsm(&[&fetch[..], &["--source", "cache"]].concat(), &[]);
    assert!(cached.status.success(), "{}", stderr(&cached));
    assert_eq!(opens(&stdout(&cached)), want);
}

fn opens(csv: &str) -> Vec<i64> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}
