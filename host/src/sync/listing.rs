//! The symbols a glob or `all` is expanded over: the market's listing ([`Dsm::symbols`]),
//! the archive's delisted symbols included, kept to those with data in the sync's range.

use std::collections::BTreeMap;

use dsm_sdk::DataKind;

use crate::error::Result;
use crate::manager::Dsm;
use crate::symbols::{SymbolQuery, SymbolRow};
use crate::sync::spec::SyncSpec;

const DAY_MS: i64 = 86_400_000;

/// What a market lists for a sync.
#[derive(Debug, Default, Clone)]
pub(crate) struct Listed {
    /// The symbols with data in the range, sorted.
    pub symbols: Vec<String>,
    /// For symbols the exchange no longer trades (only the archive has them): their first
    /// day and the end of their last, `[first, end)`; their series are kept to it, since
    /// the exchange's REST API no longer knows them.
    pub archive_only: BTreeMap<String, (i64, i64)>,
}

/// The symbols of `dsm`'s market with data in `[start, end)` for the spec's first kind:
/// where the archive lists days, those whose first..last day meets the range; otherwise the
/// exchange's instruments listed before `end` and not delivered before `start`.
pub(crate) fn listed_in_range(dsm: &Dsm, spec: &SyncSpec, start: i64, end: i64) -> Result<Listed> {
    let kind = spec
        .kinds
        .first()
        .and_then(|k| DataKind::parse(k))
        .unwrap_or(DataKind::KLINES);
    let archive = dsm.market().offer(kind).is_some_and(|o| o.archive);
    let query = match archive {
        true => SymbolQuery {
            kind: Some(kind),
            interval: kind
                .has_interval()
                .then(|| spec.intervals.first().cloned())
                .flatten(),
            include_archive: true,
            refresh: false,
        },
        false => SymbolQuery::default(),
    };
    let listing = dsm.symbols(&query)?;
    for w in &listing.warnings {
        tracing::warn!(
            "symbol listing of {} {}: {w}",
            dsm.provider(),
            dsm.market().id
        );
    }
    let mut out = Listed::default();
    for r in listing.rows.iter().filter(|r| has_data_in(r, start, end)) {
        out.symbols.push(r.symbol.clone());
        // Not trading (gone from the exchange, or kept there with another status such as
        // Binance's BREAK): its REST history may be gone too; the archive's is not.
        let trading = r.on_exchange
            && r.status
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case("TRADING"));
        if let (false, Some(first), Some(last)) = (trading, r.first_day_ms, r.last_day_ms) {
            out.archive_only
                .insert(r.symbol.clone(), (first, last + DAY_MS));
        }
    }
    Ok(out)
}

fn has_data_in(r: &SymbolRow, start: i64, end: i64) -> bool {
    match (r.first_day_ms, r.last_day_ms) {
        (Some(first), Some(last)) => first < end && last + DAY_MS > start,
        _ => {
            r.on_exchange
                && r.listed_ms.is_none_or(|l| l < end)
                && r.delivery_ms.is_none_or(|d| d > start)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_days_or_listing_dates_decide() {
        let day = |d: i64| d * DAY_MS;
        let delisted = SymbolRow {
            symbol: "LUNAUSDT".into(),
            first_day_ms: Some(day(10)),
            last_day_ms: Some(day(20)),
            ..SymbolRow::default()
        };
        assert!(
            has_data_in(&delisted, day(20), day(30)),
            "its last day is in"
        );
        assert!(!has_data_in(&delisted, day(21), day(30)));
        assert!(!has_data_in(&delisted, day(0), day(10)));
        let trading = SymbolRow {
            symbol: "BTC-USDT".into(),
            on_exchange: true,
            listed_ms: Some(day(5)),
            ..SymbolRow::default()
        };
        assert!(has_data_in(&trading, day(0), day(6)));
        assert!(
            !has_data_in(&trading, day(0), day(5)),
            "listed after the range"
        );
        let archive_only = SymbolRow {
            symbol: "X".into(),
            ..SymbolRow::default()
        };
        assert!(!has_data_in(&archive_only, 0, day(100)));
    }
}
