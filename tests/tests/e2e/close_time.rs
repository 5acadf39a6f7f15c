//! A candle's close time must be the last millisecond of its interval: one that is not, from
//! REST or from the archive, is refused, never output or cached. Through the real Binance
//! plugin. (The archive side, with the other bad values: `unusable_archive_files.rs`.)

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use common::*;
use dsm_core::SourceMode;
use dsm_tests::fake::{expected_klines, FakeExchange, Market};

const H: i64 = 3_600_000;

/// A Binance spot REST endpoint on 127.0.0.1 serving the fake's candles for /api/v3/klines
/// in Binance's row format, with the close time of the candle opening at `bad_open` set to
/// `bad_close`. Returns its base URL; it serves until the test process ends.
fn rest_with_close_time(bad_open: i64, bad_close: i64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut head = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                head.push_str(&line);
                line.clear();
            }
            let body = page(&head, bad_open, bad_close);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// The klines page a request head asks for: open times in [startTime, endTime].
fn page(head: &str, bad_open: i64, bad_close: i64) -> String {
    let target = head.split_whitespace().nth(1).unwrap_or_default();
    let param = |name: &str| -> i64 {
        target
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let (start, end) = (param("startTime"), param("endTime"));
    let rows: Vec<String> = expected_klines(Market::Spot, "BTCUSDT", "1h", start, end + 1)
        .iter()
        .map(|k| {
            let close = if k.open_time == bad_open {
                bad_close
            } else {
                k.close_time
            };
            format!(
                "[{},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",{close},\"{}\",{},\"{}\",\"{}\",\"0\"]",
                k.open_time,
                k.open,
                k.high,
                k.low,
                k.close,
                k.volume,
                k.quote_volume,
                k.trades,
                k.taker_buy_base_volume,
                k.taker_buy_quote_volume
            )
        })
        .collect();
    format!("[{}]", rows.join(","))
}

#[test]
fn a_rest_candle_closing_far_in_the_future_is_refused_naming_the_page() {
    let (s, e) = (ms("2024-05-10"), ms("2024-05-11"));
    let url = rest_with_close_time(s + 2 * H, 9_000_000_000_000_000);
    let cache = tempfile::tempdir().unwrap();
    let err = binance_rest_only(&url, cache.path())
        .fetch_market_data("BTCUSDT", "1h", s, e)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("REST batch for 2024-05-10")
            && err.contains(
                "candle at 2024-05-10T02:00:00Z has close time 9000000000000000 ms \
                 where a 1h candle closes at 2024-05-10T02:59:59.999Z"
            ),
        "{err}"
    );
    assert!(cache_files(cache.path()).is_empty(), "nothing cached");

    // The same server with every close time right is served whole: the check refuses only
    // what is wrong.
    let url = rest_with_close_time(s + 2 * H, s + 3 * H - 1);
    let got = binance_rest_only(&url, cache.path())
        .fetch_market_data("BTCUSDT", "1h", s, e)
        .unwrap();
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1h", s, e));
}

fn binance_rest_only(url: &str, cache: &std::path::Path) -> dsm_core::Dsm {
    dsm_core::Dsm::create_with_config(
        dsm_core::DsmConfig::new("binance", "spot")
            .plugin_dir(target_dir())
            .endpoint("spot", url)
            .endpoint("um", url)
            .endpoint("cm", url)
            .endpoint("vision", url)
            .cache_dir(cache)
            .source(SourceMode::Rest),
    )
    .unwrap()
}

#[test]
fn an_archive_candle_closing_a_minute_late_is_a_gap_then_rest_serves_it() {
    let fake = FakeExchange::start();
    let cache = tempfile::tempdir().unwrap();
    let (s, e) = (ms("2024-05-10"), ms("2024-05-11"));
    // Row 3 (03:00) closes at 04:00:59.999 instead of 03:59:59.999.
    fake.set_vision_cell(
        "BTCUSDT-1h-2024-05-10.zip",
        3,
        6,
        &(s + 4 * H + 59_999).to_string(),
    );
    let got = binance_on_fake(&fake, "spot", cache.path(), SourceMode::Archive, 2_000)
        .fetch_market_data("BTCUSDT", "1h", s, e)
        .unwrap();
    assert!(got.rows.is_empty());
    assert_eq!(got.summary.gaps.len(), 1, "{:?}", got.summary.gaps);
    assert!(
        got.summary.gaps[0]
            .reason
            .contains("where a 1h candle closes at 2024-05-10T03:59:59.999Z"),
        "{}",
        got.summary.gaps[0].reason
    );
    assert!(cache_files(cache.path()).is_empty());
    let got = binance_on_fake(&fake, "spot", cache.path(), SourceMode::Auto, 2_000)
        .fetch_market_data("BTCUSDT", "1h", s, e)
        .unwrap();
    assert!(got.rows == expected_klines(Market::Spot, "BTCUSDT", "1h", s, e));
    assert_eq!(assert_cache_valid(cache.path()), 1);
}
