//! Funding rate rows: REST JSON pages and Vision CSV files to [`FundingRate`]s.
//!
//! REST: `[{"symbol":"BTCUSDT","fundingTime":1570608000000,"fundingRate":"-0.03750000",
//! "markPrice":"34287.54619963"}]`, fields read by name (their order differs between docs
//! and live); `markPrice` is `""` in early records and absent on COIN-M: NaN either way.
//! Vision: `calc_time,funding_interval_hours,last_funding_rate` (header detected by content).

use std::io::BufRead;

use dsm_plugin_kit::csv::{for_each_line, is_header, leading_fields};
use dsm_plugin_kit::parse::{context, decimal, epoch_to_ms, integer};
use dsm_sdk::time::HOUR_MS;
use dsm_sdk::{ErrorKind, FundingRate, ProviderError};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRate {
    funding_time: i64,
    funding_rate: String,
    #[serde(default)]
    mark_price: Option<String>,
}

/// A REST page as funding rates, in the order received. `place` names the request.
pub fn parse_page(body: &[u8], place: &str) -> Result<Vec<FundingRate>, ProviderError> {
    let raw: Vec<RawRate> = serde_json::from_slice(body).map_err(|e| {
        ProviderError::new(
            ErrorKind::PARSE,
            format!("{place}: not a JSON array of funding rates: {e}"),
        )
    })?;
    raw.iter()
        .enumerate()
        .map(|(i, r)| {
            let at = |what: &str| format!("{place}: row {i}: {what}");
            let rate = decimal(&r.funding_rate, &at("fundingRate"))?;
            let mark_price = match r.mark_price.as_deref().map(str::trim) {
                None | Some("") => f64::NAN,
                Some(m) => decimal(m, &at("markPrice"))?,
            };
            Ok(FundingRate {
                funding_time: r.funding_time,
                rate,
                mark_price,
                interval_ms: 0,
            })
        })
        .collect()
}

/// One Vision CSV row.
fn parse_row(line: &str) -> Result<FundingRate, ProviderError> {
    let [time, hours, rate] = leading_fields::<3>(line)?;
    let hours = integer(hours, "column 1 (funding_interval_hours)")?;
    if !(1..=24 * 7).contains(&hours) {
        return Err(ProviderError::new(
            ErrorKind::PARSE,
            format!("column 1 (funding_interval_hours): {hours} is not an interval in hours"),
        ));
    }
    Ok(FundingRate {
        funding_time: epoch_to_ms(integer(time, "column 0 (calc_time)")?),
        rate: decimal(rate, "column 2 (last_funding_rate)")?,
        mark_price: f64::NAN,
        interval_ms: hours * HOUR_MS,
    })
}

/// Every row of a Vision file, in file order; `file` names it in errors.
pub fn parse_file(reader: &mut dyn BufRead, file: &str) -> Result<Vec<FundingRate>, ProviderError> {
    let mut out = Vec::with_capacity(800);
    let mut first = true;
    for_each_line(reader, file, |n, line| {
        if std::mem::take(&mut first) && is_header(line) {
            return Ok(());
        }
        out.push(parse_row(line).map_err(|e| context(e, &format!("{file} line {n}")))?);
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn rest_rows_by_name_with_empty_and_absent_mark_price() {
        // The documented USD-M row, a live one (other key order, rateType), an early one.
        let body = br#"[{"symbol":"BTCUSDT","fundingRate":"-0.03750000","fundingTime":1570608000000,"markPrice":"34287.54619963"},
            {"symbol":"BTCUSDT","fundingTime":1788422400000,"fundingRate":"0.00005866","markPrice":"77622.37865217","rateType":"Regular"},
            {"symbol":"BTCUSDT","fundingTime":1568361600000,"fundingRate":"0.00010000","markPrice":""}]"#;
        let r = parse_page(body, "GET u").unwrap();
        assert_eq!(r[0].funding_time, 1_570_608_000_000);
        assert_eq!((r[0].rate, r[0].mark_price), (-0.0375, 34287.54619963));
        assert_eq!((r[1].rate, r[1].mark_price), (0.00005866, 77622.37865217));
        assert!(r[2].mark_price.is_nan());
        assert!(r.iter().all(|r| r.interval_ms == 0));
        // COIN-M: no markPrice at all.
        let cm = br#"[{"symbol":"BTCUSD_PERP","fundingTime":1596038400000,"fundingRate":"-0.00300000"}]"#;
        let r = parse_page(cm, "GET u").unwrap();
        assert_eq!(r[0].rate, -0.003);
        assert!(r[0].mark_price.is_nan());
    }

    #[test]
    fn rest_errors_say_what() {
        let e = parse_page(br#"{"code":-1121,"msg":"Invalid symbol."}"#, "GET u").unwrap_err();
        assert_eq!(e.kind, ErrorKind::PARSE);
        assert!(e.message.starts_with("GET u: not a JSON array"), "{e}");
        let e = parse_page(br#"[{"fundingTime":1,"fundingRate":"x"}]"#, "GET u").unwrap_err();
        assert!(e.message.contains("row 0: fundingRate"), "{e}");
        assert!(parse_page(b"[]", "GET u").unwrap().is_empty());
    }

    #[test]
    fn vision_rows_carry_their_interval() {
        let text = "calc_time,funding_interval_hours,last_funding_rate\n\
                    1577836800000,8,-0.00012359\n1751328000007,4,0.00010000\r\n1780272000001,1,0.0001";
        let r = parse_file(&mut Cursor::new(text), "F.csv").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(
            (r[0].funding_time, r[0].rate),
            (1_577_836_800_000, -0.00012359)
        );
        assert_eq!(r[0].interval_ms, 8 * HOUR_MS);
        assert_eq!(
            (r[1].funding_time, r[1].interval_ms),
            (1_751_328_000_007, 4 * HOUR_MS)
        );
        assert_eq!(r[2].interval_ms, HOUR_MS);
        assert!(r.iter().all(|r| r.mark_price.is_nan()));
        let e = parse_file(&mut Cursor::new("1577836800000,0,0.1"), "F.csv").unwrap_err();
        assert!(e.message.starts_with("F.csv line 1: column 1"), "{e}");
        let e = parse_file(&mut Cursor::new("1577836800000,8"), "F.csv").unwrap_err();
        assert!(e.message.starts_with("F.csv line 1:"), "{e}");
    }
}

/// The funding parsers fuzzed: no panic whatever the input; rates parsed are finite.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn check(rows: &[FundingRate]) {
        assert!(rows
            .iter()
            .all(|r| r.rate.is_finite() && !r.mark_price.is_infinite()));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn fuzz_funding_page_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(r) = parse_page(&body, "GET u") {
                check(&r);
            }
        }

        #[test]
        fn fuzz_funding_page_objects(
            rows in prop::collection::vec(
                (any::<i64>(), "[-0-9.eEinfNa ]{0,12}", prop::option::of("[-0-9.eEinfNa ]{0,12}")),
                0..6,
            ),
        ) {
            let objects: Vec<serde_json::Value> = rows
                .into_iter()
                .map(|(t, rate, mark)| {
                    let mut o = serde_json::json!({"symbol": "S", "fundingTime": t, "fundingRate": rate});
                    if let Some(m) = mark {
                        o["markPrice"] = m.into();
                    }
                    o
                })
                .collect();
            let body = serde_json::to_vec(&objects).unwrap();
            if let Ok(r) = parse_page(&body, "GET u") {
                check(&r);
            }
        }

        #[test]
        fn fuzz_funding_csv(lines in prop::collection::vec("[-0-9.,a-z_ ]{0,40}", 0..8)) {
            let text = lines.join("\n");
            if let Ok(r) = parse_file(&mut std::io::Cursor::new(text), "F.csv") {
                check(&r);
            }
        }
    }
}
