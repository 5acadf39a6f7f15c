//! Finding plugin files along the search path and reading their manifests (never loading
//! them). First match wins; broken files are reported, never skipped silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dsm_sdk::Manifest;

use crate::error::{DsmError, Result};

mod manifest_cache;
mod permissions;
pub use permissions::check_permissions;

/// A plugin file and the manifest read from it.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Its manifest (read from the file, not loaded); shared with the process's manifest
    /// cache, so that finding a plugin again copies nothing.
    pub manifest: Arc<Manifest>,
}

/// The directories of `DSM_PLUGIN_PATH` (colon-separated), in order; empty entries skipped.
/// [`search_dirs`] puts them right after the caller's own directories; an embedder with
/// plugins of its own to search after them (the Python package) places its own behind these.
pub fn env_plugin_dirs() -> Vec<PathBuf> {
    std::env::var_os("DSM_PLUGIN_PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The directories searched, in order: `extra` (`plugin_dir()`, --plugin-dir), then
/// `DSM_PLUGIN_PATH` (colon-separated; read here, so every config honours it), the running
/// executable's directory and its `plugins/`, `../lib/dsm/plugins` beside it (and cargo's
/// `target/<profile>/` for examples and tests), `$XDG_DATA_HOME/dsm/plugins` (else
/// `~/.local/share/dsm/plugins`), then the plugins of the two usual install prefixes:
/// `~/.local/lib/dsm/plugins` and `/usr/local/lib/dsm/plugins`. A path given twice is kept
/// once; directories need not exist. Two paths to one directory (a symlink) stay: finding a
/// plugin does not need them merged (a directory searched again finds nothing new) and
/// resolving every path cost a manager ~40 readlinks; [`list`] and the not-found error,
/// which show directories, merge them.
pub fn search_dirs(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = extra.to_vec();
    dirs.extend(env_plugin_dirs());
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.clone());
        dirs.push(exe_dir.join("plugins"));
        dirs.push(exe_dir.join("../lib/dsm/plugins"));
        // Cargo puts examples and test binaries one level below target/<profile>/, where
        // the plugins are built.
        if exe_dir.ends_with("examples") || exe_dir.ends_with("deps") {
            if let Some(profile_dir) = exe_dir.parent() {
                dirs.push(profile_dir.to_path_buf());
            }
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".local/share")));
    if let Some(d) = data_home {
        dirs.push(d.join("dsm/plugins"));
    }
    if let Some(h) = home {
        dirs.push(h.join(".local/lib/dsm/plugins"));
    }
    dirs.push(PathBuf::from("/usr/local/lib/dsm/plugins"));
    // Compared as bytes: `Path`'s equality walks components, and that was most of a
    // manager's search.
    dedup_by(dirs, |d| d.as_os_str().to_owned())
}

/// `dirs` without the ones that are the same directory by another path: the same device
/// and inode (one stat each, where resolving the path would readlink every component).
pub fn distinct_dirs(dirs: &[PathBuf]) -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    dedup_by(dirs.to_vec(), |d| match std::fs::metadata(d) {
        Ok(m) => DirKey::Inode(m.dev(), m.ino()),
        Err(_) => DirKey::Path(d.clone()),
    })
}

/// What makes two search directories the same: the directory itself, or for one that does
/// not exist, its path.
#[derive(PartialEq)]
enum DirKey {
    Inode(u64, u64),
    Path(PathBuf),
}

fn dedup_by<K: PartialEq>(mut dirs: Vec<PathBuf>, key: impl Fn(&PathBuf) -> K) -> Vec<PathBuf> {
    let mut seen = Vec::new();
    dirs.retain(|d| {
        let k = key(d);
        let new = !seen.contains(&k);
        seen.push(k);
        new
    });
    dirs
}

/// The file name a provider's plugin has: `libdsm_<id>.so`.
pub fn file_name(id: &str) -> String {
    format!("libdsm_{id}{}", std::env::consts::DLL_SUFFIX)
}

/// Normalize a provider name a user typed: case-insensitive, letters, digits and `_`.
pub fn normalize_provider(name: &str) -> Result<String> {
    let id = name.trim().to_ascii_lowercase();
    let ok = !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(DsmError::InvalidInput(format!(
            "provider name {name:?} is not valid: use letters, digits or _ (e.g. binance); `dsm providers` lists them"
        )))
    }
}

/// Find the plugin for `provider` (already normalized) in `dirs`. Unless `allow_insecure`,
/// files others could have replaced are refused (see [`check_permissions`]).
pub fn find(provider: &str, dirs: &[PathBuf], allow_insecure: bool) -> Result<PluginFile> {
    let name = file_name(provider);
    let mut problems: Vec<(PathBuf, String)> = Vec::new();
    for dir in dirs {
        let path = dir.join(&name);
        // Anything there by that name is reported if unusable (a FIFO, a dangling link).
        if path.symlink_metadata().is_err() {
            continue;
        }
        match check(&path, Some(provider), allow_insecure) {
            Ok(found) => {
                for (bad, why) in &problems {
                    tracing::warn!("skipped plugin {}: {why}", bad.display());
                }
                return Ok(found);
            }
            Err(why) => problems.push((path, why)),
        }
    }
    Err(DsmError::ProviderNotFound {
        provider: provider.to_string(),
        searched: distinct_dirs(dirs),
        problems,
        available: list(dirs, allow_insecure).plugins.into_keys().collect(),
    })
}

fn check(
    path: &Path,
    expected_id: Option<&str>,
    allow_insecure: bool,
) -> Result<PluginFile, String> {
    if !allow_insecure {
        check_permissions(path)?;
    }
    let manifest = manifest_cache::manifest(path)?;
    check_sdk_version(&manifest.sdk_version)?;
    if let Some(id) = expected_id {
        if manifest.id() != id {
            return Err(format!(
                "its manifest says it is provider {:?}, not {id:?} (rename it libdsm_{}.so or rebuild it)",
                manifest.id(),
                manifest.id()
            ));
        }
    }
    Ok(PluginFile {
        path: path.to_path_buf(),
        manifest,
    })
}

/// Every plugin in `dirs` (first per id wins) and every file that looked like one but failed.
#[derive(Debug, Default)]
pub struct Listing {
    /// The providers found, by id: each one's file, markets, intervals and endpoints.
    pub plugins: BTreeMap<String, PluginFile>,
    /// Files that looked like plugins but cannot be used, with the reason.
    pub problems: Vec<(PathBuf, String)>,
}

/// The plugins in `dirs`, from their manifests alone (nothing is loaded).
pub fn list(dirs: &[PathBuf], allow_insecure: bool) -> Listing {
    let mut out = Listing::default();
    let suffix = std::env::consts::DLL_SUFFIX;
    for dir in &distinct_dirs(dirs) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("libdsm_") && n.ends_with(suffix))
            .collect();
        names.sort();
        for name in names {
            let id = &name["libdsm_".len()..name.len() - suffix.len()];
            if out.plugins.contains_key(id) {
                continue;
            }
            let path = dir.join(&name);
            match check(&path, Some(id), allow_insecure) {
                Ok(p) => {
                    out.plugins.insert(id.to_string(), p);
                }
                Err(why) => out.problems.push((path, why)),
            }
        }
    }
    out
}

/// Refuse, before loading anything, a plugin built on a dsm-sdk whose ABI differs from
/// this host's: for 0.x the minor version is the ABI version, from 1.0 the major one.
pub fn check_sdk_version(plugin_sdk: &str) -> Result<(), String> {
    let parse = |v: &str| -> Option<(u64, u64)> {
        let mut parts = v.split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    let host = dsm_sdk::SDK_VERSION;
    let (Some(p), Some(h)) = (parse(plugin_sdk), parse(host)) else {
        return Err(format!(
            "declares an unreadable dsm-sdk version {plugin_sdk:?}"
        ));
    };
    let compatible = p.0 == h.0 && (h.0 > 0 || p.1 == h.1);
    if compatible {
        Ok(())
    } else {
        Err(format!(
            "was built with dsm-sdk {plugin_sdk}, which this host (dsm-sdk {host}) cannot load: \
             rebuild the plugin against dsm-sdk {}.{}.x or use a dsm built for it",
            h.0, h.1
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_versions_must_share_the_abi() {
        assert!(check_sdk_version(dsm_sdk::SDK_VERSION).is_ok());
        assert!(check_sdk_version("0.1.9").is_ok());
        for bad in ["0.2.0", "0.0.9", "1.1.0", "x"] {
            let err = check_sdk_version(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
        assert!(check_sdk_version("0.2.0")
            .unwrap_err()
            .contains(dsm_sdk::SDK_VERSION));
    }

    #[test]
    fn one_directory_by_two_paths_is_listed_and_reported_once() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join(file_name("broken")), b"not a shared library").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let dirs = vec![real.clone(), link.clone(), real.clone()];
        // The search keeps the symlinked path (no readlinks per manager), not the repeat.
        assert_eq!(search_dirs(&dirs)[..2], [real.clone(), link]);
        assert_eq!(search_dirs(&dirs).iter().filter(|d| **d == real).count(), 1);
        let listing = list(&dirs, true);
        assert_eq!(listing.problems.len(), 1, "{:?}", listing.problems);
        let Err(DsmError::ProviderNotFound { searched, .. }) = find("broken", &dirs, true) else {
            panic!("a broken file is not a plugin");
        };
        assert_eq!(
            searched
                .iter()
                .filter(|d| d.starts_with(tmp.path()))
                .count(),
            1
        );
    }
}
