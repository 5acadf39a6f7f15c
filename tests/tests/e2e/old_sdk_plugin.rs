//! A plugin built against the SDK as it was before data kinds (commit `OLD_SDK`, taken from
//! git) still loads in today's host and serves klines; asked for another kind, it answers
//! "this plugin serves klines only": from its manifest (which lists no kinds) before it is
//! loaded, and from the SDK's default for the appended `fetch_data` entry when a manifest
//! claims more than the old code has (the vtable has no such entry). Asked to list symbols
//! it answers "this plugin cannot list symbols" (it has no listing module).

use crate::common;
use crate::outside;

use std::path::Path;
use std::process::Command;

use common::*;
use outside::*;

/// The last commit before `DataKind` and `Provider::fetch_data` were added to the SDK.
const OLD_SDK: &str = "5b23e4b";

/// `sdk/` and `tests/testplug/` as they were at `OLD_SDK`, the plugin renamed `id`.
fn old_plugin_source(dir: &Path, id: &str, manifest_kinds: bool) -> std::path::PathBuf {
    let root = workspace_root();
    let archive = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args([
            "archive",
            "--format=tar",
            OLD_SDK,
            "Cargo.toml",
            "sdk",
            "tests/testplug",
        ])
        .output()
        .expect("run git (the test needs the repository's history)");
    assert!(
        archive.status.success(),
        "git archive {OLD_SDK} failed (a clone with history is needed): {}",
        String::from_utf8_lossy(&archive.stderr)
    );
    let mut untar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("run tar");
    use std::io::Write;
    untar
        .stdin
        .take()
        .unwrap()
        .write_all(&archive.stdout)
        .unwrap();
    assert!(untar.wait().unwrap().success());
    // Only the SDK is a member of the old workspace here.
    let edit = |path: &Path, from: &str, to: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(from), "{} lacks {from:?}", path.display());
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    };
    let root_toml = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&root_toml).unwrap();
    let members = text.lines().find(|l| l.starts_with("members")).unwrap();
    edit(&root_toml, members, "members = [\"sdk\"]");
    let project = dir.join("tests/testplug");
    edit(
        &project.join("Cargo.toml"),
        "dsm-testplug",
        &format!("dsm-{id}"),
    );
    edit(
        &project.join("Cargo.toml"),
        "dsm_testplug",
        &format!("dsm_{id}"),
    );
    edit(
        &project.join("src/lib.rs"),
        "id: \"testplug\"",
        &format!("id: \"{id}\""),
    );
    let manifest = project.join("manifest.json");
    edit(
        &manifest,
        "\"id\": \"testplug\"",
        &format!("\"id\": \"{id}\""),
    );
    if manifest_kinds {
        // A manifest that claims funding; the old code has no fetch_data to serve it.
        edit(
            &manifest,
            "\"max_page\": 1000",
            "\"max_page\": 1000, \"kinds\": [{\"kind\": \"klines\"}, {\"kind\": \"funding\"}]",
        );
    }
    project
}

#[test]
fn a_plugin_built_on_the_old_sdk_serves_klines_and_says_it_serves_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let (src_a, src_b, plugins) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("plugins"),
    );
    for d in [&src_a, &src_b, &plugins] {
        std::fs::create_dir(d).unwrap();
    }
    let plain = old_plugin_source(&src_a, "oldplug", false);
    let claims = old_plugin_source(&src_b, "oldclaims", true);
    let built_a = build_outside(&plain, &["libdsm_oldplug.so"]);
    built_a.take("libdsm_oldplug.so", &plugins.join("libdsm_oldplug.so"));
    let built_b = build_outside(&claims, &["libdsm_oldclaims.so"]);
    built_b.take("libdsm_oldclaims.so", &plugins.join("libdsm_oldclaims.so"));
    let dir = plugins.to_str().unwrap();

    let out = run_dsm(&["--plugin-dir", dir, "providers"], &[]);
    let listing = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        listing.contains("kinds: klines (this plugin serves klines only)"),
        "{listing}"
    );

    // Klines, as the old plugin always served them.
    let fetch = |id: &str, extra: &[&str]| {
        let mut args = vec![
            "--plugin-dir",
            dir,
            "fetch",
            "-p",
            id,
            "-m",
            "spot",
            "-s",
            "TEST",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-01T00:05:00Z",
            "--no-cache",
        ];
        args.extend_from_slice(extra);
        run_dsm(&args, &[])
    };
    let out = fetch("oldplug", &["-i", "1m"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1 + 5, "{}", stdout(&out));

    // Funding: refused from the manifest, before the plugin is opened.
    let out = fetch("oldplug", &["--kind", "funding"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("this plugin serves klines only"),
        "{}",
        stderr(&out)
    );

    // A manifest claiming funding over old code: the appended entry's default answers.
    let out = fetch("oldclaims", &["--kind", "funding"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(out.status.code().is_some(), "the host must not crash");
    assert!(
        stderr(&out).contains("this plugin serves klines only"),
        "{}",
        stderr(&out)
    );
    let out = fetch("oldclaims", &["-i", "1h"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Listing symbols: the old file has no DSM_LISTING_MODULE_V1; the host says so.
    let out = run_dsm(
        &[
            "--plugin-dir",
            dir,
            "symbols",
            "-p",
            "oldplug",
            "-m",
            "spot",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out)
            .contains("this plugin cannot list symbols (built before dsm-sdk had listings)"),
        "{}",
        stderr(&out)
    );

    // `dsm plugin check` holds the manifest to what the code serves, kinds included.
    let file = plugins.join("libdsm_oldclaims.so");
    let out = run_dsm(&["plugin", "check", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = stdout(&out);
    assert!(report.contains("ok    spot TEST 1h: 3 candles"), "{report}");
    assert!(
        report.contains("FAIL  spot TEST funding: the manifest lists it but the plugin refuses it")
            && report.contains("serves klines only"),
        "{report}"
    );
}
