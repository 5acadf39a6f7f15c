//! Runs the fake exchange until killed:
//!     cargo run -p dsm-tests --bin fake-exchange -- --port PORT
//! Port 0 or no --port picks a free port. The base URL is the first line of stdout.

use std::io::Write;

use dsm_tests::fake::FakeExchange;

fn main() {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("fake-exchange: {msg}\nusage: fake-exchange [--port PORT]");
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

fn parse_port(mut args: impl Iterator<Item = String>) -> Result<u16, String> {
    let mut port = 0;
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--port") {
            Some("") => args.next().ok_or("--port needs a value")?,
            Some(v) if v.starts_with('=') => v[1..].to_string(),
            _ => return Err(format!("unknown argument {arg:?}")),
        };
        port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
    }
    Ok(port)
}
