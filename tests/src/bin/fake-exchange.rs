//! Runs the fake exchange until killed:
//!     cargo run -p dsm-tests --bin fake-exchange -- --port PORT
//! Port 0 or no --port picks a free port. The base URL is the first line of stdout.

use std::io::Write;

use dsm_tests::fake::FakeExchange;

const USAGE: &str = "\
usage: fake-exchange [--port PORT]

A fake Binance (spot, USD-M, COIN-M, Vision archives), OKX and Bybit on 127.0.0.1, with
deterministic candles, for trying dsm offline. Prints its base URL on the first line of
stdout, then serves until killed. Point dsm at it with every endpoint variable:
  DSM_BINANCE_URL DSM_BINANCE_UM_URL DSM_BINANCE_CM_URL DSM_BINANCE_VISION_URL
  DSM_OKX_URL DSM_BYBIT_URL

options:
  --port PORT   listen on this port (default 0: a free one)
  -h, --help    show this help";

fn main() {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(Some(p)) => p,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(msg) => {
            eprintln!("fake-exchange: {msg}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let exchange = match FakeExchange::start_on(port) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fake-exchange: cannot bind 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", exchange.url());
    let _ = out.flush();
    drop(out);
    // The server runs on its own thread; this one only keeps it alive.
    loop {
        std::thread::park();
    }
}

/// The port to listen on, or None when help was asked for.
fn parse_port(mut args: impl Iterator<Item = String>) -> Result<Option<u16>, String> {
    let mut port = 0;
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let value = match arg.strip_prefix("--port") {
            Some("") => args.next().ok_or("--port needs a value")?,
            Some(v) if v.starts_with('=') => v[1..].to_string(),
            _ => return Err(format!("unknown argument {arg:?}")),
        };
        port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
    }
    Ok(Some(port))
}
