//! Funding rate rows as the host's sink requires them: ascending, unique, inside the range.

use dsm_sdk::{ErrorKind, FundingRate, ProviderError};

use crate::parse::Reordered;

/// Two rows say the same when every field has the same bits (NaN mark prices included).
fn same(a: &FundingRate, b: &FundingRate) -> bool {
    a.funding_time == b.funding_time
        && a.rate.to_bits() == b.rate.to_bits()
        && a.mark_price.to_bits() == b.mark_price.to_bits()
        && a.interval_ms == b.interval_ms
}

/// As [`crate::parse::ascending`] for candles: sort by funding time, drop exact repeats,
/// and refuse two DIFFERENT rows at one time (`INTEGRITY`, naming `place`).
pub fn ascending(rows: &mut Vec<FundingRate>, place: &str) -> Result<Reordered, ProviderError> {
    let mut out = Reordered::default();
    if rows
        .windows(2)
        .all(|w| w[0].funding_time < w[1].funding_time)
    {
        return Ok(out);
    }
    out.sorted = rows
        .windows(2)
        .any(|w| w[0].funding_time > w[1].funding_time);
    rows.sort_by_key(|r| r.funding_time);
    let before = rows.len();
    let mut conflict = None;
    rows.dedup_by(|later, kept| {
        if later.funding_time != kept.funding_time {
            return false;
        }
        if !same(later, kept) && conflict.is_none() {
            conflict = Some(kept.funding_time);
        }
        true
    });
    if let Some(t) = conflict {
        return Err(ProviderError::new(
            ErrorKind::INTEGRITY,
            format!(
                "{place}: two different funding rates at {t} (ms UTC); the data is \
                 inconsistent and is not used"
            ),
        ));
    }
    out.duplicates = before - rows.len();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(t: i64, rate: f64) -> FundingRate {
        FundingRate {
            funding_time: t,
            rate,
            mark_price: f64::NAN,
            interval_ms: 0,
        }
    }

    #[test]
    fn sorts_drops_repeats_with_nan_and_refuses_conflicts() {
        let mut rows = vec![r(2, 0.1), r(1, 0.1), r(2, 0.1)];
        let fixed = ascending(&mut rows, "p").unwrap();
        assert_eq!((fixed.sorted, fixed.duplicates), (true, 1));
        assert_eq!(
            rows.iter().map(|r| r.funding_time).collect::<Vec<_>>(),
            [1, 2]
        );
        let mut rows = vec![r(1, 0.1), r(1, 0.2)];
        let e = ascending(&mut rows, "GET u").unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert!(e
            .message
            .starts_with("GET u: two different funding rates at 1"));
        let mut rows = vec![r(1, 0.1), r(3, 0.1)];
        assert_eq!(ascending(&mut rows, "p").unwrap(), Reordered::default());
    }
}
