//! The benchmarks of issues 5, 13, 14 and 15, their checks, and the report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::fake::FakeProc;
use crate::measure::{fmt_mib, fmt_secs, run, Proc, Stats};
use crate::Options;

mod archive;
mod export;
mod floors;
mod kinds;
mod memory;
mod rest;
mod rest_budget;
mod rest_latency;
mod s3;
mod spark;
mod startup;
mod sync;
mod trades_month;
mod um_archive;

use archive::{cold, warm};
use export::export;
pub use floors::floor_child;
use floors::floors;
use kinds::{funding, trades};
use memory::memory;
use rest::rest;
use rest_budget::rest_budget;
use rest_latency::rest_latency;
use s3::warm_s3;
use spark::spark;
use startup::{create, first_use, startup};
use sync::sync;
use trades_month::trades_month;
use um_archive::archive_um;

/// Every `--only` name, in the order they run.
pub const NAMES: [&str; 18] = [
    "startup",
    "create",
    "first-use",
    "cold",
    "warm",
    "floors",
    "warm-s3",
    "archive-um",
    "rest",
    "rest-latency",
    "rest-budget",
    "memory",
    "trades",
    "trades-month",
    "funding",
    "export",
    "spark",
    "sync",
];

/// One year of 1m spot candles from the archive: 365 days.
const YEAR: (&str, &str) = ("2023-01-01", "2024-01-01");
const YEAR_ROWS: u64 = 365 * 1440;
/// 30 days of 1m USD-M candles over REST: 43,200 candles, 29 pages of 1500.
const REST: (&str, &str) = ("2024-03-01", "2024-03-31");
const REST_MS: (i64, i64) = (1_709_251_200_000, 1_711_843_200_000);
const REST_ROWS: u64 = 30 * 1440;
const REST_PAGES: u64 = REST_ROWS.div_ceil(1500);
/// One month of 1s spot candles: 31 days, 2,678,400 candles.
const MONTH_1S: (&str, &str) = ("2024-01-01", "2024-02-01");
const MONTH_1S_ROWS: u64 = 31 * 86_400;
const PLUGINS: [&str; 3] = ["binance", "okx", "bybit"];

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Secs,
    KiB,
    Count,
    Ratio,
}

struct Row {
    group: &'static str,
    what: String,
    stats: Option<Stats>,
    unit: Unit,
    /// The target and whether it is met.
    target: Option<(String, bool)>,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    fn add(
        &mut self,
        group: &'static str,
        what: impl Into<String>,
        stats: Option<Stats>,
        unit: Unit,
    ) {
        self.rows.push(Row {
            group,
            what: what.into(),
            stats,
            unit,
            target: None,
        });
    }

    /// A row with a target: met when `ok(median)`.
    fn target(
        &mut self,
        group: &'static str,
        what: impl Into<String>,
        stats: Option<Stats>,
        unit: Unit,
        text: &str,
        ok: impl Fn(f64) -> bool,
    ) {
        let met = stats.is_some_and(|s| ok(s.median));
        self.rows.push(Row {
            group,
            what: what.into(),
            stats,
            unit,
            target: Some((text.to_string(), met)),
        });
    }

    fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        eprintln!("  note: {text}");
        self.notes.push(text);
    }

    fn value(unit: Unit, v: f64) -> String {
        match unit {
            Unit::Secs => fmt_secs(v),
            Unit::KiB => fmt_mib(v),
            Unit::Count => format!("{v:.0}"),
            Unit::Ratio => format!("{v:.2}x"),
        }
    }

    fn markdown(&self) -> String {
        let mut s = String::new();
        s.push_str("| benchmark | measure | median | spread (min..max) | n | target | met |\n");
        s.push_str("|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let (median, spread, n) = match r.stats {
                Some(st) => (
                    Self::value(r.unit, st.median),
                    if st.n > 1 {
                        format!(
                            "{} .. {}",
                            Self::value(r.unit, st.min),
                            Self::value(r.unit, st.max)
                        )
                    } else {
                        "-".into()
                    },
                    st.n.to_string(),
                ),
                None => ("not measured".into(), "-".into(), "0".into()),
            };
            let (target, met) = match &r.target {
                Some((t, true)) => (t.as_str(), "yes"),
                Some((t, false)) => (t.as_str(), "**NO**"),
                None => ("", ""),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {median} | {spread} | {n} | {target} | {met} |",
                r.group, r.what
            );
        }
        if !self.notes.is_empty() {
            s.push_str("\nChecks and notes:\n\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }
}

/// Paths and the scratch space of a run.
struct Env {
    release: PathBuf,
    self_exe: PathBuf,
    fake_exe: PathBuf,
    /// A directory holding `dsm` and the three plugins, nothing else.
    install: PathBuf,
    work: PathBuf,
    scratch: PathBuf,
    xdg: PathBuf,
    python: String,
    ccxt_script: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Result<Env, String> {
        let self_exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let release = self_exe.parent().ok_or("no exe dir")?.to_path_buf();
        let need = |name: &str| -> Result<PathBuf, String> {
            let p = release.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(format!(
                    "{} is missing: build first with `cargo build --release --workspace`",
                    p.display()
                ))
            }
        };
        let dsm = need("dsm")?;
        let fake_exe = need("fake-exchange")?;
        let tmp = tempfile::Builder::new()
            .prefix("dsm-bench-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let work = tmp.path().to_path_buf();
        let install = work.join("install");
        let scratch = work.join("scratch");
        let xdg = work.join("xdg");
        for d in [&install, &scratch, &xdg] {
            std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
        }
        let copy = |from: &Path, name: &str| {
            std::fs::copy(from, install.join(name))
                .map(|_| ())
                .map_err(|e| format!("copy {}: {e}", from.display()))
        };
        copy(&dsm, "dsm")?;
        for p in PLUGINS {
            let name = format!("libdsm_{p}.so");
            copy(&need(&name)?, &name)?;
        }
        Ok(Env {
            release,
            self_exe,
            fake_exe,
            install,
            work,
            scratch,
            xdg,
            python: std::env::var("DSM_BENCH_PYTHON").unwrap_or_else(|_| "python3".into()),
            ccxt_script: Path::new(env!("CARGO_MANIFEST_DIR")).join("ccxt_rest.py"),
            _tmp: tmp,
        })
    }

    /// A command with no DSM_* variables from the caller and an empty XDG data dir (no
    /// stray plugins), run in the work directory.
    fn cmd(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("DSM_") {
                c.env_remove(k);
            }
        }
        c.env("XDG_DATA_HOME", &self.xdg).current_dir(&self.work);
        c
    }

    fn dsm(&self) -> Command {
        self.cmd(&self.install.join("dsm"))
    }

    fn probe(&self, kind: &str) -> Command {
        let mut c = self.cmd(&self.self_exe);
        c.arg("probe")
            .arg(kind)
            .arg("--plugin-dir")
            .arg(&self.install);
        c
    }

    fn run(&self, cmd: &mut Command) -> Result<Proc, String> {
        run(cmd, &self.scratch).map_err(|e| format!("cannot run {cmd:?}: {e}"))
    }

    /// Runs and requires exit 0.
    fn run_ok(&self, cmd: &mut Command) -> Result<Proc, String> {
        let p = self.run(cmd)?;
        if !p.ok() {
            return Err(format!("{cmd:?} failed: {}", p.failure()));
        }
        Ok(p)
    }

    fn fake(&self) -> Result<FakeProc, String> {
        self.fake_with(&[])
    }

    /// The fake exchange binary with `args` (see `fake-exchange --help`).
    fn fake_with(&self, args: &[String]) -> Result<FakeProc, String> {
        FakeProc::start(&self.fake_exe, args).map_err(|e| format!("fake exchange: {e}"))
    }

    /// A fake holding [`YEAR`]'s 1m BTCUSDT spot files prebuilt (built before it prints
    /// its URL, outside any timed region): the 12 monthly files, or (`daily`) the 365 daily
    /// ones with the monthly files withheld (404), so that the plugin falls back to them;
    /// `latency_ms` waited before every response.
    fn fake_year_1m(&self, daily: bool, latency_ms: u64) -> Result<FakeProc, String> {
        let year = &YEAR.0[..4];
        let next = &YEAR.1[..4];
        let mut args = vec!["--latency-ms".to_string(), latency_ms.to_string()];
        let dir = "data/spot/{}/klines/BTCUSDT/1m";
        if daily {
            for m in 1..=12 {
                args.push("--withhold".into());
                args.push(format!("BTCUSDT-1m-{year}-{m:02}.zip"));
            }
            args.push("--prebuild".into());
            args.push(format!(
                "{}:{}:{}",
                dir.replace("{}", "daily"),
                YEAR.0,
                YEAR.1
            ));
        } else {
            args.push("--prebuild".into());
            args.push(format!(
                "{}:{year}-01:{next}-01",
                dir.replace("{}", "monthly")
            ));
        }
        self.fake_with(&args)
    }

    /// An empty directory `work/name`; a previous one is deleted. For caches of a few
    /// large files (trades: GBs a run); see [`Env::fresh_dir_retiring`] for many small ones.
    fn fresh_dir(&self, name: &str) -> PathBuf {
        let d = self.work.join(name);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("work dir is writable");
        d
    }

    /// An empty directory `work/name`; a previous one is moved aside (into `work/retired`,
    /// deleted with the bench's temporary directory at exit), not deleted. For runs that
    /// create hundreds of files: on ext4 without a journal (this machine's disk) a file
    /// created less than ~30 s after many were deleted nearby makes the inode allocator
    /// check every recently deleted inode (`recently_deleted`, `find_get_block_common` in
    /// `perf`), which cost the cold rows ~0.2 s of CPU a run. A user's first fetch does not
    /// follow the deletion of a year of cache files; the bench's clean-up must not be
    /// measured. The cost is disk: every run's files (~80 MB a cold year) kept until exit.
    fn fresh_dir_retiring(&self, name: &str) -> PathBuf {
        let d = self.work.join(name);
        if d.exists() {
            let retired = self.work.join("retired");
            std::fs::create_dir_all(&retired).expect("work dir is writable");
            let n = std::fs::read_dir(&retired).map_or(0, |r| r.count());
            std::fs::rename(&d, retired.join(format!("{name}-{n}"))).expect("work dir is writable");
        }
        std::fs::create_dir_all(&d).expect("work dir is writable");
        d
    }
}

fn secs(p: &[Duration]) -> Option<Stats> {
    Stats::durations(p)
}

/// Peak RSS figures (KiB) are counts too.
fn kib(values: &[u64]) -> Option<Stats> {
    counts(values)
}

fn counts(values: &[u64]) -> Option<Stats> {
    Stats::of(&values.iter().map(|v| *v as f64).collect::<Vec<_>>())
}

/// Rows of a Parquet file, from its footer.
fn parquet_rows(path: &Path) -> Result<u64, String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let r = SerializedFileReader::new(f).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(r.metadata().file_metadata().num_rows() as u64)
}

/// The request count the CLI logs at -v ("..., N requests").
fn logged_requests(stderr: &str) -> Option<u64> {
    stderr.lines().rev().find_map(|l| {
        let l = l.trim_end().strip_suffix(" requests")?;
        l.rsplit(' ').next()?.parse().ok()
    })
}

fn files_in(dir: &Path) -> usize {
    walk(dir).len()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub fn run_all(o: &Options) -> Result<(), String> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: dsm-bench is a debug build; run target/release/dsm-bench (the dsm \
             binaries measured are those beside it)"
        );
    }
    let env = Env::new()?;
    let mut rep = Report::default();
    eprintln!(
        "dsm-bench: binaries from {}, work dir {}",
        env.release.display(),
        env.work.display()
    );
    if o.wants("startup") {
        startup(&env, o, &mut rep)?;
    }
    if o.wants("create") {
        create(&env, o, &mut rep)?;
    }
    if o.wants("first-use") {
        first_use(&env, o, &mut rep)?;
    }
    let mut year_cache = None;
    if o.wants("cold") {
        year_cache = Some(cold(&env, o, &mut rep)?);
    }
    if o.wants("warm") {
        year_cache = Some(warm(&env, o, &mut rep, year_cache)?);
    }
    if o.wants("floors") {
        floors(&env, o, &mut rep, year_cache.clone())?;
    }
    if o.wants("warm-s3") {
        warm_s3(&env, o, &mut rep, year_cache)?;
    }
    if o.wants("archive-um") {
        archive_um(&env, o, &mut rep)?;
    }
    if o.wants("rest") {
        rest(&env, o, &mut rep)?;
    }
    if o.wants("rest-latency") {
        rest_latency(&env, o, &mut rep)?;
    }
    if o.wants("rest-budget") {
        rest_budget(&env, o, &mut rep)?;
    }
    if o.wants("memory") {
        memory(&env, o, &mut rep)?;
    }
    if o.wants("trades") {
        trades(&env, o, &mut rep)?;
    }
    if o.wants("trades-month") {
        trades_month(&env, o, &mut rep)?;
    }
    if o.wants("funding") {
        funding(&env, o, &mut rep)?;
    }
    if o.wants("export") {
        export(&env, o, &mut rep)?;
    }
    if o.wants("spark") {
        spark(&env, o, &mut rep)?;
    }
    if o.wants("sync") {
        sync(&env, o, &mut rep)?;
    }
    let mut text = String::new();
    let _ = writeln!(text, "{}\n", machine());
    text.push_str(&rep.markdown());
    println!("{text}");
    if let Some(out) = &o.out {
        std::fs::write(out, &text).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(())
}

/// nproc, CPU model, memory, kernel.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|x| x.1.trim())
        })
        .unwrap_or("unknown")
        .to_string();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let kb: f64 = l
                .strip_prefix("MemTotal:")?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()?;
            Some(format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "Machine: {cpus} CPUs ({model}), {mem} RAM, Linux {}",
        kernel.trim()
    )
}
