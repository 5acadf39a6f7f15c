//! The lockfile of a sync: each series, its range, and each cached period with the
//! checksum its cache file carries (xxh3 of the file, checked on every read) and where its
//! rows came from. Sorted and written the same way every time, so two syncs of the same
//! data give the same bytes; `dsm sync --locked` compares the cache against it.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::cache::SeriesKey;
use crate::error::{DsmError, Result};
use crate::kinds::period_of;
use crate::report::Source;
use crate::sync::run::{SeriesResult, SyncPlan};
use crate::timeparse::format_time;

/// The format's version, the file's first key.
const VERSION: u32 = 1;

/// A whole lockfile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lockfile {
    /// Every series, sorted by id.
    pub series: Vec<LockedSeries>,
}

/// One series of a lockfile.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedSeries {
    /// `provider/market/kind/SYMBOL[/interval]`.
    pub id: String,
    /// The range, RFC 3339.
    pub start: String,
    /// End (exclusive), RFC 3339.
    pub end: String,
    /// Every cached period of the range, in order.
    pub periods: Vec<LockedPeriod>,
}

/// One period of a locked series.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedPeriod {
    /// The period as its cache file is named (`2024-01-01`, `2024-01`).
    pub period: String,
    /// The cache file's xxh3, 16 hex digits.
    pub checksum: String,
    /// Where the rows came from: `archive`, `rest`, or `cache` when they were already
    /// cached before any lockfile said where from.
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    version: u32,
    #[serde(default)]
    series: Vec<SeriesForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesForm {
    id: String,
    start: String,
    end: String,
    #[serde(default)]
    periods: Vec<[String; 3]>,
}

impl Lockfile {
    /// The lockfile of `results`: every period of each series' range that is in the cache,
    /// with its checksum. A period served from the cache keeps the source `previous` gave it
    /// (same checksum), so re-running a sync does not rewrite where data came from.
    pub fn build(
        plan: &SyncPlan,
        results: &[SeriesResult],
        previous: Option<&Lockfile>,
    ) -> Result<Lockfile> {
        let before: BTreeMap<(&str, &str), &LockedPeriod> = previous
            .map(|l| l.series.iter())
            .into_iter()
            .flatten()
            .flat_map(|s| {
                s.periods
                    .iter()
                    .map(move |p| ((s.id.as_str(), p.period.as_str()), p))
            })
            .collect();
        let mut series = Vec::new();
        for r in results {
            let Some(cache) = plan.manager(&r.id.market).and_then(|d| d.cache()) else {
                continue;
            };
            let id = r.id.to_string();
            let key = SeriesKey::of(
                r.id.kind,
                &r.id.provider,
                &r.id.market,
                &r.id.symbol,
                &r.id.interval,
            )
            .map_err(DsmError::from)?;
            let iv = crate::interval::Interval::parse(&r.id.interval).ok();
            let period = period_of(r.id.kind, iv);
            let sources: BTreeMap<i64, Source> = r.periods.iter().copied().collect();
            let mut periods = Vec::new();
            let mut p = period.start_of(r.range.0);
            while p < r.range.1 {
                if let Some(checksum) = cache.stored_checksum(&key, p).map_err(DsmError::from)? {
                    let stem = period.stem(p);
                    let kept = before
                        .get(&(id.as_str(), stem.as_str()))
                        .filter(|old| old.checksum == checksum)
                        .map(|old| old.source.clone());
                    let source = match sources.get(&p) {
                        Some(Source::Cache) | None => kept.unwrap_or_else(|| "cache".into()),
                        Some(s) => s.name().to_string(),
                    };
                    periods.push(LockedPeriod {
                        period: stem,
                        checksum,
                        source,
                    });
                }
                p = period.next(p);
            }
            series.push(LockedSeries {
                id,
                start: format_time(r.range.0),
                end: format_time(r.range.1),
                periods,
            });
        }
        series.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Lockfile { series })
    }

    /// The file's text: TOML, sorted, one period a line.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# dsm sync lockfile: every cached period of each series, with the xxh3 checksum\n\
             # its cache file carries and where its rows came from. `dsm sync --locked` checks\n\
             # the cache against it.\nversion = {VERSION}\n"
        );
        for s in &self.series {
            out.push_str(&format!(
                "\n[[series]]\nid = {:?}\nstart = {:?}\nend = {:?}\nperiods = [\n",
                s.id, s.start, s.end
            ));
            for p in &s.periods {
                out.push_str(&format!(
                    "  [{:?}, {:?}, {:?}],\n",
                    p.period, p.checksum, p.source
                ));
            }
            out.push_str("]\n");
        }
        out
    }

    /// A lockfile's text; `source` names the file in errors.
    pub fn parse(text: &str, source: &str) -> Result<Lockfile> {
        let form: FileForm = toml::from_str(text).map_err(|e| {
            DsmError::InvalidInput(format!(
                "{source}: not a dsm sync lockfile: {}",
                e.message()
            ))
        })?;
        if form.version != VERSION {
            return Err(DsmError::InvalidInput(format!(
                "{source}: lockfile version {} (this dsm reads {VERSION})",
                form.version
            )));
        }
        let series = form
            .series
            .into_iter()
            .map(|s| LockedSeries {
                id: s.id,
                start: s.start,
                end: s.end,
                periods: s
                    .periods
                    .into_iter()
                    .map(|[period, checksum, source]| LockedPeriod {
                        period,
                        checksum,
                        source,
                    })
                    .collect(),
            })
            .collect();
        Ok(Lockfile { series })
    }

    /// Every way `actual` differs from this lockfile, one line each (empty: they match).
    pub fn diff(&self, actual: &Lockfile) -> Vec<String> {
        let now: BTreeMap<&str, &LockedSeries> =
            actual.series.iter().map(|s| (s.id.as_str(), s)).collect();
        let mut out = Vec::new();
        for want in &self.series {
            let Some(got) = now.get(want.id.as_str()) else {
                out.push(format!("{}: in the lockfile, not in this sync", want.id));
                continue;
            };
            if (&want.start, &want.end) != (&got.start, &got.end) {
                out.push(format!(
                    "{}: lockfile range {} .. {}, this sync {} .. {}",
                    want.id, want.start, want.end, got.start, got.end
                ));
            }
            let have: BTreeMap<&str, &LockedPeriod> =
                got.periods.iter().map(|p| (p.period.as_str(), p)).collect();
            for p in &want.periods {
                match have.get(p.period.as_str()) {
                    None => out.push(format!(
                        "{} {}: lockfile {} ({}), not in the cache",
                        want.id, p.period, p.checksum, p.source
                    )),
                    Some(h) if h.checksum != p.checksum => out.push(format!(
                        "{} {}: lockfile {} ({}), cache {}",
                        want.id, p.period, p.checksum, p.source, h.checksum
                    )),
                    Some(_) => {}
                }
            }
            let locked: std::collections::BTreeSet<&str> =
                want.periods.iter().map(|p| p.period.as_str()).collect();
            for p in got
                .periods
                .iter()
                .filter(|p| !locked.contains(p.period.as_str()))
            {
                out.push(format!(
                    "{} {}: cache {}, not in the lockfile",
                    want.id, p.period, p.checksum
                ));
            }
        }
        let locked: std::collections::BTreeSet<&str> =
            self.series.iter().map(|s| s.id.as_str()).collect();
        for s in actual
            .series
            .iter()
            .filter(|s| !locked.contains(s.id.as_str()))
        {
            out.push(format!("{}: in this sync, not in the lockfile", s.id));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(checksum: &str) -> Lockfile {
        Lockfile {
            series: vec![LockedSeries {
                id: "binance/spot/klines/BTCUSDT/1h".into(),
                start: "2024-01-01T00:00:00Z".into(),
                end: "2024-01-03T00:00:00Z".into(),
                periods: vec![
                    LockedPeriod {
                        period: "2024-01-01".into(),
                        checksum: "00000000000000aa".into(),
                        source: "archive".into(),
                    },
                    LockedPeriod {
                        period: "2024-01-02".into(),
                        checksum: checksum.into(),
                        source: "rest".into(),
                    },
                ],
            }],
        }
    }

    #[test]
    fn the_text_parses_back_to_the_same_lockfile() {
        let l = lock("00000000000000bb");
        let text = l.to_toml();
        assert_eq!(Lockfile::parse(&text, "x.lock").unwrap(), l);
        assert_eq!(Lockfile::parse(&text, "x.lock").unwrap().to_toml(), text);
        let e = Lockfile::parse("version = 9\n", "x.lock").unwrap_err();
        assert!(e.to_string().contains("version 9"), "{e}");
    }

    #[test]
    fn a_changed_or_missing_period_is_named() {
        let want = lock("00000000000000bb");
        assert!(want.diff(&want).is_empty());
        let d = want.diff(&lock("00000000000000cc"));
        assert_eq!(
            d,
            ["binance/spot/klines/BTCUSDT/1h 2024-01-02: lockfile 00000000000000bb (rest), cache 00000000000000cc"]
        );
        let mut short = want.clone();
        short.series[0].periods.pop();
        let d = want.diff(&short);
        assert!(d[0].ends_with("not in the cache"), "{d:?}");
        assert!(want.diff(&Lockfile::default())[0].contains("not in this sync"));
    }
}
