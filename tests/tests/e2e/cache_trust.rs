//! Issue 9, the cache end to end (real plugin file, real cache files, the real `dsm`): a
//! damaged file is never served, a FIFO never hangs a fetch, holes the exchange may still
//! fill are asked for again, old-format files are fetched again, leftovers of killed
//! processes are removed, and new files honour the umask.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use dsm_core::{Dsm, DsmConfig, Source, SourceMode};

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;
const JAN1: i64 = 1_704_067_200_000;

fn manager(cache: &Path, source: SourceMode) -> Dsm {
    manager_with(cache, source, |c| c)
}

fn manager_with(cache: &Path, source: SourceMode, f: impl Fn(DsmConfig) -> DsmConfig) -> Dsm {
    Dsm::create_with_config(f(DsmConfig::new("testplug", "spot")
        .plugin_dir(target_dir())
        .cache_dir(cache)
        .source(source)))
    .unwrap()
}

fn day_file(cache: &Path, symbol: &str, date: &str) -> PathBuf {
    cache.join(format!("testplug/spot/klines/{symbol}/1h/{date}.arrow"))
}

#[test]
fn a_damaged_day_is_a_gap_offline_and_fetched_again_online() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    manager(c, SourceMode::Auto)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + 3 * DAY)
        .unwrap();
    let file = day_file(c, "TEST", "2024-01-02");
    let good = std::fs::read(&file).unwrap();
    let mut bad = good.clone();
    bad[good.len() / 3] ^= 0x04;
    std::fs::write(&file, &bad).unwrap();

    let offline = manager(c, SourceMode::Cache)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + 3 * DAY)
        .unwrap();
    assert_eq!(offline.rows.len(), 48, "the damaged day is not served");
    let gap = &offline.summary.gaps;
    assert_eq!(gap.len(), 1, "{gap:?}");
    assert_eq!(
        (gap[0].start_ms, gap[0].end_ms),
        (JAN1 + DAY, JAN1 + 2 * DAY)
    );
    let note = offline.summary.notes.join("\n");
    assert!(
        note.contains("2024-01-02.arrow") && note.contains("checksum"),
        "{note}"
    );
    // Cut short (rows lost): damage, never "the exchange has no candle here".
    std::fs::write(&file, &good[..good.len() * 2 / 3]).unwrap();
    let offline = manager(c, SourceMode::Cache)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + 3 * DAY)
        .unwrap();
    assert_eq!(offline.rows.len(), 48);
    let reason = &offline.summary.gaps[0].reason;
    assert!(
        reason.contains("not in the cache") && !reason.contains("exchange"),
        "{reason}"
    );

    let online = manager(c, SourceMode::Auto)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + 3 * DAY)
        .unwrap();
    assert_eq!(online.rows, testplug_klines(H, JAN1, JAN1 + 3 * DAY));
    assert_eq!(
        online.summary.cached_periods, 1,
        "the damaged day is rewritten"
    );
    assert_eq!(std::fs::read(&file).unwrap().len(), good.len());
    assert_cache_valid(c);
}

#[test]
fn an_old_format_file_is_fetched_again_not_an_error() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    // What dsm's first format wrote: a plain IPC file, no version, no checksum.
    let file = day_file(c, "TEST", "2024-01-01");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let rows = testplug_klines(H, JAN1, JAN1 + DAY);
    let schema = dsm_core::columnar::schema();
    let mut w =
        arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&file).unwrap(), &schema)
            .unwrap();
    w.write(&dsm_core::columnar::to_record_batch(&rows))
        .unwrap();
    w.finish().unwrap();
    let offline = manager(c, SourceMode::Cache)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert!(offline.rows.is_empty() && offline.summary.gaps.len() == 1);
    let got = manager(c, SourceMode::Auto)
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert_eq!(got.rows, rows);
    assert_eq!(got.summary.cached_periods, 1);
    let report = dsm_core::cache::Cache::new(c).verify(&Default::default());
    assert!(report.is_ok() && report.outdated.is_empty(), "{report:?}");
}

/// `dsm` with `args`, killed (and the test failed) if it has not finished in 60 s: a
/// guard against a hang, not a timing assumption.
fn dsm_no_hang(args: &[&str], umask: Option<&str>) -> std::process::Output {
    let mut cmd = match umask {
        Some(mask) => {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(format!("umask {mask}; exec \"$0\" \"$@\""))
                .arg(dsm_bin())
                .args(args);
            sh
        }
        None => {
            let mut c = Command::new(dsm_bin());
            c.args(args);
            c
        }
    };
    cmd.env_remove("DSM_PLUGIN_PATH")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("dsm {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn fetch_args<'a>(cache: &'a str, symbol: &'a str) -> Vec<&'a str> {
    vec![
        "--cache-dir",
        cache,
        "fetch",
        "-p",
        "testplug",
        "-m",
        "spot",
        "-s",
        symbol,
        "-i",
        "1h",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-03",
    ]
}

#[test]
fn a_fifo_at_a_cache_path_does_not_hang_a_fetch_and_is_named() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    let fifo = day_file(cache.path(), "TEST", "2024-01-01");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let out = dsm_no_hang(&fetch_args(c, "TEST"), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1 + 48);
    assert!(stderr(&out).contains("a FIFO is there"), "{}", stderr(&out));
    // Replaced by the fetched day.
    assert!(std::fs::symlink_metadata(&fifo).unwrap().is_file());
    assert_cache_valid(cache.path());
}

#[test]
fn new_cache_files_honour_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    for (mask, want) in [("027", 0o640), ("022", 0o644), ("002", 0o664)] {
        let cache = tempfile::tempdir().unwrap();
        let c = cache.path().to_str().unwrap();
        let out = dsm_no_hang(&fetch_args(c, "TEST"), Some(mask));
        assert!(out.status.success(), "{}", stderr(&out));
        for d in ["2024-01-01", "2024-01-02"] {
            let mode = std::fs::metadata(day_file(cache.path(), "TEST", d))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, want, "umask {mask}: {mode:o}");
        }
    }
}

#[test]
fn a_leftover_of_a_killed_process_is_listed_then_removed_by_the_next_fetch() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    assert!(dsm_no_hang(&fetch_args(c, "TEST"), None).status.success());
    // A process that died mid-write (its pid is gone) left this.
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let dir = day_file(cache.path(), "TEST", "x")
        .parent()
        .unwrap()
        .to_path_buf();
    let leftover = dir.join(format!(".dsm-tmp-2024-01-05.{pid}.0.tmp"));
    std::fs::write(&leftover, b"half a day").unwrap();
    let verify = dsm_no_hang(&["--cache-dir", c, "cache", "verify"], None);
    let text = stdout(&verify);
    assert!(verify.status.success(), "{text}");
    assert!(
        text.contains(".dsm-tmp-2024-01-05") && text.contains("killed process"),
        "{text}"
    );
    assert!(text.contains("1 temporary"), "{text}");
    assert!(leftover.exists(), "verify without --fix removes nothing");
    // The next fetch that writes to the series sweeps it.
    let mut args = fetch_args(c, "TEST");
    let last = args.len() - 1;
    args[last] = "2024-01-04";
    assert!(dsm_no_hang(&args, None).status.success());
    assert!(!leftover.exists());
    // And `verify --fix` does too.
    std::fs::write(&leftover, b"half a day").unwrap();
    let fixed = dsm_no_hang(&["--cache-dir", c, "cache", "verify", "--fix"], None);
    assert!(stdout(&fixed).contains("removed"), "{}", stdout(&fixed));
    assert!(!leftover.exists());
}

/// Midnight UTC of the day before `now`: a day that ended less than a day ago.
fn yesterday() -> i64 {
    let now = dsm_core::request::now_ms();
    now.div_euclid(DAY) * DAY - DAY
}

#[test]
fn a_hole_in_a_day_that_just_ended_is_asked_for_again_and_filled() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    let day = yesterday();
    // HOLE1: the exchange's first answer lacks 10:00 and 11:00.
    let first = manager(c, SourceMode::Auto)
        .fetch_market_data("HOLE1", "1h", day, day + DAY)
        .unwrap();
    assert_eq!(first.rows.len(), 22);
    assert_eq!(first.summary.cached_periods, 1);
    let gaps = &first.summary.gaps;
    assert_eq!(
        (gaps[0].start_ms, gaps[0].end_ms),
        (day + 10 * H, day + 12 * H)
    );
    // Offline, the recorded hole says when the exchange was asked.
    let offline = manager(c, SourceMode::Cache)
        .fetch_market_data("HOLE1", "1h", day, day + DAY)
        .unwrap();
    assert_eq!(offline.rows.len(), 22);
    let reason = &offline.summary.gaps[0].reason;
    assert!(reason.contains("had none when asked at"), "{reason}");
    // The day ended under the recheck window ago: asked again, now whole, cached whole.
    let again = manager(c, SourceMode::Auto)
        .fetch_market_data("HOLE1", "1h", day, day + DAY)
        .unwrap();
    assert_eq!(again.rows, testplug_klines(H, day, day + DAY));
    assert!(again.summary.gaps.is_empty(), "{:?}", again.summary.gaps);
    assert_eq!(again.summary.sources, vec![(day, Source::Rest)]);
    let whole = manager(c, SourceMode::Cache)
        .fetch_market_data("HOLE1", "1h", day, day + DAY)
        .unwrap();
    assert_eq!(whole.rows, again.rows);
    assert!(whole.summary.gaps.is_empty());
}

#[test]
fn an_old_hole_is_final_until_a_recheck_is_asked_for() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    // 2024-01-01 ended long ago: what the exchange lacked then is its final answer.
    let first = manager(c, SourceMode::Auto)
        .fetch_market_data("HOLE2", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert_eq!(first.rows.len(), 22);
    let again = manager(c, SourceMode::Auto)
        .fetch_market_data("HOLE2", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert_eq!(
        again.summary.sources,
        vec![(JAN1, Source::Cache)],
        "not asked again"
    );
    assert_eq!(again.rows.len(), 22);
    assert!(again.summary.gaps[0]
        .reason
        .contains("exchange has no candle here"));
    // A window wide enough to cover it (the setting works), or an explicit recheck.
    let wide = manager_with(c, SourceMode::Auto, |cfg| {
        cfg.hole_recheck_window(Duration::from_secs(100 * 365 * 86_400))
    })
    .fetch_market_data("HOLE2", "1h", JAN1, JAN1 + DAY)
    .unwrap();
    assert_eq!(wide.summary.sources, vec![(JAN1, Source::Rest)]);
    assert_eq!(wide.rows, testplug_klines(H, JAN1, JAN1 + DAY));

    let first = manager(c, SourceMode::Auto)
        .fetch_market_data("HOLE3", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert_eq!(first.rows.len(), 22);
    let rechecked = manager_with(c, SourceMode::Auto, |cfg| cfg.recheck_holes(true))
        .fetch_market_data("HOLE3", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert_eq!(rechecked.rows, testplug_klines(H, JAN1, JAN1 + DAY));
    assert!(rechecked.summary.gaps.is_empty());
    // A request that does not touch the hole does not re-ask for it.
    let first = manager(c, SourceMode::Auto)
        .fetch_market_data("HOLE4", "1h", JAN1, JAN1 + DAY)
        .unwrap();
    assert_eq!(first.rows.len(), 22);
    let morning = manager_with(c, SourceMode::Auto, |cfg| cfg.recheck_holes(true))
        .fetch_market_data("HOLE4", "1h", JAN1, JAN1 + 6 * H)
        .unwrap();
    assert_eq!(morning.summary.sources, vec![(JAN1, Source::Cache)]);
}

#[test]
fn the_cli_rechecks_all_gaps_when_asked() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    // One process: its first call lacks the hours, a second process's first call too,
    // so the hole stays; what is checked is that --recheck-gaps asks (the plugin is called).
    // Exit 3: finished with gaps.
    let out = dsm_no_hang(&fetch_args(c, "HOLE5"), None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1 + 44);
    let mut offline = fetch_args(c, "HOLE5");
    offline.extend(["--source", "cache", "-v"]);
    let out = dsm_no_hang(&offline, None);
    assert!(
        stderr(&out).contains("had none when asked at"),
        "{}",
        stderr(&out)
    );
    let mut recheck = fetch_args(c, "HOLE5");
    recheck.extend(["--recheck-gaps", "-v"]);
    let out = dsm_no_hang(&recheck, None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("asking again"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("testplug fetch"),
        "the plugin was asked: {}",
        stderr(&out)
    );
    let mut plain = fetch_args(c, "HOLE5");
    plain.push("-v");
    let out = dsm_no_hang(&plain, None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).contains("testplug fetch"), "{}", stderr(&out));
}

#[test]
fn asking_again_never_costs_what_the_cache_has() {
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    let day = yesterday();
    // A cached day with a hole seen just now, of a symbol whose plugin calls fail (PANIC:
    // testplug panics; the host turns it into a provider error).
    let key = dsm_core::cache::SeriesKey::new("testplug", "spot", "PANIC", "1h").unwrap();
    let rows: Vec<_> = testplug_klines(H, day, day + DAY)
        .into_iter()
        .filter(|k| k.open_time != day + 10 * H)
        .collect();
    dsm_core::cache::Cache::new(c)
        .write_seen(&key, day, &rows, dsm_core::request::now_ms())
        .unwrap();
    let got = manager(c, SourceMode::Auto)
        .fetch_market_data("PANIC", "1h", day, day + DAY)
        .unwrap();
    assert_eq!(got.rows, rows, "served from the cache");
    let note = got.summary.notes.join("\n");
    assert!(note.contains("could not ask again"), "{note}");
    assert_eq!(got.summary.gaps.len(), 1);
}
