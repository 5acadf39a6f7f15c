//! The network half of a chunk: the archive for what is published, REST for what is still
//! uncovered, into per-period buffers. Runs on the calling thread or ahead on another one
//! (see [`super::ahead`]); nothing here touches the cache, the summary or the caller.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use dsm_sdk::{
    abi_stable::{sabi_trait::TD_Opaque, sabi_types::RMut, std_types::RResult},
    DataKind, DataRequest, DataSink_TO, ErrorKind, FetchReport, FetchRequest, KlineSink_TO,
    SourceKind,
};

use super::gaps::Reasons;
use super::ranges;
use super::sink::{ChunkSink, PeriodBuf, UNUSABLE_ARCHIVE};
use super::{Failover, Progress};
use crate::cache::Period;
use crate::error::{DsmError, Result};
use crate::kinds::Kind;

/// What the network gave for one chunk, to be settled in order.
pub(super) struct Fetched<R> {
    pub bufs: BTreeMap<i64, PeriodBuf<R>>,
    pub reasons: Reasons,
    /// HTTP requests made, added to the summary in order.
    pub requests: u64,
    /// Notes for the summary, in the order they arose.
    pub notes: Vec<String>,
}

impl<R> Default for Fetched<R> {
    fn default() -> Self {
        Fetched {
            bufs: BTreeMap::new(),
            reasons: Reasons::default(),
            requests: 0,
            notes: Vec::new(),
        }
    }
}

/// A chunk's fetch: what was gathered (also when it failed: its requests and notes still
/// count), and whether it succeeded.
pub(super) type Outcome<R> = (Fetched<R>, Result<()>);

impl<K: Kind> Failover<'_, K> {
    /// Fetch the periods `starts` from the network. `stop`: set when the chunk is no
    /// longer wanted (an earlier chunk failed); the plugin is then told to stop.
    pub(super) fn fetch(
        &self,
        period: Period,
        starts: &[i64],
        stop: &AtomicBool,
        progress: &mut Progress<'_>,
    ) -> Outcome<K::Row> {
        let mut out = Fetched::default();
        let result = self.fetch_into(period, starts, stop, &mut out, progress);
        (out, result)
    }

    fn fetch_into(
        &self,
        period: Period,
        starts: &[i64],
        stop: &AtomicBool,
        out: &mut Fetched<K::Row>,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let chunk = (
            starts[0],
            period.next(*starts.last().expect("a chunk has periods")),
        );
        if self.mode.uses_archive() && self.offer.archive {
            // Archives publish whole periods after they end: ask for those only.
            let end = chunk.1.min(period.start_of(self.now));
            if chunk.0 < end {
                self.archive(chunk.0, end, period, stop, out, progress)?;
            }
        }
        if self.mode.uses_rest() && self.offer.rest {
            for (s, e) in self.uncovered(period, starts, &out.bufs) {
                let call = (s, e, period, SourceKind::LIVE);
                let report = self.call(call, stop, &mut out.bufs, progress)?;
                out.requests += report.requests;
                out.reasons.add_report(&report);
            }
        }
        Ok(())
    }

    fn archive(
        &self,
        start: i64,
        end: i64,
        period: Period,
        stop: &AtomicBool,
        out: &mut Fetched<K::Row>,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let call = (start, end, period, SourceKind::ARCHIVE);
        match self.call(call, stop, &mut out.bufs, progress) {
            Ok(report) => {
                out.requests += report.requests;
                for m in report.missing.iter() {
                    let unusable =
                        m.reason.contains("checksum") || m.reason.starts_with(UNUSABLE_ARCHIVE);
                    if self.mode.uses_rest() && unusable {
                        out.notes
                            .push(format!("archive: {}; used REST instead", m.reason));
                    }
                }
                out.reasons.add_report(&report);
                Ok(())
            }
            // The archive failing is not the end while REST can fill in.
            Err(DsmError::Provider { error, .. })
                if self.mode.uses_rest() && error.kind != ErrorKind::CANCELLED =>
            {
                let why = format!("archive unavailable: {error}");
                tracing::warn!("{why}; using REST");
                out.notes.push(why.clone());
                out.reasons.add(start, end, why);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Parts of the requested range in `starts` that no source has covered yet.
    fn uncovered(
        &self,
        period: Period,
        starts: &[i64],
        bufs: &BTreeMap<i64, PeriodBuf<K::Row>>,
    ) -> Vec<(i64, i64)> {
        let mut need = ranges::RangeSet::default();
        for &p in starts {
            let lo = p.max(self.req.start_ms);
            let hi = period.next(p).min(self.req.end_ms);
            let missing = match bufs.get(&p) {
                Some(buf) => buf.covered.missing(lo, hi),
                None => vec![(lo, hi)],
            };
            for (s, e) in missing {
                need.add(s, e);
            }
        }
        need.ranges().to_vec()
    }

    /// One plugin call for `[start, end)` of `period`s from `source`, filed into `bufs`:
    /// klines through `Provider::fetch` (every plugin has it), other kinds through the data
    /// provider.
    fn call(
        &self,
        (start, end, period, source): (i64, i64, Period, SourceKind),
        stop: &AtomicBool,
        bufs: &mut BTreeMap<i64, PeriodBuf<K::Row>>,
        progress: &mut Progress<'_>,
    ) -> Result<FetchReport> {
        self.check_cancelled()?;
        if stop.load(Ordering::Relaxed) {
            return Err(self.cancelled());
        }
        let mut sink = ChunkSink {
            kind: self.kind,
            call: (start, end),
            period,
            periods: bufs,
            cancel: self.cancel.clone(),
            stop,
            whole: (self.req.start_ms, self.req.end_ms),
            on_progress: progress,
            invalid: None,
            refused: Vec::new(),
        };
        let (market, symbol) = (self.market.into(), self.req.symbol.as_str().into());
        let interval = self.kind.interval_name().into();
        let outcome = if self.kind.id() == DataKind::KLINES {
            let request = FetchRequest {
                market,
                symbol,
                interval,
                start_ms: start,
                end_ms: end,
                source,
            };
            let sink = KlineSink_TO::from_ptr(RMut::new(&mut sink), TD_Opaque);
            (self.provider)()?.fetch(&request, sink)
        } else {
            let request = DataRequest {
                kind: self.kind.id(),
                market,
                symbol,
                interval,
                start_ms: start,
                end_ms: end,
                source,
            };
            let sink = DataSink_TO::from_ptr(RMut::new(&mut sink), TD_Opaque);
            (self.data_provider)()?.fetch_data(&request, sink)
        };
        if let Some(message) = sink.invalid.take() {
            return Err(DsmError::InvalidData {
                provider: self.provider_id.to_string(),
                message,
            });
        }
        match outcome {
            RResult::ROk(mut report) => {
                report.missing.extend(sink.refused);
                Ok(report)
            }
            RResult::RErr(error) => Err(self.provider_error(error)),
        }
    }
}
