//! The seam a dataset is written through: put whole bytes at a relative path, read them
//! back, list what is there. A directory implements it here; an object store (`s3://`)
//! implements the same trait elsewhere and the export does not change.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cache::storage::files::{remove_if_stale, TempFile, TempState};
use crate::cache::storage::{Storage, What};
use crate::cache::TEMP_PREFIX;

/// One object of a dataset: its relative path (`/`-separated) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Relative to the dataset's root, `/`-separated.
    pub path: String,
    /// Bytes.
    pub bytes: u64,
}

/// Where a dataset lives. Paths are relative, `/`-separated, and checked by
/// [`check_rel_path`] before any backend sees them.
pub trait DatasetStore {
    /// The root, for messages (a directory, a URL).
    fn describe(&self) -> String;
    /// Store `bytes` at `path` so that it appears whole or not at all, replacing what was
    /// there (a directory: a temporary file, fsync, rename; S3: one PUT).
    fn put(&self, path: &str, bytes: &[u8]) -> io::Result<()>;
    /// The bytes at `path`; `Ok(None)` when nothing is there.
    fn get(&self, path: &str) -> io::Result<Option<Vec<u8>>>;
    /// Every object of the dataset (temporary files of writes are not objects), sorted by
    /// path.
    fn list(&self) -> io::Result<Vec<Object>>;
}

/// A relative path every backend can take: `/`-separated components, none empty, `.` or
/// `..`, no NUL, none hidden (a leading `.` is what temporary files use).
pub fn check_rel_path(path: &str) -> io::Result<()> {
    let ok = !path.is_empty()
        && path.split('/').all(|c| {
            !c.is_empty() && !c.starts_with('.') && !c.contains('\0') && !c.contains('\\')
        });
    match ok {
        true => Ok(()),
        false => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{path:?} is not a relative dataset path"),
        )),
    }
}

/// A dataset in a local directory.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// The directory `root`, created if missing (with its parents); an error if something
    /// else than a directory is there.
    pub fn create(root: impl Into<PathBuf>) -> io::Result<DirStore> {
        let root = root.into();
        match std::fs::metadata(&root) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "it exists and is not a directory; give a directory for the dataset",
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir_all(&root)?,
            Err(e) => return Err(e),
        }
        Ok(DirStore { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn full(&self, path: &str) -> io::Result<PathBuf> {
        check_rel_path(path)?;
        Ok(path.split('/').fold(self.root.clone(), |p, c| p.join(c)))
    }

    /// Hold the dataset's writer lock (`_dsm/.lock`, an exclusive `flock`) while the
    /// returned file is open: two exports into one directory would each write a manifest
    /// missing the other's periods. `Ok(None)` when another process holds it.
    pub fn lock(&self) -> io::Result<Option<std::fs::File>> {
        let dir = self.root.join("_dsm");
        std::fs::create_dir_all(&dir)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".lock"))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// Remove the temporary files of writers that died (never a live writer's); returns
    /// how many were removed.
    pub fn remove_stale_temps(&self) -> usize {
        let mut removed = 0;
        walk(&self.root, &mut |path, name, _| {
            if name.starts_with(TEMP_PREFIX) && remove_if_stale(path, true) == TempState::Stale {
                removed += 1;
            }
        });
        removed
    }
}

impl DatasetStore for DirStore {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn put(&self, path: &str, bytes: &[u8]) -> io::Result<()> {
        let full = self.full(path)?;
        let dir = full.parent().expect("a dataset path has a directory");
        std::fs::create_dir_all(dir)?;
        let name = full.file_name().and_then(|n| n.to_str()).unwrap_or("part");
        TempFile::create(dir, name)?.persist(bytes, &full)?;
        std::fs::File::open(dir)?.sync_all()
    }

    fn get(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.full(path)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn list(&self) -> io::Result<Vec<Object>> {
        let mut out = Vec::new();
        walk(&self.root, &mut |path, _, meta| {
            let rel = path.strip_prefix(&self.root).ok().and_then(|r| r.to_str());
            if let Some(rel) = rel.filter(|r| check_rel_path(r).is_ok()) {
                out.push(Object {
                    path: rel.to_string(),
                    bytes: meta.len(),
                });
            }
        });
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

/// A dataset in the cache's storage (`s3://bucket/prefix`): each put is the storage's
/// atomic put (one PUT). Nothing guards two exporters of one prefix (the later manifest
/// would drop the other's periods): run one exporter per dataset prefix at a time.
#[derive(Debug, Clone)]
pub struct StorageStore {
    storage: Arc<dyn Storage>,
}

/// The largest object a dataset read takes (the manifest; Parquet files are not read).
const MAX_GET: u64 = 1 << 30;

impl StorageStore {
    /// The dataset at the root of `storage`.
    pub fn new(storage: Arc<dyn Storage>) -> StorageStore {
        StorageStore { storage }
    }
}

impl DatasetStore for StorageStore {
    fn describe(&self) -> String {
        let root = self.storage.location("");
        root.display().to_string().trim_end_matches('/').to_string()
    }

    fn put(&self, path: &str, bytes: &[u8]) -> io::Result<()> {
        check_rel_path(path)?;
        self.storage.put(path, bytes)
    }

    fn get(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        check_rel_path(path)?;
        self.storage.get(path, MAX_GET)
    }

    fn list(&self) -> io::Result<Vec<Object>> {
        let mut out = Vec::new();
        for entry in self.storage.list("") {
            let entry = entry?;
            if entry.what == What::Object && check_rel_path(&entry.key).is_ok() {
                out.push(Object {
                    path: entry.key,
                    bytes: entry.bytes,
                });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

/// Every regular file below `dir` (symlinks are not followed), with its name and metadata.
fn walk(dir: &Path, f: &mut dyn FnMut(&Path, &str, &std::fs::Metadata)) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let (path, Ok(meta)) = (entry.path(), entry.metadata()) else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        if meta.is_dir() {
            walk(&path, f);
        } else if meta.is_file() {
            f(&path, &name, &meta);
        }
    }
}
