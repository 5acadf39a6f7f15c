//! Issue 13: how a `dsm sync` ends. A series with gaps exits 3 naming it; a failing series
//! exits 1 naming it (1 wins over 3) while the others complete; `--locked` passes on the
//! cache it locked, refetches a missing period, and fails naming a period whose content
//! changed; a spec file gets its lockfile beside it.

use crate::common;
use crate::sync_env;

use common::{ms, stderr, stdout};
use dsm_tests::fake::FakeExchange;
use sync_env::*;

/// BTCUSDT's 2024-01-02 withheld from the archive: with `--source archive` that day is a gap.
fn gappy_fake() -> FakeExchange {
    let fake = FakeExchange::start();
    fake.withhold_vision_file("BTCUSDT-1h-2024-01-02.zip");
    fake.withhold_vision_file("BTCUSDT-1h-2024-01.zip");
    fake
}

fn table_row<'a>(table: &'a str, id: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("{id} not in\n{table}"))
        .split_whitespace()
        .collect()
}

#[test]
fn gaps_exit_3_and_a_failed_series_exits_1_naming_them() {
    let fake = gappy_fake();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let lock = dir.path().join("x.lock");
    let base = [
        "-p",
        "binance",
        "-m",
        "spot",
        "-i",
        "1h",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-04",
        "--source",
        "archive",
        "--lock",
        lock.to_str().unwrap(),
    ];
    let out = run(sync(&fake.url(), &cache, &base).args(["-s", "BTCUSDT,ETHUSDT"]));
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("gaps in binance/spot/klines/BTCUSDT/1h: 1"),
        "{err}"
    );
    assert!(
        err.contains("gap 2024-01-02T00:00:00Z .. 2024-01-03T00:00:00Z"),
        "{err}"
    );
    assert!(
        !err.contains("gaps in binance/spot/klines/ETHUSDT"),
        "{err}"
    );
    let table = stdout(&out);
    assert_eq!(
        table_row(&table, "binance/spot/klines/BTCUSDT/1h")[1..6],
        ["48", "0", "2", "0", "1"]
    );
    assert_eq!(
        table_row(&table, "binance/spot/klines/ETHUSDT/1h")[1..6],
        ["72", "0", "3", "0", "0"]
    );

    // A series the exchange does not know fails (REST says so); another has a gap (the day
    // before the fake's listing): exit 1 names the failed one, the gap is still reported.
    let out = run(&mut sync(
        &fake.url(),
        &cache,
        &[
            "-p",
            "binance",
            "-m",
            "spot",
            "-i",
            "1h",
            "--start",
            "2016-12-31",
            "--end",
            "2017-01-02",
            "-s",
            "BTCUSDT",
            "-s",
            "NOPEUSDT",
            "--lock",
            lock.to_str().unwrap(),
        ],
    ));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("failed: binance/spot/klines/NOPEUSDT/1h: "),
        "{err}"
    );
    assert!(
        err.contains("gaps in binance/spot/klines/BTCUSDT/1h: 1"),
        "{err}"
    );
    let table = stdout(&out);
    assert!(
        table_row(&table, "binance/spot/klines/NOPEUSDT/1h").contains(&"symbol"),
        "{table}"
    );
    assert_eq!(
        table_row(&table, "binance/spot/klines/BTCUSDT/1h")[1..2],
        ["24"]
    );
}

#[test]
fn locked_passes_refetches_what_is_missing_and_names_a_changed_period() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let spec = dir.path().join("universe.toml");
    std::fs::write(
        &spec,
        "provider = \"binance\"\nmarkets = [\"spot\"]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\n\
         intervals = [\"1h\"]\nstart = \"2024-01-01\"\nend = \"2024-01-04\"\n",
    )
    .unwrap();
    let spec_arg = spec.to_str().unwrap();
    let out = run(&mut sync(&fake.url(), &cache, &[spec_arg]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lock = dir.path().join("universe.lock");
    assert!(stderr(&out).contains(&format!("lockfile: {}", lock.display())));
    let locked = std::fs::read_to_string(&lock).unwrap();
    assert_eq!(locked.matches("\"archive\"]").count(), 6, "{locked}");

    let out = run(&mut sync(&fake.url(), &cache, &[spec_arg, "--locked"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // A missing period is fetched again, the same bytes: still as locked.
    let key = dsm_core::cache::SeriesKey::new("binance", "spot", "ETHUSDT", "1h").unwrap();
    let c = dsm_core::cache::Cache::new(&cache);
    std::fs::remove_file(c.path(&key, ms("2024-01-03")).unwrap()).unwrap();
    let out = run(&mut sync(&fake.url(), &cache, &[spec_arg, "--locked"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(c.contains(&key, ms("2024-01-03")));

    // A period whose content changed (a valid file with other candles) is named.
    let mut rows = c.read(&key, ms("2024-01-02")).unwrap().unwrap();
    rows[5].volume += 1.0;
    c.write(&key, ms("2024-01-02"), &rows).unwrap();
    fake.clear_requests();
    let out = run(&mut sync(&fake.url(), &cache, &[spec_arg, "--locked"]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("does not match the lockfile"), "{err}");
    assert!(
        err.contains("binance/spot/klines/ETHUSDT/1h 2024-01-02: lockfile "),
        "{err}"
    );
    assert_eq!(
        err.matches(": lockfile ").count(),
        1,
        "only that period: {err}"
    );
    assert!(
        fake.requests().is_empty(),
        "a valid cached file is not fetched again"
    );
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap(),
        locked,
        "--locked never writes"
    );

    // Flags and a spec file together are refused.
    let out = run(&mut sync(&fake.url(), &cache, &[spec_arg, "-s", "BTCUSDT"]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}

#[test]
fn globs_expand_over_the_listing_delisted_symbols_included_in_their_days() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let lock = dir.path().join("g.lock");
    let args = |start: &str| {
        [
            "-p",
            "binance",
            "-m",
            "spot",
            "-s",
            "*USDT",
            "-i",
            "1d",
            "--start",
            start,
            "--end",
            "2022-07-01",
            "--lock",
            lock.to_str().unwrap(),
        ]
        .map(String::from)
    };
    let out = run(sync(&fake.url(), &cache, &[]).args(args("2022-01-01")));
    let table = stdout(&out);
    let ids: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        ids,
        ["BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "LUNAUSDT"]
            .map(|s| format!("binance/spot/klines/{s}/1d")),
        "the exchange's symbols and LUNAUSDT (delisted 2022-05, in the archive); not BCCUSDT \
         (gone in 2018): {}",
        stderr(&out)
    );
    // LUNAUSDT's series is kept to its archive days (REST no longer knows it): it ends in
    // May, with the month it was delisted in incomplete (not cached), and nothing failed.
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(table_row(&table, "binance/spot/klines/LUNAUSDT/1d")[5], "0");
    assert!(stderr(&out).contains("lockfile:"));
    let out = run(sync(&fake.url(), &cache, &[]).args(args("2022-06-01")));
    assert!(
        !stdout(&out).contains("LUNAUSDT"),
        "delisted before the range: {}",
        stdout(&out)
    );

    // OKX lists its instruments (no archive): a glob expands over them. Without --lock the
    // lockfile is ./dsm-sync.lock, in the directory the sync runs in (the test's own).
    let out = run(&mut sync(
        &fake.url(),
        &cache,
        &[
            "-p",
            "okx",
            "-m",
            "spot",
            "-s",
            "BTC*",
            "-i",
            "1h",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
        ],
    ));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("okx/spot/klines/BTC-USDT/1h"),
        "{}",
        stdout(&out)
    );
    assert!(dir.path().join("dsm-sync.lock").is_file());
}

#[test]
fn shards_split_a_universe_without_overlap() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let symbols = coins(6);
    let mut ids = Vec::new();
    for k in 1..=3 {
        let lock = dir.path().join(format!("{k}.lock"));
        let shard = format!("{k}/3");
        let out = run(&mut sync(
            &fake.url(),
            &cache,
            &[
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
                "2024-01-02",
                "--shard",
                &shard,
                "--lock",
                lock.to_str().unwrap(),
            ],
        ));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let text = std::fs::read_to_string(&lock).unwrap();
        ids.extend(
            text.lines()
                .filter(|l| l.starts_with("id = "))
                .map(String::from),
        );
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(
        (n, ids.len()),
        (12, 12),
        "every series in exactly one shard"
    );
}

#[test]
fn progress_is_live_lines_on_a_terminal_and_plain_lines_in_a_pipe() {
    let fake = FakeExchange::start();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let lock = dir.path().join("p.lock");
    let args = format!(
        "sync -p binance -m spot -s BTCUSDT,ETHUSDT -i 1h --start 2024-01-01 --end 2024-01-03 \
         --workers 1 --lock {}",
        lock.display()
    );
    // `script` runs dsm on a pseudo-terminal; its typescript goes into the test's directory.
    let line = format!("{} {args}", common::dsm_bin().display());
    let tty = common::on_loopback(&mut std::process::Command::new("script"), &fake.url())
        .env("DSM_CACHE_DIR", &cache)
        .args(["-qec", &line])
        .arg(dir.path().join("typescript"))
        .output()
        .expect("script(1)");
    assert!(tty.status.success(), "{}", stderr(&tty));
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(screen.contains("sync 0/2 series"), "{screen}");
    assert!(screen.contains("sync 1/2 series"), "{screen}");
    assert!(
        screen.contains("%  binance/spot/klines/BTCUSDT/1h"),
        "a line per series: {screen}"
    );
    assert!(screen.contains("\x1b[1A"), "the lines are redrawn in place");
    assert!(
        !screen.contains("sync [1/2]"),
        "no plain lines on a terminal"
    );

    let out = run(&mut sync(
        &fake.url(),
        &cache,
        &args.split(' ').skip(1).collect::<Vec<_>>(),
    ));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("sync [1/2] binance/spot/klines/BTCUSDT/1h: 48 rows, periods cache 2"),
        "{err}"
    );
    assert!(
        !err.contains("\x1b["),
        "no terminal codes into a pipe: {err}"
    );
}
