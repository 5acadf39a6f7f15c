//! The Vision archive's own listing (wire-formats-datasets.md section 5.2): a dataset's
//! symbol directories (delisted symbols included) and, per symbol, the first and last
//! published day. Dates: the monthly listing gives the first and last month; one daily page
//! from a marker at the first month gives the first day, and the daily listing from the
//! last month to its end gives the last day. Series published monthly only (3d, 1w, 1M,
//! funding rates) are dated by month: the first month's first day, the last month's last.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dsm_plugin_kit::calendar::DAY_MS;
use dsm_plugin_kit::{Concurrency, HttpClient};
use dsm_sdk::{calendar, ErrorKind, ProviderError};

use super::s3::{Bucket, BUCKET_PATH};
use crate::markets::Market;
use crate::vision::paths::{market_dir, vision_interval};

/// At most this many symbol directories in one dataset (spot has some 3000).
pub const MAX_SYMBOLS: usize = 50_000;

/// What one archive listing shares across its concurrent tasks.
pub struct Archive {
    pub http: Arc<HttpClient>,
    /// The S3 host (endpoint `vision_listing`), no trailing slash.
    pub host_url: String,
    pub market: Market,
    pub kind: dsm_sdk::DataKind,
    /// Vision's dataset directory: `klines`, `markPriceKlines`, `aggTrades`, ...
    pub dataset: &'static str,
    /// The dsm interval, empty for datasets without one.
    pub interval: String,
    /// Dated by month only (no daily files).
    pub monthly_only: bool,
    pub requests: AtomicU64,
    pub slots: Arc<Concurrency>,
}

/// First and last published day (day starts, ms UTC), if any file exists.
pub type Days = Option<(i64, i64)>;

impl Archive {
    fn bucket(&self) -> Bucket<'_> {
        Bucket {
            http: &self.http,
            url: format!("{}{BUCKET_PATH}", self.host_url),
            counter: &self.requests,
            slots: &self.slots,
        }
    }

    fn dir(&self, period: &str) -> String {
        format!(
            "data/{}/{period}/{}/",
            market_dir(self.market),
            self.dataset
        )
    }

    /// The symbol directories of the dataset (daily ones, or monthly when it has no daily
    /// files), sorted.
    pub async fn symbols(&self) -> Result<Vec<String>, ProviderError> {
        let dir = self.dir(if self.monthly_only {
            "monthly"
        } else {
            "daily"
        });
        let (_, prefixes) = self.bucket().list(&dir, "", |_| false).await?;
        let mut names: Vec<String> = prefixes
            .iter()
            .filter_map(|p| p.strip_prefix(&dir)?.strip_suffix('/'))
            .filter(|s| dsm_sdk::symbol::is_valid_symbol(s))
            .map(str::to_string)
            .collect();
        if names.len() > MAX_SYMBOLS {
            return Err(ProviderError::new(
                ErrorKind::INTEGRITY,
                format!(
                    "the Binance Vision listing of {dir} names {} symbols, more than \
                     {MAX_SYMBOLS}: refused",
                    names.len()
                ),
            ));
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// `data/.../{period}/{dataset}/{SYMBOL}/[{iv}/]`
    fn series_dir(&self, period: &str, symbol: &str) -> String {
        let mut dir = format!("{}{symbol}/", self.dir(period));
        if !self.interval.is_empty() {
            dir += &format!("{}/", vision_interval(&self.interval));
        }
        dir
    }

    /// The first and last published day of `symbol`.
    pub async fn days(&self, symbol: &str) -> Result<Days, ProviderError> {
        let bucket = self.bucket();
        let monthly_dir = self.series_dir("monthly", symbol);
        let (keys, _) = bucket.list(&monthly_dir, "", |_| false).await?;
        let months: Vec<(i64, String)> = keys.iter().filter_map(|k| dated(k, true)).collect();
        let daily_dir = self.series_dir("daily", symbol);
        let (first_month, last_month) = match (months.first(), months.last()) {
            (Some(f), Some(l)) => (f, l),
            _ if self.monthly_only => return Ok(None),
            // No monthly files (a new symbol, or monthly uploads stopped): daily only.
            _ => {
                let (keys, _) = bucket.list(&daily_dir, "", |_| false).await?;
                let days: Vec<i64> = keys
                    .iter()
                    .filter_map(|k| dated(k, false))
                    .map(|d| d.0)
                    .collect();
                return Ok(days.first().zip(days.last()).map(|(a, b)| (*a, *b)));
            }
        };
        let month_end = |m: i64| calendar::next_month_start(m) - DAY_MS;
        if self.monthly_only {
            return Ok(Some((first_month.0, month_end(last_month.0))));
        }
        // `{dir}{SYMBOL}-{iv}-{YYYY-MM}` sorts right before that month's first daily file.
        let marker = |m: &(i64, String)| format!("{daily_dir}{}", m.1);
        let first_page = bucket.page(&daily_dir, &marker(first_month)).await?;
        let first_daily = first_page.keys.iter().find_map(|k| dated(k, false));
        let first = match first_daily {
            Some((d, _)) if d < calendar::next_month_start(first_month.0) => d,
            _ => first_month.0,
        };
        let (tail, _) = bucket
            .list(&daily_dir, &marker(last_month), |_| false)
            .await?;
        // No daily file from the last month on: the monthly file is the last word.
        let last = tail
            .iter()
            .rev()
            .find_map(|k| dated(k, false))
            .map_or(month_end(last_month.0), |d| d.0);
        Ok(Some((first, last.max(first))))
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// The period start of a zip key (`...-2024-01-02.zip` daily, `...-2024-01.zip` monthly)
/// and the key's file-name stem before the date (`{SYMBOL}-{iv}-YYYY-MM` for markers);
/// `None` for CHECKSUM files and other names.
fn dated(key: &str, monthly: bool) -> Option<(i64, String)> {
    let name = key.rsplit('/').next()?.strip_suffix(".zip")?;
    let len = if monthly { 7 } else { 10 };
    let split = name.len().checked_sub(len)?;
    let (stem, date) = (name.get(..split)?, name.get(split..)?);
    if !stem.ends_with('-') {
        return None;
    }
    let num = |s: &str| {
        s.parse::<i64>()
            .ok()
            .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
    };
    let parts: Vec<&str> = date.split('-').collect();
    let (y, m, d) = match parts.as_slice() {
        [y, m] if monthly => (num(y)?, num(m)?, 1),
        [y, m, d] if !monthly => (num(y)?, num(m)?, num(d)?),
        _ => return None,
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let day = calendar::days_from_civil(y, m as u32, d as u32) * DAY_MS;
    let month = format!("{stem}{}", &date[..7]);
    Some((day, month))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_dated_by_their_names() {
        let jan2 = 1_704_153_600_000;
        let (day, stem) = dated("d/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip", false).unwrap();
        assert_eq!((day, stem.as_str()), (jan2, "BTCUSDT-1m-2024-01"));
        let (month, stem) = dated("m/BTCUSDT-fundingRate-2024-01.zip", true).unwrap();
        assert_eq!(
            (month, stem.as_str()),
            (jan2 - DAY_MS, "BTCUSDT-fundingRate-2024-01")
        );
        for bad in [
            "d/BTCUSDT-1m-2024-01-02.zip.CHECKSUM",
            "d/BTCUSDT-1m-2024-13-02.zip",
            "d/BTCUSDT-1m-2024-1-022.zip",
            "d/x.zip",
        ] {
            assert!(dated(bad, false).is_none(), "{bad}");
        }
        assert!(dated("d/BTCUSDT-1m-2024-01-02.zip", true).is_none());
    }
}
