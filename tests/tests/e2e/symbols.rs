//! `dsm symbols` end to end: the real `dsm` binary and Binance plugin against the fake
//! exchange's exchangeInfo and Vision bucket listing (paged like S3), with symbols present
//! only in the archive (delisted), REST geo-blocked (HTTP 451), listings kept on disk until
//! they expire, and hostile listings.

use crate::common;

use std::path::Path;

use common::*;
use dsm_core::interval::{civil_from_days, DAY};
use dsm_tests::fake::{recent_archive_only, FakeExchange, HostileListing, Market, ARCHIVE_ONLY};

const LISTING_PATH: &str = "/data.binance.vision";

fn day(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `dsm symbols ARGS --format csv` on the fake with its cache in `cache`: the CSV rows by
/// symbol (the header checked), and the whole output.
fn symbols_csv(
    fx: &FakeExchange,
    cache: &Path,
    args: &[&str],
) -> (Vec<Vec<String>>, std::process::Output) {
    let mut all = vec!["symbols", "-p", "binance", "--format", "csv"];
    all.extend_from_slice(args);
    let out = run_dsm_on(
        &fx.url(),
        &all,
        &[("DSM_CACHE_DIR", cache.to_str().unwrap())],
    );
    let text = stdout(&out);
    let mut lines = text.lines();
    if out.status.success() {
        assert_eq!(
            lines.next(),
            Some(
                "symbol,status,base,quote,contract_type,listed,delivery,on_exchange,in_archive,\
                 first_day,last_day"
            ),
            "{text}"
        );
    }
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (rows, out)
}

fn row<'a>(rows: &'a [Vec<String>], symbol: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == symbol)
        .unwrap_or_else(|| panic!("{symbol} not listed: {rows:?}"))
}

#[test]
fn delisted_symbols_are_listed_with_their_first_and_last_days() {
    let fx = FakeExchange::start();
    fx.set_listing_page_size(20); // the days listings page
    let cache = tempfile::tempdir().unwrap();
    let yesterday = day(dsm_sdk_now() - DAY);
    for (market, live) in [
        ("spot", "BTCUSDT"),
        ("um", "BTCUSDT"),
        ("cm", "BTCUSD_PERP"),
    ] {
        let (rows, out) = symbols_csv(&fx, cache.path(), &["-m", market, "-i", "1d", "--all"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let live = row(&rows, live);
        assert_eq!(&live[7..9], ["true", "true"], "{live:?}");
        assert_eq!(live[10], yesterday, "{live:?}");
        let m = match market {
            "spot" => Market::Spot,
            "um" => Market::Um,
            _ => Market::Cm,
        };
        let recent = recent_archive_only(dsm_sdk_now());
        for gone in ARCHIVE_ONLY
            .iter()
            .chain([&recent])
            .filter(|a| a.market == m)
        {
            let r = row(&rows, gone.symbol);
            assert_eq!(r[7], gone.break_listed.to_string(), "{r:?}");
            assert_eq!(r[8], "true");
            assert_eq!(
                (r[9].as_str(), r[10].as_str()),
                (&*day(gone.first), &*day(gone.last))
            );
        }
    }
    // The days the fake's archive has, written out once: mid-month first and last days.
    let (rows, _) = symbols_csv(&fx, cache.path(), &["-m", "spot", "-i", "1d", "--all"]);
    assert_eq!(&row(&rows, "BCCUSDT")[9..], ["2017-11-13", "2018-11-20"]);
    assert_eq!(&row(&rows, "LUNAUSDT")[1..2], ["BREAK"]);
    assert_eq!(&row(&rows, "LUNAUSDT")[9..], ["2020-08-21", "2022-05-12"]);
    assert_eq!(row(&rows, "BTCUSDT")[9], "2017-01-01");

    // Weekly candles are published monthly only: dated by month.
    let (rows, out) = symbols_csv(&fx, cache.path(), &["-m", "spot", "-i", "1w", "--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(&row(&rows, "BCCUSDT")[9..], ["2017-11-01", "2018-11-30"]);

    // Without --all only the exchange's instruments, still with their days.
    let (rows, out) = symbols_csv(&fx, cache.path(), &["-m", "spot", "-i", "1d", "--refresh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(rows.iter().all(|r| r[0] != "BCCUSDT"), "{rows:?}");
    assert_eq!(row(&rows, "LUNAUSDT")[9], "2020-08-21");
}

fn dsm_sdk_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn the_bucket_listing_pages_by_marker_like_s3() {
    let fx = FakeExchange::start();
    fx.set_listing_page_size(2);
    let cache = tempfile::tempdir().unwrap();
    let (rows, out) = symbols_csv(&fx, cache.path(), &["-m", "spot", "--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        ["BCCUSDT", "BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "LUNAUSDT"]
    );
    // Six directories, two a page: three pages, each after the previous page's NextMarker.
    let pages = fx.requests_on(LISTING_PATH);
    let markers: Vec<String> = pages
        .iter()
        .map(|r| {
            r.query
                .split('&')
                .find_map(|p| p.strip_prefix("marker="))
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        markers,
        [
            "",
            "data/spot/daily/klines/BNBUSDT/",
            "data/spot/daily/klines/DOGEUSDT/"
        ]
    );
    assert!(pages
        .iter()
        .all(|r| r.query.contains("prefix=data/spot/daily/klines/") && r.status == 200));
    // No days were asked for: one request per page and one for exchangeInfo.
    assert_eq!(fx.requests().len(), 4);
}

#[test]
fn rest_geo_blocked_still_lists_the_archive_with_a_warning() {
    let fx = FakeExchange::start();
    fx.geo_block_rest(true);
    let cache = tempfile::tempdir().unwrap();
    let (rows, out) = symbols_csv(&fx, cache.path(), &["-m", "um", "-i", "1d", "--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: Binance um instruments not listed") && err.contains("HTTP 451"),
        "{err}"
    );
    let srm = row(&rows, "SRMUSDT");
    assert_eq!(&srm[7..], ["false", "true", "2020-09-10", "2022-11-14"]);
    assert_eq!(row(&rows, "BTCUSDT")[1], "", "no status without REST");
    assert!(fx.requests_on("/fapi/v1/exchangeInfo")[0].status == 451);

    // Instruments alone: the 451 is the error, with exit 1.
    let (_, out) = symbols_csv(&fx, cache.path(), &["-m", "um"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("HTTP 451"), "{}", stderr(&out));

    // Unblocked: the failed part was not kept, so the instruments are listed now.
    fx.geo_block_rest(false);
    let (rows, out) = symbols_csv(&fx, cache.path(), &["-m", "um", "-i", "1d", "--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(row(&rows, "BTCUSDT")[1], "TRADING");
    assert_eq!(row(&rows, "BTCUSDT")[4], "PERPETUAL");
    assert_eq!(
        row(&rows, "BTCUSDT")[6],
        "",
        "the 2100 sentinel is no delivery date"
    );

    // Blocked again once the instruments expired while the archive listing is still kept:
    // only REST is asked, and its 451 is again a warning beside the kept archive.
    fx.geo_block_rest(true);
    age_listing_of(cache.path(), "um", "instruments.json", 2 * 3_600_000);
    let (rows, out) = symbols_csv(&fx, cache.path(), &["-m", "um", "-i", "1d", "--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("HTTP 451"), "{}", stderr(&out));
    assert_eq!(&row(&rows, "SRMUSDT")[9..], ["2020-09-10", "2022-11-14"]);
    assert_eq!(row(&rows, "BTCUSDT")[1], "");
}

/// Sets `fetched_at_ms` of a kept listing to `age_ms` ago.
fn age_listing(cache: &Path, name: &str, age_ms: i64) {
    age_listing_of(cache, "spot", name, age_ms)
}

fn age_listing_of(cache: &Path, market: &str, name: &str, age_ms: i64) {
    let path = cache.join("listings/binance").join(market).join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["fetched_at_ms"] = (dsm_sdk_now() - age_ms).into();
    std::fs::write(&path, v.to_string()).unwrap();
}

#[test]
fn listings_are_kept_until_they_expire_and_refresh_lists_again() {
    let fx = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["-m", "spot", "-i", "1d", "--all"];
        args.extend_from_slice(extra);
        let (rows, out) = symbols_csv(&fx, cache.path(), &args);
        assert!(out.status.success(), "{}", stderr(&out));
        rows
    };
    let first = run(&[]);
    let (rest, bucket) = (
        fx.requests_on("/api/v3/exchangeInfo").len(),
        fx.requests_on(LISTING_PATH).len(),
    );
    assert_eq!(rest, 1);
    assert!(
        bucket > 6,
        "the directories and each symbol's days: {bucket}"
    );
    // Kept: no request at all, the same rows.
    assert_eq!(run(&[]), first);
    assert_eq!(fx.requests().len(), rest + bucket);

    let hour = 3_600_000;
    age_listing(cache.path(), "instruments.json", hour - 60_000);
    age_listing(
        cache.path(),
        "archive-klines-1d-days.json",
        24 * hour - 60_000,
    );
    run(&[]);
    assert_eq!(fx.requests().len(), rest + bucket, "still fresh");

    // Instruments expire after an hour, the archive listing after a day.
    age_listing(cache.path(), "instruments.json", hour + 60_000);
    assert_eq!(run(&[]), first);
    assert_eq!(fx.requests_on("/api/v3/exchangeInfo").len(), 2);
    assert_eq!(fx.requests_on(LISTING_PATH).len(), bucket);
    age_listing(
        cache.path(),
        "archive-klines-1d-days.json",
        24 * hour + 60_000,
    );
    run(&[]);
    assert_eq!(fx.requests_on("/api/v3/exchangeInfo").len(), 2);
    assert_eq!(fx.requests_on(LISTING_PATH).len(), 2 * bucket);

    // --refresh lists both again; a damaged file is listed again, not trusted.
    run(&["--refresh"]);
    assert_eq!(fx.requests_on("/api/v3/exchangeInfo").len(), 3);
    std::fs::write(
        cache.path().join("listings/binance/spot/instruments.json"),
        b"{\"format\":1,\"fetched",
    )
    .unwrap();
    assert_eq!(run(&[]), first);
    assert_eq!(fx.requests_on("/api/v3/exchangeInfo").len(), 4);
    // The candle cache does not see the listings.
    let out = run_dsm(
        &["cache", "verify"],
        &[("DSM_CACHE_DIR", cache.path().to_str().unwrap())],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn hostile_listings_fail_clearly_and_boundedly() {
    let fx = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let cases = [
        (HostileListing::Endless, "did not end after 100 pages"),
        (HostileListing::Stuck, "does not move past"),
        (HostileListing::Huge, "-byte limit"),
    ];
    for (mode, says) in cases {
        fx.clear_requests();
        fx.set_hostile_listing(Some(mode));
        let (_, out) = symbols_csv(&fx, cache.path(), &["-m", "spot", "--all", "--refresh"]);
        assert_eq!(out.status.code(), Some(1), "{mode:?}: {}", stdout(&out));
        assert!(stderr(&out).contains(says), "{mode:?}: {}", stderr(&out));
        assert!(fx.requests_on(LISTING_PATH).len() <= 100, "{mode:?}");
    }
    // Nothing of a failed listing was kept.
    assert!(!cache
        .path()
        .join("listings/binance/spot/archive-klines.json")
        .exists());
}

#[test]
fn bad_input_is_a_usage_error_that_says_what_to_do() {
    let fx = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["-m", "spot", "--kind", "funding"],
            "market spot of binance has no funding",
        ),
        (
            &["-m", "spot", "--kind", "fundng"],
            "unknown data kind \"fundng\"",
        ),
        (
            &["-m", "spot", "-i", "7m"],
            "interval \"7m\" is not available",
        ),
        (
            &["-m", "um", "--kind", "funding", "-i", "1h"],
            "funding has no interval",
        ),
        (&["-m", "mars"], "has no market \"mars\""),
    ];
    for (args, says) in cases {
        let (_, out) = symbols_csv(&fx, cache.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    assert!(fx.requests().is_empty(), "bad input makes no request");
}

#[test]
fn a_plugin_that_does_not_list_says_so() {
    let dir = plugin_dir_with(&["testplug"]);
    let out = run_dsm(
        &[
            "--plugin-dir",
            dir.path().to_str().unwrap(),
            "symbols",
            "-p",
            "testplug",
            "-m",
            "spot",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("this provider cannot list symbols"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn okx_and_bybit_list_their_instruments_bybit_paged_by_cursor() {
    let fx = FakeExchange::start();
    fx.set_listing_page_size(1);
    let cache = tempfile::tempdir().unwrap();
    let run = |provider: &str, market: &str, extra: &[&str]| {
        let mut args = vec!["symbols", "-p", provider, "-m", market, "--format", "csv"];
        args.extend_from_slice(extra);
        run_dsm_on(
            &fx.url(),
            &args,
            &[("DSM_CACHE_DIR", cache.path().to_str().unwrap())],
        )
    };
    let out = run("okx", "swap", &["--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("BTC-USD-SWAP,live,BTC,USD,inverse swap,2018-08-28T02:43:23Z,,true,false,,"),
        "{text}"
    );
    assert!(
        text.contains("BTC-USDT-SWAP,live,BTC,USDT,linear swap,"),
        "{text}"
    );
    assert_eq!(
        fx.requests_on("/api/v5/public/instruments")[0].query,
        "instType=SWAP"
    );

    let out = run("bybit", "linear", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("BTCUSDT,Trading,BTC,USDT,LinearPerpetual,2020-03-30T00:00:00Z,,true"),
        "{text}"
    );
    assert!(text.contains("ETHUSDT,Trading"), "{text}");
    let pages = fx.requests_on("/v5/market/instruments-info");
    assert_eq!(pages.len(), 2, "one symbol a page");
    assert!(pages[1].query.contains("cursor=ix%3D1"), "{:?}", pages[1]);

    let out = run("bybit", "spot", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 3, "spot is not paged");

    // No archive: days cannot be asked for.
    let out = run("okx", "spot", &["-i", "1d"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("has no archive"), "{}", stderr(&out));
}
