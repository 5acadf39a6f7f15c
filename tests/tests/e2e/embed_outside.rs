//! An app outside the workspace embeds the library as the README says: its source is the
//! README's library example, its only dependency dsm-core by path; the plugins come from
//! `cargo xtask install` into a temporary prefix. It finds them through DSM_PLUGIN_PATH, or
//! from PREFIX/bin/ through ../lib/dsm/plugins, and every endpoint (the
//! `DsmConfig::for_production` preset's too) goes to the fake exchange through DSM_*_URL.

use crate::common;
use crate::outside;

use std::path::Path;

use common::*;
use dsm_tests::fake::FakeExchange;
use outside::*;

/// The ```rust block of README.md's "The library" section.
fn readme_example() -> String {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let section = &readme[readme.find("## The library").expect("a library section")..];
    let start = section.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_string()
}

fn write_app(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let host = workspace_root().join("host");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"dsm-embed-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [workspace]\n\n[dependencies]\ndsm-core = {{ path = {:?} }}\n",
            host.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), readme_example()).unwrap();
}

#[test]
fn an_app_outside_the_workspace_fetches_with_installed_plugins() {
    let tmp = tempfile::tempdir().unwrap();
    let (prefix, app) = (tmp.path().join("prefix"), tmp.path().join("app"));
    // A fresh home (and cache) per run, so each run loads the plugin.
    let home = |run: &str| tmp.path().join(run);
    install(&prefix);
    write_app(&app);
    let built = build_outside(&app, &["dsm-embed-app"]);
    // Run from elsewhere, so the workspace's target/ (beside the binary) is not searched.
    let alone = tmp.path().join("alone");
    std::fs::create_dir(&alone).unwrap();
    built.take("dsm-embed-app", &alone.join("app"));
    built.take("dsm-embed-app", &prefix.join("bin/app"));
    let fake = FakeExchange::start();
    let plugins = prefix.join("lib/dsm/plugins");

    let check = |out: std::process::Output| {
        let text = stdout(&out);
        assert!(out.status.success(), "{text}\n{}", stderr(&out));
        assert!(text.contains("24 candles, gaps: []"), "{text}");
        assert!(text.contains("24 rows in Arrow"), "{text}");
        assert_eq!(
            text.matches(": 1440 candles from Archive").count(),
            2,
            "{text}"
        );
        assert!(text.contains("31 daily candles"), "{text}");
        // Only the installed binance plugin was opened.
        let loaded: Vec<&str> = text.lines().filter(|l| l.starts_with("loaded ")).collect();
        assert_eq!(
            loaded,
            [format!(
                "loaded {}",
                plugins.join("libdsm_binance.so").display()
            )],
            "{text}"
        );
    };

    // DSM_PLUGIN_PATH names the prefix's plugins.
    let mut cmd = user_command(&alone.join("app"), &home("by-path"));
    cmd.env("DSM_PLUGIN_PATH", &plugins);
    fake_endpoints(&mut cmd, &fake.url());
    check(run(&mut cmd));

    // An app installed beside dsm finds ../lib/dsm/plugins by itself.
    let mut cmd = user_command(&prefix.join("bin/app"), &home("beside"));
    fake_endpoints(&mut cmd, &fake.url());
    check(run(&mut cmd));

    // Without either, the error names the provider and where it looked.
    let mut cmd = user_command(&alone.join("app"), &home("none"));
    fake_endpoints(&mut cmd, &fake.url());
    let out = run(&mut cmd);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("binance") && err.contains(&alone.display().to_string()),
        "{err}"
    );
}
