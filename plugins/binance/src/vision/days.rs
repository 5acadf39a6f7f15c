//! The UTC days of a range, for datasets Vision publishes a file a day (trades, aggregated
//! trades, metrics): each day's file, and whether it can be published yet.

use dsm_sdk::time::DAY_MS;

use super::fetch::Vision;
use super::paths::{Dated, VisionFile};

/// One day: `[start, start + DAY)` the file's, `[lo, hi)` the part asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub start: i64,
    pub lo: i64,
    pub hi: i64,
}

/// The days `[start_ms, end_ms)` touches, cut at its ends.
pub fn days(start_ms: i64, end_ms: i64) -> Vec<Day> {
    let mut out = Vec::new();
    let mut d = start_ms - start_ms.rem_euclid(DAY_MS);
    while d < end_ms {
        out.push(Day {
            start: d,
            lo: start_ms.max(d),
            hi: end_ms.min(d + DAY_MS),
        });
        d += DAY_MS;
    }
    out
}

impl Day {
    /// The day's file of the dataset `v` fetches.
    pub fn file(&self, v: &Vision) -> VisionFile {
        VisionFile::dataset(
            &v.base_url,
            v.market,
            v.dataset,
            &v.symbol,
            &Dated::Day(self.start),
        )
    }

    /// Why the file cannot be there yet at `now` (it is published after its day ends).
    pub fn unpublished(&self, file: &VisionFile, now: i64) -> Option<String> {
        (self.start + DAY_MS > now - now.rem_euclid(DAY_MS)).then(|| {
            format!(
                "not in the Binance Vision archive yet ({} is published after its day ends)",
                file.name
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_2024: i64 = 1_704_067_200_000;

    #[test]
    fn days_cut_at_the_range_ends() {
        let d = days(JAN_2024 + 5, JAN_2024 + DAY_MS + 7);
        assert_eq!(
            d,
            [
                Day {
                    start: JAN_2024,
                    lo: JAN_2024 + 5,
                    hi: JAN_2024 + DAY_MS
                },
                Day {
                    start: JAN_2024 + DAY_MS,
                    lo: JAN_2024 + DAY_MS,
                    hi: JAN_2024 + DAY_MS + 7
                },
            ]
        );
        assert!(days(JAN_2024, JAN_2024).is_empty());
    }
}
