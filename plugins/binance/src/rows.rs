//! Binance kline rows to [`Kline`]s.
//!
//! A row is a JSON array of 12 cells; indexes 0, 6, 8 are numbers, the others decimal
//! strings. Columns keep their POSITION in `Kline`, so on COIN-M some fields mean
//! something else (as in the Vision archives):
//!
//! | # | Kline field            | spot / USD-M            | COIN-M                        |
//! |---|------------------------|-------------------------|-------------------------------|
//! | 5 | volume                 | base asset volume       | volume in contracts           |
//! | 7 | quote_volume           | quote asset volume      | BASE asset volume             |
//! | 9 | taker_buy_base_volume  | taker buy base volume   | taker buy volume (contracts)  |
//! |10 | taker_buy_quote_volume | taker buy quote volume  | taker buy base asset volume   |
//! |11 | (ignored)              |                         |                               |
//!
//! Mark, index and premium index klines (`ohlc_only`) share the shape, but only OHLC carry
//! data: the volume cells are placeholders (`"0 "` in the docs) and are not parsed; they
//! become 0. Column 8 is the number of basic data points and stays `trades`.

use dsm_plugin_kit::parse::{context, decimal_at, int_at, rows, uint_at};
use dsm_sdk::{Kline, ProviderError};
use serde_json::Value;

/// One row as a candle; `ohlc_only`: the volume cells are not read (set to 0).
pub fn parse_row(row: &[Value], ohlc_only: bool) -> Result<Kline, ProviderError> {
    if ohlc_only {
        return Ok(Kline {
            open_time: int_at(row, 0, "open time")?,
            open: decimal_at(row, 1, "open")?,
            high: decimal_at(row, 2, "high")?,
            low: decimal_at(row, 3, "low")?,
            close: decimal_at(row, 4, "close")?,
            close_time: int_at(row, 6, "close time")?,
            trades: uint_at(row, 8, "number of basic data")?,
            ..Kline::default()
        });
    }
    Ok(Kline {
        open_time: int_at(row, 0, "open time")?,
        open: decimal_at(row, 1, "open")?,
        high: decimal_at(row, 2, "high")?,
        low: decimal_at(row, 3, "low")?,
        close: decimal_at(row, 4, "close")?,
        volume: decimal_at(row, 5, "volume")?,
        close_time: int_at(row, 6, "close time")?,
        quote_volume: decimal_at(row, 7, "quote volume")?,
        trades: uint_at(row, 8, "number of trades")?,
        taker_buy_base_volume: decimal_at(row, 9, "taker buy base volume")?,
        taker_buy_quote_volume: decimal_at(row, 10, "taker buy quote volume")?,
    })
}

/// A row as Binance sends it, borrowing its decimal strings from the body: the fast path
/// decodes a page without building a JSON value per cell.
#[derive(serde::Deserialize)]
struct RawRow<'a>(
    i64,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    i64,
    &'a str,
    u64,
    &'a str,
    &'a str,
    serde::de::IgnoredAny,
);

impl RawRow<'_> {
    fn kline(&self, ohlc_only: bool) -> Option<Kline> {
        let d = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
        if ohlc_only {
            return Some(Kline {
                open_time: self.0,
                open: d(self.1)?,
                high: d(self.2)?,
                low: d(self.3)?,
                close: d(self.4)?,
                close_time: self.6,
                trades: self.8,
                ..Kline::default()
            });
        }
        Some(Kline {
            open_time: self.0,
            open: d(self.1)?,
            high: d(self.2)?,
            low: d(self.3)?,
            close: d(self.4)?,
            volume: d(self.5)?,
            close_time: self.6,
            quote_volume: d(self.7)?,
            trades: self.8,
            taker_buy_base_volume: d(self.9)?,
            taker_buy_quote_volume: d(self.10)?,
        })
    }
}

/// A page body as candles. `place` names the request in errors. Returns all rows in the
/// order received; the caller drops those outside its window. `ohlc_only`: see the module.
pub fn parse_page(body: &[u8], place: &str, ohlc_only: bool) -> Result<Vec<Kline>, ProviderError> {
    // Fast path for well-formed pages; anything unusual goes the checked way, which also
    // words the error.
    if let Ok(raw) = serde_json::from_slice::<Vec<RawRow>>(body) {
        if let Some(klines) = raw
            .iter()
            .map(|r| r.kline(ohlc_only))
            .collect::<Option<Vec<_>>>()
        {
            return Ok(klines);
        }
    }
    let rows = rows(body, place)?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            parse_row(row, ohlc_only).map_err(|e| context(e, &format!("{place}: row {i}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsm_sdk::ErrorKind;

    /// The official example from binance-spot-api-docs rest-api.md.
    const SPOT_EXAMPLE: &str = r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",
      1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#;

    #[test]
    fn parses_the_documented_spot_row() {
        let k = parse_page(SPOT_EXAMPLE.as_bytes(), "GET u", false).unwrap();
        assert_eq!(
            k,
            [Kline {
                open_time: 1499040000000,
                open: 0.0163479,
                high: 0.8,
                low: 0.015758,
                close: 0.015771,
                volume: 148976.11427815,
                close_time: 1499644799999,
                quote_volume: 2434.19055334,
                trades: 308,
                taker_buy_base_volume: 1756.87402397,
                taker_buy_quote_volume: 28.46694368,
            }]
        );
    }

    #[test]
    fn coin_m_columns_keep_their_position() {
        // BTCUSD_PERP 1h: volume in contracts, column 7 is BASE asset volume.
        let body = br#"[[1698364800000,"34150.0","34200.1","34100.0","34180.5","125430",
            1698368399999,"367.12345678",4521,"60210","176.2345"]]"#;
        let k = parse_page(body, "GET u", false).unwrap()[0];
        assert_eq!(k.volume, 125430.0);
        assert_eq!(k.quote_volume, 367.12345678);
        assert_eq!(k.taker_buy_base_volume, 60210.0);
        assert_eq!(k.taker_buy_quote_volume, 176.2345);
    }

    #[test]
    fn fast_and_checked_paths_agree() {
        let fast = parse_page(SPOT_EXAMPLE.as_bytes(), "GET u", false).unwrap();
        let value: Value = serde_json::from_str(SPOT_EXAMPLE).unwrap();
        let checked = parse_row(value[0].as_array().unwrap(), false).unwrap();
        assert_eq!(fast, [checked]);
        // A row without the 12th cell is not for the fast path but still parses.
        let eleven = br#"[[1,"1","2","0.5","1","1",2,"1",3,"1","1"]]"#;
        assert_eq!(parse_page(eleven, "GET u", false).unwrap()[0].high, 2.0);
    }

    /// The mark price row of the Binance docs, with its `"0 "` volume cell.
    const MARK_DOC_ROW: &str = r#"[[1591256460000,"9653.29201333","9654.56401333","9653.07367333",
        "9653.07367333","0 ",1591256519999,"0",60,"0","0","0"]]"#;

    #[test]
    fn mark_rows_read_ohlc_and_count_only() {
        let k = parse_page(MARK_DOC_ROW.as_bytes(), "GET u", true).unwrap();
        assert_eq!(
            k,
            [Kline {
                open_time: 1_591_256_460_000,
                open: 9653.29201333,
                high: 9654.56401333,
                low: 9653.07367333,
                close: 9653.07367333,
                close_time: 1_591_256_519_999,
                trades: 60,
                ..Kline::default()
            }]
        );
        let value: Value = serde_json::from_str(MARK_DOC_ROW).unwrap();
        let checked = parse_row(value[0].as_array().unwrap(), true).unwrap();
        assert_eq!(k, [checked]);
        // Premium index: signed fractions; placeholders of any spelling are not read.
        let premium = br#"[[1,"-0.00042931","0.00010000","-0.00050000","-0.00040000","",60000,null,12,"0","0","0"]]"#;
        let k = parse_page(premium, "GET u", true).unwrap();
        assert_eq!(
            (k[0].open, k[0].low, k[0].trades),
            (-0.00042931, -0.0005, 12)
        );
    }

    /// Real recorded bytes (shared/real-wire), read where they are; skipped elsewhere.
    fn real_wire(name: &str) -> Option<Vec<u8>> {
        let dir = std::env::var("DSM_REAL_WIRE").unwrap_or("/work/shared/real-wire".into());
        let bytes = std::fs::read(format!("{dir}/samples/{name}")).ok();
        if bytes.is_none() {
            eprintln!("skipped: {dir}/samples/{name} is not there");
        }
        bytes
    }

    #[test]
    fn real_futures_page_in_the_ohlc_only_shape() {
        // No real mark/index/premium page is public (wire-formats-datasets.md 7); their rows
        // are the kline row's shape, so the real USD-M kline page must give its OHLC,
        // times and count, and nothing of its volumes.
        let Some(body) = real_wire("binance_um_BTCUSDT_1h_hummingbot.json") else {
            return;
        };
        let full = parse_page(&body, "GET u", false).unwrap();
        let ohlc = parse_page(&body, "GET u", true).unwrap();
        assert_eq!(full.len(), 4);
        assert_eq!(ohlc[0].open, 66661.4);
        for (f, o) in full.iter().zip(&ohlc) {
            assert_eq!(
                (f.open_time, f.close_time, f.trades),
                (o.open_time, o.close_time, o.trades)
            );
            assert_eq!(
                [f.open, f.high, f.low, f.close],
                [o.open, o.high, o.low, o.close]
            );
            assert!(f.volume > 0.0);
            assert_eq!(
                [o.volume, o.quote_volume, o.taker_buy_base_volume],
                [0.0; 3]
            );
        }
    }

    #[test]
    fn empty_page_is_no_candles() {
        assert!(parse_page(b"[]", "GET u", false).unwrap().is_empty());
    }

    #[test]
    fn bad_cells_name_row_and_column() {
        let body = br#"[[1,"1","1","1","1","1",2,"1",3,"1","1","0"],[1,"1","x","1","1","1",2,"1",3,"1","1","0"]]"#;
        let e = parse_page(body, "GET u", false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::PARSE);
        assert_eq!(
            &*e.message,
            "GET u: row 1: column 2 (high): \"x\" is not a decimal number"
        );
        let e = parse_page(br#"[[1,"1"]]"#, "GET u", false).unwrap_err();
        assert!(e.message.contains("column 2 (high) is missing"), "{e}");
        let e =
            parse_page(br#"{"code":-1121,"msg":"Invalid symbol."}"#, "GET u", false).unwrap_err();
        assert!(e.message.contains("not a JSON array"), "{e}");
    }
}

/// The Binance parsers fuzzed on the stable toolchain: REST pages (bytes, JSON shapes,
/// damaged real pages) and Vision CSV files. No panic, whatever the input; parsed candles
/// hold finite numbers. `PROPTEST_CASES` sets the count (256 by default); a long run:
/// `PROPTEST_CASES=1000000 cargo test --release -p dsm-binance fuzz_`.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::vision::csv::parse_file;
    use dsm_plugin_kit::fuzz::{json_cell as cell, numberish};
    use proptest::prelude::*;

    /// The documented spot row.
    fn good_row() -> Vec<Value> {
        serde_json::from_str(
            r#"[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100",
            "148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397",
            "28.46694368","0"]"#,
        )
        .unwrap()
    }

    fn check(klines: &[Kline]) {
        for k in klines {
            let numbers = [k.open, k.high, k.low, k.close, k.volume, k.quote_volume];
            assert!(numbers.iter().all(|v| v.is_finite()), "{k:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn fuzz_rest_page_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(k) = parse_page(&body, "GET u", false) {
                check(&k);
            }
        }

        #[test]
        fn fuzz_rest_page_rows(rows in prop::collection::vec(
            prop::collection::vec(cell(), 0..14), 0..6)) {
            let body = serde_json::to_vec(&rows).unwrap();
            if let Ok(k) = parse_page(&body, "GET u", false) {
                check(&k);
            }
        }

        /// Real rows with cells replaced, dropped or added, and the text cut anywhere.
        #[test]
        fn fuzz_rest_page_damaged(
            n in 1usize..5,
            edits in prop::collection::vec((0usize..14, cell(), 0u8..3), 0..6),
            cut in prop::option::of(any::<prop::sample::Index>()),
        ) {
            let mut rows: Vec<Vec<Value>> = (0..n).map(|_| good_row()).collect();
            for (i, (at, v, how)) in edits.into_iter().enumerate() {
                let row = &mut rows[i % n];
                match how {
                    0 if at < row.len() => row[at] = v,
                    1 if at < row.len() => { row.remove(at); }
                    _ => row.push(v),
                }
            }
            let mut body = serde_json::to_vec(&rows).unwrap();
            if let Some(cut) = cut {
                body.truncate(cut.index(body.len() + 1));
            }
            if let Ok(k) = parse_page(&body, "GET u", false) {
                check(&k);
            }
        }

        #[test]
        fn fuzz_vision_csv_bytes(body in prop::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok(k) = parse_file(&mut std::io::Cursor::new(body), "F.csv", 0, false) {
                check(&k);
            }
        }

        #[test]
        fn fuzz_vision_csv_lines(
            header in any::<bool>(),
            lines in prop::collection::vec(prop::collection::vec(numberish(), 0..14), 0..12),
            crlf in any::<bool>(),
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = String::new();
            if header {
                text += "open_time,open,high,low,close,volume,close_time,quote_volume,count,\
                         taker_buy_volume,taker_buy_quote_volume,ignore";
                text += end;
            }
            for l in lines {
                text += &l.join(",");
                text += end;
            }
            if let Ok(k) = parse_file(&mut std::io::Cursor::new(text), "F.csv", 0, false) {
                check(&k);
            }
        }
    }
}
