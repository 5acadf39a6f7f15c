//! What `dsm sync` shows: on a terminal, an overall line and one line per series in
//! flight, redrawn as requests complete and at least every [`TICK`]; elsewhere one plain
//! line per finished series; at the end a table of every series.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use dsm_core::sync::{SeriesId, SeriesResult, SyncEvent};
use dsm_core::Source;

use crate::progress::TICK;

pub struct View {
    shared: Option<Arc<Shared>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    terminal: bool,
}

#[derive(Default)]
struct Series {
    name: String,
    running: bool,
    done_ms: i64,
    total_ms: i64,
    rows: u64,
    periods: u64,
}

struct State {
    started: Instant,
    series: Vec<Series>,
    finished: usize,
    failed: usize,
    rows: u64,
    /// Lines drawn last time (to move back over them).
    drawn: usize,
    stopped: bool,
}

impl View {
    /// `wanted` false (-q): nothing is shown.
    pub fn new(series: &[SeriesId], wanted: bool) -> View {
        if !wanted {
            return View {
                shared: None,
                ticker: None,
            };
        }
        let terminal = std::io::stderr().is_terminal();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                started: Instant::now(),
                series: series
                    .iter()
                    .map(|id| Series {
                        name: id.to_string(),
                        ..Series::default()
                    })
                    .collect(),
                finished: 0,
                failed: 0,
                rows: 0,
                drawn: 0,
                stopped: false,
            }),
            wake: Condvar::new(),
            terminal,
        });
        let ticker = terminal.then(|| {
            let s = shared.clone();
            std::thread::spawn(move || {
                let mut st = s.state.lock().unwrap();
                while !st.stopped {
                    draw(&mut st);
                    st = s.wake.wait_timeout(st, TICK).unwrap().0;
                }
            })
        });
        View {
            shared: Some(shared),
            ticker,
        }
    }

    /// One event of the running sync (from any worker thread).
    pub fn event(&self, e: SyncEvent<'_>) {
        let Some(s) = &self.shared else { return };
        let mut st = s.state.lock().unwrap();
        match e {
            SyncEvent::Started { index } => st.series[index].running = true,
            SyncEvent::Progress {
                index,
                done_ms,
                total_ms,
            } => {
                let one = &mut st.series[index];
                one.done_ms = one.done_ms.max(done_ms);
                one.total_ms = total_ms;
            }
            SyncEvent::Period { index, rows, .. } => {
                st.series[index].rows += rows as u64;
                st.series[index].periods += 1;
                st.rows += rows as u64;
            }
            SyncEvent::Finished { index, result } => {
                st.series[index].running = false;
                st.finished += 1;
                st.failed += usize::from(result.error.is_some());
                if !s.terminal {
                    eprintln!(
                        "sync [{}/{}] {}",
                        st.finished,
                        st.series.len(),
                        line(result)
                    );
                }
            }
        }
        if s.terminal && !matches!(e, SyncEvent::Progress { .. }) {
            draw(&mut st);
        }
    }

    /// Stop redrawing and clear the live lines.
    pub fn finish(mut self) {
        let Some(s) = self.shared.take() else { return };
        let mut st = s.state.lock().unwrap();
        st.stopped = true;
        if s.terminal {
            erase(st.drawn);
            st.drawn = 0;
        }
        drop(st);
        s.wake.notify_all();
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

/// "binance/spot/klines/BTCUSDT/1h: 2160 rows, periods cache 0 archive 90 rest 0, 0 gaps".
fn line(r: &SeriesResult) -> String {
    let mut s = format!(
        "{}: {} rows, periods cache {} archive {} rest {}, {} gaps",
        r.id,
        r.rows,
        r.periods_from(Source::Cache),
        r.periods_from(Source::Archive),
        r.periods_from(Source::Rest),
        r.gaps.len()
    );
    if let Some(e) = &r.error {
        s.push_str(&format!(", failed: {e}"));
    }
    s
}

fn erase(lines: usize) {
    let mut err = std::io::stderr().lock();
    for _ in 0..lines {
        let _ = write!(err, "\x1b[1A\r\x1b[K");
    }
    let _ = err.flush();
}

fn draw(st: &mut State) {
    if st.stopped {
        return;
    }
    let elapsed = st.started.elapsed().as_secs();
    let mut lines = vec![format!(
        "sync {}/{} series  {} failed  {} rows  elapsed {}:{:02}",
        st.finished,
        st.series.len(),
        st.failed,
        st.rows,
        elapsed / 60,
        elapsed % 60
    )];
    for one in st.series.iter().filter(|s| s.running) {
        let pct = match one.total_ms {
            t if t > 0 => (one.done_ms as f64 / t as f64 * 100.0).min(100.0) as u32,
            _ => 0,
        };
        lines.push(format!(
            "  {pct:>3}%  {}  {} periods  {} rows",
            one.name, one.periods, one.rows
        ));
    }
    erase(st.drawn);
    let mut err = std::io::stderr().lock();
    for l in &lines {
        let _ = writeln!(err, "{l}");
    }
    let _ = err.flush();
    st.drawn = lines.len();
}

/// The final table: one row per series.
pub fn table(results: &[SeriesResult]) -> String {
    let header = [
        "series", "rows", "cache", "archive", "rest", "gaps", "error",
    ];
    let mut rows: Vec<[String; 7]> = vec![header.map(String::from)];
    for r in results {
        rows.push([
            r.id.to_string(),
            r.rows.to_string(),
            r.periods_from(Source::Cache).to_string(),
            r.periods_from(Source::Archive).to_string(),
            r.periods_from(Source::Rest).to_string(),
            r.gaps.len().to_string(),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    let mut width = [0usize; 7];
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(width)
            .enumerate()
            .map(|(i, (c, w))| match i {
                0 | 6 => format!("{c:<w$}"),
                _ => format!("{c:>w$}"),
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
