//! The built `dsm` binary: discovery from a plugin directory, listing without loading, the
//! not-found error, exit codes.

use crate::common;

use std::process::Command;

use common::*;

const RANGE: [&str; 4] = ["--start", "2024-01-01", "--end", "2024-01-01T03:00:00Z"];

#[test]
fn plugin_copied_at_run_time_is_found_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let dir_s = dir.path().to_str().unwrap();
    // Before the copy: not there.
    let before = run_dsm(&["--plugin-dir", dir_s, "providers", "--json"], &[]);
    assert!(before.status.success());
    let copied = dir.path().join("libdsm_testplug.so");
    std::fs::copy(plugin("testplug"), &copied).unwrap();

    let out = run_dsm(&["--plugin-dir", dir_s, "providers", "--json"], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tp = doc["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "testplug")
        .expect("testplug listed");
    assert_eq!(tp["path"], copied.to_str().unwrap(), "the plugin dir wins");

    // The fetch opens the copy, not the build's file (the dynamic loader says which).
    let mut args = vec![
        "--plugin-dir",
        dir_s,
        "fetch",
        "-p",
        "testplug",
        "-m",
        "spot",
        "-s",
        "TEST",
        "-i",
        "1h",
    ];
    args.extend(RANGE);
    let out = run_dsm(&args, &[("LD_DEBUG", "files")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let loads: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.contains("dynamically loaded by") && l.contains("libdsm_"))
        .map(String::from)
        .collect();
    assert_eq!(loads.len(), 1, "{loads:?}");
    assert!(loads[0].contains(copied.to_str().unwrap()), "{loads:?}");
    let csv = stdout(&out);
    assert_eq!(csv.lines().count(), 4, "header + 3 candles:\n{csv}");
}

#[test]
fn providers_loads_no_plugin() {
    let out = run_dsm(&["providers"], &[("LD_DEBUG", "files")]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("testplug"), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("dynamically loaded by") || err.contains("file="),
        "LD_DEBUG works"
    );
    assert!(
        !err.lines().any(|l| l.contains("libdsm_")),
        "a plugin was loaded:\n{err}"
    );
}

/// Black box with strace: plugin files may be opened and read (for the manifest) but never
/// mapped, which is what loading them would take.
#[test]
fn providers_never_maps_a_plugin_file_strace() {
    if Command::new("strace").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have strace (.ci/run installs it)"
        );
        eprintln!("strace not installed; skipped");
        return;
    }
    let out = on_loopback(&mut Command::new("strace"), NOWHERE)
        .args(["-f", "-e", "trace=openat,mmap,close", "--"])
        .arg(dsm_bin())
        .arg("providers")
        .env_remove("DSM_PLUGIN_PATH")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let trace = stderr(&out);
    let mut plugin_fds: Vec<String> = Vec::new();
    let mut opened = 0;
    for line in trace.lines() {
        if line.contains("openat(") && line.contains("libdsm_") {
            if let Some(fd) = line.rsplit("= ").next().filter(|fd| !fd.starts_with('-')) {
                plugin_fds.push(fd.trim().to_string());
                opened += 1;
            }
        } else if let Some(args) = line.split("close(").nth(1) {
            let fd = args.split(')').next().unwrap_or("");
            plugin_fds.retain(|f| f != fd);
        } else if let Some(args) = line.split("mmap(").nth(1) {
            let fd = args.split(", ").nth(4).unwrap_or("");
            assert!(
                !plugin_fds.iter().any(|f| f == fd),
                "plugin file mapped:\n{line}"
            );
        }
    }
    assert!(
        opened > 0,
        "manifests are read from the plugin files:\n{trace}"
    );
}

#[test]
fn missing_provider_lists_every_directory_searched() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--plugin-dir",
        dir.path().to_str().unwrap(),
        "fetch",
        "-p",
        "kraken",
        "-m",
        "spot",
        "-s",
        "XBTUSD",
        "-i",
        "1h",
    ];
    args.extend(RANGE);
    let out = run_dsm(&args, &[("XDG_DATA_HOME", "/nonexistent/xdg")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no plugin provides \"kraken\""), "{err}");
    for expected in [
        dir.path().display().to_string(),
        target_dir().display().to_string(),
        target_dir().join("plugins").display().to_string(),
        "/nonexistent/xdg/dsm/plugins".to_string(),
        "/usr/local/lib/dsm/plugins".to_string(),
    ] {
        assert!(err.contains(&expected), "{expected} not in:\n{err}");
    }
    assert!(
        err.contains("available providers: ") && err.contains("testplug"),
        "{err}"
    );
}

#[test]
fn bad_usage_exits_2_with_a_reason_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.csv");
    let out_s = out_file.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "-s",
                "../../etc",
                "-i",
                "1h",
                "--start",
                "2024-01-01",
                "--end",
                "2024-01-02",
            ],
            "symbol",
        ),
        (
            vec![
                "-s",
                "TEST",
                "-i",
                "7m",
                "--start",
                "2024-01-01",
                "--end",
                "2024-01-02",
            ],
            "available: 1m 1h 1d",
        ),
        (
            vec![
                "-s",
                "TEST",
                "-i",
                "1h",
                "--start",
                "2024-01-02",
                "--end",
                "2024-01-01",
            ],
            "must be before",
        ),
        (
            vec![
                "-s",
                "TEST",
                "-i",
                "1h",
                "--start",
                "2024-02-30",
                "--end",
                "2024-03-01",
            ],
            "no such date",
        ),
        (
            vec![
                "-s",
                "TEST",
                "-i",
                "1h",
                "--start",
                "yesterday",
                "--end",
                "2024-03-01",
            ],
            "is not valid",
        ),
    ];
    for (extra, why) in cases {
        let mut args = vec!["fetch", "-p", "testplug", "-m", "spot", "-o", out_s];
        args.extend(extra);
        let out = run_dsm(&args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
        assert!(!out_file.exists());
    }
    let out = run_dsm(&["fetch", "-p", "testplug"], &[]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    let out = run_dsm(
        &[
            "fetch",
            "-p",
            "testplug",
            "-m",
            "nomarket",
            "-s",
            "X",
            "-i",
            "1h",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("its markets: spot (main)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn plugin_panic_exits_1_and_output_file_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.csv");
    let mut args = vec![
        "fetch",
        "-p",
        "testplug",
        "-m",
        "spot",
        "-s",
        "PANIC",
        "-i",
        "1h",
        "-o",
        out_file.to_str().unwrap(),
    ];
    args.extend(RANGE);
    let out = run_dsm(&args, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("plugin panicked"), "{}", stderr(&out));
    assert!(!out_file.exists());
}

#[test]
fn output_file_holds_csv_or_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    for (format, first) in [("csv", "open_time,open,high,low,close,volume,close_time,quote_volume,trades,taker_buy_base_volume,taker_buy_quote_volume"), ("jsonl", "{\"open_time\":1704067200000,")] {
        let file = dir.path().join(format!("out.{format}"));
        let mut args = vec!["fetch", "-p", "testplug", "-m", "spot", "-s", "TEST", "-i", "1h", "-f", format, "-o", file.to_str().unwrap()];
        args.extend(RANGE);
        let out = run_dsm(&args, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with(first), "{text}");
        assert_eq!(text.lines().count(), if format == "csv" { 4 } else { 3 });
    }
}

#[test]
fn help_explains_the_commands() {
    let out = run_dsm(&["--help"], &[]);
    let text = stdout(&out);
    for word in ["providers", "fetch", "Examples", "Exit codes"] {
        assert!(text.contains(word), "{word} missing:\n{text}");
    }
    let out = run_dsm(&["fetch", "--help"], &[]);
    assert!(stdout(&out).contains("--start") && stdout(&out).contains("RFC 3339"));
}
