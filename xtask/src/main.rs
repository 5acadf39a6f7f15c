//! `cargo xtask`: install dsm with its exchange plugins, or build the release archive.
//!
//! Both lay files out the way the installed `dsm` searches for plugins:
//! `bin/dsm` and `lib/dsm/plugins/libdsm_<id>.so` (`../lib/dsm/plugins` beside the
//! executable; see host/src/discovery.rs). The exchange plugins are the directories under
//! `plugins/` that hold a `manifest.json`; the test plugin (tests/testplug) is not one.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask install [--prefix DIR] [--debug]
       cargo xtask dist [--out DIR] [--debug]

install  build (release) and put bin/dsm and lib/dsm/plugins/*.so under DIR (default ~/.local)
dist     build (release) and write dsm-VERSION-ARCH-linux.tar.gz (bin/, lib/dsm/plugins/)
         into DIR (default target/dist)
--debug  use the debug build instead (what `cargo build --workspace` made; for tests)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    dir: Option<PathBuf>,
    debug: bool,
}

fn run(args: &[String]) -> Result<(), String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(format!("no command given\n{USAGE}"));
    };
    let dir_flag = match command.as_str() {
        "install" => "--prefix",
        "dist" => "--out",
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            return Ok(());
        }
        other => return Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    let opts = parse_options(rest, dir_flag)?;
    let built = build(opts.debug)?;
    match command.as_str() {
        "install" => {
            let prefix = match opts.dir {
                Some(dir) => dir,
                None => home()?.join(".local"),
            };
            install(&built, &prefix)?;
            println!(
                "installed bin/dsm and {} plugin(s) under {}",
                built.plugins.len(),
                prefix.display()
            );
            if !on_path(&prefix.join("bin")) {
                println!("note: {} is not on PATH", prefix.join("bin").display());
            }
            Ok(())
        }
        _ => {
            let out = opts.dir.unwrap_or_else(|| built.target_dir.join("dist"));
            let archive = dist(&built, &out)?;
            println!("wrote {}", archive.display());
            Ok(())
        }
    }
}

fn parse_options(args: &[String], dir_flag: &str) -> Result<Options, String> {
    let mut opts = Options {
        dir: None,
        debug: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--debug" {
            opts.debug = true;
        } else if arg == dir_flag {
            let dir = it
                .next()
                .ok_or_else(|| format!("{dir_flag} needs a directory"))?;
            opts.dir = Some(absolute(Path::new(dir))?);
        } else if let Some(dir) = arg.strip_prefix(&format!("{dir_flag}=")) {
            opts.dir = Some(absolute(Path::new(dir))?);
        } else {
            return Err(format!("unknown option {arg:?}\n{USAGE}"));
        }
    }
    Ok(opts)
}

/// What a build produced: the `dsm` binary and the exchange plugins.
struct Built {
    target_dir: PathBuf,
    dsm: PathBuf,
    plugins: Vec<PathBuf>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ is inside the workspace")
        .to_path_buf()
}

/// Cargo, without the variables `cargo run` set for this process: some build scripts
/// (ring's) track CARGO_MANIFEST_DIR, and seeing xtask's would rebuild them.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_run = name == "CARGO_MANIFEST_DIR"
            || name == "CARGO_MANIFEST_PATH"
            || name == "CARGO_CRATE_NAME"
            || name == "CARGO_PRIMARY_PACKAGE"
            || name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_");
        if set_by_cargo_run {
            cmd.env_remove(&*name);
        }
    }
    cmd
}

/// `cargo build --workspace`: the same feature set as the test command's build, so a
/// `--debug` install after it compiles nothing.
fn build(debug: bool) -> Result<Built, String> {
    let mut cmd = cargo();
    cmd.args(["build", "--workspace"]);
    if !debug {
        cmd.arg("--release");
    }
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("cargo build failed".into());
    }
    let target_dir = target_dir()?;
    let profile_dir = target_dir.join(if debug { "debug" } else { "release" });
    let dsm = existing(profile_dir.join("dsm"))?;
    let plugins = plugin_ids()?
        .iter()
        .map(|id| existing(profile_dir.join(format!("libdsm_{id}.so"))))
        .collect::<Result<_, _>>()?;
    Ok(Built {
        target_dir,
        dsm,
        plugins,
    })
}

fn existing(path: PathBuf) -> Result<PathBuf, String> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} was not built", path.display()))
    }
}

/// Cargo's target directory (CARGO_TARGET_DIR and config included), from `cargo metadata`.
fn target_dir() -> Result<PathBuf, String> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    let json = String::from_utf8_lossy(&out.stdout);
    let key = "\"target_directory\":\"";
    let start = json
        .find(key)
        .ok_or("cargo metadata names no target directory")?
        + key.len();
    let end = json[start..]
        .find('"')
        .ok_or("cargo metadata: bad target directory")?;
    Ok(PathBuf::from(
        json[start..start + end].replace("\\\\", "\\"),
    ))
}

/// The exchange plugins: every directory under plugins/ with a manifest.json.
fn plugin_ids() -> Result<Vec<String>, String> {
    let dir = workspace_root().join("plugins");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("manifest.json").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    Ok(ids)
}

fn install(built: &Built, prefix: &Path) -> Result<(), String> {
    let bin = prefix.join("bin");
    let plugins = prefix.join("lib/dsm/plugins");
    create_dirs(&bin)?;
    create_dirs(&plugins)?;
    copy_executable(&built.dsm, &bin.join("dsm"))?;
    for p in &built.plugins {
        copy_executable(p, &plugins.join(p.file_name().expect("a file name")))?;
    }
    Ok(())
}

/// The archive: `dsm-VERSION-ARCH-linux/` with bin/, lib/dsm/plugins/ and README.md.
fn dist(built: &Built, out: &Path) -> Result<PathBuf, String> {
    let name = format!(
        "dsm-{}-{}-linux",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    );
    let stage = built.target_dir.join("dist-stage");
    let top = stage.join(&name);
    if top.exists() {
        std::fs::remove_dir_all(&top).map_err(|e| format!("{}: {e}", top.display()))?;
    }
    install(built, &top)?;
    let readme = workspace_root().join("README.md");
    std::fs::copy(&readme, top.join("README.md")).map_err(|e| format!("README.md: {e}"))?;
    create_dirs(out)?;
    let archive = out.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .args(["--owner=0", "--group=0", "-C"])
        .arg(&stage)
        .arg(&name)
        .status()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    std::fs::remove_dir_all(&top).map_err(|e| format!("{}: {e}", top.display()))?;
    if !status.success() {
        return Err(format!("tar failed writing {}", archive.display()));
    }
    Ok(archive)
}

/// Create `dir` and its parents; the ones created get mode 755 (dsm refuses plugins in
/// directories others could write).
fn create_dirs(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let mut missing = Vec::new();
    let mut d = dir;
    while !d.exists() {
        missing.push(d.to_path_buf());
        d = d.parent().ok_or("no parent directory")?;
    }
    for m in missing.iter().rev() {
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(m)
            .and_then(|()| std::fs::set_permissions(m, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| format!("cannot create {}: {e}", m.display()))?;
    }
    Ok(())
}

/// Copy to a temporary file beside `to`, then rename over it: a running `dsm` keeps its
/// mapped copy intact (writing in place would corrupt it).
fn copy_executable(from: &Path, to: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = to.with_extension("tmp-install");
    let result = std::fs::copy(from, &tmp)
        .and_then(|_| std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)))
        .and_then(|()| std::fs::rename(&tmp, to));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot install {}: {e}", to.display()));
    }
    Ok(())
}

fn home() -> Result<PathBuf, String> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| "HOME is not set: give --prefix DIR".to_string())
}

fn absolute(p: &Path) -> Result<PathBuf, String> {
    std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn on_path(dir: &Path) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d == dir))
}
