//! `dsm plugin new NAME`: write a plugin project from the template (plugin_template/).
//! `dsm plugin check FILE`: load a plugin in a child process and try what its manifest
//! promises: the child can crash or hang on a broken plugin, the parent reports it.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Args, Subcommand};
use dsm_core::interval::{Interval, DAY};
use dsm_core::{DataKind, Dsm, DsmConfig, DsmError, ErrorKind, Manifest, MarketInfo, SourceMode};

use crate::cli::Cli;

#[derive(Args, Debug)]
pub struct PluginArgs {
    #[command(subcommand)]
    pub command: PluginCommand,
}

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Write a new plugin project (Cargo.toml, manifest.json, src/lib.rs) to build outside
    /// dsm: `cargo build --release`, then copy target/release/libdsm_NAME.so into a plugin
    /// directory (e.g. ~/.local/lib/dsm/plugins).
    New(NewArgs),
    /// Load a plugin file in a child process and check it: manifest readable and matching
    /// the code, every market and interval answering, errors clean, no panic or crash.
    /// Endpoints come from DSM_<ID>_URL as for a fetch. Exit 0 when every check passes.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct NewArgs {
    /// Provider id: lowercase letters, digits, `_` (the file will be libdsm_NAME.so).
    pub name: String,
    /// Directory to create (default ./dsm-NAME).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// A dsm source checkout to depend on by path (default: the one this dsm was built
    /// from, if it is still there; else the crates.io versions).
    #[arg(long, value_name = "DIR")]
    pub dsm_src: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The plugin file (libdsm_<id>.so).
    pub file: PathBuf,
    /// Symbol to ask for (default: each market's symbol example from the manifest).
    #[arg(long)]
    pub symbol: Option<String>,
    /// Start of the small range asked for per interval (three candles).
    #[arg(long, default_value = "2024-01-01")]
    pub start: String,
    /// Run the checks in this process (what the parent runs in its child).
    #[arg(long, hide = true)]
    pub in_child: bool,
}

pub fn run(cli: &Cli, args: &PluginArgs) -> Result<ExitCode, DsmError> {
    match &args.command {
        PluginCommand::New(a) => new(a),
        PluginCommand::Check(a) if a.in_child => check_here(cli, a),
        PluginCommand::Check(a) => check_in_child(a),
    }
}

const CARGO_TOML: &str = include_str!("plugin_template/Cargo.toml.tmpl");
const MANIFEST: &str = include_str!("plugin_template/manifest.json.tmpl");
const LIB_RS: &str = include_str!("plugin_template/lib.rs.tmpl");

fn new(args: &NewArgs) -> Result<ExitCode, DsmError> {
    let id = dsm_core::discovery::normalize_provider(&args.name)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("dsm-{id}")));
    if std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(DsmError::InvalidInput(format!(
            "{} exists and is not empty: choose another --dir",
            dir.display()
        )));
    }
    let deps = dependencies(args.dsm_src.as_deref())?;
    let fill = |t: &str| {
        t.replace("{{id}}", &id)
            .replace("{{ID}}", &id.to_ascii_uppercase())
            .replace("{{Type}}", &type_name(&id))
            .replace("{{deps}}", &deps)
    };
    let write = |rel: &str, text: String| -> Result<(), DsmError> {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("inside dir"))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| DsmError::io(format!("cannot write {}", path.display()), e))
    };
    write("Cargo.toml", fill(CARGO_TOML))?;
    write("manifest.json", fill(MANIFEST))?;
    write("src/lib.rs", fill(LIB_RS))?;
    if !deps.contains("path = ") {
        eprintln!(
            "note: Cargo.toml names dsm-sdk and dsm-plugin-kit by version; until they are on \
             crates.io, pass --dsm-src with a dsm checkout to depend on it by path"
        );
    }
    println!(
        "wrote {}: build it with `cargo build --release` there, check it with \
         `dsm plugin check target/release/libdsm_{id}.so`, and copy that file into a plugin \
         directory (`dsm providers` lists where dsm looks)",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Path dependencies on a dsm checkout, or crates.io versions without one.
fn dependencies(src: Option<&Path>) -> Result<String, DsmError> {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let src = match src {
        Some(s) => Some(s.to_path_buf()),
        None => Some(built_from).filter(|d| d.join("sdk/Cargo.toml").is_file()),
    };
    let version = env!("CARGO_PKG_VERSION");
    let minor = version.rsplit_once('.').map_or(version, |(m, _)| m);
    let Some(src) = src else {
        return Ok(format!(
            "dsm-sdk = \"{minor}\"\ndsm-plugin-kit = \"{minor}\"\nserde_json = \"1\"\n"
        ));
    };
    let src = std::path::absolute(&src)
        .and_then(|p| p.canonicalize())
        .map_err(|e| DsmError::io(format!("dsm source {}", src.display()), e))?;
    if !src.join("sdk/Cargo.toml").is_file() {
        return Err(DsmError::InvalidInput(format!(
            "{} is not a dsm checkout (no sdk/Cargo.toml)",
            src.display()
        )));
    }
    let path = |rel: &str| format!("{:?}", src.join(rel).display().to_string());
    Ok(format!(
        "dsm-sdk = {{ path = {} }}\ndsm-plugin-kit = {{ path = {} }}\nserde_json = \"1\"\n",
        path("sdk"),
        path("plugins/kit")
    ))
}

/// `my_exchange` -> `MyExchange`.
fn type_name(id: &str) -> String {
    id.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<String>()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .to_string()
        + "Provider"
}

/// The parent: the same command in a child with `--in-child`; a crash there is a failure.
fn check_in_child(args: &CheckArgs) -> Result<ExitCode, DsmError> {
    let exe = std::env::current_exe().map_err(|e| DsmError::io("the dsm executable", e))?;
    let child_args: Vec<String> = std::env::args().skip(1).collect();
    let status = Command::new(exe)
        .args(child_args)
        .arg("--in-child")
        .status()
        .map_err(|e| DsmError::io("cannot start the check process", e))?;
    if status.success() {
        println!("{}: every check passed", args.file.display());
        return Ok(ExitCode::SUCCESS);
    }
    match status.code() {
        Some(_) => println!("{}: FAILED (see above)", args.file.display()),
        None => println!(
            "{}: FAILED: the plugin killed the check process ({status}); a plugin must never \
             abort or crash its host",
            args.file.display()
        ),
    }
    Ok(ExitCode::FAILURE)
}

/// The child: load the plugin and try what its manifest promises.
fn check_here(cli: &Cli, args: &CheckArgs) -> Result<ExitCode, DsmError> {
    let mut report = Report::default();
    let Some(manifest) = manifest(cli, &args.file, &mut report) else {
        return Ok(report.exit());
    };
    let start = dsm_core::timeparse::parse_time(&args.start)?;
    let dir = args.file.parent().unwrap_or(Path::new(".")).to_path_buf();
    for market in &manifest.plugin.markets {
        let config = DsmConfig::new(manifest.id(), &market.id)
            .plugin_dir(&dir)
            .cache_enabled(false)
            .source(SourceMode::Auto)
            .allow_insecure_plugins(cli.allow_insecure_plugins)
            .retries(1);
        let dsm = match Dsm::create_with_config(config) {
            Ok(d) if same_file(d.plugin_path(), &args.file) => d,
            Ok(d) => {
                let other = d.plugin_path().display();
                report.fail(format!("market {}: dsm chose {other} instead", market.id));
                continue;
            }
            Err(e) => {
                report.fail(format!("market {}: no manager: {e}", market.id));
                continue;
            }
        };
        let symbol = args.symbol.as_deref().unwrap_or(&market.symbol_example);
        for name in &market.intervals {
            let what = format!("{} {symbol} {name}", market.id);
            let end = match Interval::parse(name) {
                Ok(i) => i.next(i.next(i.next(i.floor(start)))),
                Err(e) => {
                    report.fail(format!("{what}: the manifest lists a bad interval: {e}"));
                    continue;
                }
            };
            match dsm.fetch_market_data(symbol, name, start, end) {
                Ok(k) => report.pass(format!("{what}: {} candles", k.len())),
                Err(e) => judge_error(&mut report, &what, &e, false),
            }
        }
        check_kinds(&dsm, market, symbol, start, &mut report);
        // A symbol the exchange does not have must give a clean error (or nothing).
        let bad = "NOSUCHSYMBOL0";
        let name = &market.intervals[0];
        match dsm.fetch_market_data(bad, name, start, start + 3_600_000) {
            Ok(k) if k.is_empty() => report.pass(format!("{} {bad}: no candles", market.id)),
            Ok(k) => report.fail(format!(
                "{} {bad}: {} candles for a symbol that cannot exist",
                market.id,
                k.len()
            )),
            Err(e) => judge_error(&mut report, &format!("{} {bad}", market.id), &e, true),
        }
    }
    Ok(report.exit())
}

fn same_file(a: &Path, b: &Path) -> bool {
    a.canonicalize()
        .ok()
        .is_some_and(|a| b.canonicalize().is_ok_and(|b| a == b))
}

/// The manifest as discovery sees it: permissions, SDK version, id matching the file name.
fn manifest(cli: &Cli, file: &Path, report: &mut Report) -> Option<Manifest> {
    let Some(id) = file
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("libdsm_"))
        .and_then(|n| n.strip_suffix(std::env::consts::DLL_SUFFIX))
    else {
        report.fail(format!(
            "{}: a plugin file is named libdsm_<id>{}",
            file.display(),
            std::env::consts::DLL_SUFFIX
        ));
        return None;
    };
    let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    match dsm_core::discovery::find(id, &[dir], cli.allow_insecure_plugins) {
        Ok(p) if p.path.parent() == file.parent() => {
            report.pass(format!(
                "manifest: {} v{} (dsm-sdk {}), {} market(s)",
                p.manifest.id(),
                p.manifest.version,
                p.manifest.sdk_version,
                p.manifest.plugin.markets.len()
            ));
            Some(std::sync::Arc::unwrap_or_clone(p.manifest))
        }
        Ok(p) => {
            report.fail(format!(
                "{} is not usable; found {} instead",
                file.display(),
                p.path.display()
            ));
            None
        }
        Err(e) => {
            report.fail(format!("manifest: {e}"));
            None
        }
    }
}

/// A plugin error is clean when it is not a panic and says something; for a listed market
/// and interval it must not deny them (that is the manifest disagreeing with the code).
/// Every kind beyond klines the manifest lists for `market`: a short range of it (three
/// candles of the kind's first interval, or a day) must come back without a refusal.
fn check_kinds(dsm: &Dsm, market: &MarketInfo, symbol: &str, start: i64, report: &mut Report) {
    for offer in market.offers() {
        if offer.kind == DataKind::KLINES {
            continue;
        }
        let interval = offer.intervals.first().cloned().unwrap_or_default();
        let end = match Interval::parse(&interval) {
            Ok(i) => i.next(i.next(i.next(i.floor(start)))),
            Err(_) => start + DAY,
        };
        let what = format!("{} {symbol} {} {interval}", market.id, offer.kind);
        let what = what.trim_end().to_string();
        let fetched = dsm
            .kind_request(offer.kind, symbol, &interval, start, end)
            .and_then(|req| {
                let mut rows = 0;
                dsm.fetch_records(
                    &req,
                    &mut |p| {
                        rows += p.batch.num_rows();
                        Ok(())
                    },
                    &mut |_, _| {},
                )
                .map(|_| rows)
            });
        match fetched {
            Ok(n) => report.pass(format!("{what}: {n} rows")),
            Err(e) => judge_error(report, &what, &e, false),
        }
    }
}

fn judge_error(report: &mut Report, what: &str, e: &DsmError, bad_symbol: bool) {
    let kind = e.provider_kind();
    let text = e.to_string();
    if kind == Some(ErrorKind::PANICKED) {
        report.fail(format!("{what}: the plugin panicked: {text}"));
    } else if !bad_symbol
        && matches!(
            kind,
            Some(ErrorKind::INVALID_INTERVAL)
                | Some(ErrorKind::UNSUPPORTED_MARKET)
                | Some(ErrorKind::UNSUPPORTED_SOURCE)
        )
    {
        report.fail(format!(
            "{what}: the manifest lists it but the plugin refuses it: {text}"
        ));
    } else if !bad_symbol && e.is_usage() {
        report.fail(format!("{what}: refused: {text}"));
    } else if text.trim().is_empty() {
        report.fail(format!("{what}: an error with no message"));
    } else if bad_symbol {
        report.pass(format!("{what}: clean error: {text}"));
    } else {
        report.fail(format!("{what}: {text}"));
    }
}

#[derive(Default)]
struct Report {
    failed: usize,
}

impl Report {
    fn pass(&mut self, line: String) {
        println!("ok    {line}");
    }
    fn fail(&mut self, line: String) {
        self.failed += 1;
        println!("FAIL  {line}");
    }
    fn exit(&self) -> ExitCode {
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}
