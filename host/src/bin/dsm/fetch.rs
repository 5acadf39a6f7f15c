//! `dsm fetch`: one symbol and interval over [start, end), to stdout or a file.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use dsm::{output, Dsm, DsmConfig, DsmError, LogLevel};

use crate::cli::{Cli, FetchArgs};

pub fn run(cli: &Cli, args: &FetchArgs) -> Result<ExitCode, DsmError> {
    let dsm = Dsm::create_with_config(config(cli, args)?)?;
    let start = dsm::timeparse::parse_time(&args.start)?;
    let end = dsm::timeparse::parse_time(&args.end)?;
    let format = output::Format::parse(&args.format)
        .ok_or_else(|| DsmError::InvalidInput(format!("unknown format {:?}", args.format)))?;
    // Check the whole request before touching the plugin or the output file.
    dsm.request(&args.symbol, &args.interval, start, end)?;
    let klines = dsm.fetch_market_data(&args.symbol, &args.interval, start, end)?;
    tracing::info!(
        "{} candles of {} {} {} in {} requests",
        klines.len(),
        klines.provider,
        klines.market,
        klines.symbol,
        klines.requests
    );
    match &args.output {
        Some(path) => write_file(path, format, &klines.rows)?,
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            if let Err(e) = output::write(&mut out, format, &klines.rows) {
                // A closed pipe (`| head`) is not an error worth a message.
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(DsmError::Io {
                        context: "writing to stdout".into(),
                        source: e,
                    });
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn config(cli: &Cli, args: &FetchArgs) -> Result<DsmConfig, DsmError> {
    let mut config = DsmConfig::from_env(&args.provider, &args.market)?;
    let mut dirs = cli.plugin_dir.clone();
    dirs.append(&mut config.plugin_dirs);
    config.plugin_dirs = dirs;
    config.log_level = match cli.verbose {
        _ if cli.quiet => LogLevel::ERROR,
        0 => config.log_level,
        1 => LogLevel::INFO,
        2 => LogLevel::DEBUG,
        _ => LogLevel::TRACE,
    };
    config.log_http |= cli.verbose >= 3;
    if let Some(ms) = args.timeout_ms {
        config.request_timeout = Duration::from_millis(ms);
    }
    if let Some(n) = args.retries {
        config.retries = n;
    }
    if let Some(n) = args.concurrency {
        config.concurrency = n;
    }
    Ok(config)
}

/// Write the whole file next to its destination, then rename: never a partial file.
fn write_file(path: &Path, format: output::Format, rows: &[dsm::Kline]) -> Result<(), DsmError> {
    let io = |e| DsmError::io(format!("writing {}", path.display()), e);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    {
        let mut out = BufWriter::new(tmp.as_file());
        output::write(&mut out, format, rows).map_err(io)?;
        out.flush().map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
