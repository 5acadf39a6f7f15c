//! Where cache files live: series keys (validated so no path escapes the root) and periods
//! (one file per UTC day, or per month for intervals of a day or more).

#[cfg(test)]
use std::path::{Path, PathBuf};

use dsm_sdk::calendar::{day_start, month_start, next_month_start};
use dsm_sdk::symbol::{is_symbol_byte, SYMBOL_MAX_LEN};
use dsm_sdk::DataKind;

use crate::interval::{civil_from_days, days_from_civil, Interval, DAY};

use super::CacheError;

/// How much one cache file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A UTC day, for intervals shorter than a day: `YYYY-MM-DD.arrow`.
    Day,
    /// A calendar month (UTC), for 1d and longer: `YYYY-MM.arrow`; a candle belongs to the
    /// month its open time falls in.
    Month,
}

impl Period {
    /// Days for intervals shorter than a day, months otherwise.
    pub fn for_interval(interval: Interval) -> Period {
        match interval {
            Interval::Fixed(ms) if ms < DAY => Period::Day,
            _ => Period::Month,
        }
    }

    /// The start of the period containing `t_ms`.
    pub fn start_of(self, t_ms: i64) -> i64 {
        match self {
            Period::Day => day_start(t_ms),
            Period::Month => month_start(t_ms),
        }
    }

    /// The start of the period after the one starting at `start_ms`.
    pub fn next(self, start_ms: i64) -> i64 {
        match self {
            Period::Day => start_ms + DAY,
            Period::Month => next_month_start(start_ms),
        }
    }

    /// Whether `t_ms` is the start of a period.
    pub fn is_start(self, t_ms: i64) -> bool {
        self.start_of(t_ms) == t_ms
    }

    /// `YYYY-MM-DD` or `YYYY-MM` of the period containing `t_ms`.
    pub fn stem(self, t_ms: i64) -> String {
        let (y, m, d) = civil_from_days(t_ms.div_euclid(DAY));
        match self {
            Period::Day => format!("{y:04}-{m:02}-{d:02}"),
            Period::Month => format!("{y:04}-{m:02}"),
        }
    }

    /// The cache file name of the period containing `t_ms`.
    pub fn file_name(self, t_ms: i64) -> String {
        format!("{}.{EXTENSION}", self.stem(t_ms))
    }

    /// The period start named by a stem written by `stem`, or None.
    pub fn parse_stem(self, stem: &str) -> Option<i64> {
        let parts: Vec<&str> = stem.split('-').collect();
        let widths_ok = |ws: &[usize]| {
            parts.len() == ws.len()
                && parts
                    .iter()
                    .zip(ws)
                    .all(|(p, w)| p.len() == *w && p.bytes().all(|b| b.is_ascii_digit()))
        };
        let (y, m, d) = match self {
            Period::Day if widths_ok(&[4, 2, 2]) => (parts[0], parts[1], parts[2]),
            Period::Month if widths_ok(&[4, 2]) => (parts[0], parts[1], "01"),
            _ => return None,
        };
        let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        let t = days_from_civil(y, m, d) * DAY;
        // Reject dates that do not exist (2024-02-30) by printing them back.
        (self.stem(t) == stem).then_some(t)
    }

    /// The period start named by a cache file name, or None for any other name.
    pub fn parse_file_name(self, name: &str) -> Option<i64> {
        let stem = name.strip_suffix(EXTENSION)?.strip_suffix('.')?;
        self.parse_stem(stem)
    }
}

/// The extension of period files.
pub const EXTENSION: &str = "arrow";
/// Temporary files of an atomic write start with this (and are hidden).
pub const TEMP_PREFIX: &str = ".dsm-tmp-";
/// The directory under a market that holds kline series (each kind has its directory,
/// named by [`DataKind::name`]).
pub const KLINES_DIR: &str = "klines";

/// One cached series: provider, market, kind, symbol and interval (none for kinds
/// without one: `{provider}/{market}/funding/{SYMBOL}/{PERIOD}.arrow`).
///
/// Fields are public for reading; build keys with `SeriesKey::new`, which normalizes them.
/// The cache validates every key again before turning it into a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    /// Provider id, lowercase.
    pub provider: String,
    /// Market id, lowercase.
    pub market: String,
    /// What the series holds.
    pub kind: DataKind,
    /// Symbol, uppercase.
    pub symbol: String,
    /// Canonical interval name (`1m`, `1M`); empty for kinds without an interval.
    pub interval: String,
}

impl SeriesKey {
    /// Lowercase provider and market, uppercase symbol, canonical interval name (`1mo` -> `1M`).
    pub fn new(
        provider: &str,
        market: &str,
        symbol: &str,
        interval: &str,
    ) -> Result<SeriesKey, CacheError> {
        SeriesKey::of(DataKind::KLINES, provider, market, symbol, interval)
    }

    /// A key for a series of `kind`; `interval` is `""` for kinds without one.
    pub fn of(
        kind: DataKind,
        provider: &str,
        market: &str,
        symbol: &str,
        interval: &str,
    ) -> Result<SeriesKey, CacheError> {
        let interval = match kind.has_interval() {
            true => Interval::parse(interval)
                .map_err(|e| CacheError::InvalidKey(e.to_string()))?
                .to_string(),
            false => interval.to_string(),
        };
        let key = SeriesKey {
            provider: provider.trim().to_ascii_lowercase(),
            market: market.trim().to_ascii_lowercase(),
            kind,
            symbol: symbol.trim().to_ascii_uppercase(),
            interval,
        };
        key.validate()?;
        Ok(key)
    }

    /// The interval of a candle-shaped series (the key validated first).
    pub fn interval(&self) -> Result<Option<Interval>, CacheError> {
        self.validate()?;
        Ok(self
            .kind
            .has_interval()
            .then(|| Interval::parse(&self.interval).expect("validated")))
    }

    /// Checks every component.
    pub fn validate(&self) -> Result<(), CacheError> {
        let id_byte =
            |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
        check_name("provider", &self.provider, id_byte)?;
        check_name("market", &self.market, id_byte)?;
        check_symbol(&self.symbol)?;
        if !DataKind::ALL.contains(&self.kind) {
            return Err(CacheError::InvalidKey(format!(
                "unknown data kind {}",
                self.kind.0
            )));
        }
        if !self.kind.has_interval() {
            return match self.interval.is_empty() {
                true => Ok(()),
                false => Err(CacheError::InvalidKey(format!(
                    "{} series have no interval (got {:?})",
                    self.kind, self.interval
                ))),
            };
        }
        check_name("interval", &self.interval, |b| b.is_ascii_alphanumeric())?;
        let interval =
            Interval::parse(&self.interval).map_err(|e| CacheError::InvalidKey(e.to_string()))?;
        if interval.to_string() != self.interval {
            return Err(CacheError::InvalidKey(format!(
                "interval {:?} is not in canonical form ({interval})",
                self.interval
            )));
        }
        Ok(())
    }

    /// The period of this series' files (the key validated first), as its kind says.
    pub fn period(&self) -> Result<Period, CacheError> {
        Ok(crate::kinds::period_of(self.kind, self.interval()?))
    }

    /// The series' key prefix in a storage, `{provider}/{market}/{kind}/{SYMBOL}[/{interval}]/`
    /// (the key must have been validated).
    pub(crate) fn prefix(&self) -> String {
        let mut p = format!(
            "{}/{}/{}/{}/",
            self.provider,
            self.market,
            self.kind.name(),
            self.symbol
        );
        if !self.interval.is_empty() {
            p.push_str(&self.interval);
            p.push('/');
        }
        p
    }

    /// The series a storage key lies in and the key's file name; None when the key is in
    /// no series' place (too shallow or deep, or names that fail the key's checks).
    pub(crate) fn parse_key(key: &str) -> Option<(SeriesKey, &str)> {
        let parts: Vec<&str> = key.split('/').collect();
        let kind = *DataKind::ALL
            .iter()
            .find(|k| Some(&k.name()) == parts.get(2))?;
        let (interval, file) = match (kind.has_interval(), parts.as_slice()) {
            (true, [_, _, _, _, i, f]) => (i.to_string(), *f),
            (false, [_, _, _, _, f]) => (String::new(), *f),
            _ => return None,
        };
        let key = SeriesKey {
            provider: parts[0].to_string(),
            market: parts[1].to_string(),
            kind,
            symbol: parts[3].to_string(),
            interval,
        };
        key.validate().ok()?;
        Some((key, file))
    }

    /// The series directory below `root` (the key must have been validated).
    #[cfg(test)]
    pub(crate) fn dir_under(&self, root: &Path) -> PathBuf {
        let dir = root
            .join(&self.provider)
            .join(&self.market)
            .join(self.kind.name())
            .join(&self.symbol);
        match self.interval.is_empty() {
            true => dir,
            false => dir.join(&self.interval),
        }
    }
}

impl std::fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = self;
        match k.kind {
            DataKind::KLINES => {
                write!(f, "{}/{}/{}/{}", k.provider, k.market, k.symbol, k.interval)
            }
            _ if k.interval.is_empty() => {
                write!(f, "{}/{}/{}/{}", k.provider, k.market, k.kind, k.symbol)
            }
            _ => write!(
                f,
                "{}/{}/{}/{}/{}",
                k.provider, k.market, k.kind, k.symbol, k.interval
            ),
        }
    }
}

/// `^[A-Z0-9_-]{1,30}$`, as for requests.
pub(crate) fn check_symbol(symbol: &str) -> Result<(), CacheError> {
    check_name("symbol", symbol, is_symbol_byte)?;
    if symbol.len() > SYMBOL_MAX_LEN {
        return Err(CacheError::InvalidKey(format!(
            "symbol {symbol:?} is longer than {SYMBOL_MAX_LEN}"
        )));
    }
    Ok(())
}

/// 1 to 40 bytes, all allowed by `ok`: never empty, `.`, `..` or containing a separator.
fn check_name(what: &str, s: &str, ok: impl Fn(u8) -> bool) -> Result<(), CacheError> {
    if (1..=40).contains(&s.len()) && s.bytes().all(ok) {
        Ok(())
    } else {
        Err(CacheError::InvalidKey(format!(
            "{what} {s:?} is not valid for a cache path"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i64, m: u32, d: u32) -> i64 {
        days_from_civil(y, m, d) * DAY
    }

    #[test]
    fn periods_by_interval() {
        let p = |s| Period::for_interval(Interval::parse(s).unwrap());
        for s in ["1s", "1m", "15m", "1h", "12h"] {
            assert_eq!(p(s), Period::Day, "{s}");
        }
        for s in ["1d", "3d", "1w", "1M"] {
            assert_eq!(p(s), Period::Month, "{s}");
        }
    }

    #[test]
    fn day_math() {
        let t = day(2024, 2, 29) + 5 * 3_600_000 + 17;
        assert_eq!(Period::Day.start_of(t), day(2024, 2, 29));
        assert_eq!(Period::Day.next(day(2024, 2, 29)), day(2024, 3, 1));
        assert_eq!(Period::Day.file_name(t), "2024-02-29.arrow");
        assert_eq!(
            Period::Day.parse_file_name("2024-02-29.arrow"),
            Some(day(2024, 2, 29))
        );
        assert_eq!(Period::Day.start_of(-1), -DAY);
        assert!(Period::Day.is_start(day(1970, 1, 1)) && !Period::Day.is_start(1));
    }

    #[test]
    fn month_math() {
        let t = day(2023, 12, 31) + 23 * 3_600_000;
        assert_eq!(Period::Month.start_of(t), day(2023, 12, 1));
        assert_eq!(Period::Month.next(day(2023, 12, 1)), day(2024, 1, 1));
        assert_eq!(Period::Month.next(day(2024, 1, 1)), day(2024, 2, 1));
        assert_eq!(Period::Month.stem(t), "2023-12");
        assert_eq!(Period::Month.parse_stem("2024-02"), Some(day(2024, 2, 1)));
        assert!(!Period::Month.is_start(day(2024, 2, 2)));
    }

    #[test]
    fn odd_names_are_not_periods() {
        for name in [
            "2024-02-30.arrow",
            "2024-2-01.arrow",
            "2024-02-01.arrow.tmp",
            "x.arrow",
        ] {
            assert_eq!(Period::Day.parse_file_name(name), None, "{name}");
        }
        assert_eq!(Period::Month.parse_file_name("2024-01-01.arrow"), None);
        assert_eq!(Period::Month.parse_file_name("2024-13.arrow"), None);
    }

    #[test]
    fn keys_are_normalized_and_checked() {
        let k = SeriesKey::new("Binance", "SPOT", "btcusdt", "1mo").unwrap();
        assert_eq!(k.to_string(), "binance/spot/BTCUSDT/1M");
        for (p, m, s, i) in [
            ("binance", "spot", "../x", "1m"),
            ("binance", "spot", "BTC/USDT", "1m"),
            ("..", "spot", "BTCUSDT", "1m"),
            ("binance", "sp/ot", "BTCUSDT", "1m"),
            ("binance", "spot", "", "1m"),
            ("binance", "spot", "BTCUSDT", "../1m"),
        ] {
            assert!(SeriesKey::new(p, m, s, i).is_err(), "{p} {m} {s} {i}");
        }
        let raw = SeriesKey {
            provider: "binance".into(),
            market: "spot".into(),
            kind: DataKind::KLINES,
            symbol: "..".into(),
            interval: "1m".into(),
        };
        assert!(raw.validate().is_err());
    }

    #[test]
    fn kinds_have_their_directories() {
        let root = Path::new("/c");
        let k = SeriesKey::of(DataKind::FUNDING, "binance", "um", "btcusdt", "").unwrap();
        assert_eq!(
            k.dir_under(root),
            Path::new("/c/binance/um/funding/BTCUSDT")
        );
        assert_eq!(k.period().unwrap(), Period::Month);
        assert_eq!(k.to_string(), "binance/um/funding/BTCUSDT");
        assert!(SeriesKey::of(DataKind::FUNDING, "binance", "um", "BTCUSDT", "1m").is_err());
        let m = SeriesKey::of(DataKind::MARK, "binance", "um", "BTCUSDT", "1m").unwrap();
        assert_eq!(
            m.dir_under(root),
            Path::new("/c/binance/um/mark/BTCUSDT/1m")
        );
        assert!(SeriesKey::of(DataKind::MARK, "binance", "um", "BTCUSDT", "").is_err());
    }
}
