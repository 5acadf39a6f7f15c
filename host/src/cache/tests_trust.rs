//! Issue 9: the cache serves what was written, or nothing.

use std::fs;
use std::path::Path;

use super::*;
use crate::columnar::tests::sample;
use crate::interval::{days_from_civil, DAY, MINUTE};

const HOUR: i64 = 3_600_000;

fn key(symbol: &str, interval: &str) -> SeriesKey {
    SeriesKey::new("binance", "spot", symbol, interval).unwrap()
}

fn day(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * DAY
}

fn temp_cache() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("cache"));
    (dir, cache)
}

/// A file with the right checksum and identity holding exactly `rows` and `holes`.
fn write_encoded(cache: &Cache, k: &SeriesKey, start: i64, rows: &[Kline], holes: &[(i64, i64)]) {
    let kind = super::candles_of(k).unwrap();
    let expect = cache.expect(&kind, k, start).unwrap();
    let path = cache.path(k, start).unwrap();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, expect.encode(rows, holes, 0).unwrap()).unwrap();
}

/// Deterministic positions (xorshift): no timing, no entropy.
fn positions(seed: u64, len: usize, n: usize) -> Vec<usize> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % len as u64) as usize
        })
        .collect()
}

/// Flip `x` into byte `at` of the file in place (pwrite: no truncation), read, restore.
fn assert_never_served(cache: &Cache, k: &SeriesKey, start: i64, good: &[u8], at: usize, x: u8) {
    use std::os::unix::fs::FileExt;
    let path = cache.path(k, start).unwrap();
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all_at(&[good[at] ^ x], at as u64).unwrap();
    let got = cache.read(k, start);
    file.write_all_at(&[good[at]], at as u64).unwrap();
    match got {
        Err(CacheError::Corrupt { .. } | CacheError::Outdated { .. }) => {}
        other => panic!(
            "byte {at} ^ {x:#04x} of {} was served: {other:?}",
            path.display()
        ),
    }
}

#[test]
fn no_flipped_byte_anywhere_in_a_file_is_ever_served() {
    let (_d, cache) = temp_cache();
    // Every byte of a day of 1h (a small file), one bit and all bits.
    let (k, start) = (key("BTCUSDT", "1h"), day(2024, 3, 1));
    cache.write(&k, start, &sample(start, HOUR, 24)).unwrap();
    let good = fs::read(cache.path(&k, start).unwrap()).unwrap();
    for at in 0..good.len() {
        for x in [0x01, 0xff] {
            assert_never_served(&cache, &k, start, &good, at, x);
        }
    }
    fs::write(cache.path(&k, start).unwrap(), &good).unwrap();
    // 400 seeded positions of a real day of 1m.
    let (k, start) = (key("BTCUSDT", "1m"), day(2024, 3, 1));
    cache
        .write(&k, start, &sample(start, MINUTE, 1440))
        .unwrap();
    let good = fs::read(cache.path(&k, start).unwrap()).unwrap();
    for (i, at) in positions(0x9e37_79b9, good.len(), 400)
        .into_iter()
        .enumerate()
    {
        assert_never_served(&cache, &k, start, &good, at, 1 << (i % 8));
    }
    // `cache verify` names the damaged file.
    let path = cache.path(&k, start).unwrap();
    let mut bytes = good.clone();
    bytes[good.len() / 2] ^= 0x10;
    fs::write(&path, &bytes).unwrap();
    let report = cache.verify(&Filter::default());
    assert_eq!(report.bad.len(), 1, "{report:?}");
    assert_eq!(report.bad[0].0, path);
    assert!(
        report.bad[0].1.contains("checksum mismatch"),
        "{}",
        report.bad[0].1
    );
    fs::write(&path, &good).unwrap();
    assert!(cache.verify(&Filter::default()).is_ok());
}

#[test]
fn cached_candles_pass_the_checks_network_candles_pass() {
    let (_d, cache) = temp_cache();
    let (k, start) = (key("BTCUSDT", "1h"), day(2024, 3, 1));
    let good = sample(start, HOUR, 24);
    let cases: Vec<(&str, Kline, &str)> = vec![
        (
            "nan",
            Kline {
                low: f64::NAN,
                ..good[3]
            },
            "non-finite price",
        ),
        (
            "negative",
            Kline {
                open: -1.0,
                ..good[3]
            },
            "non-finite price",
        ),
        (
            "high < low",
            Kline {
                high: 1.0,
                low: 2.0,
                ..good[3]
            },
            "outside [low, high]",
        ),
        (
            "inf volume",
            Kline {
                volume: f64::INFINITY,
                ..good[3]
            },
            "volume",
        ),
        (
            "negative volume",
            Kline {
                quote_volume: -5.0,
                ..good[3]
            },
            "volume",
        ),
    ];
    for (what, bad, why) in cases {
        let mut rows = good.clone();
        rows[3] = bad;
        write_encoded(&cache, &k, start, &rows, &[]);
        let err = cache.read(&k, start).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, CacheError::Corrupt { .. }), "{what}: {msg}");
        assert!(
            msg.contains(why) && msg.contains("2024-03-01.arrow"),
            "{what}: {msg}"
        );
        // Nor are such candles ever written.
        assert!(
            matches!(
                cache.write(&k, start, &rows),
                Err(CacheError::Refused { .. })
            ),
            "{what}"
        );
    }
}

#[test]
fn files_must_say_which_series_and_period_they_hold() {
    let (_d, cache) = temp_cache();
    let start = day(2024, 3, 1);
    let (btc, eth) = (key("BTCUSDT", "1h"), key("ETHUSDT", "1h"));
    cache.write(&eth, start, &sample(start, HOUR, 24)).unwrap();
    cache.write(&btc, start, &sample(start, HOUR, 24)).unwrap();
    let btc_path = cache.path(&btc, start).unwrap();
    // Another day's file under this day's name.
    let next = cache.path(&btc, start + DAY).unwrap();
    fs::copy(&btc_path, &next).unwrap();
    let msg = cache.read(&btc, start + DAY).unwrap_err().to_string();
    assert!(
        msg.contains("2024-03-02.arrow") && msg.contains("period"),
        "{msg}"
    );
    // ETHUSDT's file placed under BTCUSDT (a whole, checksummed file).
    fs::copy(cache.path(&eth, start).unwrap(), &btc_path).unwrap();
    let msg = cache.read(&btc, start).unwrap_err().to_string();
    assert!(
        msg.contains("BTCUSDT/1h/2024-03-01.arrow") && msg.contains("symbol"),
        "{msg}"
    );
    // A file that leaves out its symbol.
    let kind = super::candles_of(&btc).unwrap();
    let expect = cache.expect(&kind, &btc, start).unwrap();
    let rows = sample(start, HOUR, 24);
    let footer: Vec<(String, String)> = expect
        .footer(24, &[], 0)
        .into_iter()
        .filter(|(k, _)| k != "dsm.symbol")
        .collect();
    let schema = crate::columnar::schema_with_metadata(expect.schema_metadata());
    let batch = crate::columnar::to_record_batch_with(schema, &rows);
    let bytes = format::encode(&batch, &footer).unwrap();
    fs::write(&btc_path, bytes).unwrap();
    let msg = cache.read(&btc, start).unwrap_err().to_string();
    assert!(msg.contains("does not say its symbol"), "{msg}");
    // An old-format file (no version) is not used, and is not damage.
    let mut w =
        arrow_ipc::writer::FileWriter::try_new(Vec::new(), &crate::columnar::schema()).unwrap();
    w.write(&crate::columnar::to_record_batch(&rows)).unwrap();
    w.finish().unwrap();
    fs::write(&btc_path, w.into_inner().unwrap()).unwrap();
    assert!(matches!(
        cache.read(&btc, start),
        Err(CacheError::Outdated { .. })
    ));
    let report = cache.verify(&Filter {
        symbol: Some("BTCUSDT".into()),
        ..Filter::default()
    });
    assert_eq!(report.outdated.len(), 1, "{report:?}");
}

#[test]
fn holes_are_recorded_and_lost_rows_are_damage_not_holes() {
    let (_d, cache) = temp_cache();
    let (k, start) = (key("BTCUSDT", "1m"), day(2024, 3, 1));
    let mut rows = sample(start, MINUTE, 1440);
    rows.drain(600..610);
    cache.write_seen(&k, start, &rows, 1_234).unwrap();
    let got = cache.read_period(&k, start).unwrap().unwrap();
    assert_eq!(got.rows, rows);
    assert_eq!(
        got.holes,
        vec![(start + 600 * MINUTE, start + 610 * MINUTE)]
    );
    assert_eq!(got.holes_seen_ms, 1_234);
    // The same file short of rows that were there (its checksum made right again): damage.
    let mut lost = rows.clone();
    lost.drain(1000..1100);
    write_encoded(&cache, &k, start, &lost, &got.holes);
    let msg = cache.read(&k, start).unwrap_err().to_string();
    assert!(msg.contains("lost or gained rows"), "{msg}");
    // Cut short on disk.
    cache.write(&k, start, &rows).unwrap();
    let path = cache.path(&k, start).unwrap();
    let bytes = fs::read(&path).unwrap();
    for cut in [bytes.len() - 1, bytes.len() / 2, 100, 0] {
        fs::write(&path, &bytes[..cut]).unwrap();
        assert!(
            matches!(cache.read(&k, start), Err(CacheError::Corrupt { .. })),
            "cut at {cut}"
        );
    }
}

#[test]
fn a_fifo_at_a_cache_path_is_never_opened_for_reading() {
    let (_d, cache) = temp_cache();
    let (k, start) = (key("BTCUSDT", "1h"), day(2024, 3, 1));
    let path = cache.path(&k, start).unwrap();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    mkfifo(&path);
    // Without O_NONBLOCK this open would wait for a writer forever.
    let msg = cache.read(&k, start).unwrap_err().to_string();
    assert!(msg.contains("a FIFO is there"), "{msg}");
    let report = cache.verify(&Filter::default());
    assert!(report.bad[0].1.contains("FIFO"), "{report:?}");
    assert_eq!(cache.list(&Filter::default()), vec![]);
    // A fetch replaces it with the period.
    cache.write(&k, start, &sample(start, HOUR, 24)).unwrap();
    assert!(cache.read(&k, start).unwrap().is_some());
    // Nor is a symbolic link followed (it could point at a device, or anywhere).
    let next = cache.path(&k, start + DAY).unwrap();
    std::os::unix::fs::symlink(&path, &next).unwrap();
    let msg = cache.read(&k, start + DAY).unwrap_err().to_string();
    assert!(msg.contains("symbolic link"), "{msg}");
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// The pid of a process that has exited (and been reaped).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn stale_temp_files_are_listed_and_removed_but_never_a_live_writers() {
    let (_d, cache) = temp_cache();
    let (k, start) = (key("BTCUSDT", "1h"), day(2024, 3, 1));
    cache.write(&k, start, &sample(start, HOUR, 24)).unwrap();
    let dir = k.dir_under(cache.root());
    let stale = dir.join(format!("{TEMP_PREFIX}2024-03-02.{}.0.tmp", dead_pid()));
    fs::write(&stale, b"half a file").unwrap();
    // Being written by this (live) process, under its lock.
    let live = files::TempFile::create(&dir, "2024-03-03").unwrap();
    // This process's name but no lock (its write is about to start): alive, kept.
    let mine = dir.join(format!(
        "{TEMP_PREFIX}2024-03-04.{}.99.tmp",
        std::process::id()
    ));
    fs::write(&mine, b"").unwrap();

    let report = cache.verify(&Filter::default());
    assert!(report.is_ok());
    let state = |p: &Path| {
        report
            .leftovers
            .iter()
            .find(|l| l.path == p)
            .map(|l| l.state.clone())
    };
    assert_eq!(state(&stale), Some(TempState::Stale));
    assert_eq!(state(live.path()), Some(TempState::InUse));
    assert_eq!(state(&mine), Some(TempState::InUse));
    assert!(stale.exists(), "verify without fix removes nothing");

    let fixed = cache.verify_and(&Filter::default(), true);
    assert_eq!(fixed.leftovers.iter().filter(|l| l.removed).count(), 1);
    assert!(!stale.exists() && live.path().exists() && mine.exists());

    // `clear` leaves the live writer's file too; the next write of the series sweeps.
    fs::write(&stale, b"again").unwrap();
    cache.write_many(&k, &[(start, &sample(start, HOUR, 24))], 0);
    assert!(
        !stale.exists(),
        "the next write of the series removes stale files"
    );
    let cleared = cache.clear(&Filter::default()).unwrap();
    assert!(
        cleared.in_use.contains(&live.path().to_path_buf()),
        "{cleared:?}"
    );
    assert!(live.path().exists());
    let live_path = live.path().to_path_buf();
    drop(live);
    assert!(
        !live_path.exists(),
        "an unfinished write removes its temp file"
    );
}

#[test]
fn new_cache_files_get_the_umask_mode_not_0600() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, cache) = temp_cache();
    let (k, start) = (key("BTCUSDT", "1h"), day(2024, 3, 1));
    cache.write(&k, start, &sample(start, HOUR, 24)).unwrap();
    let mode = fs::metadata(cache.path(&k, start).unwrap())
        .unwrap()
        .permissions()
        .mode();
    // The umask of this process, read without changing it for other threads.
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let umask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
        .unwrap();
    assert_eq!(
        mode & 0o777,
        0o666 & !umask,
        "mode {mode:o}, umask {umask:o}"
    );
}
