//! A Binance Vision file whose checksum matches but whose rows fail validation (a negative
//! price, high below low, an unaligned open time, a close time that is not the interval's
//! end) is unusable, and only that file: under `--source archive` its day is a gap giving
//! the reason, under `--source auto` REST serves it. Nothing of it is output or cached.
//! Through the real Binance plugin against the fake exchange.

use crate::common;

use std::path::Path;

use common::*;
use dsm_core::{Klines, Source, SourceMode};
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

const DAY: i64 = 86_400_000;
const H: i64 = 3_600_000;

/// 2024-05-10 .. 2024-05-15: five daily files; the first is left alone.
fn range() -> (i64, i64) {
    (ms("2024-05-10"), ms("2024-05-15"))
}

fn zip(day: &str) -> String {
    format!("BTCUSDT-1h-{day}.zip")
}

fn fetch(fake: &FakeExchange, cache: &Path, mode: SourceMode) -> Klines {
    let (s, e) = range();
    binance_on_fake(fake, "spot", cache, mode, 2_000)
        .fetch_market_data("BTCUSDT", "1h", s, e)
        .expect("one bad file does not end the fetch")
}

fn want() -> Vec<dsm_core::Kline> {
    let (s, e) = range();
    expected_klines(Market::Spot, "BTCUSDT", "1h", s, e)
}

/// One bad value in the second row (01:00) of each of the last four days, and what the
/// gap must say about it.
fn spoil(fake: &FakeExchange) -> Vec<(i64, String)> {
    let (s, _) = range();
    let row = |day: i64| s + day * DAY + H;
    let cases = [
        (
            "2024-05-11",
            1,
            "-5".to_string(),
            "negative or non-finite price",
        ),
        // Below the row's low, open and close.
        ("2024-05-12", 2, "0.5".to_string(), "outside [low, high]"),
        (
            "2024-05-13",
            0,
            (row(3) + 1_000).to_string(),
            "is not aligned to 1h",
        ),
        (
            "2024-05-14",
            6,
            "9000000000000".to_string(),
            "has close time 9000000000000 ms where a 1h candle closes at 2024-05-14T01:59:59.999Z",
        ),
    ];
    let mut out = Vec::new();
    for (i, (day, column, value, why)) in cases.into_iter().enumerate() {
        fake.set_vision_cell(&zip(day), 1, column, &value);
        out.push((s + (i as i64 + 1) * DAY, why.to_string()));
    }
    out
}

#[test]
fn a_file_with_a_bad_row_is_a_gap_with_the_reason_under_source_archive() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let spoiled = spoil(&fake);
    let got = fetch(&fake, cache.path(), SourceMode::Archive);
    assert!(got.rows[..] == want()[..24], "only the good day is output");
    let gaps = &got.summary.gaps;
    assert_eq!(gaps.len(), 4, "{gaps:?}");
    for (gap, (day, why)) in gaps.iter().zip(&spoiled) {
        assert_eq!((gap.start_ms, gap.end_ms), (*day, day + DAY), "{gap:?}");
        assert!(
            gap.reason
                .starts_with("the archive's file is unusable for ")
                && gap.reason.contains(why),
            "{} should say {why}",
            gap.reason
        );
    }
    assert_eq!(
        cache_files(cache.path()),
        ["binance/spot/klines/BTCUSDT/1h/2024-05-10.arrow"],
        "nothing of the bad files is cached"
    );
    assert_eq!(assert_cache_valid(cache.path()), 1);
}

#[test]
fn a_file_with_a_bad_row_is_served_from_rest_under_source_auto() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    spoil(&fake);
    let got = fetch(&fake, cache.path(), SourceMode::Auto);
    assert!(
        got.rows == want(),
        "the REST candles, none from the bad files"
    );
    assert!(got.summary.gaps.is_empty(), "{:?}", got.summary.gaps);
    let sources: Vec<Source> = got.summary.sources.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        sources,
        [
            Source::Archive,
            Source::Rest,
            Source::Rest,
            Source::Rest,
            Source::Rest
        ]
    );
    let notes = &got.summary.notes;
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("unusable") && n.ends_with("used REST instead"))
            .count(),
        4,
        "{notes:?}"
    );
    assert_eq!(assert_cache_valid(cache.path()), 5);
    // What was cached is the REST data: served again from the cache alone, equal.
    let again = fetch(&fake, cache.path(), SourceMode::Cache);
    assert!(again.rows == want());
}

#[test]
fn the_cli_exits_0_under_auto_and_3_with_the_gap_under_archive() {
    let fake = FakeExchange::start();
    spoil(&fake);
    let dir = tempfile::tempdir().unwrap();
    let url = fake.url();
    let run = |source: &str| {
        let out = dir.path().join(format!("{source}.csv"));
        let cache = dir.path().join(format!("cache-{source}"));
        let o = run_dsm(
            &[
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
                "2024-05-10",
                "--end",
                "2024-05-15",
                "--source",
                source,
                "-o",
                out.to_str().unwrap(),
            ],
            &[
                ("DSM_CACHE_DIR", cache.to_str().unwrap()),
                ("DSM_BINANCE_SPOT_URL", &url),
                ("DSM_BINANCE_UM_URL", &url),
                ("DSM_BINANCE_CM_URL", &url),
                ("DSM_BINANCE_VISION_URL", &url),
            ],
        );
        let rows = std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .count();
        (o, rows)
    };
    let (auto, rows) = run("auto");
    assert_eq!(auto.status.code(), Some(0), "{}", stderr(&auto));
    assert_eq!(rows, 1 + 5 * 24, "header and every candle");
    let (archive, rows) = run("archive");
    assert_eq!(archive.status.code(), Some(3), "{}", stderr(&archive));
    assert_eq!(rows, 1 + 24, "header and the good day");
    assert!(
        stderr(&archive).contains("negative or non-finite price"),
        "{}",
        stderr(&archive)
    );
}
