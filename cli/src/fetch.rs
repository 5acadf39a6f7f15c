//! `dsm fetch`: one symbol and interval over [start, end), streamed period by period from
//! the failover to stdout or a file. Exit 3 when it finished with gaps.

use std::process::ExitCode;
use std::time::Duration;

use dsm_core::{Dsm, DsmConfig, DsmError, LogLevel, SourceMode};

use crate::cli::{Cli, FetchArgs};
use crate::progress::Progress;
use crate::sink::OutputSink;

pub fn run(cli: &Cli, args: &FetchArgs) -> Result<ExitCode, DsmError> {
    let dsm = Dsm::create_with_config(config(cli, args)?)?;
    let start = dsm_core::timeparse::parse_time(&args.start)?;
    let end = dsm_core::timeparse::parse_time(&args.end)?;
    // Check the whole request before touching the plugin or the output file.
    let req = dsm.request(&args.symbol, &args.interval, start, end)?;
    let mut out = OutputSink::open(&args.format, args.output.as_deref())?;
    let mut progress = Progress::new(&req, !cli.quiet);
    let mut stream = dsm.fetch_stream(&args.symbol, &args.interval, start, end)?;
    for batch in stream.by_ref() {
        let batch = batch?;
        out.write(&batch.rows)?;
        progress.period_done(&batch);
    }
    progress.finish();
    let summary = stream.summary().cloned().unwrap_or_default();
    out.finish()?;
    tracing::info!(
        "{} {} {} {}: {} periods cached, {} requests",
        dsm.provider(),
        dsm.market().id,
        req.symbol,
        req.interval_name,
        summary.cached_periods,
        summary.requests
    );
    for note in &summary.notes {
        eprintln!("note: {note}");
    }
    if summary.gaps.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("finished with {} gap(s):", summary.gaps.len());
    for gap in &summary.gaps {
        eprintln!("  gap {gap}");
    }
    Ok(ExitCode::from(3))
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
    config.allow_insecure_plugins |= cli.allow_insecure_plugins;
    if let Some(dir) = &cli.cache_dir {
        config.cache_dir = Some(dir.clone());
    }
    if args.no_cache {
        config.cache_enabled = false;
    }
    config.recheck_holes |= args.recheck_gaps;
    if let Some(s) = &args.source {
        config.source = SourceMode::parse(s).expect("clap checked the value");
    }
    if let Some(ms) = args.timeout_ms {
        config.request_timeout = Duration::from_millis(ms);
    }
    if let Some(n) = args.retries {
        config.retries = n;
    }
    if let Some(n) = args.concurrency {
        config.concurrency = n;
    }
    if config.source == SourceMode::Cache && !config.cache_enabled {
        return Err(DsmError::InvalidInput(
            "--source cache with --no-cache can serve nothing".into(),
        ));
    }
    Ok(config)
}
