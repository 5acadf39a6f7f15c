//! Binance Vision names: where a market's kline files live and what they are called
//! (docs/wire-formats.md section 1).
//!
//! ```text
//! {base}/data/{spot|futures/um|futures/cm}/{daily|monthly}/klines/{SYMBOL}/{iv}/
//!     daily:   {SYMBOL}-{iv}-{YYYY-MM-DD}.zip     monthly: {SYMBOL}-{iv}-{YYYY-MM}.zip
//!     checksum: {zip name}.CHECKSUM;  inside the zip: {SYMBOL}-{iv}-{date}.csv
//! ```
//!
//! Vision writes `1mo` where dsm and REST write `1M`. Mark, index and premium index klines
//! live beside `klines` (`markPriceKlines`, `indexPriceKlines`, `premiumIndexKlines`; index
//! files are named by the pair, see [`Series::instrument`]). Funding rates are monthly only:
//! `futures/{um|cm}/monthly/fundingRate/{SYMBOL}/{SYMBOL}-fundingRate-{YYYY-MM}.zip`;
//! trades, aggregated trades and metrics the same way ([`VisionFile::dataset`]).

use dsm_plugin_kit::calendar::Date;

use crate::markets::Market;
use crate::series::Series;

/// Default base URL; the host passes `DSM_BINANCE_VISION_URL` as endpoint `vision`.
pub const DEFAULT_BASE_URL: &str = "https://data.binance.vision";

pub(crate) fn market_dir(market: Market) -> &'static str {
    match market {
        Market::Spot => "spot",
        Market::Um => "futures/um",
        Market::Cm => "futures/cm",
    }
}

/// The interval as Vision spells it.
pub fn vision_interval(interval: &str) -> &str {
    if interval == "1M" {
        "1mo"
    } else {
        interval
    }
}

/// Intervals Vision publishes as monthly files only (no daily files).
pub fn monthly_only(interval: &str) -> bool {
    matches!(interval, "3d" | "1w" | "1M")
}

/// What names a candle file: the series, the symbol and the dsm interval.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub series: Series,
    pub symbol: &'a str,
    pub interval: &'a str,
}

/// Which file of a dataset: the UTC day or the month holding a time.
#[derive(Debug, Clone, Copy)]
pub enum Dated {
    Day(i64),
    Month(i64),
}

/// One archive file: its zip's URL and bare name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisionFile {
    pub url: String,
    /// Bare zip file name, e.g. `BTCUSDT-1m-2024-01-01.zip`.
    pub name: String,
}

impl VisionFile {
    fn new(base: &str, market: Market, period: &str, s: &Names<'_>, date: String) -> Self {
        let iv = vision_interval(s.interval);
        let sym = s.series.instrument(s.symbol);
        let name = format!("{sym}-{iv}-{date}.zip");
        let url = format!(
            "{base}/data/{}/{period}/{}/{sym}/{iv}/{name}",
            market_dir(market),
            s.series.vision_dir()
        );
        VisionFile { url, name }
    }

    /// The daily file of the UTC day holding `day_ms`.
    pub fn daily(base: &str, market: Market, s: &Names<'_>, day_ms: i64) -> Self {
        let date = Date::of_ms(day_ms).ymd();
        VisionFile::new(base, market, "daily", s, date)
    }

    /// The monthly file of the month holding `month_ms`.
    pub fn monthly(base: &str, market: Market, s: &Names<'_>, month_ms: i64) -> Self {
        let date = Date::of_ms(month_ms).ym();
        VisionFile::new(base, market, "monthly", s, date)
    }

    /// A file of a dataset named by symbol and date only (no interval):
    /// `data/{market}/{daily|monthly}/{word}/{SYMBOL}/{SYMBOL}-{word}-{date}.zip`, e.g.
    /// `fundingRate`, `aggTrades`, `trades`, `metrics`.
    pub fn dataset(base: &str, market: Market, word: &str, symbol: &str, date: &Dated) -> Self {
        let (period, date) = match date {
            Dated::Day(t) => ("daily", Date::of_ms(*t).ymd()),
            Dated::Month(t) => ("monthly", Date::of_ms(*t).ym()),
        };
        let name = format!("{symbol}-{word}-{date}.zip");
        let url = format!(
            "{base}/data/{}/{period}/{word}/{symbol}/{name}",
            market_dir(market)
        );
        VisionFile { url, name }
    }

    /// The monthly funding rate file of the month holding `month_ms` (futures only).
    pub fn funding(base: &str, market: Market, symbol: &str, month_ms: i64) -> Self {
        VisionFile::dataset(base, market, "fundingRate", symbol, &Dated::Month(month_ms))
    }

    pub fn checksum_url(&self) -> String {
        format!("{}.CHECKSUM", self.url)
    }

    /// The CSV inside the zip.
    pub fn entry(&self) -> String {
        format!("{}.csv", self.name.trim_end_matches(".zip"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "https://data.binance.vision";
    const OCT_27_2023: i64 = 1_698_364_800_000;

    fn k<'a>(symbol: &'a str, interval: &'a str) -> Names<'a> {
        Names {
            series: Series::Klines,
            symbol,
            interval,
        }
    }

    #[test]
    fn documented_examples() {
        let jan = 1_704_067_200_000;
        let f = VisionFile::daily(B, Market::Spot, &k("BTCUSDT", "1m"), jan + 5);
        assert_eq!(
            f.url,
            "https://data.binance.vision/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip"
        );
        assert_eq!(f.name, "BTCUSDT-1m-2024-01-01.zip");
        assert_eq!(f.entry(), "BTCUSDT-1m-2024-01-01.csv");
        assert_eq!(f.checksum_url(), format!("{}.CHECKSUM", f.url));
        let f = VisionFile::monthly(B, Market::Um, &k("BTCUSDT", "1h"), jan + 86_400_000 * 3);
        assert_eq!(
            f.url,
            "https://data.binance.vision/data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01.zip"
        );
        let f = VisionFile::daily(B, Market::Cm, &k("BTCUSD_PERP", "1h"), OCT_27_2023);
        assert_eq!(
            f.url,
            "https://data.binance.vision/data/futures/cm/daily/klines/BTCUSD_PERP/1h/BTCUSD_PERP-1h-2023-10-27.zip"
        );
        let f = VisionFile::monthly(B, Market::Spot, &k("ETHUSDT", "1M"), jan);
        assert_eq!(f.name, "ETHUSDT-1mo-2024-01.zip");
        assert!(f.url.contains("/monthly/klines/ETHUSDT/1mo/"));
    }

    #[test]
    fn other_kinds_paths() {
        let jan = 1_704_067_200_000;
        let n = |series, symbol| Names {
            series,
            symbol,
            interval: "1h",
        };
        let f = VisionFile::daily(B, Market::Um, &n(Series::Mark, "BTCUSDT"), jan);
        assert_eq!(
            f.url,
            "https://data.binance.vision/data/futures/um/daily/markPriceKlines/BTCUSDT/1h/BTCUSDT-1h-2024-01-01.zip"
        );
        let f = VisionFile::monthly(B, Market::Cm, &n(Series::Index, "BTCUSD_PERP"), jan);
        assert_eq!(
            f.url,
            "https://data.binance.vision/data/futures/cm/monthly/indexPriceKlines/BTCUSD/1h/BTCUSD-1h-2024-01.zip"
        );
        assert_eq!(f.entry(), "BTCUSD-1h-2024-01.csv");
        let f = VisionFile::daily(B, Market::Cm, &n(Series::Premium, "ETHUSD_PERP"), jan);
        assert!(f
            .url
            .ends_with("/daily/premiumIndexKlines/ETHUSD_PERP/1h/ETHUSD_PERP-1h-2024-01-01.zip"));
        let f = VisionFile::funding(B, Market::Um, "BTCUSDT", jan + 5);
        assert_eq!(
            f.url,
            "https://data.binance.vision/data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.zip"
        );
        assert_eq!(f.entry(), "BTCUSDT-fundingRate-2024-01.csv");
        let f = VisionFile::dataset(B, Market::Spot, "aggTrades", "BTCUSDT", &Dated::Day(jan));
        assert_eq!(
            f.url,
            "https://data.binance.vision/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-01.zip"
        );
        let f = VisionFile::dataset(B, Market::Cm, "metrics", "BTCUSD_PERP", &Dated::Day(jan));
        assert!(f
            .url
            .ends_with("/futures/cm/daily/metrics/BTCUSD_PERP/BTCUSD_PERP-metrics-2024-01-01.zip"));
    }

    #[test]
    fn monthly_only_intervals() {
        for iv in ["3d", "1w", "1M"] {
            assert!(monthly_only(iv));
        }
        for iv in ["1s", "1m", "12h", "1d"] {
            assert!(!monthly_only(iv));
        }
    }
}
