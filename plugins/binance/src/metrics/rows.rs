//! Vision metrics files to [`Metric`]s:
//!
//! ```text
//! create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,
//!     sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio
//! 2025-07-01 00:05:00,ETHUSDT,1893129.089,4706583953.32646,1.91519612,3.27485900,1.46745437,1.08735800
//! ```
//!
//! `create_time` is a UTC `YYYY-MM-DD HH:MM:SS` string (epoch numbers are taken too); an
//! empty cell is NaN. Rows are sorted by time; a repeated time keeps its first row.

use std::io::BufRead;

use dsm_plugin_kit::calendar::Date;
use dsm_plugin_kit::csv::{for_each_line, leading_fields};
use dsm_plugin_kit::parse::{context, decimal, epoch_to_ms};
use dsm_sdk::time::{HOUR_MS, MINUTE_MS};
use dsm_sdk::{ErrorKind, Metric, ProviderError};

fn bad(what: &str, text: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::PARSE,
        format!("{what}: {text:?} is not a UTC time YYYY-MM-DD HH:MM:SS"),
    )
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) or an epoch number, as ms.
pub fn create_time(text: &str) -> Result<i64, ProviderError> {
    let what = "column 0 (create_time)";
    let text = text.trim();
    if let Ok(t) = text.parse::<i64>() {
        return Ok(epoch_to_ms(t));
    }
    let num = |s: &str| s.parse::<u32>().map_err(|_| bad(what, text));
    let (date, time) = text.split_once(' ').ok_or_else(|| bad(what, text))?;
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.split(':').collect();
    let ([y, mo, da], [h, mi, s]) = (d.as_slice(), t.as_slice()) else {
        return Err(bad(what, text));
    };
    let (month, day) = (num(mo)?, num(da)?);
    let (h, mi, s) = (num(h)?, num(mi)?, num(s)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 59 {
        return Err(bad(what, text));
    }
    let year = y.parse::<i64>().map_err(|_| bad(what, text))?;
    let start = Date { year, month, day }.start_ms();
    Ok(start + i64::from(h) * HOUR_MS + i64::from(mi) * MINUTE_MS + i64::from(s) * 1000)
}

/// A decimal cell, NaN when empty.
fn value(text: &str, what: &str) -> Result<f64, ProviderError> {
    match text.trim() {
        "" => Ok(f64::NAN),
        t => decimal(t, what),
    }
}

pub fn parse_row(line: &str) -> Result<Metric, ProviderError> {
    let [time, _symbol, oi, oiv, top_acc, top_pos, acc, taker] = leading_fields::<8>(line)?;
    Ok(Metric {
        time: create_time(time)?,
        open_interest: value(oi, "column 2 (sum_open_interest)")?,
        open_interest_value: value(oiv, "column 3 (sum_open_interest_value)")?,
        top_trader_account_ratio: value(top_acc, "column 4 (count_toptrader_long_short_ratio)")?,
        top_trader_position_ratio: value(top_pos, "column 5 (sum_toptrader_long_short_ratio)")?,
        account_ratio: value(acc, "column 6 (count_long_short_ratio)")?,
        taker_buy_sell_ratio: value(taker, "column 7 (sum_taker_long_short_vol_ratio)")?,
    })
}

/// A file's rows, sorted by time, and how many repeated times were dropped.
pub fn parse_file(
    reader: &mut dyn BufRead,
    file: &str,
) -> Result<(Vec<Metric>, usize), ProviderError> {
    let mut rows = Vec::with_capacity(289);
    let mut first = true;
    for_each_line(reader, file, |n, line| {
        // Not `csv::is_header`: a time string is not a number either.
        if std::mem::take(&mut first) && line.starts_with("create_time") {
            return Ok(());
        }
        rows.push(parse_row(line).map_err(|e| context(e, &format!("{file} line {n}")))?);
        Ok(())
    })?;
    // Stable: of rows sharing a time, the file's first stays first.
    rows.sort_by_key(|m| m.time);
    let before = rows.len();
    rows.dedup_by_key(|m| m.time);
    let dropped = before - rows.len();
    Ok((rows, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn documented_row_empty_cells_and_repeats() {
        let text = "create_time,symbol,sum_open_interest,sum_open_interest_value,count_toptrader_long_short_ratio,sum_toptrader_long_short_ratio,count_long_short_ratio,sum_taker_long_short_vol_ratio\n\
            2025-07-01 00:05:00,ETHUSDT,1893129.089,4706583953.32646,1.91519612,3.27485900,1.46745437,1.08735800\n\
            2025-07-01 00:00:00,ETHUSDT,1.5,2.5,,,,\n\
            2025-07-01 00:05:00,ETHUSDT,9,9,9,9,9,9\n";
        let (rows, dropped) = parse_file(&mut Cursor::new(text), "M.csv").unwrap();
        assert_eq!(dropped, 1);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].time, 1_751_328_000_000);
        assert!(rows[0].top_trader_account_ratio.is_nan() && rows[0].taker_buy_sell_ratio.is_nan());
        assert_eq!(rows[0].open_interest, 1.5);
        let r = rows[1];
        assert_eq!(r.time, 1_751_328_300_000);
        assert_eq!(
            (r.open_interest, r.open_interest_value),
            (1893129.089, 4706583953.32646)
        );
        assert_eq!(
            (r.top_trader_account_ratio, r.top_trader_position_ratio),
            (1.91519612, 3.274859)
        );
        assert_eq!(
            (r.account_ratio, r.taker_buy_sell_ratio),
            (1.46745437, 1.087358)
        );
        for bad in [
            "2025-13-01 00:00:00",
            "2025-07-01T00:00:00",
            "2025-07-01 24:00:00",
            "x",
        ] {
            let e = create_time(bad).unwrap_err();
            assert!(e.message.contains("create_time"), "{e}");
        }
        let e = parse_file(&mut Cursor::new("2025-07-01 00:00:00,E,1,2,3"), "M.csv").unwrap_err();
        assert!(e.message.starts_with("M.csv line 1:"), "{e}");
    }
}
