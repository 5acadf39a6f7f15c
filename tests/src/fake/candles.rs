//! Deterministic candles: every value is a pure function of (market, symbol, interval,
//! open time), so tests can compute what the fake serves without talking to it. Values are
//! generated as fixed-point integers, printed, and the Kline is parsed back from the very
//! strings printed, so f64 equality between the two is exact.

use std::f64::consts::TAU;
use std::fmt::Write as _;

use dsm_sdk::Kline;

use super::grid::Step;

const DAY_MS: f64 = 86_400_000.0;
/// 2017-01-01T00:00:00Z: first candle of spot and USD-M.
const LISTING_SPOT_UM: i64 = 1_483_228_800_000;
/// 2020-08-01T00:00:00Z: first candle of COIN-M.
const LISTING_CM: i64 = 1_596_240_000_000;

/// The three Binance markets the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Market {
    Spot,
    Um,
    Cm,
}

impl Market {
    pub(crate) fn listing_ms(self) -> i64 {
        match self {
            Market::Spot | Market::Um => LISTING_SPOT_UM,
            Market::Cm => LISTING_CM,
        }
    }

    pub(crate) fn knows_symbol(self, symbol: &str) -> bool {
        let list: &[&str] = match self {
            Market::Spot | Market::Um => &["BTCUSDT", "ETHUSDT", "BNBUSDT", "DOGEUSDT"],
            Market::Cm => &["BTCUSD_PERP", "ETHUSD_PERP", "BTCUSD_250328"],
        };
        list.contains(&symbol) || (self != Market::Cm && is_universe_coin(symbol))
    }

    /// The interval grid, or `None` when this market has no such interval (futures: no 1s).
    pub(crate) fn step(self, interval: &str) -> Option<Step> {
        if interval == "1s" && self != Market::Spot {
            return None;
        }
        Step::parse(interval)
    }

    fn tag(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Um => "um",
            Market::Cm => "cm",
        }
    }
}

/// `COIN01USDT` .. `COIN50USDT`: extra spot and USD-M symbols, so a sync of many series
/// has a universe to fetch (candles as deterministic as the others').
pub fn is_universe_coin(symbol: &str) -> bool {
    let n = symbol
        .strip_prefix("COIN")
        .and_then(|r| r.strip_suffix("USDT"));
    n.and_then(|n| (n.len() == 2).then(|| n.parse::<u8>().ok()).flatten())
        .is_some_and(|n| (1..=50).contains(&n))
}

/// One row exactly as printed: strings for the decimal columns.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) open_time: i64,
    pub(crate) close_time: i64,
    pub(crate) trades: u64,
    /// open, high, low, close, volume, quote volume, taker buy base, taker buy quote.
    pub(crate) cols: [String; 8],
}

impl Row {
    /// Appends the JSON array; indexes 0, 6, 8 are numbers, the rest strings.
    pub(crate) fn write_json(&self, out: &mut String) {
        let c = &self.cols;
        let _ = write!(
            out,
            "[{},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",{},\"{}\",{},\"{}\",\"{}\",\"0\"]",
            self.open_time,
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            self.close_time,
            c[5],
            self.trades,
            c[6],
            c[7]
        );
    }

    /// Appends the Binance Vision CSV line (no line end): the JSON row's cells unquoted;
    /// with `micros`, open and close time in microseconds (close = next open - 1 us), as
    /// spot files from 2025 on.
    pub(crate) fn write_csv(&self, out: &mut String, micros: bool) {
        let c = &self.cols;
        let (open, close) = if micros {
            (self.open_time * 1000, (self.close_time + 1) * 1000 - 1)
        } else {
            (self.open_time, self.close_time)
        };
        let _ = write!(
            out,
            "{open},{},{},{},{},{},{close},{},{},{},{},0",
            c[0], c[1], c[2], c[3], c[4], c[5], self.trades, c[6], c[7]
        );
    }

    pub(crate) fn to_kline(&self) -> Kline {
        let f = |i: usize| -> f64 { self.cols[i].parse().expect("fake prints valid decimals") };
        Kline {
            open_time: self.open_time,
            open: f(0),
            high: f(1),
            low: f(2),
            close: f(3),
            volume: f(4),
            close_time: self.close_time,
            quote_volume: f(5),
            trades: self.trades,
            taker_buy_base_volume: f(6),
            taker_buy_quote_volume: f(7),
        }
    }
}

/// Per-symbol constants, computed once per request rather than once per row.
pub(crate) struct Generator {
    market: Market,
    step: Step,
    seed: u64,
    base_price: f64,
    /// Base units (spot, USD-M) or contracts (COIN-M) traded per minute on average.
    per_minute: f64,
    /// COIN-M contract value in USD.
    contract_usd: f64,
    phases: [f64; 4],
}

impl Generator {
    pub(crate) fn new(market: Market, symbol: &str, step: Step) -> Generator {
        let (base_price, per_minute, contract_usd) = asset_params(market, symbol);
        let seed = fnv1a(market.tag().as_bytes()) ^ fnv1a(symbol.as_bytes()).rotate_left(17);
        let step_seed = match step {
            Step::Fixed { len, .. } => len as u64,
            Step::Month => 1,
        };
        let seed = mix(seed ^ step_seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let ph = |i: u64| unit(mix(fnv1a(symbol.as_bytes()) ^ i)) * TAU;
        Generator {
            market,
            step,
            seed,
            base_price,
            per_minute,
            contract_usd,
            phases: [ph(1), ph(2), ph(3), ph(4)],
        }
    }

    /// Smooth price path depending only on time (so intervals roughly agree with each other).
    pub(crate) fn mid(&self, t: i64) -> f64 {
        let x = t as f64 / DAY_MS;
        let p = &self.phases;
        let wave = 0.35 * (x * TAU / 365.0 + p[0]).sin()
            + 0.12 * (x * TAU / 29.0 + p[1]).sin()
            + 0.03 * (x * TAU / 1.3 + p[2]).sin()
            + 0.004 * (x * TAU * 4.8 + p[3]).sin();
        self.base_price * wave.exp()
    }

    /// A uniform value in [0, 1) for this candle and purpose `k`.
    fn u(&self, open_time: i64, k: u64) -> f64 {
        unit(mix(self.seed
            ^ (open_time as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
            ^ k))
    }

    pub(crate) fn row(&self, open_time: i64) -> Row {
        let next_open = self.step.next(open_time);
        let minutes = (next_open - open_time) as f64 / 60_000.0;
        let (dp, shown) = price_decimals(self.market, self.base_price);
        let scale = 10f64.powi(dp as i32);
        let noisy = |t: i64, k: u64| self.mid(t) * (1.0 + 0.0008 * (self.u(open_time, k) - 0.5));
        let open = units(noisy(open_time, 1), scale).max(1);
        let close = units(noisy(next_open, 2), scale).max(1);
        // Wider candles swing further; cap so that low stays positive.
        let amp = (0.0015 * minutes.sqrt()).min(0.3);
        let top = open.max(close);
        let bottom = open.min(close);
        let high = top + units(top as f64 / scale * amp * self.u(open_time, 3), scale);
        let low =
            (bottom - units(bottom as f64 / scale * amp * self.u(open_time, 4), scale)).max(1);
        let avg = (open + high + low + close) as f64 / 4.0 / scale;
        let volume = self.per_minute * minutes * (0.2 + 1.6 * self.u(open_time, 5));
        let taker_share = 0.3 + 0.4 * self.u(open_time, 6);
        let trades = (minutes * 40.0 * (0.5 + self.u(open_time, 7))).max(1.0) as u64;
        let pad = 10i128.pow(shown - dp);
        let prices = [open, high, low, close].map(|v| fixed(v * pad, shown));
        let [v, qv, tb, tq] = self.volumes(volume, taker_share, avg);
        let [o, h, l, c] = prices;
        Row {
            open_time,
            close_time: next_open - 1,
            trades,
            cols: [o, h, l, c, v, qv, tb, tq],
        }
    }

    /// Volume columns: base/quote for spot and USD-M; contracts/base asset for COIN-M.
    fn volumes(&self, volume: f64, taker_share: f64, avg: f64) -> [String; 4] {
        match self.market {
            Market::Spot | Market::Um => {
                // (lot decimals, decimals printed, quote decimals)
                let (vdp, shown, qdp): (u32, u32, u32) = if self.market == Market::Spot {
                    (spot_lot_decimals(self.base_price), 8, 8)
                } else {
                    (3, 3, 5)
                };
                let vs = 10f64.powi(vdp as i32);
                let vol = units(volume, vs);
                let taker = (vol as f64 * taker_share) as i128;
                let quote =
                    |u: i128| fixed(units(u as f64 / vs * avg, 10f64.powi(qdp as i32)), qdp);
                let base = |u: i128| fixed(u * 10i128.pow(shown - vdp), shown);
                [base(vol), quote(vol), base(taker), quote(taker)]
            }
            Market::Cm => {
                let contracts = volume.round() as i128;
                let taker = (contracts as f64 * taker_share) as i128;
                let base = |c: i128| fixed(units(c as f64 * self.contract_usd / avg, 1e8), 8);
                [
                    fixed(contracts, 0),
                    base(contracts),
                    fixed(taker, 0),
                    base(taker),
                ]
            }
        }
    }
}

/// Everything the fake serves for open times in `[start_ms, end_ms)` (half-open), up to now
/// (the still-forming candle included). Empty for unknown symbols or intervals.
/// Binance Vision files (vision.rs) hold the very same candles: for a published day or
/// month this is also what the archive serves.
pub fn expected_klines(
    market: Market,
    symbol: &str,
    interval: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Kline> {
    let Some(step) = market.step(interval) else {
        return Vec::new();
    };
    if !market.knows_symbol(symbol) || end_ms <= start_ms {
        return Vec::new();
    }
    let Some((first, last)) = step.span(start_ms, end_ms - 1, market.listing_ms(), now_ms()) else {
        return Vec::new();
    };
    let gen = Generator::new(market, symbol, step);
    step.oldest(first, last, usize::MAX)
        .into_iter()
        .map(|t| gen.row(t).to_kline())
        .collect()
}

pub(crate) use dsm_sdk::time::now_ms;

/// (base price in USD, volume per minute, COIN-M contract value in USD).
fn asset_params(market: Market, symbol: &str) -> (f64, f64, f64) {
    let (price, base_per_min, contract) = if symbol.starts_with("BTC") {
        (30_000.0, 20.0, 100.0)
    } else if symbol.starts_with("ETH") {
        (2_000.0, 150.0, 10.0)
    } else if symbol.starts_with("BNB") {
        (300.0, 600.0, 10.0)
    } else {
        (0.15, 1_500_000.0, 10.0)
    };
    // COIN-M trades contracts: roughly the USD traded divided by the contract value.
    let per_min = match market {
        Market::Cm => base_per_min * price / contract / 4.0,
        _ => base_per_min,
    };
    (price, per_min, contract)
}

/// (decimals of the price tick, decimals printed). Binance spot prints prices with 8
/// decimals whatever the tick ("68021.69000000" for BTCUSDT's 0.01: real-wire's Vision
/// sample), so its archives compress as the real ones do; futures print the tick's.
fn price_decimals(market: Market, base_price: f64) -> (u32, u32) {
    match market {
        Market::Spot => (spot_tick_decimals(base_price), 8),
        Market::Um | Market::Cm => (2, 2),
    }
}

/// Spot's tick: 0.01 for coins priced in the hundreds and more, 0.00001 below (DOGEUSDT).
fn spot_tick_decimals(base_price: f64) -> u32 {
    if base_price >= 100.0 {
        2
    } else {
        5
    }
}

/// Spot's quantity step: finer for dearer coins (BTCUSDT 0.00001, DOGEUSDT 1).
fn spot_lot_decimals(base_price: f64) -> u32 {
    match base_price {
        p if p >= 10_000.0 => 5,
        p if p >= 1_000.0 => 4,
        p if p >= 100.0 => 3,
        _ => 0,
    }
}

/// The tick of a spot symbol's prices, as exchangeInfo's PRICE_FILTER prints it.
pub(crate) fn spot_tick_size(symbol: &str) -> String {
    let dp = spot_tick_decimals(asset_params(Market::Spot, symbol).0);
    fixed(10i128.pow(8 - dp), 8)
}

fn units(value: f64, scale: f64) -> i128 {
    (value * scale).round() as i128
}

/// Fixed-point integer to decimal text with exactly `dp` decimals ("4.15070000").
pub(crate) fn fixed(units: i128, dp: u32) -> String {
    // Digits by hand in u64: i128 formatting and division cost most of a REST page's time,
    // and the fake's speed bounds every benchmark that talks to it.
    let Ok(mut v) = u64::try_from(units.unsigned_abs()) else {
        let p = 10i128.pow(dp);
        return match dp {
            0 => units.to_string(),
            _ => format!("{}.{:0width$}", units / p, units % p, width = dp as usize),
        };
    };
    let mut buf = [0u8; 48];
    let mut i = buf.len();
    let mut digits = 0;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        digits += 1;
        if digits == dp {
            i -= 1;
            buf[i] = b'.';
        }
        if v == 0 && digits > dp {
            break;
        }
    }
    if units < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    String::from_utf8_lossy(&buf[i..]).into_owned()
}

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// splitmix64 finalizer: cheap, well-mixed.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(k: &Kline) {
        assert!(k.low > 0.0 && k.low <= k.open.min(k.close), "{k:?}");
        assert!(k.high >= k.open.max(k.close), "{k:?}");
        assert!(k.volume >= k.taker_buy_base_volume && k.taker_buy_base_volume >= 0.0);
        assert!(k.quote_volume >= k.taker_buy_quote_volume && k.taker_buy_quote_volume >= 0.0);
    }

    #[test]
    fn candles_are_well_formed_and_contiguous() {
        let day = 1_704_067_200_000;
        for (m, s) in [
            (Market::Spot, "DOGEUSDT"),
            (Market::Um, "DOGEUSDT"),
            (Market::Cm, "ETHUSD_PERP"),
        ] {
            for (iv, days) in [("1m", 3), ("1h", 400), ("1w", 400), ("1M", 800)] {
                let ks = expected_klines(m, s, iv, day - days * 86_400_000, day);
                assert!(!ks.is_empty());
                ks.iter().for_each(check);
                for w in ks.windows(2) {
                    assert_eq!(w[0].close_time + 1, w[1].open_time);
                }
            }
        }
    }

    #[test]
    fn formatting_matches_the_wire() {
        assert_eq!(fixed(415_070_000, 8), "4.15070000");
        assert_eq!(fixed(1_653_750, 2), "16537.50");
        assert_eq!(fixed(42, 0), "42");
        assert_eq!(fixed(5, 3), "0.005");
        assert_eq!(fixed(0, 2), "0.00");
        assert_eq!(fixed(-1_250, 2), "-12.50");
        assert_eq!(
            fixed(i128::from(u64::MAX) * 10, 1),
            format!("{}.0", u64::MAX)
        );
        let step = Step::parse("1m").unwrap();
        let mut s = String::new();
        Generator::new(Market::Cm, "BTCUSD_PERP", step)
            .row(1_704_067_200_000)
            .write_json(&mut s);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert!(
            v[5].as_str().unwrap().chars().all(|c| c.is_ascii_digit()),
            "{s}"
        );
    }

    #[test]
    fn unknown_symbols_and_futures_1s_are_empty() {
        assert!(expected_klines(Market::Spot, "XYZUSDT", "1m", 0, now_ms()).is_empty());
        assert!(expected_klines(
            Market::Um,
            "BTCUSDT",
            "1s",
            1_704_067_200_000,
            1_704_067_260_000
        )
        .is_empty());
        let spot = expected_klines(
            Market::Spot,
            "BTCUSDT",
            "1s",
            1_704_067_200_000,
            1_704_067_260_000,
        );
        assert_eq!(spot.len(), 60);
    }
}
