//! A one-line progress display on stderr, only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use dsm_core::cache::Period;
use dsm_core::request::KlineRequest;
use dsm_core::PeriodBatch;

pub struct Progress {
    enabled: bool,
    started: Instant,
    total: usize,
    done: usize,
    rows: u64,
    period: Period,
    req_end: i64,
}

impl Progress {
    pub fn new(req: &KlineRequest, wanted: bool) -> Progress {
        let period = Period::for_interval(req.interval);
        let mut total = 0;
        let mut p = period.start_of(req.start_ms);
        while p < req.end_ms {
            total += 1;
            p = period.next(p);
        }
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            started: Instant::now(),
            total,
            done: 0,
            rows: 0,
            period,
            req_end: req.end_ms,
        }
    }

    pub fn period_done(&mut self, batch: &PeriodBatch) {
        self.done += 1;
        self.rows += batch.rows.len() as u64;
        if !self.enabled {
            return;
        }
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let unit = if self.period == Period::Day {
            "days"
        } else {
            "months"
        };
        let _ = self.req_end;
        eprint!(
            "\r{}/{} {unit}  {} from {}  {} candles  {:.0}/s   ",
            self.done,
            self.total,
            self.period.stem(batch.period_start),
            batch.source.name(),
            self.rows,
            self.rows as f64 / secs
        );
        let _ = std::io::stderr().flush();
    }

    pub fn finish(&self) {
        if self.enabled && self.done > 0 {
            eprintln!();
        }
    }
}
