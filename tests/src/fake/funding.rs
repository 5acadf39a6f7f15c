//! Deterministic funding rate history for the fake's USD-M and COIN-M perpetuals
//! (wire-formats-datasets.md 1.1-1.4): every row is a pure function of (market, symbol,
//! settlement), so tests compute what REST and Vision serve with [`expected_funding`].
//!
//! - Settlements every 8 h from the first one (USD-M 2019-09-13 08:00Z, COIN-M the listing
//!   day 08:00Z), except where a symbol's schedule changes the interval: USD-M ETHUSDT goes
//!   8 h -> 4 h on 2024-03-05 00:00Z, -> 1 h on 2024-03-18 12:00Z, back to 4 h on
//!   2024-03-25 00:00Z; USD-M DOGEUSDT 8 h -> 4 h on 2023-10-12 16:00Z; COIN-M ETHUSD_PERP
//!   8 h -> 4 h on 2024-06-01 00:00Z. A row's interval is that of the period it closes
//!   (switches are on the old interval's grid).
//! - Stamps are the settlement plus 0..=7 ms (as the real ones, a few ms past the hour).
//! - Rates: 8-decimal strings, sometimes negative. USD-M rows have a `markPrice`, `""`
//!   before 2020-01-01; COIN-M rows have none. Delivery contracts have no funding.

use dsm_sdk::FundingRate;

use super::candles::{fixed, fnv1a, mix, unit, Generator, Market};
use super::grid::Step;

const HOUR_MS: i64 = 3_600_000;
/// 2019-09-13T08:00:00Z: the first USD-M settlement.
const FIRST_UM: i64 = 1_568_361_600_000;
/// USD-M rows carry `markPrice: ""` before 2020-01-01.
const MARK_PRICE_FROM: i64 = 1_577_836_800_000;
/// Vision fundingRate files exist from 2020-01 on USD-M (the listing month on COIN-M).
pub(crate) const VISION_UM_FROM: i64 = 1_577_836_800_000;

/// One settlement as the fake prints it.
#[derive(Debug, Clone)]
pub(crate) struct Settlement {
    /// The stamp: the settlement time plus 0..=7 ms.
    pub(crate) time: i64,
    pub(crate) hours: i64,
    pub(crate) rate: String,
    /// `None` on COIN-M; `Some("")` on early USD-M rows.
    pub(crate) mark_price: Option<String>,
}

/// (switch time, interval hours from then on); the first entry is the first settlement.
fn schedule(market: Market, symbol: &str) -> Vec<(i64, i64)> {
    let first = match market {
        Market::Um => FIRST_UM,
        _ => market.listing_ms() + 8 * HOUR_MS,
    };
    let at = |s: &str| -> i64 {
        let (d, h) = s.split_once('T').unwrap();
        let p: Vec<i64> = d.split('-').map(|x| x.parse().unwrap()).collect();
        super::grid::days_from_civil(p[0], p[1], p[2]) * 86_400_000
            + h.parse::<i64>().unwrap() * HOUR_MS
    };
    let mut s = vec![(first, 8)];
    match (market, symbol) {
        (Market::Um, "ETHUSDT") => s.extend([
            (at("2024-03-05T0"), 4),
            (at("2024-03-18T12"), 1),
            (at("2024-03-25T0"), 4),
        ]),
        (Market::Um, "DOGEUSDT") => s.push((at("2023-10-12T16"), 4)),
        (Market::Cm, "ETHUSD_PERP") => s.push((at("2024-06-01T0"), 4)),
        _ => {}
    }
    s
}

/// Whether the fake has funding for this symbol (perpetuals it knows).
pub(crate) fn has_funding(market: Market, symbol: &str) -> bool {
    market != Market::Spot
        && market.knows_symbol(symbol)
        && (market == Market::Um || symbol.ends_with("_PERP"))
}

/// Settlements with stamps in `[lo, hi]` (inclusive) up to `now`, oldest first.
pub(crate) fn settlements(
    market: Market,
    symbol: &str,
    lo: i64,
    hi: i64,
    now: i64,
) -> Vec<Settlement> {
    if !has_funding(market, symbol) || hi < lo {
        return Vec::new();
    }
    let sched = schedule(market, symbol);
    let gen = Generator::new(market, symbol, Step::Month);
    let seed = fnv1a(symbol.as_bytes()) ^ fnv1a(b"funding");
    let hi = hi.min(now);
    let mut out = Vec::new();
    // The first settlement closes an 8 h period; each later one the current interval's.
    let mut emit = |t: i64, hours: i64| {
        let h = mix(seed ^ (t as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let time = t + (h % 8) as i64;
        if time < lo || time > hi {
            return;
        }
        let units = 10_000 * hours / 8 + (unit(mix(h)) * 80_000.0) as i64 - 30_000;
        let mark_price = match market {
            Market::Um if t < MARK_PRICE_FROM => Some(String::new()),
            Market::Um => Some(fixed((gen.mid(t) * 1e8).round() as i128, 8)),
            _ => None,
        };
        out.push(Settlement {
            time,
            hours,
            rate: fixed(i128::from(units), 8),
            mark_price,
        });
    };
    for (i, &(from, hours)) in sched.iter().enumerate() {
        let step = hours * HOUR_MS;
        let until = sched.get(i + 1).map_or(i64::MAX, |s| s.0);
        // Settlements of this segment: `from` itself only for the very first one.
        let first = if i == 0 { from } else { from + step };
        let k0 = (lo.saturating_sub(7).saturating_sub(first).max(0) + step - 1) / step;
        let mut t = first + k0 * step;
        while t <= until && t <= hi {
            emit(t, if i == 0 && t == from { 8 } else { hours });
            t += step;
        }
        if hi <= until {
            break;
        }
    }
    out
}

/// What the fake serves for stamps in `[start_ms, end_ms)` up to now, as a plugin must
/// deliver it: from REST (`archive` false: mark price where given, else NaN; interval 0),
/// or from Vision (`archive` true: interval per row, no mark price).
pub fn expected_funding(
    market: Market,
    symbol: &str,
    start_ms: i64,
    end_ms: i64,
    archive: bool,
) -> Vec<FundingRate> {
    let now = super::candles::now_ms();
    settlements(market, symbol, start_ms, end_ms - 1, now)
        .into_iter()
        .map(|s| FundingRate {
            funding_time: s.time,
            rate: s.rate.parse().expect("fake prints decimals"),
            mark_price: match (&s.mark_price, archive) {
                (Some(m), false) if !m.is_empty() => m.parse().expect("decimal"),
                _ => f64::NAN,
            },
            interval_ms: if archive { s.hours * HOUR_MS } else { 0 },
        })
        .collect()
}

impl Settlement {
    /// The REST object, keys in the live order (USD-M: symbol, fundingTime, fundingRate,
    /// markPrice, rateType; COIN-M: symbol, fundingTime, fundingRate).
    pub(crate) fn write_json(&self, symbol: &str, out: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(
            out,
            "{{\"symbol\":\"{symbol}\",\"fundingTime\":{},\"fundingRate\":\"{}\"",
            self.time, self.rate
        );
        if let Some(m) = &self.mark_price {
            let _ = write!(out, ",\"markPrice\":\"{m}\",\"rateType\":\"Regular\"");
        }
        out.push('}');
    }

    /// The Vision CSV line (no line end): calc_time,funding_interval_hours,last_funding_rate.
    pub(crate) fn csv_line(&self) -> String {
        format!("{},{},{}", self.time, self.hours, self.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    const MAR_2024: i64 = 1_709_251_200_000;

    #[test]
    fn eth_march_2024_changes_interval_inside_the_month() {
        let s = settlements(
            Market::Um,
            "ETHUSDT",
            MAR_2024,
            MAR_2024 + 31 * DAY - 1,
            i64::MAX,
        );
        let hours: Vec<i64> = s.iter().map(|s| s.hours).collect();
        // Mar 1-4: 8 h (12 rows incl. the 5th 00:00 which closes an 8 h period), then 4 h
        // to the 18th 12:00, 1 h to the 25th, 4 h after.
        assert_eq!(hours.iter().filter(|h| **h == 8).count(), 13);
        assert_eq!(hours.iter().filter(|h| **h == 1).count(), 6 * 24 + 12);
        assert!(hours.windows(2).any(|w| w == [8, 4]) && hours.windows(2).any(|w| w == [4, 1]));
        assert!(hours.windows(2).any(|w| w == [1, 4]));
        for w in s.windows(2) {
            let nominal = |t: i64| t - t % HOUR_MS;
            assert_eq!(
                nominal(w[1].time) - nominal(w[0].time),
                w[1].hours * HOUR_MS
            );
        }
        assert!(s.iter().all(|s| (0..8).contains(&(s.time % HOUR_MS))));
        assert!(s.iter().any(|s| s.time % HOUR_MS != 0));
    }

    #[test]
    fn first_rows_empty_mark_price_and_coin_m_without() {
        let s = settlements(Market::Um, "BTCUSDT", 0, FIRST_UM + DAY + 7, i64::MAX);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].time - s[0].time % HOUR_MS, FIRST_UM);
        assert_eq!(s[0].mark_price.as_deref(), Some(""));
        let mut j = String::new();
        s[0].write_json("BTCUSDT", &mut j);
        assert!(
            j.starts_with("{\"symbol\":\"BTCUSDT\",\"fundingTime\":15683616000"),
            "{j}"
        );
        assert!(
            j.ends_with(",\"markPrice\":\"\",\"rateType\":\"Regular\"}"),
            "{j}"
        );
        let c = settlements(
            Market::Cm,
            "BTCUSD_PERP",
            MAR_2024,
            MAR_2024 + DAY,
            i64::MAX,
        );
        assert_eq!(c.len(), 3);
        let mut j = String::new();
        c[0].write_json("BTCUSD_PERP", &mut j);
        assert!(!j.contains("markPrice") && j.ends_with("\"}"), "{j}");
        assert!(settlements(Market::Cm, "BTCUSD_250328", 0, i64::MAX - 1, MAR_2024).is_empty());
        let late = settlements(Market::Um, "BTCUSDT", MAR_2024, MAR_2024 + DAY, i64::MAX);
        assert!(
            late[0]
                .mark_price
                .as_deref()
                .unwrap()
                .parse::<f64>()
                .unwrap()
                > 1000.0
        );
    }
}
