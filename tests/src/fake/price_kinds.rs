//! Deterministic mark price, index price and premium index candles (wire-formats-datasets.md
//! 2.1-2.2): pure functions of (kind, market, symbol or pair, interval, open time), around
//! the same price path as the klines ([`Generator::mid`]).
//!
//! Rows are the 12-column kline row with only OHLC meaningful: prices with 8 decimals
//! (premium: small signed fractions), column 8 the number of basic data (60 a minute for
//! mark and index, 12 for premium), every other cell `"0"`, except that REST mark and index
//! rows have `"0 "` (with a space, as the docs show) in column 5 on about half the rows.
//! Index candles are per PAIR (um BTCUSDT, cm BTCUSD); mark and premium per symbol.

use std::fmt::Write as _;

use dsm_sdk::Kline;

use super::candles::{fixed, fnv1a, mix, now_ms, unit, Generator, Market};
use super::grid::Step;

/// The kline-shaped kinds beside klines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceKind {
    Mark,
    Index,
    Premium,
}

impl PriceKind {
    /// The REST path word, also the Vision directory.
    pub(crate) fn word(self) -> &'static str {
        match self {
            PriceKind::Mark => "markPriceKlines",
            PriceKind::Index => "indexPriceKlines",
            PriceKind::Premium => "premiumIndexKlines",
        }
    }

    pub(crate) fn from_word(word: &str) -> Option<PriceKind> {
        [PriceKind::Mark, PriceKind::Index, PriceKind::Premium]
            .into_iter()
            .find(|k| k.word() == word)
    }

    /// Whether the fake has this kind for `name` (a pair for index, else a symbol).
    pub(crate) fn knows(self, market: Market, name: &str) -> bool {
        match (self, market) {
            (_, Market::Spot) => false,
            (PriceKind::Index, Market::Cm) => matches!(name, "BTCUSD" | "ETHUSD"),
            _ => market.knows_symbol(name),
        }
    }
}

/// One row as printed.
pub(crate) struct PriceRow {
    open_time: i64,
    close_time: i64,
    count: u64,
    ohlc: [String; 4],
    /// Column 5 printed `"0 "` on REST.
    spaced_zero: bool,
}

impl PriceRow {
    pub(crate) fn write_json(&self, out: &mut String) {
        let [o, h, l, c] = &self.ohlc;
        let v = if self.spaced_zero { "0 " } else { "0" };
        let _ = write!(
            out,
            "[{},\"{o}\",\"{h}\",\"{l}\",\"{c}\",\"{v}\",{},\"0\",{},\"0\",\"0\",\"0\"]",
            self.open_time, self.close_time, self.count
        );
    }

    pub(crate) fn write_csv(&self, out: &mut String) {
        let [o, h, l, c] = &self.ohlc;
        let _ = write!(
            out,
            "{},{o},{h},{l},{c},0,{},0,{},0,0,0",
            self.open_time, self.close_time, self.count
        );
    }

    fn to_kline(&self) -> Kline {
        let f = |i: usize| -> f64 { self.ohlc[i].parse().expect("fake prints decimals") };
        Kline {
            open_time: self.open_time,
            open: f(0),
            high: f(1),
            low: f(2),
            close: f(3),
            close_time: self.close_time,
            trades: self.count,
            ..Kline::default()
        }
    }
}

pub(crate) struct PriceGen {
    kind: PriceKind,
    step: Step,
    prices: Generator,
    seed: u64,
}

impl PriceGen {
    pub(crate) fn new(kind: PriceKind, market: Market, name: &str, step: Step) -> PriceGen {
        let seed = fnv1a(name.as_bytes()) ^ fnv1a(kind.word().as_bytes()).rotate_left(9);
        PriceGen {
            kind,
            step,
            prices: Generator::new(market, name, step),
            seed: mix(seed ^ fnv1a(format!("{market:?}").as_bytes())),
        }
    }

    fn u(&self, t: i64, k: u64) -> f64 {
        unit(mix(self.seed
            ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ k))
    }

    /// The value at time `t` in 1e-8 units (a price, or the premium fraction).
    fn value(&self, t: i64, k: u64) -> i128 {
        let v = match self.kind {
            PriceKind::Mark => self.prices.mid(t) * (1.0 + 0.0004 * (self.u(t, k) - 0.5)),
            PriceKind::Index => self.prices.mid(t) * (1.0 + 0.0002 * (self.u(t, k) - 0.5)),
            PriceKind::Premium => 0.0006 * (self.u(t, k) - 0.4),
        };
        (v * 1e8).round() as i128
    }

    pub(crate) fn row(&self, open_time: i64) -> PriceRow {
        let next = self.step.next(open_time);
        let minutes = ((next - open_time) / 60_000) as u64;
        let (open, close) = (self.value(open_time, 1), self.value(next, 2));
        let swing = |k: u64| match self.kind {
            PriceKind::Premium => (self.u(open_time, k) * 20_000.0) as i128,
            _ => (open.max(close) as f64 * 0.0008 * self.u(open_time, k)) as i128,
        };
        let high = open.max(close) + swing(3);
        let low = open.min(close) - swing(4);
        let per_minute = if self.kind == PriceKind::Premium {
            12
        } else {
            60
        };
        PriceRow {
            open_time,
            close_time: next - 1,
            count: minutes * per_minute,
            ohlc: [open, high, low, close].map(|v| fixed(v, 8)),
            spaced_zero: self.kind != PriceKind::Premium && self.u(open_time, 9) < 0.5,
        }
    }
}

/// What the fake serves of `kind` for open times in `[start_ms, end_ms)` up to now, as a
/// plugin delivers it (OHLC, times, count; volumes 0). `name`: the pair for index klines
/// (`BTCUSD` on COIN-M), else the symbol.
pub fn expected_price_klines(
    kind: PriceKind,
    market: Market,
    name: &str,
    interval: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Kline> {
    let Some(step) = market.step(interval) else {
        return Vec::new();
    };
    if !kind.knows(market, name) || end_ms <= start_ms {
        return Vec::new();
    }
    let Some((first, last)) = step.span(start_ms, end_ms - 1, market.listing_ms(), now_ms()) else {
        return Vec::new();
    };
    let gen = PriceGen::new(kind, market, name, step);
    step.oldest(first, last, usize::MAX)
        .into_iter()
        .map(|t| gen.row(t).to_kline())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_2024: i64 = 1_704_067_200_000;

    #[test]
    fn rows_look_like_the_documented_ones() {
        let step = Step::parse("1m").unwrap();
        let gen = PriceGen::new(PriceKind::Mark, Market::Cm, "BTCUSD_PERP", step);
        let mut spaced = 0;
        for i in 0..20 {
            let mut s = String::new();
            gen.row(JAN_2024 + i * 60_000).write_json(&mut s);
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            assert_eq!(v[8], 60);
            assert_eq!(v[1].as_str().unwrap().split('.').nth(1).unwrap().len(), 8);
            spaced += usize::from(v[5] == "0 ");
            assert_eq!((v[7].as_str(), v[11].as_str()), (Some("0"), Some("0")));
        }
        assert!(spaced > 0 && spaced < 20, "{spaced}");
        let p = expected_price_klines(
            PriceKind::Premium,
            Market::Um,
            "BTCUSDT",
            "1h",
            JAN_2024,
            JAN_2024 + 86_400_000,
        );
        assert_eq!(p.len(), 24);
        assert!(p
            .iter()
            .all(|k| k.trades == 720 && k.open.abs() < 0.001 && k.low <= k.open));
        assert!(p.iter().any(|k| k.open < 0.0));
        assert!(expected_price_klines(
            PriceKind::Index,
            Market::Cm,
            "BTCUSD_PERP",
            "1h",
            JAN_2024,
            JAN_2024 + 3_600_000
        )
        .is_empty());
        let idx = expected_price_klines(
            PriceKind::Index,
            Market::Cm,
            "BTCUSD",
            "1h",
            JAN_2024,
            JAN_2024 + 3_600_000,
        );
        assert!(idx[0].high >= idx[0].open.max(idx[0].close) && idx[0].open > 1000.0);
    }
}
