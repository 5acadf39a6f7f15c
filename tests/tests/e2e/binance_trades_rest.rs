//! Binance trades over REST end to end: the real plugin file and `dsm` binary against the
//! fake's aggTrades and historicalTrades, whose rows are the fake's Vision rows. A day the
//! archive lacks filled from REST, REST-only ranges, today, the futures REST reach reported
//! as a gap with its reason, all four output formats, and hostile pages failing clearly.

use crate::common;

use std::path::Path;

use common::*;
use dsm_core::kinds::{Kind, Trades};
use dsm_core::{DataKind, Dsm, FetchSummary, Source, SourceMode};
use dsm_sdk::Trade;
use dsm_tests::fake::{expected_rest_trades, expected_trades, FakeExchange, Fault, Market};

const DAY: i64 = 86_400_000;

fn fetch(dsm: &Dsm, kind: DataKind, symbol: &str, range: (i64, i64)) -> (Vec<Trade>, FetchSummary) {
    let trades = Trades::new(kind);
    let req = dsm
        .kind_request(kind, symbol, "", range.0, range.1)
        .unwrap();
    let mut rows = Vec::new();
    let summary = dsm
        .fetch_records(
            &req,
            &mut |p| {
                rows.extend(trades.rows_of(&p.batch).unwrap());
                Ok(())
            },
            &mut |_, _| {},
        )
        .unwrap();
    (rows, summary)
}

fn same_trades(got: &[Trade], want: &[Trade]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(trade_bits(g), trade_bits(w), "{g:?} != {w:?}");
    }
}

fn today() -> i64 {
    let now = dsm_sdk::time::now_ms();
    now - now.rem_euclid(DAY)
}

fn manager(fake: &FakeExchange, market: &str, cache: &Path, mode: SourceMode) -> Dsm {
    binance_on_fake(fake, market, cache, mode, 10_000)
}

#[test]
fn spot_day_missing_from_the_archive_is_filled_from_rest_and_cached() {
    let fake = FakeExchange::start();
    let range = (ms("2024-03-01"), ms("2024-03-03"));
    for (kind, aggregated, word, endpoint) in [
        (DataKind::AGG_TRADES, true, "aggTrades", "/api/v3/aggTrades"),
        (
            DataKind::TRADES,
            false,
            "trades",
            "/api/v3/historicalTrades",
        ),
    ] {
        let cache = tempfile::tempdir().unwrap();
        let zip = format!("/data/spot/daily/{word}/BTCUSDT/BTCUSDT-{word}-2024-03-02.zip");
        fake.push_faults(&zip, [Fault::Status(404)]);
        fake.clear_requests();
        let dsm = manager(&fake, "spot", cache.path(), SourceMode::Auto);
        let (rows, summary) = fetch(&dsm, kind, "BTCUSDT", range);
        assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
        assert_eq!(
            summary.sources,
            [(range.0, Source::Archive), (range.0 + DAY, Source::Rest)]
        );
        // REST and archive agree: the rows are the archive's of both days.
        same_trades(
            &rows,
            &expected_trades(Market::Spot, aggregated, "BTCUSDT", range.0, range.1),
        );
        let rest = fake.requests_on(endpoint);
        assert!(!rest.is_empty(), "{kind}: REST was asked");
        assert!(rest.iter().all(|r| r.status == 200));
        // Paging: never fromId together with times, never more than 1000 a page.
        for r in fake.requests() {
            if r.path.ends_with("Trades") {
                assert!(r.query.contains("limit=1000"), "{}", r.query);
                assert!(!(r.query.contains("fromId") && r.query.contains("Time=")));
            }
        }
        assert_eq!(assert_cache_valid(cache.path()), 2, "{kind}");
    }
}

#[test]
fn rest_only_futures_agg_trades_of_yesterday_and_today_up_to_now() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let before = dsm_sdk::time::now_ms();
    let range = (today() - DAY, today() + DAY);
    let dsm = manager(&fake, "um", cache.path(), SourceMode::Rest);
    let (rows, summary) = fetch(&dsm, DataKind::AGG_TRADES, "BTCUSDT", range);
    // Yesterday and today (up to now) are within USD-M's 48 hours.
    let want = expected_rest_trades(Market::Um, true, "BTCUSDT", range.0, range.1);
    assert!(rows.len() <= want.len());
    same_trades(&rows, &want[..rows.len()]);
    let by_then = want.iter().filter(|t| t.time < before).count();
    assert!(rows.len() >= by_then, "{} < {by_then}", rows.len());
    assert!(summary.sources.iter().all(|s| s.1 == Source::Rest));
    assert!(fake
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/data/")));
    // Only yesterday is complete: one period cached.
    assert_eq!(assert_cache_valid(cache.path()), 1);
}

#[test]
fn coin_m_rest_reach_is_a_gap_with_its_reason() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let range = (today() - 3 * DAY, today());
    let dsm = manager(&fake, "cm", cache.path(), SourceMode::Rest);
    let (rows, summary) = fetch(&dsm, DataKind::AGG_TRADES, "BTCUSD_PERP", range);
    let gap = summary.gaps.first().expect("a gap");
    assert_eq!(gap.start_ms, range.0);
    assert!(
        gap.reason.contains("last 24 hours only") && gap.reason.contains("Vision"),
        "{}",
        gap.reason
    );
    // What REST keeps (the last 24 hours) is there, exactly.
    let from = gap.end_ms;
    assert!(
        from > today() - 2 * DAY && from <= today(),
        "{:?}",
        summary.gaps
    );
    let want = expected_rest_trades(Market::Cm, true, "BTCUSD_PERP", from, range.1);
    same_trades(&rows, &want);
    assert!(!rows.is_empty());
    // Nothing before the reach was asked: every time window starts at or after it and
    // spans under an hour (COIN-M refuses longer ones).
    let param = |q: &str, k: &str| -> Option<i64> {
        q.split('&')
            .find_map(|p| p.strip_prefix(k))
            .map(|v| v.parse().unwrap())
    };
    for r in fake.requests_on("/dapi/v1/aggTrades") {
        if let Some(s) = param(&r.query, "startTime=") {
            assert!(s >= from - 1000, "{}", r.query);
            assert!(param(&r.query, "endTime=").unwrap() - s < 3_600_000);
        }
        assert_eq!(r.status, 200, "{}", r.query);
    }
}

fn cli(fake: &FakeExchange, cache: &str, args: &[&str]) -> std::process::Output {
    let plugins = target_dir();
    let mut all = vec![
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "fetch",
        "-p",
        "binance",
    ];
    all.extend_from_slice(args);
    run_dsm_on(&fake.url(), &all, &[("DSM_CACHE_DIR", cache)])
}

const SPOT_DAY: [&str; 9] = [
    "-m",
    "spot",
    "-s",
    "ETHUSDT",
    "--start",
    "2024-05-01",
    "--end",
    "2024-05-02",
    "--kind",
];

#[test]
fn cli_writes_rest_agg_trades_in_all_four_formats() {
    let fake = FakeExchange::start();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let cache = cache.to_str().unwrap();
    let want = expected_trades(
        Market::Spot,
        true,
        "ETHUSDT",
        ms("2024-05-01"),
        ms("2024-05-02"),
    );
    let ids: Vec<i64> = want.iter().map(|t| t.id).collect();
    let mut base = SPOT_DAY.to_vec();
    base.extend(["agg-trades", "--source", "rest"]);
    // csv
    let out = cli(&fake, cache, &base);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fake
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/data/")));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("id,time,price,qty,quote_qty,first_trade_id"));
    let got: Vec<i64> = lines
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(got, ids);
    // jsonl (from the cache now)
    let mut args = base.clone();
    args.extend(["-f", "jsonl"]);
    let out = cli(&fake, cache, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<i64> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(got, ids);
    // parquet and arrow, read back as trades
    let kind = Trades::new(DataKind::AGG_TRADES);
    for format in ["parquet", "arrow"] {
        let file = tmp.path().join(format!("t.{format}"));
        let mut args = base.clone();
        args.extend(["-f", format, "-o", file.to_str().unwrap()]);
        let out = cli(&fake, cache, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        let f = std::fs::File::open(&file).unwrap();
        let mut got = Vec::new();
        if format == "parquet" {
            let r =
                parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(f, 4096).unwrap();
            for b in r {
                got.extend(kind.rows_of(&b.unwrap()).unwrap());
            }
        } else {
            for b in arrow_ipc::reader::FileReader::try_new(f, None).unwrap() {
                got.extend(kind.rows_of(&b.unwrap()).unwrap());
            }
        }
        same_trades(&got, &want);
    }
}

/// A full page of 1000 aggregated trades of 2024-05-01 with these ids, ascending times.
fn hostile_page(ids: impl Iterator<Item = i64>) -> String {
    let t0 = ms("2024-05-01") + 1000;
    let rows: Vec<String> = ids
        .enumerate()
        .map(|(i, a)| {
            format!(
                "{{\"a\":{a},\"p\":\"3000.00000000\",\"q\":\"0.10000000\",\"f\":{},\"l\":{},\
                 \"T\":{},\"m\":true,\"M\":true}}",
                a * 2,
                a * 2,
                t0 + i as i64
            )
        })
        .collect();
    format!("[{}]", rows.join(","))
}

#[test]
fn hostile_rest_pages_fail_clearly() {
    let fake = FakeExchange::start();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().to_str().unwrap();
    let mut args = SPOT_DAY.to_vec();
    args.extend(["agg-trades", "--source", "rest"]);
    // Endless paging: the server ignores fromId and sends the same full page again.
    let page = hostile_page(5000..6000);
    fake.push_faults(
        "/api/v3/aggTrades",
        [Fault::Body(page.clone()), Fault::Body(page)],
    );
    let out = cli(&fake, cache, &args);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does not page forward"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fake.requests_on("/api/v3/aggTrades").len(), 2);
    // Ids going backwards inside a page.
    fake.clear_requests();
    fake.push_faults(
        "/api/v3/aggTrades",
        [Fault::Body(hostile_page((5000..6000).rev()))],
    );
    let out = cli(&fake, cache, &args);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("ids must ascend"), "{}", stderr(&out));
    // Nothing of the failed day was cached.
    assert!(
        cache_files(tmp.path()).is_empty(),
        "{:?}",
        cache_files(tmp.path())
    );
}

#[test]
fn futures_raw_trades_refuse_rest_naming_the_archive() {
    let fake = FakeExchange::start();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().to_str().unwrap();
    let args = [
        "-m",
        "um",
        "-s",
        "BTCUSDT",
        "--kind",
        "trades",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-02",
        "--source",
        "rest",
    ];
    let out = cli(&fake, cache, &args);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("has no REST source") && err.contains("--source archive"),
        "{err}"
    );
    assert!(fake.requests().is_empty());
}
