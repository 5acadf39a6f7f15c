//! The README's install command, as a user runs it: `cargo xtask install --prefix DIR` puts
//! `bin/dsm` and the exchange plugins (never the test plugin) where the installed `dsm`
//! finds them; the release archive has the same layout; a `dsm` without plugins says where
//! it looked and fails.

use crate::common;
use crate::outside;

use std::path::Path;

use common::*;
use dsm_core::output::{self, Format};
use dsm_core::SourceMode;
use dsm_tests::fake::FakeExchange;
use outside::*;
use serde_json::Value;

const EXCHANGES: [&str; 3] = ["binance", "bybit", "okx"];

fn provider_ids(dsm: &Path, home: &Path) -> (Vec<String>, Value) {
    let out = run(user_command(dsm, home).args(["providers", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = doc["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    (ids, doc)
}

#[test]
fn installed_dsm_lists_the_three_exchanges_and_fetches_from_the_fake() {
    let tmp = tempfile::tempdir().unwrap();
    let (prefix, home) = (tmp.path().join("prefix"), tmp.path().join("home"));
    install(&prefix);
    let plugins = prefix.join("lib/dsm/plugins");
    let mut files: Vec<String> = std::fs::read_dir(&plugins)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["libdsm_binance.so", "libdsm_bybit.so", "libdsm_okx.so"],
        "the exchange plugins and nothing else (no testplug)"
    );

    let dsm = prefix.join("bin/dsm");
    let (ids, doc) = provider_ids(&dsm, &home);
    assert_eq!(ids, EXCHANGES, "{doc:#}");
    for p in doc["providers"].as_array().unwrap() {
        let path = Path::new(p["path"].as_str().unwrap())
            .canonicalize()
            .unwrap();
        assert_eq!(
            path.parent().unwrap(),
            plugins.canonicalize().unwrap(),
            "found in the prefix: {p:#}"
        );
    }

    // A fetch by the installed binary equals the same fetch made in-process.
    let fake = FakeExchange::start();
    let args = [
        "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", "1h",
    ];
    let range = ["--start", "2024-01-01", "--end", "2024-01-03"];
    let mut cmd = user_command(&dsm, &home);
    cmd.args(args).args(range);
    fake_endpoints(&mut cmd, &fake.url());
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    let cache = tempfile::tempdir().unwrap();
    let expected = binance_on_fake(&fake, "spot", cache.path(), SourceMode::Auto, 5000)
        .fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-03")
        .unwrap();
    assert_eq!(expected.len(), 48);
    let mut csv = Vec::new();
    output::write(&mut csv, Format::Csv, &expected.rows).unwrap();
    assert_eq!(stdout(&out), String::from_utf8(csv).unwrap());

    // Re-installing over a prefix in use replaces the files, never writes into them.
    let before = std::fs::metadata(plugins.join("libdsm_okx.so")).unwrap();
    install(&prefix);
    let after = std::fs::metadata(plugins.join("libdsm_okx.so")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_ne!(before.ino(), after.ino(), "a new file renamed into place");
    assert_eq!(provider_ids(&dsm, &home).0, EXCHANGES);
}

#[test]
fn dsm_without_plugins_fails_naming_every_directory_searched() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::copy(dsm_bin(), bin.join("dsm")).unwrap();
    let home = tmp.path().join("home");
    let out = run(user_command(&bin.join("dsm"), &home).arg("providers"));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("no providers found"), "{err}");
    for dir in [
        bin.clone(),
        bin.join("../lib/dsm/plugins"),
        home.join(".local/share/dsm/plugins"),
        home.join(".local/lib/dsm/plugins"),
    ] {
        assert!(
            err.contains(&dir.display().to_string()),
            "{} in {err}",
            dir.display()
        );
    }
    assert!(
        err.contains("cargo xtask install") && err.contains("DSM_PLUGIN_PATH"),
        "{err}"
    );
    let out = run(user_command(&bin.join("dsm"), &home).args(["providers", "--json"]));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn release_archive_unpacks_to_a_working_dsm() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cargo()
        .current_dir(workspace_root())
        .args(["xtask", "dist", "--debug", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let name = format!("dsm-0.1.0-{}-linux", std::env::consts::ARCH);
    let archive = tmp.path().join(format!("{name}.tar.gz"));
    let unpack = tmp.path().join("unpack");
    std::fs::create_dir(&unpack).unwrap();
    let tar = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpack)
        .status()
        .unwrap();
    assert!(tar.success());
    let top = unpack.join(&name);
    let mut plugins: Vec<String> = std::fs::read_dir(top.join("lib/dsm/plugins"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    plugins.sort();
    assert_eq!(
        plugins,
        ["libdsm_binance.so", "libdsm_bybit.so", "libdsm_okx.so"]
    );
    assert!(top.join("README.md").is_file());
    let home = tmp.path().join("home");
    assert_eq!(provider_ids(&top.join("bin/dsm"), &home).0, EXCHANGES);
}

#[test]
fn the_test_plugin_is_not_a_workspace_member() {
    // So `cargo build --workspace --release` (what users build and install) never has it.
    let out = cargo()
        .current_dir(workspace_root())
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"dsm-binance") && !names.contains(&"dsm-testplug"),
        "{names:?}"
    );
}
