//! Helpers shared by the end-to-end tests: where the built host and plugins are, and what
//! this process has mapped.
#![allow(dead_code)] // each test file uses a different part

pub mod cache_at;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// target/<profile>/, where `cargo build --workspace` puts the host binary and the plugins
/// (and where the test plugin is built on first use).
pub fn target_dir() -> PathBuf {
    build_testplug();
    profile_dir()
}

fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// The cargo running these tests, with its own rustc: projects outside the workspace (in
/// temporary directories) then build with the pinned toolchain, not rustup's default.
/// Without the variables cargo set for this test process: some build scripts (ring's)
/// track CARGO_MANIFEST_DIR, and seeing the test's would rebuild them.
pub fn cargo() -> Command {
    let cargo = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    let mut cmd = Command::new(&cargo);
    let rustc = cargo.with_file_name("rustc");
    if rustc.is_file() {
        cmd.env("RUSTC", rustc);
    }
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo = name == "CARGO_MANIFEST_DIR"
            || name == "CARGO_MANIFEST_PATH"
            || name == "CARGO_CRATE_NAME"
            || name == "CARGO_PRIMARY_PACKAGE"
            || name == "CARGO_TARGET_TMPDIR"
            || name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_");
        if set_by_cargo {
            cmd.env_remove(&*name);
        }
    }
    cmd
}

/// The workspace's settings of the profile these tests were built with (`[profile.dev]` and
/// its `package` overrides in the root Cargo.toml) as `--config` arguments, for the cargo
/// builds of projects outside the workspace into its target directory (tests/testplug, the
/// outside app and plugins). Such a project has cargo's default profile (full debug info for
/// every crate), so every dependency the test command compiled would be compiled again, with
/// other settings; with these, cargo reuses each one the project's own features select alike
/// (a profile is the project's own choice, not what these builds prove).
pub fn workspace_profile() -> Vec<String> {
    let name = if profile_dir().ends_with("release") {
        "profile.release"
    } else {
        "profile.dev"
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let manifest = std::fs::read_to_string(&root).expect("read the workspace's Cargo.toml");
    let mut args = Vec::new();
    let mut table: Option<&str> = None;
    for line in manifest.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_end_matches(']');
            let ours = header == name || header.starts_with(&format!("{name}."));
            table = ours.then_some(header);
        } else if let (Some(table), false) = (table, line.starts_with('#')) {
            if let Some((key, value)) = line.split_once('=') {
                let value = value.split('#').next().unwrap_or_default().trim();
                args.push("--config".to_string());
                args.push(format!("{table}.{}={value}", key.trim()));
            }
        }
    }
    args
}

/// Build tests/testplug into target/<profile>/, once per test process. It is its own
/// workspace, so `cargo build --workspace` (and a release build users install) never
/// contains it; sharing the target directory reuses the compiled SDK.
fn build_testplug() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let profile = profile_dir();
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("testplug/Cargo.toml");
        let mut cmd = cargo();
        cmd.args(["build", "--quiet", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(profile.parent().expect("target/"))
            .args(workspace_profile());
        if profile.ends_with("release") {
            cmd.arg("--release");
        }
        let out = cmd.output().expect("run cargo to build tests/testplug");
        assert!(
            out.status.success(),
            "building tests/testplug failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// The built plugin file for `id`; a clear failure when the workspace was not built first.
pub fn plugin(id: &str) -> PathBuf {
    let p = target_dir().join(format!("libdsm_{id}.so"));
    assert!(
        p.is_file(),
        "{} is missing: run `cargo build --workspace` before the tests (see README.md)",
        p.display()
    );
    p
}

/// The built `dsm` binary.
pub fn dsm_bin() -> PathBuf {
    let p = target_dir().join("dsm");
    assert!(
        p.is_file(),
        "{} is missing: run `cargo build --workspace` first",
        p.display()
    );
    p
}

/// File names of the dsm plugin libraries mapped into this process.
pub fn mapped_plugins() -> Vec<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    let mut names: Vec<String> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter_map(|p| Path::new(p).file_name()?.to_str().map(String::from))
        .filter(|n| n.starts_with("libdsm_") && n.ends_with(".so"))
        .collect();
    names.sort();
    names.dedup();
    names
}

pub fn is_mapped(id: &str) -> bool {
    mapped_plugins().contains(&format!("libdsm_{id}.so"))
}

/// Every endpoint (manifest key) of every provider. Tests point all of them at 127.0.0.1
/// through the helpers below, never only the one they mean to use: a forgotten one would
/// resolve and reach the real exchange. `every_endpoint_is_listed` checks this against the
/// built plugins' manifests.
pub const ENDPOINTS: &[(&str, &[&str])] = &[
    ("binance", &["spot", "um", "cm", "vision", "vision_listing"]),
    ("okx", &["rest"]),
    ("bybit", &["rest"]),
];

/// Where endpoints point when a test names no server: a loopback port nothing listens on,
/// so a request is refused at once.
pub const NOWHERE: &str = "http://127.0.0.1:9";

/// The environment pointing every endpoint of every provider at `url`
/// (`DSM_<PROVIDER>_<KEY>_URL`).
pub fn endpoint_env(url: &str) -> Vec<(String, String)> {
    ENDPOINTS
        .iter()
        .flat_map(|(provider, keys)| keys.iter().map(move |key| (provider, key)))
        .map(|(provider, key)| (endpoint_var(provider, key), url.to_string()))
        .collect()
}

fn endpoint_var(provider: &str, key: &str) -> String {
    format!("DSM_{provider}_{key}_URL").to_ascii_uppercase()
}

/// `cmd` with every endpoint of every provider at `url`.
pub fn on_loopback<'a>(cmd: &'a mut Command, url: &str) -> &'a mut Command {
    cmd.envs(endpoint_env(url))
}

/// `config` with every endpoint of its provider at `url`.
pub fn config_on(config: dsm_core::DsmConfig, url: &str) -> dsm_core::DsmConfig {
    let keys = ENDPOINTS
        .iter()
        .find(|(p, _)| *p == config.provider)
        .map_or(&[][..], |(_, keys)| *keys);
    keys.iter().fold(config, |c, key| c.endpoint(key, url))
}

/// Run the built `dsm` with `args`, no inherited plugin path, every endpoint at
/// [`NOWHERE`], a fresh empty cache directory (unless `env` sets DSM_CACHE_DIR), and extra
/// env.
pub fn run_dsm(args: &[&str], env: &[(&str, &str)]) -> Output {
    run_dsm_on(NOWHERE, args, env)
}

/// [`run_dsm`] with every endpoint of every provider at `url`.
pub fn run_dsm_on(url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(dsm_bin());
    for (provider, keys) in ENDPOINTS {
        // `DSM_<PROVIDER>_URL` in `env` sets the first endpoint: its own variable would win.
        let main = format!("DSM_{provider}_URL").to_ascii_uppercase();
        let skip = usize::from(env.iter().any(|(k, _)| *k == main));
        for key in &keys[skip..] {
            cmd.env(endpoint_var(provider, key), url);
        }
    }
    cmd.args(args)
        .env_remove("DSM_PLUGIN_PATH")
        .env_remove("DSM_LOG")
        .env("DSM_CACHE_DIR", cache.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run dsm")
}

/// The fake's weight limit on `prefix` (e.g. "/fapi/") lowered to `limit` a 1 s window, and
/// the environment that gives dsm's Binance plugin the same limit and window (its budget is
/// 90% of the limit).
pub fn lower_weight_budget(
    fake: &dsm_tests::fake::FakeExchange,
    prefix: &str,
    limit: u32,
) -> [(&'static str, String); 2] {
    fake.set_weight_limit(prefix, limit);
    fake.set_weight_window(1_000);
    [
        ("DSM_BINANCE_WEIGHT_LIMIT", limit.to_string()),
        ("DSM_BINANCE_WEIGHT_WINDOW_MS", "1000".to_string()),
    ]
}

/// [`run_dsm_on`] that must succeed, printing CSV: its first column (after the header).
pub fn first_csv_column(url: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<i64> {
    let out = run_dsm_on(url, args, env);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A directory holding copies of the named built plugins (and nothing else).
pub fn plugin_dir_with(ids: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for id in ids {
        let src = plugin(id);
        std::fs::copy(&src, dir.path().join(src.file_name().unwrap())).expect("copy plugin");
    }
    dir
}

/// A manager of the network-free test plugin's spot market, caching in `cache`.
pub fn testplug_manager(cache: &Path, source: dsm_core::SourceMode) -> dsm_core::Dsm {
    dsm_core::Dsm::create_with_config(
        dsm_core::DsmConfig::new("testplug", "spot")
            .plugin_dir(target_dir())
            .cache_dir(cache)
            .source(source),
    )
    .unwrap()
}

/// The cache file of the test plugin's TEST 1h series for `date` (YYYY-MM-DD).
pub fn testplug_day_file(cache: &Path, date: &str) -> PathBuf {
    cache.join(format!("testplug/spot/klines/TEST/1h/{date}.arrow"))
}

/// The candles testplug computes, for checking its output.
pub fn testplug_klines(step: i64, start: i64, end: i64) -> Vec<dsm_core::Kline> {
    let first = (start + step - 1).div_euclid(step) * step;
    (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t < end)
        .map(|t| {
            let p = (t / step % 1000) as f64 + 100.0;
            dsm_core::Kline {
                open_time: t,
                open: p,
                high: p + 2.0,
                low: p - 1.0,
                close: p + 1.0,
                volume: 10.0,
                close_time: t + step - 1,
                quote_volume: 10.0 * p,
                trades: 7,
                taker_buy_base_volume: 5.0,
                taker_buy_quote_volume: 5.0 * p,
            }
        })
        .collect()
}

/// A Binance manager on the fake exchange (every endpoint, Vision included), with short
/// retries and timeouts for fault tests: 3 retries 5-20 ms apart, `timeout_ms` per request.
pub fn binance_on_fake(
    fake: &dsm_tests::fake::FakeExchange,
    market: &str,
    cache: &Path,
    source: dsm_core::SourceMode,
    timeout_ms: u64,
) -> dsm_core::Dsm {
    let config = config_on(dsm_core::DsmConfig::new("binance", market), &fake.url());
    dsm_core::Dsm::create_with_config(
        config
            .plugin_dir(target_dir())
            .cache_dir(cache)
            .source(source)
            .retries(3)
            .backoff(
                std::time::Duration::from_millis(5),
                std::time::Duration::from_millis(20),
            )
            .request_timeout(std::time::Duration::from_millis(timeout_ms)),
    )
    .expect("a binance manager")
}

/// `dsm cache verify` in-process: panics naming every bad file; returns the files checked.
pub fn assert_cache_valid(cache: &Path) -> usize {
    let report = dsm_core::cache::Cache::new(cache).verify(&dsm_core::cache::Filter::default());
    assert!(report.is_ok(), "bad cache files: {:?}", report.bad);
    report.files_checked
}

/// The `.arrow` files under `dir`, as paths relative to it, sorted.
pub fn cache_files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "arrow") {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Milliseconds UTC of a date or time as the CLI takes it.
pub fn ms(t: &str) -> i64 {
    dsm_core::timeparse::parse_time(t).expect("a valid time")
}

/// A trade as comparable bits: prices compared exactly, NaN quote quantities too.
pub type TradeBits = (i64, i64, u64, u64, u64, i64, i64, u8, u8);

pub fn trade_bits(t: &dsm_sdk::Trade) -> TradeBits {
    (
        t.id,
        t.time,
        t.price.to_bits(),
        t.qty.to_bits(),
        t.quote_qty.to_bits(),
        t.first_id,
        t.last_id,
        t.buyer_maker,
        t.best_match,
    )
}

/// Wait for an event another process brings about (a file appears, a request is held):
/// checked every 10 ms, failing after a minute with what never happened.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
