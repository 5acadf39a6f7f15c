//! `dsm sync`: many series into the cache at once, under the plugins' one rate budget per
//! host; a lockfile of every cached period (or, with --locked, a check against it). Exit 1
//! names failed series, 3 the series with gaps (1 wins), 130 interrupted.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use dsm_core::sync::{
    split_list, Lockfile, SeriesResult, Shard, SyncPlan, SyncSpec, DEFAULT_WORKERS,
};
use dsm_core::DsmError;

use crate::cli::{Cli, SyncArgs};
use crate::fetch::{check_cache_dir, config_for, NetArgs};
use crate::interrupt;
use crate::sync_view::{self, View};

/// Without a spec file or --lock, the lockfile goes here (the current directory).
const DEFAULT_LOCK: &str = "dsm-sync.lock";

pub fn run(cli: &Cli, args: &SyncArgs) -> Result<ExitCode, DsmError> {
    let spec = spec_of(args)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let net = NetArgs {
        source: args.source.clone(),
        no_cache: false,
        recheck_gaps: args.recheck_gaps,
        timeout_ms: args.timeout_ms,
        retries: args.retries,
        concurrency: args.concurrency,
    };
    let config_of = |market: &str| config_for(cli, &net, &spec.provider, market);
    let plan = SyncPlan::new(&spec, shard, &config_of)?;
    let lock_path = lock_path(args);
    let previous = read_lock(&lock_path, args.locked)?;
    let markets: std::collections::BTreeSet<&str> =
        plan.series.iter().map(|s| s.market.as_str()).collect();
    for market in markets {
        if let Some(dsm) = plan.manager(market) {
            check_cache_dir(dsm)?;
        }
    }
    let workers = match args.workers {
        Some(0) => return Err(DsmError::InvalidInput("--workers 0: use at least 1".into())),
        Some(n) => n,
        None => DEFAULT_WORKERS,
    };
    let view = View::new(&plan.series, !cli.quiet);
    interrupt::install();
    let results = run_until_interrupted(&plan, workers, &view);
    view.finish();
    print!("{}", sync_view::table(&results));
    if args.locked && interrupt::interrupted() {
        return Ok(exit_code(&results)); // 130; nothing to compare yet
    }
    let actual = Lockfile::build(&plan, &results, previous.as_ref())?;
    if args.locked {
        let locked = previous.expect("read above");
        let diff = locked.diff(&actual);
        if !diff.is_empty() {
            eprintln!(
                "the cache does not match the lockfile {} ({} differences):",
                lock_path.display(),
                diff.len()
            );
            diff.iter().for_each(|d| eprintln!("  {d}"));
            return Ok(ExitCode::FAILURE);
        }
        eprintln!("the cache matches the lockfile {}", lock_path.display());
    } else {
        write_lock(&lock_path, &actual)?;
        eprintln!("lockfile: {}", lock_path.display());
    }
    if let Some(dataset) = &args.dataset {
        if !interrupt::interrupted() {
            export_synced(&plan, &results, dataset, cli.quiet)?;
        }
    }
    Ok(exit_code(&results))
}

/// Export exactly the series synced (over the range synced) into the dataset.
fn export_synced(
    plan: &SyncPlan,
    results: &[SeriesResult],
    dataset: &Path,
    quiet: bool,
) -> Result<(), DsmError> {
    let report = dsm_core::sync::export_synced(plan, results, dataset)?;
    for (path, why) in &report.skipped {
        eprintln!("skipped {path}: {why}");
    }
    if !quiet {
        eprintln!(
            "dataset {}: {} series, {} files written, {} unchanged",
            dataset.display(),
            report.series,
            report.written,
            report.unchanged
        );
    }
    Ok(())
}

/// The spec from the file, or from the flags; not both.
fn spec_of(args: &SyncArgs) -> Result<SyncSpec, DsmError> {
    let flags = args.provider.is_some()
        || !args.market.is_empty()
        || !args.symbol.is_empty()
        || !args.interval.is_empty()
        || !args.kind.is_empty()
        || args.start.is_some()
        || args.end.is_some();
    if let Some(path) = &args.spec {
        if flags {
            return Err(DsmError::InvalidInput(format!(
                "{} names the series; leave out -p, -m, -s, -i, --kind, --start and --end",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            DsmError::InvalidInput(format!("cannot read the spec file {}: {e}", path.display()))
        })?;
        return SyncSpec::from_toml(&text, &path.display().to_string());
    }
    let need = |v: &Option<String>, flag: &str| {
        v.clone().ok_or_else(|| {
            DsmError::InvalidInput(format!(
                "dsm sync needs {flag} (or a spec file: dsm sync SPEC.toml)"
            ))
        })
    };
    let kinds = match args.kind.is_empty() {
        true => vec!["klines".to_string()],
        false => split_list(&args.kind),
    };
    let spec = SyncSpec {
        provider: need(&args.provider, "-p PROVIDER")?,
        markets: split_list(&args.market),
        symbols: split_list(&args.symbol),
        intervals: split_list(&args.interval),
        kinds,
        start: need(&args.start, "--start")?,
        end: need(&args.end, "--end")?,
    };
    spec.check()?;
    Ok(spec)
}

/// --lock, else the spec's path with the extension .lock, else [`DEFAULT_LOCK`].
fn lock_path(args: &SyncArgs) -> PathBuf {
    match (&args.lock, &args.spec) {
        (Some(lock), _) => lock.clone(),
        (None, Some(spec)) => spec.with_extension("lock"),
        (None, None) => PathBuf::from(DEFAULT_LOCK),
    }
}

/// The lockfile at `path`: required with --locked, else read when there is one (its
/// sources are kept for periods served from the cache).
fn read_lock(path: &Path, locked: bool) -> Result<Option<Lockfile>, DsmError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Lockfile::parse(&text, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !locked => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DsmError::InvalidInput(format!(
            "--locked: there is no lockfile {}; run dsm sync without --locked first to write it",
            path.display()
        ))),
        Err(e) => Err(DsmError::io(
            format!("cannot read the lockfile {}", path.display()),
            e,
        )),
    }
}

/// Written whole or not at all: a temporary file beside it, renamed over it.
fn write_lock(path: &Path, lock: &Lockfile) -> Result<(), DsmError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| {
        DsmError::io(format!("cannot write the lockfile {}", path.display()), e)
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".dsm-lock.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    std::io::Write::write_all(&mut tmp, lock.to_toml().as_bytes()).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// The sync, cancelled (every series stops at its next request) on Ctrl-C or SIGTERM.
fn run_until_interrupted(plan: &SyncPlan, workers: usize, view: &View) -> Vec<SeriesResult> {
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if interrupt::interrupted() {
                    plan.cancel();
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
        let results = plan.run(workers, &|e| view.event(e));
        done.store(true, Ordering::SeqCst);
        results
    })
}

/// 130 interrupted, 1 a series failed, 3 gaps, else 0; the series named on stderr.
fn exit_code(results: &[SeriesResult]) -> ExitCode {
    if interrupt::interrupted() {
        let complete = results.iter().filter(|r| r.error.is_none()).count();
        eprintln!(
            "interrupted: {complete} of {} series complete, the periods fetched are cached; \
             run the same command again to resume",
            results.len()
        );
        return ExitCode::from(interrupt::EXIT_CODE);
    }
    let failed: Vec<_> = results.iter().filter(|r| r.error.is_some()).collect();
    let gappy: Vec<_> = results
        .iter()
        .filter(|r| r.error.is_none() && !r.gaps.is_empty())
        .collect();
    for r in &gappy {
        eprintln!("gaps in {}: {}", r.id, r.gaps.len());
        r.gaps.iter().take(5).for_each(|g| eprintln!("  gap {g}"));
    }
    for r in &failed {
        eprintln!(
            "failed: {}: {}",
            r.id,
            r.error.as_deref().unwrap_or_default()
        );
    }
    match (failed.is_empty(), gappy.is_empty()) {
        (false, _) => ExitCode::FAILURE,
        (true, false) => ExitCode::from(3),
        (true, true) => ExitCode::SUCCESS,
    }
}
