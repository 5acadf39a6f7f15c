//! Plugin files others could have written are refused, with the reason and the way out.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

fn fetch_args(dir: &str) -> Vec<String> {
    [
        "--plugin-dir",
        dir,
        "fetch",
        "-p",
        "testplug",
        "-m",
        "spot",
        "-s",
        "TEST",
        "-i",
        "1h",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-01T02:00:00Z",
    ]
    .map(String::from)
    .to_vec()
}

fn run(args: &[String], env: &[(&str, &str)]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_dsm(&args, env)
}

#[test]
fn group_or_world_writable_plugin_files_are_refused() {
    let dir = plugin_dir_with(&["testplug"]);
    let file = dir.path().join("libdsm_testplug.so");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let args = fetch_args(dir.path().to_str().unwrap());
    // The build's own copy in target/ comes next on the search path and is used; the
    // refused one is named in a warning.
    let out = run(&args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("skipped plugin") && err.contains("writable by other users"),
        "{err}"
    );
    let listing = run_dsm(
        &[
            "--plugin-dir",
            dir.path().to_str().unwrap(),
            "providers",
            "--json",
        ],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_slice(&listing.stdout).unwrap();
    let problems = doc["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["path"] == file.to_str().unwrap()
            && p["problem"].as_str().unwrap().contains("chmod go-w")),
        "{doc:#}"
    );
    let tp = doc["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "testplug")
        .unwrap();
    assert_ne!(
        tp["path"],
        file.to_str().unwrap(),
        "the insecure copy is not used"
    );

    // Allowed explicitly, the copy is the one used.
    let mut allowed = vec!["--allow-insecure-plugins".to_string()];
    allowed.extend(args);
    let out = run(&allowed, &[("LD_DEBUG", "files")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let loads: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("dynamically loaded by"))
        .collect();
    assert!(
        loads.iter().any(|l| l.contains(file.to_str().unwrap())),
        "{loads:?}"
    );
}

#[test]
fn plugins_in_world_writable_dirs_without_sticky_bit_are_refused() {
    let dir = plugin_dir_with(&["testplug"]);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = run_dsm(
        &[
            "--plugin-dir",
            dir.path().to_str().unwrap(),
            "providers",
            "--json",
        ],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problem = doc["problems"][0]["problem"].as_str().unwrap_or_default();
    assert!(problem.contains("no sticky bit"), "{doc:#}");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let out = run_dsm(
        &[
            "--plugin-dir",
            dir.path().to_str().unwrap(),
            "providers",
            "--json",
        ],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["problems"].as_array().unwrap().len(), 0, "{doc:#}");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
}
