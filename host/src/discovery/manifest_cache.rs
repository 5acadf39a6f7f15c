//! Manifests already read in this process, so that creating a manager again does not parse
//! the plugin's ELF file again (about a hundred reads and seeks each time).
//!
//! An entry is used only while the file still has the same device, inode, size, mode, owner,
//! mtime and ctime as when it was read: replacing, rewriting, chmod-ing or touching the file
//! reads it again. A file changed less than [`SETTLE`] before it was read is not kept ("racy" as git
//! calls it): a rewrite in the same timestamp tick with the same size would look unchanged.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use dsm_sdk::Manifest;

use crate::manifest_file::read_manifest;

/// How long a file must have been unchanged for its manifest to be kept.
const SETTLE: Duration = Duration::from_secs(2);

/// What identifies one version of a file: (dev, ino, size, mode, uid, gid, mtime ns, ctime
/// ns).
type Stamp = (u64, u64, u64, u32, u32, u32, i128, i128);

type Entries = HashMap<PathBuf, (Stamp, Arc<Manifest>)>;

static CACHE: Mutex<Option<Entries>> = Mutex::new(None);

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    let ns = |s: i64, n: i64| s as i128 * 1_000_000_000 + n as i128;
    (
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mode(),
        meta.uid(),
        meta.gid(),
        ns(meta.mtime(), meta.mtime_nsec()),
        ns(meta.ctime(), meta.ctime_nsec()),
    )
}

/// Whether the file changed less than `settle` ago (or its times are in the future).
fn racy(meta: &std::fs::Metadata, settle: Duration) -> bool {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let (.., mtime, ctime) = stamp(meta);
    now - mtime.max(ctime) < settle.as_nanos() as i128
}

/// The manifest of the plugin file at `path`: from the cache while the file is unchanged,
/// else read (see [`read_manifest`]); errors are never cached.
pub fn manifest(path: &Path) -> Result<Arc<Manifest>, String> {
    cached(path, SETTLE, &read_manifest)
}

fn cached(
    path: &Path,
    settle: Duration,
    read: &dyn Fn(&Path) -> Result<Manifest, String>,
) -> Result<Arc<Manifest>, String> {
    // Stamped before reading: a change during the read shows as a new stamp next time.
    let Ok(meta) = std::fs::metadata(path) else {
        return read(path).map(Arc::new);
    };
    let key = stamp(&meta);
    let lock = || CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((stamp, manifest)) = lock().get_or_insert_with(HashMap::new).get(path) {
        if *stamp == key {
            return Ok(Arc::clone(manifest));
        }
    }
    let manifest = Arc::new(read(path)?);
    if !racy(&meta, settle) {
        lock()
            .get_or_insert_with(HashMap::new)
            .insert(path.to_path_buf(), (key, Arc::clone(&manifest)));
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn json(id: &str, name: &str) -> String {
        format!(
            r#"{{"format":1,"sdk_version":"0.1.0","version":"0.1.0","plugin":{{"id":"{id}","name":"{name}","markets":[{{"id":"spot","description":"d","symbol_example":"X","intervals":["1m"],"archive":false,"max_page":1}}]}}}}"#
        )
    }

    /// `cached` with no settling time, counting the reads it makes.
    fn read_counting(path: &Path, reads: &Cell<u32>, settle: Duration) -> Result<String, String> {
        let read = |p: &Path| {
            reads.set(reads.get() + 1);
            Manifest::parse(&std::fs::read(p).map_err(|e| e.to_string())?)
        };
        cached(path, settle, &read).map(|m| m.plugin.name.clone())
    }

    #[test]
    fn an_unchanged_file_is_read_once_and_any_change_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libdsm_x.so");
        let reads = Cell::new(0);
        let get = || read_counting(&path, &reads, Duration::ZERO);
        std::fs::write(&path, json("x", "One")).unwrap();
        assert_eq!(get().unwrap(), "One");
        assert_eq!(get().unwrap(), "One");
        assert_eq!(reads.get(), 1, "the second create reads nothing");
        // Rewritten in place (same inode, another size).
        std::fs::write(&path, json("x", "Second")).unwrap();
        assert_eq!(get().unwrap(), "Second");
        // Replaced by a rename (another inode, the same size).
        let other = dir.path().join("new");
        std::fs::write(&other, json("x", "Third!")).unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(get().unwrap(), "Third!");
        assert_eq!(reads.get(), 3);
        // A chmod changes the mode (and the ctime): read again too.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(get().unwrap(), "Third!");
        assert_eq!(reads.get(), 4);
    }

    #[test]
    fn a_file_changed_just_now_and_a_broken_file_are_never_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libdsm_y.so");
        let reads = Cell::new(0);
        std::fs::write(&path, json("y", "Fresh")).unwrap();
        let settle = Duration::from_secs(3600);
        for _ in 0..2 {
            assert_eq!(read_counting(&path, &reads, settle).unwrap(), "Fresh");
        }
        assert_eq!(reads.get(), 2, "a racy file is read every time");
        let broken = dir.path().join("libdsm_z.so");
        std::fs::write(&broken, b"not a manifest").unwrap();
        for _ in 0..2 {
            assert!(read_counting(&broken, &reads, Duration::ZERO).is_err());
        }
        assert_eq!(reads.get(), 4, "errors are not cached");
    }
}
