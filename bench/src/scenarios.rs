//! The benchmarks of issue 5, their checks, and the report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::fake::FakeProc;
use crate::measure::{fmt_mib, fmt_secs, run, Proc, Stats};
use crate::Options;

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
            Unit::Ratio => format!("{v:.1}x"),
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
        FakeProc::start(&self.fake_exe, &[]).map_err(|e| format!("fake exchange: {e}"))
    }

    /// A fake (this binary, `fake`) that withholds every monthly file of `year`'s 1m.
    fn fake_without_monthly(&self, year: &str) -> Result<FakeProc, String> {
        let mut args = Vec::new();
        for m in 1..=12 {
            args.push("--withhold".to_string());
            args.push(format!("BTCUSDT-1m-{year}-{m:02}.zip"));
        }
        let mut full = vec!["fake".to_string()];
        full.extend(args);
        FakeProc::start(&self.self_exe, &full).map_err(|e| format!("fake exchange: {e}"))
    }

    fn fresh_dir(&self, name: &str) -> PathBuf {
        let d = self.work.join(name);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("work dir is writable");
        d
    }
}

fn secs(p: &[Duration]) -> Option<Stats> {
    Stats::durations(p)
}

fn kib(values: &[u64]) -> Option<Stats> {
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
        warm(&env, o, &mut rep, year_cache)?;
    }
    if o.wants("rest") {
        rest(&env, o, &mut rep)?;
    }
    if o.wants("memory") {
        memory(&env, o, &mut rep)?;
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

fn startup(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("startup: dsm providers as a whole process");
    let providers = || {
        let mut c = env.dsm();
        c.arg("providers");
        c
    };
    for _ in 0..3 {
        env.run_ok(&mut providers())?; // page cache and dynamic loader warm
    }
    let (mut wall, mut rss) = (Vec::new(), Vec::new());
    for _ in 0..o.reps(30, 10) {
        let p = env.run_ok(&mut providers())?;
        for id in PLUGINS {
            if !p.stdout.contains(id) {
                return Err(format!("dsm providers did not list {id}:\n{}", p.stdout));
            }
        }
        wall.push(p.wall);
        rss.push(p.maxrss_kib);
    }
    rep.target(
        "start-up",
        "`dsm providers` wall",
        secs(&wall),
        Unit::Secs,
        "<= 5 ms",
        |m| m <= 0.005,
    );
    rep.target(
        "start-up",
        "`dsm providers` peak RSS",
        kib(&rss),
        Unit::KiB,
        "<= 8 MiB",
        |m| m <= 8.0 * 1024.0,
    );
    // Proof that no plugin is opened: the dynamic loader's own trace.
    let p = env.run_ok(providers().env("LD_DEBUG", "files"))?;
    let opened = p
        .stderr
        .lines()
        .filter(|l| l.contains("libdsm_") && (l.contains("file=") || l.contains("calling init")))
        .count();
    let mut loaded_libs: Vec<&str> = Vec::new();
    for lib in p
        .stderr
        .lines()
        .filter_map(|l| l.split("file=").nth(1))
        .filter_map(|f| f.split_whitespace().next())
    {
        if !loaded_libs.contains(&lib) {
            loaded_libs.push(lib);
        }
    }
    rep.target(
        "start-up",
        "plugin files opened by `dsm providers` (LD_DEBUG=files)",
        Stats::of(&[opened as f64]),
        Unit::Count,
        "0",
        |m| m == 0.0,
    );
    rep.note(format!(
        "`LD_DEBUG=files dsm providers` lists {} libraries loaded: {}; it printed all three \
         providers ({}), read from the manifests in the files",
        loaded_libs.len(),
        loaded_libs.join(", "),
        PLUGINS.join(", ")
    ));
    // ccxt's start-up, for context.
    let py = |code: &str| {
        let mut c = env.cmd(Path::new(&env.python));
        c.arg("-c").arg(code);
        c
    };
    if env.run(&mut py("import ccxt"))?.ok() {
        let _ = env.run(&mut py("import ccxt; ccxt.binance()"))?;
        let (mut wall, mut rss) = (Vec::new(), Vec::new());
        for _ in 0..o.reps(5, 3) {
            let p = env.run_ok(&mut py("import ccxt; ccxt.binance()"))?;
            wall.push(p.wall);
            rss.push(p.maxrss_kib);
        }
        rep.add(
            "start-up",
            "ccxt: `python3 -c \"import ccxt; ccxt.binance()\"` wall",
            secs(&wall),
            Unit::Secs,
        );
        rep.add("start-up", "ccxt: same, peak RSS", kib(&rss), Unit::KiB);
    } else {
        rep.note("ccxt is not installed (pip install -r bench/requirements.txt): its start-up was not measured");
    }
    Ok(())
}

fn create(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("create: Dsm::create_with_config in-process");
    let n = o.reps(2000, 500);
    let mut all = Vec::new();
    let mut firsts = Vec::new();
    for _ in 0..3 {
        let p = env.run_ok(env.probe("create").args(["--n", &n.to_string()]))?;
        let samples: Vec<Duration> = p
            .value("samples")
            .unwrap_or("")
            .split(',')
            .filter_map(|s| s.parse().ok().map(Duration::from_nanos))
            .collect();
        if p.num("mapped") != Some(0) {
            return Err("Dsm::create mapped a plugin".into());
        }
        firsts.push(samples[0]);
        all.extend_from_slice(&samples[1..]);
    }
    rep.target(
        "create",
        "`Dsm::create_with_config` (binance spot)",
        secs(&all),
        Unit::Secs,
        "<= 1 ms",
        |m| m <= 0.001,
    );
    rep.add(
        "create",
        "the first `Dsm::create` of a process",
        secs(&firsts),
        Unit::Secs,
    );
    rep.note(format!(
        "Dsm::create: {} creates in each of 3 fresh processes; no plugin mapped afterwards \
         (/proc/self/maps)",
        n
    ));
    Ok(())
}

fn first_use(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("first use: plugin load vs request, fresh processes");
    let fake = env.fake()?;
    let (mut load, mut init, mut overhead, mut again, mut first) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..o.reps(10, 5) + 1 {
        let p = env.run_ok(env.probe("first-use").args([
            "--url",
            &fake.url,
            "--start",
            "2024-01-01T00:00:00Z",
            "--end",
            "2024-01-01T01:00:00Z",
        ]))?;
        if p.num("mapped_before") != Some(0) || p.num("mapped_after") != Some(1) {
            return Err(format!("unexpected mappings: {}", p.stdout));
        }
        if p.num("candles") != Some(60) {
            return Err(format!("first-use fetch: {}", p.stdout));
        }
        if i == 0 {
            continue; // warm-up: page cache
        }
        let (f, l, a, s) = (
            p.ns("first").unwrap_or_default(),
            p.ns("load").unwrap_or_default(),
            p.ns("again").unwrap_or_default(),
            p.ns("second_manager_first").unwrap_or_default(),
        );
        first.push(f);
        load.push(l);
        again.push(a);
        init.push(s.saturating_sub(a));
        overhead.push(f.saturating_sub(a));
    }
    rep.add(
        "first use",
        "library open + ABI check (`Dsm::load_time`)",
        secs(&load),
        Unit::Secs,
    );
    rep.add(
        "first use",
        "provider init (2nd manager's first fetch - a warm fetch)",
        secs(&init),
        Unit::Secs,
    );
    rep.target(
        "first use",
        "first-use overhead: first fetch - same fetch again (open + ABI check + init + connect)",
        secs(&overhead),
        Unit::Secs,
        "<= 10 ms",
        |m| m <= 0.010,
    );
    rep.add(
        "first use",
        "first fetch, 1 h of 1m (60 candles, 1 request)",
        secs(&first),
        Unit::Secs,
    );
    rep.add(
        "first use",
        "the same request again (plugin loaded)",
        secs(&again),
        Unit::Secs,
    );
    Ok(())
}

/// Cold archive year: monthly files, then daily files. Returns a cache dir holding the year.
fn cold(env: &Env, o: &Options, rep: &mut Report) -> Result<PathBuf, String> {
    let fetch = |url: &str, cache: &Path, out: &Path| {
        let mut c = env.dsm();
        c.env("DSM_BINANCE_VISION_URL", url)
            .env("DSM_BINANCE_SPOT_URL", url)
            .arg("-v")
            .arg("--cache-dir")
            .arg(cache)
            .args([
                "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1m",
            ])
            .args([
                "--start", YEAR.0, "--end", YEAR.1, "--source", "archive", "-f", "parquet", "-o",
            ])
            .arg(out);
        c
    };
    let mut last_cache = None;
    for (label, daily) in [("monthly files (12)", false), ("daily files (365)", true)] {
        eprintln!("cold archive year: {label}");
        let fake = if daily {
            env.fake_without_monthly("2023")?
        } else {
            env.fake()?
        };
        let reps = if daily { o.reps(3, 2) } else { o.reps(5, 3) };
        let (mut wall, mut rss, mut cpu, mut fake_cpu) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut requests = Vec::new();
        for i in 0..reps + usize::from(!daily) {
            let cache = env.fresh_dir("cold-cache");
            let out = env.work.join("cold.parquet");
            let before = fake.cpu();
            let p = env.run_ok(&mut fetch(&fake.url, &cache, &out))?;
            let fake_used = fake.cpu().saturating_sub(before);
            let rows = parquet_rows(&out)?;
            if rows != YEAR_ROWS {
                return Err(format!(
                    "cold {label}: {rows} rows in the Parquet file, expected {YEAR_ROWS}"
                ));
            }
            let cached = files_in(&cache);
            if cached != 365 {
                return Err(format!("cold {label}: {cached} files cached, expected 365"));
            }
            requests.push(logged_requests(&p.stderr).unwrap_or(0));
            if !daily && i == 0 {
                continue; // warm-up: the fake builds and keeps its 12 monthly zips
            }
            wall.push(p.wall);
            rss.push(p.maxrss_kib);
            cpu.push(p.cpu());
            fake_cpu.push(fake_used);
        }
        rep.target(
            "cold archive year 1m",
            format!("{label}: wall (CLI to Parquet, 525,600 candles)"),
            secs(&wall),
            Unit::Secs,
            "<= 2 s",
            |m| m <= 2.0,
        );
        rep.add(
            "cold archive year 1m",
            format!("{label}: dsm CPU (user+sys)"),
            secs(&cpu),
            Unit::Secs,
        );
        rep.add(
            "cold archive year 1m",
            format!("{label}: fake exchange CPU (other process)"),
            secs(&fake_cpu),
            Unit::Secs,
        );
        rep.add(
            "cold archive year 1m",
            format!("{label}: peak RSS"),
            kib(&rss),
            Unit::KiB,
        );
        rep.note(format!(
            "cold archive, {label}: HTTP requests per run (from `dsm -v`): {:?}; every run \
             wrote 525,600 rows to Parquet and 365 day files to a fresh cache",
            requests
        ));
        last_cache = Some(env.work.join("cold-cache"));
    }
    Ok(last_cache.expect("two variants ran"))
}

fn warm(env: &Env, o: &Options, rep: &mut Report, cache: Option<PathBuf>) -> Result<(), String> {
    eprintln!("warm year: from cache to Parquet and to memory");
    let cache = match cache {
        Some(c) if files_in(&c) == 365 => c,
        _ => {
            let fake = env.fake()?;
            let c = env.fresh_dir("cold-cache");
            env.run_ok(
                env.dsm()
                    .env("DSM_BINANCE_VISION_URL", &fake.url)
                    .arg("-q")
                    .arg("--cache-dir")
                    .arg(&c)
                    .args([
                        "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1m",
                    ])
                    .args([
                        "--start",
                        YEAR.0,
                        "--end",
                        YEAR.1,
                        "--source",
                        "archive",
                        "-o",
                        "/dev/null",
                    ]),
            )?;
            c
        }
    };
    let (mut wall, mut rss) = (Vec::new(), Vec::new());
    for i in 0..o.reps(10, 5) + 1 {
        let out = env.work.join("warm.parquet");
        let p = env.run_ok(
            env.dsm()
                .arg("-q")
                .arg("--cache-dir")
                .arg(&cache)
                .args([
                    "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1m",
                ])
                .args([
                    "--start", YEAR.0, "--end", YEAR.1, "--source", "cache", "-f", "parquet", "-o",
                ])
                .arg(&out),
        )?;
        if parquet_rows(&out)? != YEAR_ROWS {
            return Err("warm to Parquet: wrong row count".into());
        }
        if i > 0 {
            wall.push(p.wall);
            rss.push(p.maxrss_kib);
        }
    }
    rep.add(
        "warm year 1m (cache)",
        "to Parquet: wall (CLI, whole process)",
        secs(&wall),
        Unit::Secs,
    );
    rep.add(
        "warm year 1m (cache)",
        "to Parquet: peak RSS",
        kib(&rss),
        Unit::KiB,
    );
    let (mut fetch, mut rss) = (Vec::new(), Vec::new());
    for i in 0..o.reps(10, 5) + 1 {
        let p = env.run_ok(
            env.probe("fetch")
                .arg("--cache-dir")
                .arg(&cache)
                .args(["--start", YEAR.0, "--end", YEAR.1]),
        )?;
        if p.num("candles") != Some(YEAR_ROWS)
            || p.num("loaded") != Some(0)
            || p.num("mapped") != Some(0)
        {
            return Err(format!("warm to memory: {}", p.stdout));
        }
        if i > 0 {
            fetch.push(p.ns("fetch").unwrap_or_default());
            rss.push(p.maxrss_kib);
        }
    }
    rep.target(
        "warm year 1m (cache)",
        "to memory: `fetch_market_data` (Vec of 525,600 klines)",
        secs(&fetch),
        Unit::Secs,
        "<= 100 ms",
        |m| m <= 0.100,
    );
    rep.add(
        "warm year 1m (cache)",
        "to memory: peak RSS of that process",
        kib(&rss),
        Unit::KiB,
    );
    rep.note("warm fetches opened no plugin (Dsm::is_loaded false, nothing mapped)");
    Ok(())
}

/// ccxt_rest.py once against a fresh fake: its JSON line and the process.
fn ccxt_run(env: &Env, mode: &str, rate_limit: bool) -> Result<(serde_json::Value, Proc), String> {
    let fake = env.fake()?;
    let mut c = env.cmd(Path::new(&env.python));
    c.arg(&env.ccxt_script)
        .args(["--url", &fake.url, "--mode", mode])
        .args([
            "--start-ms",
            &REST_MS.0.to_string(),
            "--end-ms",
            &REST_MS.1.to_string(),
        ]);
    if !rate_limit {
        c.arg("--no-rate-limit");
    }
    let p = env.run_ok(&mut c)?;
    let v: serde_json::Value = serde_json::from_str(p.stdout.trim())
        .map_err(|e| format!("ccxt_rest.py printed {:?}: {e}", p.stdout))?;
    if v["candles"].as_u64() != Some(REST_ROWS) {
        return Err(format!(
            "ccxt fetched {} candles, expected {REST_ROWS}",
            v["candles"]
        ));
    }
    Ok((v, p))
}

fn rest(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("REST 30 days 1m um: dsm and ccxt, each run against a fresh fake");
    let reps = o.reps(7, 3);
    let (mut dsm_fetch, mut dsm_proc, mut dsm_cli, mut weights) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let have_ccxt = env
        .run(env.cmd(Path::new(&env.python)).args(["-c", "import ccxt"]))?
        .ok();
    let (mut cx, mut cx_proc, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    let mut cx_requests = (0, 0);
    for i in 0..reps + 1 {
        // dsm, library in a fresh process (the plugin load included).
        let fake = env.fake()?;
        let p = env.run_ok(
            env.probe("fetch")
                .args(["--url", &fake.url, "--market", "um"])
                .args(["--start", REST.0, "--end", REST.1]),
        )?;
        if p.num("candles") != Some(REST_ROWS) || p.num("gaps") != Some(0) {
            return Err(format!("dsm REST: {}", p.stdout));
        }
        // Retries (after a 429 or anything else) would show as more requests than pages.
        if p.num("requests") != Some(REST_PAGES) {
            return Err(format!(
                "dsm REST made {:?} requests for {REST_PAGES} pages: the run does not count",
                p.num("requests")
            ));
        }
        weights.push(fake.used_weight("/fapi/v1/ping").unwrap_or(0));
        drop(fake);
        // dsm, the CLI to Parquet, whole process.
        let fake = env.fake()?;
        let out = env.work.join("rest.parquet");
        let cli = env.run_ok(
            env.dsm()
                .env("DSM_BINANCE_UM_URL", &fake.url)
                .arg("-q")
                .args([
                    "fetch", "-p", "binance", "-m", "um", "-s", "BTCUSDT", "-i", "1m",
                ])
                .args([
                    "--start",
                    REST.0,
                    "--end",
                    REST.1,
                    "--source",
                    "rest",
                    "--no-cache",
                    "-f",
                    "parquet",
                    "-o",
                ])
                .arg(&out),
        )?;
        if parquet_rows(&out)? != REST_ROWS {
            return Err("dsm CLI REST: wrong row count".into());
        }
        drop(fake);
        let ccxt = if have_ccxt {
            Some((ccxt_run(env, "ohlcv", false)?, ccxt_run(env, "raw", false)?))
        } else {
            None
        };
        if i == 0 {
            continue; // warm-up
        }
        dsm_fetch.push(p.ns("fetch").unwrap_or_default());
        dsm_proc.push(p.wall);
        dsm_cli.push(cli.wall);
        if let Some(((v, pr), (r, _))) = ccxt {
            cx.push(Duration::from_secs_f64(
                v["fetch_s"].as_f64().unwrap_or(0.0),
            ));
            cx_proc.push(pr.wall);
            raw.push(Duration::from_secs_f64(
                r["fetch_s"].as_f64().unwrap_or(0.0),
            ));
            cx_requests = (
                v["requests"].as_u64().unwrap_or(0),
                r["requests"].as_u64().unwrap_or(0),
            );
        }
    }
    let dsm_s = secs(&dsm_fetch);
    rep.add(
        "REST 30 days 1m um",
        "dsm: `fetch_market_data` (cache off, plugin load included)",
        dsm_s,
        Unit::Secs,
    );
    rep.add(
        "REST 30 days 1m um",
        "dsm: whole process (bench probe)",
        secs(&dsm_proc),
        Unit::Secs,
    );
    rep.add(
        "REST 30 days 1m um",
        "dsm: CLI to Parquet, whole process",
        secs(&dsm_cli),
        Unit::Secs,
    );
    rep.note(format!(
        "REST: every dsm run made exactly {REST_PAGES} requests (no retry, so no 429) against \
         a fresh fake, and the fake reported used weight {:?} of 2400/min afterwards",
        weights
    ));
    if !have_ccxt {
        rep.note(
            "ccxt is NOT installed (pip install -r bench/requirements.txt): no ratio measured",
        );
        return Ok(());
    }
    let cx_s = secs(&cx);
    let raw_s = secs(&raw);
    rep.add(
        "REST 30 days 1m um",
        format!(
            "ccxt: fetch_ohlcv paging, no throttle ({} requests)",
            cx_requests.0
        ),
        cx_s,
        Unit::Secs,
    );
    rep.add(
        "REST 30 days 1m um",
        format!(
            "ccxt: implicit API, 1500 a page, no throttle ({} requests)",
            cx_requests.1
        ),
        raw_s,
        Unit::Secs,
    );
    rep.add(
        "REST 30 days 1m um",
        "ccxt: fetch_ohlcv script, whole process",
        secs(&cx_proc),
        Unit::Secs,
    );
    let ratio = |a: Option<Stats>, b: Option<Stats>| {
        let (a, b) = (a?, b?);
        Stats::of(&[a.median / b.median])
    };
    // ccxt as users run it: enableRateLimit on (its default).
    let mut throttled = Vec::new();
    for _ in 0..o.reps(2, 1) {
        let (v, _) = ccxt_run(env, "ohlcv", true)?;
        throttled.push(Duration::from_secs_f64(
            v["fetch_s"].as_f64().unwrap_or(0.0),
        ));
    }
    let thr_s = secs(&throttled);
    rep.add(
        "REST 30 days 1m um",
        "ccxt: fetch_ohlcv with its default throttle (enableRateLimit)",
        thr_s,
        Unit::Secs,
    );
    rep.target(
        "REST 30 days 1m um",
        "ratio ccxt fetch_ohlcv (no throttle) / dsm",
        ratio(cx_s, dsm_s),
        Unit::Ratio,
        ">= 5x",
        |m| m >= 5.0,
    );
    rep.add(
        "REST 30 days 1m um",
        "ratio ccxt implicit API 1500/page (no throttle) / dsm",
        ratio(raw_s, dsm_s),
        Unit::Ratio,
    );
    rep.add(
        "REST 30 days 1m um",
        "ratio ccxt fetch_ohlcv, default throttle / dsm",
        ratio(thr_s, dsm_s),
        Unit::Ratio,
    );
    rep.add(
        "REST 30 days 1m um",
        "ratio whole processes: ccxt script / dsm CLI",
        ratio(secs(&cx_proc), secs(&dsm_cli)),
        Unit::Ratio,
    );
    Ok(())
}

fn memory(env: &Env, o: &Options, rep: &mut Report) -> Result<(), String> {
    eprintln!("bounded memory: a month of 1s to Parquet (CLI)");
    let fake = env.fake()?;
    let (mut wall, mut rss, mut fake_cpu) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..o.reps(3, 1) {
        let cache = env.fresh_dir("month-cache");
        let out = env.work.join("month-1s.parquet");
        let before = fake.cpu();
        let p = env.run_ok(
            env.dsm()
                .env("DSM_BINANCE_VISION_URL", &fake.url)
                .env("DSM_BINANCE_SPOT_URL", &fake.url)
                .arg("-q")
                .arg("--cache-dir")
                .arg(&cache)
                .args([
                    "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1s",
                ])
                .args([
                    "--start", MONTH_1S.0, "--end", MONTH_1S.1, "-f", "parquet", "-o",
                ])
                .arg(&out),
        )?;
        fake_cpu.push(fake.cpu().saturating_sub(before));
        let rows = parquet_rows(&out)?;
        if rows != MONTH_1S_ROWS {
            return Err(format!(
                "month of 1s: {rows} rows, expected {MONTH_1S_ROWS}"
            ));
        }
        wall.push(p.wall);
        rss.push(p.maxrss_kib);
    }
    rep.target(
        "month of 1s (2,678,400 candles)",
        "archive to Parquet + cache (CLI): peak RSS",
        kib(&rss),
        Unit::KiB,
        "<= 128 MiB",
        |m| m <= 128.0 * 1024.0,
    );
    rep.add(
        "month of 1s (2,678,400 candles)",
        "wall",
        secs(&wall),
        Unit::Secs,
    );
    rep.add(
        "month of 1s (2,678,400 candles)",
        "fake exchange CPU (building 31 zips, other process)",
        secs(&fake_cpu),
        Unit::Secs,
    );
    Ok(())
}
