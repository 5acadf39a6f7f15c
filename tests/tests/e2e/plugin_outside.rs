//! A plugin written outside dsm: `dsm plugin new` writes the template, cargo builds it in a
//! temporary project, and the file dropped into an installed dsm's plugin directory is
//! listed, checked and fetched from, with the installed dsm never rebuilt. `dsm plugin
//! check` fails a plugin whose manifest promises what its code refuses, and a file that is
//! not a plugin.

use crate::common;
use crate::outside;

use common::*;
use dsm_tests::fake::FakeExchange;
use outside::*;

#[test]
fn a_template_plugin_works_in_an_installed_dsm_and_check_catches_a_broken_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (prefix, home, project) = (
        tmp.path().join("prefix"),
        tmp.path().join("home"),
        tmp.path().join("myex"),
    );
    install(&prefix);
    let dsm = prefix.join("bin/dsm");
    let installed_at = std::fs::metadata(&dsm).unwrap().modified().unwrap();

    let out = run(user_command(&dsm, &home)
        .args(["plugin", "new", "myex", "--dir"])
        .arg(&project)
        .arg("--dsm-src")
        .arg(workspace_root()));
    assert!(out.status.success(), "{}", stderr(&out));
    let built = build_outside(&project, &["libdsm_myex.so"]);
    let plugins = prefix.join("lib/dsm/plugins");
    let file = plugins.join("libdsm_myex.so");
    built.take("libdsm_myex.so", &file);

    let fake = FakeExchange::start();
    let with_fake = |args: &[&str]| {
        let mut cmd = user_command(&dsm, &home);
        cmd.args(args).env("DSM_MYEX_URL", fake.url());
        fake_endpoints(&mut cmd, &fake.url());
        run(&mut cmd)
    };
    let out = with_fake(&["providers"]);
    assert!(
        out.status.success() && stdout(&out).contains("myex ("),
        "{}",
        stdout(&out)
    );

    let out = with_fake(&["plugin", "check", file.to_str().unwrap()]);
    let report = stdout(&out);
    assert!(out.status.success(), "{report}\n{}", stderr(&out));
    for line in [
        "ok    manifest: myex v0.1.0",
        "ok    spot BTCUSDT 1m: 3 candles",
        "ok    spot BTCUSDT 1h: 3 candles",
        "ok    spot BTCUSDT 1d: 3 candles",
        "ok    spot NOSUCHSYMBOL0: clean error",
        "every check passed",
    ] {
        assert!(report.contains(line), "{line:?} in:\n{report}");
    }

    // The template's REST form is Binance's: the same fake candles through either plugin.
    let fetch = |provider: &str| {
        let range = [
            "-i",
            "1h",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
            "--no-cache",
        ];
        let out = with_fake(
            &[
                &["fetch", "-p", provider, "-m", "spot", "-s", "BTCUSDT"][..],
                &range,
            ]
            .concat(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let mine = fetch("myex");
    assert_eq!(mine.lines().count(), 25, "{mine}");
    assert_eq!(mine, fetch("binance"));
    assert_eq!(
        std::fs::metadata(&dsm).unwrap().modified().unwrap(),
        installed_at
    );

    // A manifest promising 5m, which the code does not serve: rebuilt, check fails.
    let manifest = project.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(r#""1h", "1d""#, r#""1h", "5m", "1d""#),
    )
    .unwrap();
    let rebuilt = build_outside(&project, &["libdsm_myex.so"]);
    let broken_dir = tmp.path().join("broken");
    std::fs::create_dir(&broken_dir).unwrap();
    let broken = broken_dir.join("libdsm_myex.so");
    rebuilt.take("libdsm_myex.so", &broken);
    let out = with_fake(&["plugin", "check", broken.to_str().unwrap()]);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL  spot BTCUSDT 5m: the manifest lists it but the plugin refuses it"),
        "{report}"
    );
    assert!(
        report.contains("ok    spot BTCUSDT 1h: 3 candles"),
        "{report}"
    );

    // Not a plugin at all.
    let junk = broken_dir.join("libdsm_junk.so");
    std::fs::write(&junk, b"not an ELF file").unwrap();
    let out = with_fake(&["plugin", "check", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("FAIL  manifest:"), "{}", stdout(&out));
}
