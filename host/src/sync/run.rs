//! Running a sync: the series on a few worker threads, each through the normal failover
//! (cache, archive, REST: only what the cache lacks is fetched), one failure never
//! stopping the others. The managers are one per market and shared by every worker, so
//! every series of a market draws on the plugin's one rate budget per host.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::config::DsmConfig;
use crate::error::{DsmError, Result};
use crate::manager::Dsm;
use crate::manager_kinds::KindRequest;
use crate::report::{Gap, Source};
use crate::sync::listing::{listed_in_range, Listed};
use crate::sync::plan::{needs_listing, plan, SeriesId, Shard};
use crate::sync::spec::SyncSpec;

/// Workers when none is asked for: a few series at once; the rate budget, not the number
/// of workers, bounds what a host is sent.
pub const DEFAULT_WORKERS: usize = 4;

/// A sync ready to run: its series (expanded, sharded, checked) and a manager per market.
pub struct SyncPlan {
    /// The series, sorted.
    pub series: Vec<SeriesId>,
    requests: Vec<KindRequest>,
    managers: BTreeMap<String, Dsm>,
}

/// What became of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesResult {
    /// Which series.
    pub id: SeriesId,
    /// The range fetched, `[start, end)` ms (the end clipped to now).
    pub range: (i64, i64),
    /// Rows served (from every source).
    pub rows: u64,
    /// (period start, source) of every period that served rows, in order.
    pub periods: Vec<(i64, Source)>,
    /// What is missing and why.
    pub gaps: Vec<Gap>,
    /// HTTP requests made for this series.
    pub requests: u64,
    /// Why the series failed, if it did (the periods finished before stay cached).
    pub error: Option<String>,
}

impl SeriesResult {
    /// How many periods came from `source`.
    pub fn periods_from(&self, source: Source) -> usize {
        self.periods.iter().filter(|(_, s)| *s == source).count()
    }
}

/// What a running sync reports, from its worker threads.
#[derive(Debug)]
pub enum SyncEvent<'a> {
    /// Series `index` started.
    Started {
        /// Into [`SyncPlan::series`].
        index: usize,
    },
    /// Request-level progress of series `index`: `done_ms` of `total_ms`.
    Progress {
        /// Into [`SyncPlan::series`].
        index: usize,
        /// Fetched or read so far.
        done_ms: i64,
        /// The series' range.
        total_ms: i64,
    },
    /// A period of series `index` is done.
    Period {
        /// Into [`SyncPlan::series`].
        index: usize,
        /// Where its rows came from.
        source: Source,
        /// How many.
        rows: usize,
    },
    /// Series `index` ended.
    Finished {
        /// Into [`SyncPlan::series`].
        index: usize,
        /// Its result.
        result: &'a SeriesResult,
    },
}

impl SyncPlan {
    /// Expand `spec` (see [`plan`]; globs and `all` over each market's symbol listing,
    /// kept to the symbols with data in the range), keep `shard`'s
    /// series, make a manager per market with `config_of(market)` and check every request
    /// against its market (bad symbols, intervals, kinds or times are errors before anything
    /// is fetched). The cache is always read first (`DsmConfig::cache_first`): the spec's
    /// `source` says which network source fills what it lacks.
    pub fn new(
        spec: &SyncSpec,
        shard: Option<Shard>,
        config_of: &dyn Fn(&str) -> Result<DsmConfig>,
    ) -> Result<SyncPlan> {
        let mut managers = BTreeMap::new();
        for market in &spec.markets {
            let mut config = config_of(market)?;
            if !config.cache_enabled {
                return Err(DsmError::InvalidInput(
                    "a sync fills the cache: it cannot run with the cache off (DSM_NO_CACHE)"
                        .into(),
                ));
            }
            // `source` names the network source; what is cached is never fetched again.
            config.cache_first = true;
            let dsm = Dsm::create_with_config(config)?;
            managers.insert(market.trim().to_ascii_lowercase(), dsm);
        }
        let start = crate::timeparse::parse_time(&spec.start)?;
        let end = crate::timeparse::parse_time(&spec.end)?.min(crate::request::now_ms());
        // Globs and `all` are expanded over each market's listing (asked for only then).
        let mut listed = BTreeMap::new();
        if spec.symbols.iter().any(|p| needs_listing(p)) {
            for (market, dsm) in &managers {
                listed.insert(market.clone(), listed_in_range(dsm, spec, start, end)?);
            }
        }
        let known = |m: &str| {
            listed
                .get(&m.trim().to_ascii_lowercase())
                .map(|l: &Listed| l.symbols.clone())
        };
        let mut series = Vec::new();
        let mut requests = Vec::new();
        for mut id in plan(spec, &known)? {
            if shard.is_some_and(|s| !s.owns(&id)) {
                continue;
            }
            let dsm = &managers[&id.market];
            let span = listed
                .get(&id.market)
                .and_then(|l| l.archive_only.get(&id.symbol));
            let (s, e) = span.map_or((start, end), |&(f, l)| (start.max(f), end.min(l)));
            let req = dsm.kind_request(id.kind, &id.symbol, &id.interval, s, e)?;
            id.market = dsm.market().id.clone(); // canonical (aliases resolved)
            id.interval = req.interval_name.clone();
            series.push(id);
            requests.push(req);
        }
        let managers = managers
            .into_values()
            .map(|d| (d.market().id.clone(), d))
            .collect();
        Ok(SyncPlan {
            series,
            requests,
            managers,
        })
    }

    /// The manager of `market` (canonical id).
    pub fn manager(&self, market: &str) -> Option<&Dsm> {
        self.managers.get(market)
    }

    /// The validated request of series `index`.
    pub fn request(&self, index: usize) -> &KindRequest {
        &self.requests[index]
    }

    /// Stop every series in flight; those not started fail as cancelled.
    pub fn cancel(&self) {
        self.managers.values().for_each(Dsm::cancel);
    }

    /// Run every series on `workers` threads (at least 1), reporting to `on_event`; one
    /// result per series, in the order of [`SyncPlan::series`].
    pub fn run(
        &self,
        workers: usize,
        on_event: &(dyn Fn(SyncEvent<'_>) + Sync),
    ) -> Vec<SeriesResult> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<SeriesResult>>> =
            Mutex::new(self.series.iter().map(|_| None).collect());
        std::thread::scope(|s| {
            for _ in 0..workers.clamp(1, self.series.len().max(1)) {
                s.spawn(|| loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= self.series.len() {
                        return;
                    }
                    on_event(SyncEvent::Started { index });
                    let result = self.run_one(index, on_event);
                    on_event(SyncEvent::Finished {
                        index,
                        result: &result,
                    });
                    results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(result);
                });
            }
        });
        let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        results
            .into_iter()
            .map(|r| r.expect("every series ran"))
            .collect()
    }

    fn run_one(&self, index: usize, on_event: &(dyn Fn(SyncEvent<'_>) + Sync)) -> SeriesResult {
        let (id, req) = (&self.series[index], &self.requests[index]);
        let dsm = &self.managers[&id.market];
        let mut rows = 0u64;
        // Kept as periods come, so a series stopped mid-way still says where the periods
        // it finished came from.
        let mut periods = Vec::new();
        let mut period_rows = 0;
        let fetched = dsm.fetch_records(
            req,
            &mut |p| {
                rows += p.batch.num_rows() as u64;
                period_rows += p.batch.num_rows();
                if p.last {
                    periods.push((p.period_start, p.source));
                    on_event(SyncEvent::Period {
                        index,
                        source: p.source,
                        rows: std::mem::take(&mut period_rows),
                    });
                }
                Ok(())
            },
            &mut |done_ms, total_ms| {
                on_event(SyncEvent::Progress {
                    index,
                    done_ms,
                    total_ms,
                })
            },
        );
        let mut result = SeriesResult {
            id: id.clone(),
            range: (req.series.start_ms, req.series.end_ms),
            rows,
            periods,
            gaps: Vec::new(),
            requests: 0,
            error: None,
        };
        match fetched {
            Ok(summary) => {
                result.gaps = summary.gaps;
                result.requests = summary.requests;
            }
            Err(e) => result.error = Some(error_line(&e)),
        }
        result
    }
}

fn error_line(e: &DsmError) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}
