//! Broken plugin files give clear errors naming the file and the cause, and the host goes
//! on serving other providers; a panic inside a plugin's fetch is an error, not a crash.

use crate::common;

use std::path::Path;

use common::*;
use dsm_core::{Dsm, DsmConfig, DsmError, ErrorKind};

const JAN1: i64 = 1_704_067_200_000;
const H: i64 = 3_600_000;

fn create(id: &str, dir: &Path) -> Result<Dsm, DsmError> {
    // The broken file's directory first, then the real build for testplug.
    Dsm::create_with_config(
        DsmConfig::new(id, "spot")
            .plugin_dir(dir)
            .plugin_dir(target_dir())
            .cache_enabled(false),
    )
}

fn fetch(id: &str, dir: &Path) -> Result<dsm_core::Klines, DsmError> {
    create(id, dir)?.fetch_market_data("TEST", "1h", JAN1, JAN1 + 3 * H)
}

fn assert_still_serving(dir: &Path) {
    let ok = fetch("testplug", dir).expect("testplug still works");
    assert_eq!(ok.rows, testplug_klines(H, JAN1, JAN1 + 3 * H));
}

#[test]
fn truncated_file_is_named_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(plugin("testplug")).unwrap();
    let path = dir.path().join("libdsm_cut.so");
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let err = fetch("cut", dir.path()).unwrap_err().to_string();
    assert!(err.contains("libdsm_cut.so"), "{err}");
    assert!(err.contains("truncated"), "{err}");
    assert_still_serving(dir.path());
}

#[test]
fn garbage_file_is_not_a_library() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("libdsm_junk.so"),
        b"this is not an ELF file at all",
    )
    .unwrap();
    let err = fetch("junk", dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("libdsm_junk.so") && err.contains("not a shared library"),
        "{err}"
    );
    assert_still_serving(dir.path());
}

#[test]
fn shared_library_that_is_not_a_plugin() {
    // The test binary's own dependencies include real shared libraries; libc is always there.
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.is_file())
    .expect("a libc to copy");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(libc, dir.path().join("libdsm_libc.so")).unwrap();
    let err = fetch("libc", dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("libdsm_libc.so") && err.contains("not a dsm plugin"),
        "{err}"
    );
    assert_still_serving(dir.path());
}

#[test]
fn manifest_that_disagrees_with_the_root_module_is_refused() {
    // Same-length edit of the manifest's id inside the file: the manifest now says
    // "testplog" while the code says "testplug".
    let mut bytes = std::fs::read(plugin("testplug")).unwrap();
    let needle = br#""id": "testplug""#;
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("manifest id in the file");
    bytes[at..at + needle.len()].copy_from_slice(br#""id": "testplog""#);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("libdsm_testplog.so"), bytes).unwrap();

    let dsm = create("testplog", dir.path()).expect("the manifest alone looks fine");
    let err = dsm
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + H)
        .unwrap_err()
        .to_string();
    assert!(err.contains("libdsm_testplog.so"), "{err}");
    assert!(
        err.contains("\"testplog\"") && err.contains("\"testplug\""),
        "{err}"
    );
    assert_still_serving(dir.path());
}

#[test]
fn file_named_for_another_provider_is_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(plugin("testplug"), dir.path().join("libdsm_other.so")).unwrap();
    let err = fetch("other", dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("libdsm_other.so") && err.contains("says it is provider \"testplug\""),
        "{err}"
    );
}

#[test]
fn panic_inside_fetch_is_an_error_and_the_process_lives_on() {
    let dsm = create("testplug", &target_dir()).unwrap();
    let err = dsm
        .fetch_market_data("PANIC", "1h", JAN1, JAN1 + H)
        .unwrap_err();
    assert_eq!(err.provider_kind(), Some(ErrorKind::PANICKED));
    assert!(
        err.to_string().contains("testplug was asked to panic"),
        "{err}"
    );
    // The same provider instance keeps working.
    let ok = dsm
        .fetch_market_data("TEST", "1h", JAN1, JAN1 + 2 * H)
        .unwrap();
    assert_eq!(ok.len(), 2);
}

#[test]
fn plugin_built_on_an_incompatible_sdk_is_refused_with_both_versions() {
    // Same-length edit of the manifest's SDK version, as a plugin built on dsm-sdk 0.2.0
    // would declare it; the host refuses it before loading anything.
    let mut bytes = std::fs::read(plugin("testplug")).unwrap();
    let needle = br#""sdk_version":"0.1."#;
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("sdk version in the manifest");
    bytes[at..at + needle.len()].copy_from_slice(br#""sdk_version":"0.2."#);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("libdsm_testplug.so"), bytes).unwrap();
    // Searching only that directory: found, but refused, with both versions named.
    let err = dsm_core::discovery::find("testplug", &[dir.path().to_path_buf()], false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("dsm-sdk 0.2."), "{err}");
    assert!(
        err.contains(&format!("dsm-sdk {}", dsm_sdk_version())),
        "{err}"
    );
    assert!(err.contains("libdsm_testplug.so"), "{err}");
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(
        !maps.contains(dir.path().to_str().unwrap()),
        "the refused file was never mapped"
    );
}

fn dsm_sdk_version() -> String {
    // The host's SDK version, as the manifest of an unmodified build states it.
    let m = dsm_core::read_manifest(&plugin("testplug")).unwrap();
    m.sdk_version
}

/// A copy of testplug in a fresh directory with its ELF header bytes at `at` replaced.
fn patched_testplug(name: &str, at: usize, with: &[u8]) -> tempfile::TempDir {
    let mut bytes = std::fs::read(plugin("testplug")).unwrap();
    bytes[at..at + with.len()].copy_from_slice(with);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    dir
}

/// `dsm providers --json` with `dir` searched first, ended if it does not finish within a
/// minute (a hang is the failure here): the problem reported for `file`, and whether the
/// provider of that name is listed from it.
fn providers_problem(dir: &Path, file: &Path) -> (Option<String>, bool) {
    let mut child = std::process::Command::new(dsm_bin())
        .args(["--plugin-dir", dir.to_str().unwrap(), "providers", "--json"])
        .env_remove("DSM_PLUGIN_PATH")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("dsm providers hung on {}", file.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = file.to_str().unwrap();
    let problem = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == path)
        .map(|p| p["problem"].as_str().unwrap().to_string());
    let listed = doc["providers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["path"] == path);
    (problem, listed)
}

/// e_machine (offset 18, little-endian) and EI_CLASS (offset 4) of an x86_64 build.
const E_MACHINE: usize = 18;
const EI_CLASS: usize = 4;

#[test]
fn a_plugin_built_for_another_architecture_is_refused_naming_both() {
    assert_eq!(
        std::env::consts::ARCH,
        "x86_64",
        "the test patches an x86_64 build"
    );
    let dir = patched_testplug("libdsm_arm.so", E_MACHINE, &183u16.to_le_bytes());
    let file = dir.path().join("libdsm_arm.so");
    let (problem, listed) = providers_problem(dir.path(), &file);
    assert!(!listed, "not listed as usable");
    let problem = problem.expect("reported");
    assert!(
        problem.contains("built for aarch64, this host is x86_64"),
        "{problem}"
    );
    let err = fetch("arm", dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("libdsm_arm.so") && err.contains("built for aarch64, this host is x86_64"),
        "{err}"
    );
    assert!(!err.contains("No such file"), "{err}");
    assert_still_serving(dir.path());
}

#[test]
fn a_plugin_of_the_other_elf_class_is_refused_naming_both() {
    let dir = patched_testplug("libdsm_narrow.so", EI_CLASS, &[1]);
    let file = dir.path().join("libdsm_narrow.so");
    let (problem, listed) = providers_problem(dir.path(), &file);
    assert!(!listed, "not listed as usable");
    let problem = problem.expect("reported");
    assert!(
        problem.contains("is a 32-bit ELF file, this host is 64-bit x86_64"),
        "{problem}"
    );
}

#[test]
fn a_fifo_named_like_a_plugin_is_reported_not_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("libdsm_x.so");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (problem, listed) = providers_problem(dir.path(), &fifo);
    assert!(!listed);
    let problem = problem.expect("reported");
    assert!(problem.contains("is a FIFO (named pipe)"), "{problem}");
    // Asked for by name, the same (and no hang: the open does not wait for a writer).
    let err = fetch("x", dir.path()).unwrap_err().to_string();
    assert!(err.contains("libdsm_x.so") && err.contains("FIFO"), "{err}");
    assert_still_serving(dir.path());
}
