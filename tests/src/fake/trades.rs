//! Trades and aggregated trades of the Vision daily files (wire-formats-datasets.md 3.3,
//! 3.6), generated per (market, symbol, day) so that every file and [`expected_trades`]
//! agree:
//!
//! - `n` trades a day (default [`DEFAULT_PER_DAY`]; `DSM_FAKE_TRADES_PER_DAY` sets it, e.g.
//!   3000000 for a day of 1.5 million aggregated trades), ids dense from
//!   `day index * n`, three trades in each millisecond they fall on;
//! - aggregated trade `j` merges trades `2j, 2j+1` (only `2j` when `j % 3 == 0`, as futures
//!   skip insurance-fund trades), at the time of its first;
//! - spot: no header, `True`/`False`, 8 decimals, microseconds from 2025-01-01, every 250th
//!   aggregated trade invalidated (price 0, qty 0, first/last -1), `isBestMatch` False
//!   every 97th row; futures: a header from 2022-08-11, `true`/`false`, minimal decimals;
//!   COIN-M trades carry `base_qty` (qty in contracts of 100 USD).

use std::fmt::Write as _;

use dsm_sdk::Trade;

use super::candles::{fixed, fnv1a, mix, now_ms, Market};

const DAY_MS: i64 = 86_400_000;
/// Trades a day unless `DSM_FAKE_TRADES_PER_DAY` says otherwise.
pub const DEFAULT_PER_DAY: i64 = 3000;
/// Futures trade files from this day on start with a header (2022-08-11).
pub const TRADES_HEADER_FROM: i64 = 1_660_176_000_000;
/// Spot trade files from this day on are stamped in microseconds (2025-01-01).
pub const SPOT_MICROS_FROM: i64 = 1_735_689_600_000;

const AGG_HEADER: &str =
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker";
const UM_TRADES_HEADER: &str = "id,price,qty,quote_qty,time,is_buyer_maker";
const CM_TRADES_HEADER: &str = "id,price,qty,base_qty,time,is_buyer_maker";

/// Trades a day: `DSM_FAKE_TRADES_PER_DAY`, else [`DEFAULT_PER_DAY`] (at least 2, even, so
/// that aggregated ids are dense across days: day `i` holds ids `i * rows ..`).
pub fn trades_per_day() -> i64 {
    std::env::var("DSM_FAKE_TRADES_PER_DAY")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_PER_DAY)
        .max(2)
        & !1
}

/// One day of one symbol's trades.
pub(crate) struct TradeDay {
    market: Market,
    aggregated: bool,
    seed: u64,
    day: i64,
    n: i64,
    base: i64,
}

impl TradeDay {
    /// The day (its start) holding id `id`, and the row of it.
    pub(crate) fn of_id(market: Market, aggregated: bool, id: i64) -> (i64, i64) {
        let n = trades_per_day();
        let rows = if aggregated { n / 2 } else { n };
        let id = id.max(0);
        (market.listing_ms() + id / rows * DAY_MS, id % rows)
    }

    pub(crate) fn new(market: Market, aggregated: bool, symbol: &str, day: i64) -> TradeDay {
        let n = trades_per_day();
        let index = (day - market.listing_ms()).div_euclid(DAY_MS);
        TradeDay {
            market,
            aggregated,
            seed: fnv1a(symbol.as_bytes()),
            day,
            n,
            base: index * n,
        }
    }

    pub(crate) fn rows(&self) -> i64 {
        if self.aggregated {
            self.n / 2
        } else {
            self.n
        }
    }

    /// Time of trade `i` of the day, in ms; three trades share each millisecond.
    fn ms(&self, i: i64) -> i64 {
        self.day + ((i / 3) * 3) * DAY_MS / self.n
    }

    fn spot(&self) -> bool {
        self.market == Market::Spot
    }

    /// Row `k` of the file as CSV (no line end), and whether it is invalidated.
    pub(crate) fn line(&self, k: i64, out: &mut String) {
        let h = mix(self.seed
            ^ (self.base as u64).wrapping_add(k as u64)
            ^ (self.aggregated as u64) << 62);
        let (i, first, last) = match self.aggregated {
            true => {
                let f = 2 * k;
                (f, self.base + f, self.base + f + i64::from(k % 3 != 0))
            }
            false => (k, -1, -1),
        };
        let ms = self.ms(i);
        let time = match self.spot() && self.day >= SPOT_MICROS_FROM {
            true => ms * 1000 + (i * 7919) % 1000,
            false => ms,
        };
        let maker = h & 1 == 1;
        let id = match self.aggregated {
            true => self.base / 2 + k,
            false => self.base + k,
        };
        // Price in cents, 20000.00 .. 21000.00; qty by market.
        let cents = 2_000_000 + (h >> 8) as i128 % 100_000;
        let (price, qty, third);
        match self.market {
            Market::Spot => {
                let q = 1000 + (h >> 32) as i128 % 5_000_000; // 1e-8 units
                price = fixed(cents * 1_000_000, 8);
                qty = fixed(q, 8);
                third = fixed(cents * q / 100, 8); // quoteQty
            }
            Market::Um => {
                let q = 1 + (h >> 32) as i128 % 5000; // 1e-3 units
                price = fixed(cents / 10, 1);
                qty = fixed(q, 3);
                third = fixed(cents * q / 100, 5);
            }
            Market::Cm => {
                let q = 1 + (h >> 32) as i128 % 500; // contracts of 100 USD
                price = fixed(cents / 10, 1);
                qty = q.to_string();
                third = fixed(q * 100 * 100_000_000 * 100 / cents, 8); // base_qty
            }
        }
        let (t, f) = match self.spot() {
            true => ("True", "False"),
            false => ("true", "false"),
        };
        let b = |v: bool| if v { t } else { f };
        let best = !(h >> 20).is_multiple_of(97);
        if self.aggregated {
            if self.spot() && k % 250 == 17 {
                let zero = "0.00000000";
                let _ = write!(
                    out,
                    "{id},{zero},{zero},-1,-1,{time},{},{}",
                    b(maker),
                    b(best)
                );
                return;
            }
            let _ = write!(out, "{id},{price},{qty},{first},{last},{time},{}", b(maker));
        } else {
            let _ = write!(out, "{id},{price},{qty},{third},{time},{}", b(maker));
        }
        if self.spot() {
            let _ = write!(out, ",{}", b(best));
        }
    }

    fn header(&self) -> Option<&'static str> {
        if self.spot() || self.day < TRADES_HEADER_FROM {
            return None;
        }
        Some(match (self.aggregated, self.market) {
            (true, _) => AGG_HEADER,
            (false, Market::Cm) => CM_TRADES_HEADER,
            (false, _) => UM_TRADES_HEADER,
        })
    }

    /// The day's CSV as Vision writes it: LF line ends, a trailing newline.
    pub(crate) fn csv(&self) -> String {
        let mut out = String::with_capacity(self.rows() as usize * 72 + 128);
        if let Some(h) = self.header() {
            out.push_str(h);
            out.push('\n');
        }
        for k in 0..self.rows() {
            self.line(k, &mut out);
            out.push('\n');
        }
        out
    }

    /// The day's rows as the plugin should hand them on: parsed from the same text,
    /// invalidated rows left out, times in ms.
    fn trades(&self) -> Vec<Trade> {
        let mut line = String::new();
        let mut out = Vec::with_capacity(self.rows() as usize);
        for k in 0..self.rows() {
            line.clear();
            self.line(k, &mut line);
            if let Some(t) = self.trade(&line) {
                out.push(t);
            }
        }
        out
    }

    fn trade(&self, line: &str) -> Option<Trade> {
        let c: Vec<&str> = line.split(',').collect();
        let f = |i: usize| c[i].parse::<f64>().unwrap();
        let n = |i: usize| c[i].parse::<i64>().unwrap();
        let flag = |i: usize| u8::from(c[i].eq_ignore_ascii_case("true"));
        let time_col = if self.aggregated { 5 } else { 4 };
        let time = n(time_col);
        let mut t = Trade {
            id: n(0),
            time: if time >= 1_000_000_000_000_000 {
                time / 1000
            } else {
                time
            },
            price: f(1),
            qty: f(2),
            quote_qty: f64::NAN,
            first_id: -1,
            last_id: -1,
            buyer_maker: flag(time_col + 1),
            best_match: if self.spot() { flag(time_col + 2) } else { 2 },
        };
        if self.aggregated {
            (t.first_id, t.last_id) = (n(3), n(4));
            if t.first_id == -1 {
                return None;
            }
        } else if self.market != Market::Cm {
            t.quote_qty = f(3);
        }
        Some(t)
    }
}

/// Whether the fake archive has this symbol's trade file of the day starting at `day`.
pub(crate) fn has_trade_day(market: Market, symbol: &str, day: i64, now: i64) -> bool {
    market.knows_symbol(symbol)
        && day >= market.listing_ms()
        && day + DAY_MS <= now - now.rem_euclid(DAY_MS)
}

/// The trades (`aggregated`: aggregated trades) a Vision fetch of `[start_ms, end_ms)`
/// yields: every published day's rows inside the range, ascending by id.
pub fn expected_trades(
    market: Market,
    aggregated: bool,
    symbol: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Trade> {
    let mut out = Vec::new();
    let now = now_ms();
    let mut day = start_ms - start_ms.rem_euclid(DAY_MS);
    while day < end_ms {
        if has_trade_day(market, symbol, day, now) {
            let rows = TradeDay::new(market, aggregated, symbol, day).trades();
            out.extend(
                rows.into_iter()
                    .filter(|t| t.time >= start_ms && t.time < end_ms),
            );
        }
        day += DAY_MS;
    }
    out
}

/// The trades the fake's REST endpoints hold in `[start_ms, end_ms)`: the archive's rows
/// of every day since listing, today's up to now included (see `trades_rest`).
pub fn expected_rest_trades(
    market: Market,
    aggregated: bool,
    symbol: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Trade> {
    let end_ms = end_ms.min(now_ms());
    let mut out = Vec::new();
    let mut day = (start_ms - start_ms.rem_euclid(DAY_MS)).max(market.listing_ms());
    while day < end_ms && market.knows_symbol(symbol) {
        let rows = TradeDay::new(market, aggregated, symbol, day).trades();
        out.extend(
            rows.into_iter()
                .filter(|t| t.time >= start_ms && t.time < end_ms),
        );
        day += DAY_MS;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_2024: i64 = 1_704_067_200_000;
    const JAN_2025: i64 = SPOT_MICROS_FROM;

    #[test]
    fn files_have_the_quirks_of_their_market_and_date() {
        let spot = TradeDay::new(Market::Spot, true, "BTCUSDT", JAN_2025).csv();
        let first = spot.lines().next().unwrap();
        let cols: Vec<&str> = first.split(',').collect();
        assert_eq!(cols.len(), 8, "{first}");
        assert!(cols[5].len() == 16 && cols[6] == "True" || cols[6] == "False");
        assert!(spot
            .lines()
            .any(|l| l.contains(",0.00000000,0.00000000,-1,-1,")));
        let old = TradeDay::new(Market::Spot, true, "BTCUSDT", JAN_2024).csv();
        assert_eq!(
            old.lines().next().unwrap().split(',').nth(5).unwrap().len(),
            13
        );
        let um = TradeDay::new(Market::Um, false, "BTCUSDT", JAN_2024).csv();
        assert!(um.starts_with(UM_TRADES_HEADER) && um.ends_with('\n'));
        let old_um = TradeDay::new(Market::Um, false, "BTCUSDT", TRADES_HEADER_FROM - DAY_MS);
        assert!(old_um.csv().starts_with(|c: char| c.is_ascii_digit()));
        let cm = TradeDay::new(Market::Cm, false, "BTCUSD_PERP", JAN_2024).csv();
        assert!(cm.starts_with(CM_TRADES_HEADER));
        // Several trades share a millisecond; ids ascend.
        let t = TradeDay::new(Market::Um, false, "BTCUSDT", JAN_2024).trades();
        assert_eq!(t.len() as i64, trades_per_day());
        assert_eq!(t[0].time, t[2].time);
        assert!(t
            .windows(2)
            .all(|w| w[0].id < w[1].id && w[0].time <= w[1].time));
        assert!(t.iter().all(|r| r.quote_qty > 0.0 && r.best_match == 2));
        let s = TradeDay::new(Market::Spot, true, "BTCUSDT", JAN_2025).trades();
        assert!(s.len() < (trades_per_day() / 2) as usize);
        assert!(s
            .iter()
            .all(|r| r.time >= JAN_2025 && r.time < JAN_2025 + DAY_MS));
    }
}
