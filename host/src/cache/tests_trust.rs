//! Issue 9: the cache serves what was written, or nothing, on every backend; the rules of
//! files (FIFOs, leftovers, modes) on the file system.

use std::fs;
use std::path::Path;

use super::test_backends::{on_every_backend, temp_cache, Backend, TestCache};
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

on_every_backend!(
    no_flipped_byte_anywhere_in_a_file_is_ever_served,
    cached_candles_pass_the_checks_network_candles_pass,
    files_must_say_which_series_and_period_they_hold,
    holes_are_recorded_and_lost_rows_are_damage_not_holes,
);

/// A file with the right checksum and identity holding exactly `rows` and `holes`.
fn write_encoded(
    cache: &TestCache,
    k: &SeriesKey,
    start: i64,
    rows: &[Kline],
    holes: &[(i64, i64)],
) {
    let kind = super::candles_of(k).unwrap();
    let expect = cache.expect(&kind, k, start).unwrap();
    cache.put_raw(k, start, &expect.encode(rows, holes, 0).unwrap());
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

/// Flip `x` into byte `at` of the file (on disk in place, by pwrite: no truncation; on
/// object storage the object replaced), read, restore.
fn assert_never_served(
    cache: &TestCache,
    k: &SeriesKey,
    start: i64,
    good: &[u8],
    at: usize,
    x: u8,
) {
    let path = cache.path(k, start).unwrap();
    let got = match cache.backend {
        Backend::Fs => {
            use std::os::unix::fs::FileExt;
            let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
            file.write_all_at(&[good[at] ^ x], at as u64).unwrap();
            let got = cache.read(k, start);
            file.write_all_at(&[good[at]], at as u64).unwrap();
            got
        }
        Backend::S3 => {
            let mut bad = good.to_vec();
            bad[at] ^= x;
            cache.put_raw(k, start, &bad);
            cache.read(k, start)
        }
    };
    match got {
        Err(CacheError::Corrupt { .. } | CacheError::Outdated { .. }) => {}
        other => panic!(
            "byte {at} ^ {x:#04x} of {} was served: {other:?}",
            path.display()
        ),
    }
}

fn no_flipped_byte_anywhere_in_a_file_is_ever_served(b: Backend) {
    let cache = &temp_cache(b);
    // Every byte of a day of 1h (a small file), one bit and all bits.
    let (k, start) = (key("BTCUSDT", "1h"), day(2024, 3, 1));
    cache.write(&k, start, &sample(start, HOUR, 24)).unwrap();
    let good = cache.raw(&k, start);
    // On S3 each flip is a PUT and a GET over HTTP: 150 seeded positions there.
    let every: Vec<usize> = match b {
        Backend::Fs => (0..good.len()).collect(),
        Backend::S3 => positions(0x5bd1_e995, good.len(), 150),
    };
    for at in every {
        for x in [0x01, 0xff] {
            assert_never_served(cache, &k, start, &good, at, x);
        }
    }
    cache.put_raw(&k, start, &good);
    // 400 (S3: 100) seeded positions of a real day of 1m.
    let (k, start) = (key("BTCUSDT", "1m"), day(2024, 3, 1));
    cache
        .write(&k, start, &sample(start, MINUTE, 1440))
        .unwrap();
    let good = cache.raw(&k, start);
    let n = if b == Backend::Fs { 400 } else { 100 };
    for (i, at) in positions(0x9e37_79b9, good.len(), n)
        .into_iter()
        .enumerate()
    {
        assert_never_served(cache, &k, start, &good, at, 1 << (i % 8));
    }
    // `cache verify` names the damaged file.
    let path = cache.path(&k, start).unwrap();
    let mut bytes = good.clone();
    bytes[good.len() / 2] ^= 0x10;
    cache.put_raw(&k, start, &bytes);
    let report = cache.verify(&Filter::default());
    assert_eq!(report.bad.len(), 1, "{report:?}");
    assert_eq!(report.bad[0].0, path);
    assert!(
        report.bad[0].1.contains("checksum mismatch"),
        "{}",
        report.bad[0].1
    );
    cache.put_raw(&k, start, &good);
    assert!(cache.verify(&Filter::default()).is_ok());
}

fn cached_candles_pass_the_checks_network_candles_pass(b: Backend) {
    let cache = &temp_cache(b);
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
        write_encoded(cache, &k, start, &rows, &[]);
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

fn files_must_say_which_series_and_period_they_hold(b: Backend) {
    let cache = &temp_cache(b);
    let start = day(2024, 3, 1);
    let (btc, eth) = (key("BTCUSDT", "1h"), key("ETHUSDT", "1h"));
    cache.write(&eth, start, &sample(start, HOUR, 24)).unwrap();
    cache.write(&btc, start, &sample(start, HOUR, 24)).unwrap();
    // Another day's file under this day's name.
    cache.put_raw(&btc, start + DAY, &cache.raw(&btc, start));
    let msg = cache.read(&btc, start + DAY).unwrap_err().to_string();
    assert!(
        msg.contains("2024-03-02.arrow") && msg.contains("period"),
        "{msg}"
    );
    // ETHUSDT's file placed under BTCUSDT (a whole, checksummed file).
    cache.put_raw(&btc, start, &cache.raw(&eth, start));
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
    let batch = crate::columnar::to_record_batch_with(schema.clone(), &rows);
    let bytes = format::encode(&schema, std::iter::once(batch), &footer).unwrap();
    cache.put_raw(&btc, start, &bytes);
    let msg = cache.read(&btc, start).unwrap_err().to_string();
    assert!(msg.contains("does not say its symbol"), "{msg}");
    // An old-format file (no version) is not used, and is not damage.
    let mut w =
        arrow_ipc::writer::FileWriter::try_new(Vec::new(), &crate::columnar::schema()).unwrap();
    w.write(&crate::columnar::to_record_batch(&rows)).unwrap();
    w.finish().unwrap();
    cache.put_raw(&btc, start, &w.into_inner().unwrap());
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

fn holes_are_recorded_and_lost_rows_are_damage_not_holes(b: Backend) {
    let cache = &temp_cache(b);
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
    write_encoded(cache, &k, start, &lost, &got.holes);
    let msg = cache.read(&k, start).unwrap_err().to_string();
    assert!(msg.contains("lost or gained rows"), "{msg}");
    // Cut short where it is stored.
    cache.write(&k, start, &rows).unwrap();
    let bytes = cache.raw(&k, start);
    for cut in [bytes.len() - 1, bytes.len() / 2, 100, 0] {
        cache.put_raw(&k, start, &bytes[..cut]);
        assert!(
            matches!(cache.read(&k, start), Err(CacheError::Corrupt { .. })),
            "cut at {cut}"
        );
    }
}

#[test]
fn a_fifo_at_a_cache_path_is_never_opened_for_reading() {
    // File system only: an object store holds objects, never FIFOs or links.
    let cache = &temp_cache(Backend::Fs);
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
    // File system only: an upload is never listed before it is whole (see on_s3 crash tests).
    let cache = &temp_cache(Backend::Fs);
    let (k, start) = (key("BTCUSDT", "1h"), day(2024, 3, 1));
    cache.write(&k, start, &sample(start, HOUR, 24)).unwrap();
    let dir = k.dir_under(cache.root());
    let stale = dir.join(format!("{TEMP_PREFIX}2024-03-02.{}.0.tmp", dead_pid()));
    fs::write(&stale, b"half a file").unwrap();
    // Being written by this (live) process, under its lock.
    let live = storage::TempFile::create(&dir, "2024-03-03").unwrap();
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
    let cache = &temp_cache(Backend::Fs);
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
