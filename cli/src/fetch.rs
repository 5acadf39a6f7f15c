//! `dsm fetch`: one symbol and interval over [start, end), streamed period by period from
//! the failover to stdout or a file. Exit 3 when it finished with gaps.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dsm_core::cache::SeriesKey;
use dsm_core::kinds::schema_of;
use dsm_core::{
    DataKind, Dsm, DsmConfig, DsmError, FetchSummary, KindRequest, LogLevel, SourceMode,
};

use crate::cli::{Cli, FetchArgs};
use crate::interrupt;
use crate::progress::{self, Progress};
use crate::sink::OutputSink;

pub fn run(cli: &Cli, args: &FetchArgs) -> Result<ExitCode, DsmError> {
    let dsm = Dsm::create_with_config(config(cli, args)?)?;
    let start = dsm_core::timeparse::parse_time(&args.start)?;
    let end = dsm_core::timeparse::parse_time(&args.end)?;
    // Check the whole request, the output and the cache before touching the plugin.
    let kind = kind_of(args)?;
    let interval = args.interval.as_deref().unwrap_or("");
    let req = dsm.kind_request(kind, &args.symbol, interval, start, end)?;
    let mut out = OutputSink::open(&args.format, args.output.as_deref(), schema_of(kind))?;
    check_cache_dir(&dsm)?;
    let range = (req.series.start_ms, req.series.end_ms);
    let mut progress = Progress::new(req.period(), range, !cli.quiet);

    interrupt::install();
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let dsm = dsm.clone();
        interrupt::watch(done.clone(), move || dsm.cancel())
    };
    let result = stream(&dsm, &req, &mut out, &mut progress);
    done.store(true, Ordering::SeqCst);
    let _ = watcher.join();
    progress.finish();
    if interrupt::interrupted() {
        drop(out); // removes the temporary output
        eprintln!("{}", interrupted_message(&dsm, &req));
        return Ok(ExitCode::from(interrupt::EXIT_CODE));
    }
    let summary = result?;
    out.finish()?;
    tracing::info!(
        "{} {} {} {} {}: {} cached, {}",
        dsm.provider(),
        dsm.market().id,
        req.kind,
        req.series.symbol,
        req.interval_name,
        plural(summary.cached_periods as u64, "period"),
        plural(summary.requests, "request"),
    );
    for note in &summary.notes {
        eprintln!("note: {note}");
    }
    if summary.gaps.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "finished with {}:",
        plural(summary.gaps.len() as u64, "gap")
    );
    for gap in &summary.gaps {
        eprintln!("  gap {gap}");
    }
    Ok(ExitCode::from(3))
}

/// The kind asked for, with `--interval` given exactly when the kind has one.
fn kind_of(args: &FetchArgs) -> Result<DataKind, DsmError> {
    let kind = DataKind::parse(&args.kind).ok_or_else(|| {
        DsmError::InvalidInput(format!(
            "unknown kind {:?}; use one of: {}",
            args.kind,
            DataKind::names().join(", ")
        ))
    })?;
    match (kind.has_interval(), &args.interval) {
        (true, None) => Err(DsmError::InvalidInput(format!(
            "{kind} needs an interval: add -i, e.g. -i 1m"
        ))),
        (false, Some(i)) => Err(DsmError::InvalidInput(format!(
            "{kind} has no interval; leave out -i {i}"
        ))),
        _ => Ok(kind),
    }
}

/// Period batches into the output as they come; the fetch's summary at the end.
fn stream(
    dsm: &Dsm,
    req: &KindRequest,
    out: &mut OutputSink,
    progress: &mut Progress,
) -> Result<FetchSummary, DsmError> {
    let mut stream = dsm.stream_records(req, progress.reporter())?;
    // A large period comes in slices: each written as it comes, the period done at its last.
    let mut rows = 0;
    for records in stream.by_ref() {
        let records = records?;
        out.write(&records.batch)?;
        rows += records.batch.num_rows();
        if records.last {
            progress.period_done(records.period_start, records.source, rows);
            rows = 0;
        }
    }
    Ok(stream.summary().cloned().unwrap_or_default())
}

/// A cache that cannot be written is found before fetching, not as a note after it.
pub fn check_cache_dir(dsm: &Dsm) -> Result<(), DsmError> {
    let Some(cache) = dsm.cache() else {
        return Ok(());
    };
    if dsm.config().source == SourceMode::Cache {
        return Ok(()); // only read: an absent directory is an empty cache
    }
    let root = cache.root();
    cache.check_writable().map_err(|e| {
        DsmError::io(
            format!(
                "cannot write to the cache directory {} (choose another with --cache-dir \
                     DIR or DSM_CACHE_DIR, or fetch with --no-cache)",
                root.display()
            ),
            e,
        )
    })
}

fn interrupted_message(dsm: &Dsm, req: &KindRequest) -> String {
    let periods = progress::periods(req.period(), (req.series.start_ms, req.series.end_ms));
    let unit = progress::unit(req.period());
    let Some(cache) = dsm.cache() else {
        return format!(
            "interrupted: nothing kept (the cache is off); {} {unit} were requested",
            periods.len()
        );
    };
    let key = SeriesKey::of(
        req.kind,
        dsm.provider(),
        &dsm.market().id,
        &req.series.symbol,
        &req.interval_name,
    );
    let cached = key
        .map(|key| periods.iter().filter(|p| cache.contains(&key, **p)).count())
        .unwrap_or(0);
    format!(
        "interrupted: {cached} of {} {unit} cached; run the same command again to resume",
        periods.len()
    )
}

/// "1 period", "2 periods".
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn config(cli: &Cli, args: &FetchArgs) -> Result<DsmConfig, DsmError> {
    let net = NetArgs {
        source: args.source.clone(),
        no_cache: args.no_cache,
        recheck_gaps: args.recheck_gaps,
        timeout_ms: args.timeout_ms,
        retries: args.retries,
        concurrency: args.concurrency,
    };
    config_for(cli, &net, &args.provider, &args.market)
}

/// The settings a fetch and a sync share, as the flags and the environment say.
pub struct NetArgs {
    pub source: String,
    pub no_cache: bool,
    pub recheck_gaps: bool,
    pub timeout_ms: Option<u64>,
    pub retries: Option<u32>,
    pub concurrency: Option<u32>,
}

/// A manager's config for `provider` and `market`: the environment, then the global flags,
/// then `args`.
pub fn config_for(
    cli: &Cli,
    args: &NetArgs,
    provider: &str,
    market: &str,
) -> Result<DsmConfig, DsmError> {
    let mut config = global_config(cli, provider, market)?;
    if args.no_cache {
        config.cache_enabled = false;
    }
    config.recheck_holes |= args.recheck_gaps;
    config.source = SourceMode::parse(&args.source).expect("clap checked the value");
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

/// A config for `provider` and `market` from the environment, then the global flags.
pub fn global_config(cli: &Cli, provider: &str, market: &str) -> Result<DsmConfig, DsmError> {
    let mut config = DsmConfig::from_env(provider, market)?;
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
    Ok(config)
}
