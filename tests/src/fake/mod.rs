//! A fake Binance REST exchange (spot, USD-M and COIN-M klines on one base URL) with
//! deterministic candles, fault injection and a request log. See docs/wire-formats.md §2.

mod binance_kinds;
mod binance_rest;
mod bucket;
mod bybit;
mod bybit_funding;
mod candles;
mod derivs;
mod faults;
mod funding;
mod gate;
mod grid;
mod http;
mod listing;
mod log;
mod metrics;
mod okx;
mod okx_funding;
mod okx_trades;
mod price_kinds;
mod state;
#[cfg(test)]
mod tests_faults;
#[cfg(test)]
mod tests_kinds;
#[cfg(test)]
mod tests_kinds_derivs;
#[cfg(test)]
mod tests_rest;
#[cfg(test)]
mod tests_v5;
mod trades;
mod trades_rest;
mod v5;
mod v5_instruments;
mod vision;
mod vision_daily;
mod vision_kinds;
mod vision_prebuild;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

pub use binance_rest::kline_limit_weight;
pub use bybit::{expected_bybit_candles, expected_bybit_klines};
pub use bybit_funding::expected_bybit_funding;
pub use candles::{expected_klines, is_universe_coin, Market};
pub use faults::{Fault, RowFault};
pub use funding::expected_funding;
pub use grid::interval_ms;
pub use listing::{instruments, recent_archive_only, ArchiveOnly, HostileListing, ARCHIVE_ONLY};
pub use log::RequestRecord;
pub use metrics::{expected_metrics, metrics_day_missing, metrics_day_repeats};
pub use okx::{expected_okx_candles, expected_okx_klines};
pub use okx_funding::{expected_okx_funding, okx_realized_rate_is_empty, OKX_FUNDING_DEPTH_MS};
pub use okx_trades::{expected_okx_trades, OKX_TRADES_DEPTH_MS};
pub use price_kinds::{expected_price_klines, PriceKind};
pub use trades::{
    expected_rest_trades, expected_trades, trades_per_day, SPOT_MICROS_FROM, TRADES_HEADER_FROM,
};

use state::Shared;

/// A running fake exchange on 127.0.0.1. It serves from its own thread and tokio runtime,
/// so it works from plain `#[test]`s and from inside `#[tokio::test]`s alike. Dropping it
/// stops the server and closes its connections.
pub struct FakeExchange {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// How a fake exchange starts.
#[derive(Debug, Clone, Default)]
pub struct FakeConfig {
    /// Port on 127.0.0.1 (0 = a free one).
    pub port: u16,
    /// Waited before every response (REST and Vision alike, on top of any delay set per
    /// path with [`FakeExchange::set_delay`]): a far server, for benchmarks. Zero by default.
    pub latency: Duration,
}

impl FakeExchange {
    /// Starts on a free port. Panics if it cannot bind 127.0.0.1.
    pub fn start() -> FakeExchange {
        FakeExchange::start_on(0).expect("bind 127.0.0.1:0")
    }

    /// Starts on `port` (0 = a free port).
    pub fn start_on(port: u16) -> std::io::Result<FakeExchange> {
        FakeExchange::start_with(FakeConfig {
            port,
            ..FakeConfig::default()
        })
    }

    /// Starts as `config` says.
    pub fn start_with(config: FakeConfig) -> std::io::Result<FakeExchange> {
        // Bind synchronously so that errors surface here and the URL is known at once.
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::with_latency(config.latency));
        let (tx, rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-exchange")
            .enable_all()
            .build()?;
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fake-exchange".into())
            .spawn(move || serve(runtime, listener, state, rx))?;
        Ok(FakeExchange {
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// "http://127.0.0.1:PORT", no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    /// The requests received so far for `path` exactly, in order.
    pub fn requests_on(&self, path: &str) -> Vec<RequestRecord> {
        let mut all = self.requests();
        all.retain(|r| r.path == path);
        all
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// The most requests that were being answered at the same moment (head received, last
    /// byte not yet written) since the start or the last [`FakeExchange::reset_max_in_flight`].
    pub fn max_in_flight(&self) -> usize {
        self.shared.lock().max_in_flight
    }

    pub fn reset_max_in_flight(&self) {
        let mut st = self.shared.lock();
        st.max_in_flight = st.in_flight;
    }

    /// Queues faults for requests whose path equals `path` (e.g. "/api/v3/klines"); each
    /// matching request consumes one. An empty queue means normal answers.
    pub fn push_faults(&self, path: &str, faults: impl IntoIterator<Item = Fault>) {
        self.shared.lock().push_faults(path, faults);
    }

    /// Delays every response on `path` before its headers; `Duration::ZERO` clears.
    pub fn set_delay(&self, path: &str, delay: Duration) {
        self.shared.lock().set_delay(path, delay);
    }

    /// Lets `n` more requests through, then holds every later one unanswered (not logged
    /// yet) until [`FakeExchange::release`]: the client is then certainly mid-run.
    pub fn hold_after(&self, n: usize) {
        self.shared.gate.hold_after(n);
    }

    /// Waits up to `timeout` for a request to be held (see [`FakeExchange::hold_after`]);
    /// whether one is.
    pub fn wait_held(&self, timeout: Duration) -> bool {
        self.shared.gate.wait_held(timeout)
    }

    /// Waits up to `timeout` until `n` requests are held at once (see
    /// [`FakeExchange::hold_after`]); how many are held. Held requests are unanswered, so
    /// `n` held means the client had `n` requests in flight together.
    pub fn wait_held_count(&self, n: usize, timeout: Duration) -> usize {
        self.shared.gate.wait_held_count(n, timeout)
    }

    /// Answers the held requests and lets every later one through.
    pub fn release(&self) {
        self.shared.gate.release();
    }

    /// Overrides the per-minute weight limit for paths starting with `path_prefix`
    /// (defaults: 6000 for /api/, 2400 for /fapi/ and /dapi/).
    pub fn set_weight_limit(&self, path_prefix: &str, per_minute: u32) {
        self.shared.lock().set_weight_limit(path_prefix, per_minute);
    }

    /// Makes the OKX/Bybit request counters see `ms` as the time (None: the wall clock), so
    /// a test decides which requests fall within one window.
    pub fn set_v5_rate_clock(&self, ms: Option<i64>) {
        self.shared.lock().v5.frozen_ms = ms;
    }

    /// Counts weight per window of `ms` milliseconds instead of a minute (aligned on the
    /// epoch as minutes are), so a test can make the budget matter without waiting minutes.
    pub fn set_weight_window(&self, ms: i64) {
        self.shared.lock().set_weight_window(ms);
    }

    /// The most weight counted in any one window on the bucket of `path_prefix` (`/api/`,
    /// `/fapi/`, `/dapi/`), requests refused for the limit not counted.
    pub fn max_used_weight(&self, path_prefix: &str) -> u32 {
        let st = self.shared.lock();
        st.max_used.get(path_prefix).copied().unwrap_or(0)
    }

    /// How many requests were refused with 429 for going over the weight limit.
    pub fn weight_refusals(&self) -> u32 {
        self.shared.lock().weight_refusals
    }
}

impl Drop for FakeExchange {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Body of the server thread: accept until told to stop, then drop every connection.
fn serve(
    runtime: tokio::runtime::Runtime,
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: oneshot::Receiver<()>,
) {
    runtime.block_on(async move {
        match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => http::accept_loop(listener, shared, shutdown).await,
            Err(e) => eprintln!("fake exchange: cannot serve: {e}"),
        }
    });
    // Connections may sit in long delays; do not wait for them.
    runtime.shutdown_background();
}

/// Decides the response to one request: a queued fault first, else the normal answer;
/// then the path's delay; and logs the request with the status it gets.
fn dispatch(shared: &Shared, req: &http::Request) -> http::Response {
    if vision::is_vision(&req.path) {
        return vision::dispatch(shared, req); // builds files outside the state lock
    }
    let now = candles::now_ms();
    let mut st = shared.lock();
    let fault = st.pop_fault(&req.path);
    let mut resp = match fault.as_ref().and_then(|f| f.replacement(req)) {
        Some(r) if v5::owns(&req.path) => r, // OKX and Bybit
        Some(r) => binance_rest::with_weight(&mut st, &req.path, r, now),
        None if v5::owns(&req.path) => v5::answer(&mut st, req, now),
        None => binance_rest::answer(&mut st, req, now),
    };
    if let Some(f) = &fault {
        f.alter(&mut resp);
    }
    resp.delay += st.delay(&req.path);
    st.requests.push(RequestRecord {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        status: resp.status,
        at: Instant::now(),
    });
    resp
}
