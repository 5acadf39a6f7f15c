//! Plugin files others could have written are refused, with the reason and the way out.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

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

/// `dsm providers --json` with `dir` searched first: the problem reported for `file`, if
/// any, and the path testplug is used from.
fn listing(dir: &Path, file: &Path) -> (Option<String>, String) {
    let out = run_dsm(
        &["--plugin-dir", dir.to_str().unwrap(), "providers", "--json"],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problem = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == file.to_str().unwrap())
        .map(|p| p["problem"].as_str().unwrap().to_string());
    let used = doc["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "testplug")
        .map(|p| p["path"].as_str().unwrap().to_string())
        .unwrap_or_default();
    (problem, used)
}

/// `file` is refused for `why` and testplug comes from elsewhere (the build's own copy).
fn assert_refused(dir: &Path, file: &Path, why: &[&str]) {
    let (problem, used) = listing(dir, file);
    let problem = problem.unwrap_or_else(|| panic!("{} was not refused", file.display()));
    for w in why {
        assert!(problem.contains(w), "{problem} should say {w:?}");
    }
    assert!(
        problem.contains("--allow-insecure-plugins"),
        "{problem} gives the way out"
    );
    assert_ne!(used, file.to_str().unwrap(), "the refused file is not used");
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_symlink_into_a_world_writable_directory_is_refused() {
    let open = plugin_dir_with(&["testplug"]);
    chmod(open.path(), 0o777);
    let safe = tempfile::tempdir().unwrap();
    let link = safe.path().join("libdsm_testplug.so");
    std::os::unix::fs::symlink(open.path().join("libdsm_testplug.so"), &link).unwrap();
    assert_refused(safe.path(), &link, &["resolves to", "no sticky bit"]);
}

#[test]
fn a_safe_directory_inside_a_world_writable_one_is_refused() {
    let outer = tempfile::tempdir().unwrap();
    let inner = outer.path().join("plugins");
    std::fs::create_dir(&inner).unwrap();
    std::fs::copy(plugin("testplug"), inner.join("libdsm_testplug.so")).unwrap();
    chmod(&inner, 0o755);
    chmod(outer.path(), 0o777);
    let file = inner.join("libdsm_testplug.so");
    assert_refused(
        &inner,
        &file,
        &[outer.path().to_str().unwrap(), "no sticky bit"],
    );
    // With the sticky bit (as /tmp has) nobody else can swap what is in it.
    chmod(outer.path(), 0o1777);
    assert_eq!(listing(&inner, &file), (None, file.display().to_string()));
}

#[test]
fn a_group_writable_directory_is_refused() {
    let dir = plugin_dir_with(&["testplug"]);
    chmod(dir.path(), 0o775);
    let file = dir.path().join("libdsm_testplug.so");
    assert_refused(dir.path(), &file, &["its group may write", "chmod g-w"]);
    chmod(dir.path(), 0o755);
    assert_eq!(
        listing(dir.path(), &file),
        (None, file.display().to_string())
    );
}

#[test]
fn a_file_or_directory_owned_by_another_user_is_refused() {
    const OTHER: u32 = 12345;
    let dir = plugin_dir_with(&["testplug"]);
    let file = dir.path().join("libdsm_testplug.so");
    std::os::unix::fs::chown(&file, Some(OTHER), None).unwrap();
    assert_refused(dir.path(), &file, &["owned by uid 12345", "chown"]);

    let outer = tempfile::tempdir().unwrap();
    let inner = outer.path().join("theirs");
    std::fs::create_dir(&inner).unwrap();
    let file = inner.join("libdsm_testplug.so");
    std::fs::copy(plugin("testplug"), &file).unwrap();
    std::os::unix::fs::chown(&inner, Some(OTHER), None).unwrap();
    assert_refused(&inner, &file, &["theirs, owned by uid 12345"]);
}
