//! Vision trade files to [`Trade`]s. Columns by market and kind:
//!
//! ```text
//! aggTrades spot: id,price,qty,first_id,last_id,time,is_buyer_maker,is_best_match (no header)
//! aggTrades um/cm: agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker
//! trades spot:    id,price,qty,quoteQty,time,isBuyerMaker,isBestMatch (no header)
//! trades um:      id,price,qty,quote_qty,time,is_buyer_maker
//! trades cm:      id,price,qty,base_qty,time,is_buyer_maker (qty in contracts)
//! ```
//!
//! Futures files have a header from 2022-08-11 (detected by content, never by date);
//! booleans are `True`/`False` on spot, `true`/`false` on futures; spot times are
//! microseconds from 2025-01-01 (told by magnitude, floored to ms). Spot aggTrades rows
//! invalidated by the 2022 audit (price 0, qty 0, first/last -1) are skipped and counted.

use std::io::BufRead;

use dsm_plugin_kit::csv::{for_each_line, is_header, leading_fields};
use dsm_plugin_kit::parse::{context, decimal, epoch_to_ms, integer};
use dsm_sdk::{ErrorKind, ProviderError, Trade};

use crate::markets::Market;

/// Rows per chunk handed on while a file is parsed (about 6 MB of rows).
pub const CHUNK: usize = 100_000;

/// What one file holds: aggregated trades or trades, of which market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub aggregated: bool,
    pub market: Market,
}

impl Layout {
    /// Only spot states "best price match"; elsewhere the flag is 2 (not given).
    fn best_match(self) -> bool {
        self.market == Market::Spot
    }

    /// COIN-M trades carry base_qty (coins) where the others carry quote_qty.
    fn has_quote_qty(self) -> bool {
        self.market != Market::Cm
    }
}

/// What a parse saw beside the rows it handed on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub rows: u64,
    /// Spot aggTrades rows marked invalid (price 0, qty 0, first/last -1), skipped.
    pub invalidated: u64,
    /// Rows outside the part of the day asked for, skipped.
    pub outside: u64,
}

fn flag(text: &str, what: &str) -> Result<u8, ProviderError> {
    match text.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(1),
        t if t.eq_ignore_ascii_case("false") => Ok(0),
        t => Err(ProviderError::new(
            ErrorKind::PARSE,
            format!("{what}: {t:?} is not true or false"),
        )),
    }
}

/// One row; `None` for an invalidated aggregated trade.
pub fn parse_row(line: &str, layout: Layout) -> Result<Option<Trade>, ProviderError> {
    let mut t = Trade {
        best_match: 2,
        first_id: -1,
        last_id: -1,
        quote_qty: f64::NAN,
        ..Trade::default()
    };
    let time_col;
    if layout.aggregated {
        let [id, price, qty, first, last, time, maker] = leading_fields::<7>(line)?;
        t.id = integer(id, "column 0 (agg_trade_id)")?;
        t.price = decimal(price, "column 1 (price)")?;
        t.qty = decimal(qty, "column 2 (quantity)")?;
        t.first_id = integer(first, "column 3 (first_trade_id)")?;
        t.last_id = integer(last, "column 4 (last_trade_id)")?;
        if t.price == 0.0 && t.qty == 0.0 && t.first_id == -1 && t.last_id == -1 {
            return Ok(None);
        }
        t.time = epoch_to_ms(integer(time, "column 5 (transact_time)")?);
        t.buyer_maker = flag(maker, "column 6 (is_buyer_maker)")?;
        time_col = 5;
    } else {
        let [id, price, qty, quote, time, maker] = leading_fields::<6>(line)?;
        t.id = integer(id, "column 0 (id)")?;
        t.price = decimal(price, "column 1 (price)")?;
        t.qty = decimal(qty, "column 2 (qty)")?;
        if layout.has_quote_qty() {
            t.quote_qty = decimal(quote, "column 3 (quote_qty)")?;
        }
        t.time = epoch_to_ms(integer(time, "column 4 (time)")?);
        t.buyer_maker = flag(maker, "column 5 (is_buyer_maker)")?;
        time_col = 4;
    }
    if layout.best_match() {
        let col = time_col + 2;
        let cell = line.split(',').nth(col).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::PARSE,
                format!("{col} fields where {} are expected", col + 1),
            )
        })?;
        t.best_match = flag(cell, &format!("column {col} (is_best_match)"))?;
    }
    Ok(Some(t))
}

/// Every row of a file whose time lies in `[lo, hi)`, handed to `send` in chunks of
/// [`CHUNK`], ascending by id (a file whose ids do not ascend is refused). `file` names it.
pub fn parse_file(
    reader: &mut dyn BufRead,
    file: &str,
    layout: Layout,
    (lo, hi): (i64, i64),
    send: &mut dyn FnMut(Vec<Trade>) -> Result<(), ProviderError>,
) -> Result<Parsed, ProviderError> {
    let mut parsed = Parsed::default();
    let mut chunk = Vec::with_capacity(CHUNK.min(4096));
    let (mut first, mut prev) = (true, i64::MIN);
    for_each_line(reader, file, |n, line| {
        if std::mem::take(&mut first) && is_header(line) {
            return Ok(());
        }
        let at = || format!("{file} line {n}");
        let Some(t) = parse_row(line, layout).map_err(|e| context(e, &at()))? else {
            parsed.invalidated += 1;
            return Ok(());
        };
        if t.id <= prev {
            return Err(ProviderError::new(
                ErrorKind::PARSE,
                format!(
                    "{}: id {} does not follow {prev} (ids must ascend)",
                    at(),
                    t.id
                ),
            ));
        }
        prev = t.id;
        if t.time < lo || t.time >= hi {
            parsed.outside += 1;
            return Ok(());
        }
        parsed.rows += 1;
        chunk.push(t);
        if chunk.len() >= CHUNK {
            send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))?;
        }
        Ok(())
    })?;
    if !chunk.is_empty() {
        send(chunk)?;
    }
    Ok(parsed)
}
