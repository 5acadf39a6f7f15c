//! A one-line progress display on stderr, only when stderr is a terminal: periods done,
//! percent (from request-level progress, so it moves within a period), rate, elapsed, ETA.
//! Redrawn when the percent or a period changes and at least every [`TICK`].

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use dsm_core::cache::Period;
use dsm_core::Source;

/// The longest the line goes without a redraw (a rate-limited fetch may wait long).
pub const TICK: Duration = Duration::from_secs(1);

pub struct Progress {
    shared: Option<Arc<Shared>>,
    ticker: Option<std::thread::JoinHandle<()>>,
    done: usize,
    period: Period,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    stop: Condvar,
}

#[derive(Default)]
struct State {
    started: Option<Instant>,
    total: usize,
    done: usize,
    rows: u64,
    unit: &'static str,
    /// e.g. "2024-01-03 from rest"
    last: String,
    done_ms: i64,
    total_ms: i64,
    shown_percent: Option<u32>,
    stopped: bool,
}

/// Every period start of `[start, end)`, in order.
pub fn periods(period: Period, (start, end): (i64, i64)) -> Vec<i64> {
    let mut out = Vec::new();
    let mut p = period.start_of(start);
    while p < end {
        out.push(p);
        p = period.next(p);
    }
    out
}

/// "days" or "months".
pub fn unit(period: Period) -> &'static str {
    match period {
        Period::Day => "days",
        _ => "months",
    }
}

impl Progress {
    pub fn new(period: Period, range: (i64, i64), wanted: bool) -> Progress {
        let total = periods(period, range).len();
        if !(wanted && std::io::stderr().is_terminal()) {
            return Progress {
                shared: None,
                ticker: None,
                done: 0,
                period,
            };
        }
        let shared = Arc::new(Shared::default());
        *shared.state.lock().unwrap() = State {
            started: Some(Instant::now()),
            total,
            unit: unit(period),
            total_ms: range.1 - range.0,
            ..State::default()
        };
        let s = shared.clone();
        let ticker = std::thread::spawn(move || {
            let mut st = s.state.lock().unwrap();
            while !st.stopped {
                draw(&mut st);
                st = s.stop.wait_timeout(st, TICK).unwrap().0;
            }
        });
        Progress {
            shared: Some(shared),
            ticker: Some(ticker),
            done: 0,
            period,
        }
    }

    /// The request-level callback for [`dsm_core::Dsm::fetch_stream_with_progress`].
    pub fn reporter(&self) -> impl FnMut(i64, i64) + Send + 'static {
        let shared = self.shared.clone();
        move |done_ms, total_ms| {
            let Some(s) = &shared else { return };
            let mut st = s.state.lock().unwrap();
            st.done_ms = st.done_ms.max(done_ms);
            st.total_ms = total_ms;
            if Some(percent(&st)) != st.shown_percent {
                draw(&mut st);
            }
        }
    }

    pub fn period_done(&mut self, period_start: i64, source: Source, rows: usize) {
        self.done += 1;
        let Some(s) = &self.shared else { return };
        let mut st = s.state.lock().unwrap();
        st.done = self.done;
        st.rows += rows as u64;
        st.last = format!("{} from {}", self.period.stem(period_start), source.name());
        draw(&mut st);
    }

    /// Stop redrawing and end the line.
    pub fn finish(mut self) {
        let Some(s) = self.shared.take() else { return };
        s.state.lock().unwrap().stopped = true;
        s.stop.notify_all();
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        eprintln!();
    }
}

fn percent(st: &State) -> u32 {
    let by_ms = if st.total_ms > 0 {
        st.done_ms as f64 / st.total_ms as f64
    } else {
        0.0
    };
    let by_periods = st.done as f64 / st.total.max(1) as f64;
    (by_ms.max(by_periods).min(1.0) * 100.0).floor() as u32
}

fn draw(st: &mut State) {
    if st.stopped {
        return;
    }
    let elapsed = st.started.map(|t| t.elapsed()).unwrap_or_default();
    let pct = percent(st);
    st.shown_percent = Some(pct);
    let eta = if pct == 0 {
        "--".to_string()
    } else {
        let left = elapsed.as_secs_f64() * f64::from(100 - pct) / f64::from(pct);
        clock(Duration::from_secs_f64(left))
    };
    let rate = st.rows as f64 / elapsed.as_secs_f64().max(1e-3);
    // Most important first: a narrow terminal cuts from the end.
    let mut line = format!(
        "{pct:>3}%  {}/{} {}  ETA {eta}  elapsed {}  {} candles  {rate:.0}/s  {}",
        st.done,
        st.total,
        st.unit,
        clock(elapsed),
        st.rows,
        st.last,
    );
    if let Some(cols) = terminal_columns() {
        line.truncate(cols.saturating_sub(1)); // ASCII only
    }
    // \x1b[K clears what a longer previous line left (a terminal, so ANSI is fine).
    eprint!("\r{line}\x1b[K");
    let _ = std::io::stderr().flush();
}

/// The width of the terminal on stderr, when it says.
fn terminal_columns() -> Option<usize> {
    // SAFETY: TIOCGWINSZ only writes a winsize into `ws`.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
}

/// m:ss, or h:mm:ss past an hour.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_percent() {
        assert_eq!(clock(Duration::from_secs(65)), "1:05");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
        let st = State {
            total: 4,
            done: 1,
            done_ms: 30,
            total_ms: 100,
            ..State::default()
        };
        assert_eq!(percent(&st), 30, "request-level progress counts");
        let st = State { done_ms: 10, ..st };
        assert_eq!(percent(&st), 25, "never behind the periods done");
    }
}
