//! Helpers for the tests that use dsm as a user outside this workspace would: installed
//! with `cargo xtask install` into a temporary prefix, embedded in an app or extended with a
//! plugin built in a temporary cargo project.
#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{cargo, stderr, target_dir, workspace_profile};

/// The dsm checkout these tests belong to.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// `cargo xtask install --debug --prefix PREFIX`: the README's install command on the debug
/// build the test command made (so nothing is compiled again).
pub fn install(prefix: &Path) {
    let out = cargo()
        .current_dir(workspace_root())
        .args(["xtask", "install", "--debug", "--prefix"])
        .arg(prefix)
        .output()
        .expect("run cargo xtask install");
    assert!(out.status.success(), "install failed: {}", stderr(&out));
}

/// A command with the environment of a user with an empty home: no plugin path, no
/// plugins under ~/.local, the cache in `home`.
pub fn user_command(program: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_remove("DSM_PLUGIN_PATH")
        .env_remove("DSM_LOG")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("DSM_CACHE_DIR", home.join("cache"));
    cmd
}

/// Every endpoint of every exchange plugin pointed at `url` (the fake exchange).
pub fn fake_endpoints(cmd: &mut Command, url: &str) {
    for var in [
        "DSM_BINANCE_URL",
        "DSM_BINANCE_UM_URL",
        "DSM_BINANCE_CM_URL",
        "DSM_BINANCE_VISION_URL",
        "DSM_BINANCE_VISION_LISTING_URL",
        "DSM_OKX_URL",
        "DSM_BYBIT_URL",
    ] {
        cmd.env(var, url);
    }
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run command")
}

/// A cargo build of a project outside the workspace that shares the workspace's target
/// directory, lock file versions and dev profile (offline), so the dependencies built by the
/// test command are reused instead of compiled again wherever the project's own features
/// select them alike. What it adds to target/ is removed by
/// the returned guard.
pub fn build_outside(project: &Path, outputs: &[&str]) -> Outputs {
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .expect("copy Cargo.lock");
    let profile = target_dir();
    let guard = Outputs {
        files: outputs
            .iter()
            .flat_map(|f| [profile.join(f), profile.join("deps").join(f)])
            .collect(),
    };
    let out = cargo()
        .current_dir(project)
        .args(["build", "--offline", "--quiet", "--target-dir"])
        .arg(profile.parent().expect("target/"))
        .args(workspace_profile())
        .output()
        .expect("run cargo build");
    assert!(
        out.status.success(),
        "building {} failed: {}",
        project.display(),
        stderr(&out)
    );
    guard
}

/// Final artifacts an outside build put into target/<profile>/: moved out on request,
/// removed on drop so no stray plugin stays where the workspace's dsm looks.
pub struct Outputs {
    files: Vec<PathBuf>,
}

impl Outputs {
    /// Copy the built file `name` to `to`.
    pub fn take(&self, name: &str, to: &Path) {
        let from = target_dir().join(name);
        std::fs::copy(&from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for f in &self.files {
            let _ = std::fs::remove_file(f);
            let _ = std::fs::remove_file(f.with_extension("d"));
        }
    }
}
