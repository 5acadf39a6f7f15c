//! The file-system backend: a key is a path below the root. Only regular files are read
//! (never a FIFO, device or symbolic link), a put is a locked temporary file beside the
//! target, written, fsynced, renamed over it, then the directory fsynced (`files.rs`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::files::{self, TempFile, TempState};
use super::{Entry, Listing, ReadSeek, Storage, What, WriteFn};
use crate::cache::layout::TEMP_PREFIX;

/// Objects as files below a directory.
#[derive(Debug, Clone)]
pub struct FileStorage {
    root: PathBuf,
}

impl FileStorage {
    /// Files below `root` (nothing is created until a put).
    pub fn new(root: impl Into<PathBuf>) -> FileStorage {
        FileStorage { root: root.into() }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// Every non-directory below `dir` (real directories only: symbolic links are listed,
    /// never followed), sorted by key.
    fn walk(&self, dir: &Path, prefix: &str, out: &mut Vec<Entry>) {
        let Ok(read) = fs::read_dir(dir) else {
            return;
        };
        let mut items: Vec<(String, fs::FileType)> = read
            .flatten()
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.file_type().ok()?)))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, ft) in items {
            let key = format!("{prefix}{name}");
            let path = dir.join(&name);
            if ft.is_dir() {
                self.walk(&path, &format!("{key}/"), out);
                continue;
            }
            let what = match ft.is_file() {
                true if name.starts_with(TEMP_PREFIX) => What::Partial,
                true => What::Object,
                false => What::Other(files::kind_of(&ft).to_string()),
            };
            let bytes = fs::symlink_metadata(&path).map(|m| m.len()).unwrap_or(0);
            out.push(Entry { key, bytes, what });
        }
    }
}

impl Storage for FileStorage {
    fn get(&self, key: &str, max: u64) -> io::Result<Option<Vec<u8>>> {
        files::read_regular(&self.path(key), max)
    }

    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        self.put_with(key, &mut |w| w.write_all(bytes))
    }

    fn open(&self, key: &str, max: u64) -> io::Result<Option<Box<dyn ReadSeek>>> {
        let file = files::open_bounded(&self.path(key), max)?;
        Ok(file.map(|(f, _)| Box::new(f) as Box<dyn ReadSeek>))
    }

    fn put_with(&self, key: &str, write: &mut WriteFn<'_>) -> io::Result<()> {
        let path = self.path(key);
        let dir = path.parent().expect("keys name a file below the root");
        fs::create_dir_all(dir)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("file");
        TempFile::create(dir, stem)?.persist_with(write, &path)?;
        // The rename survives a crash only once its directory is on disk.
        fs::File::open(dir)?.sync_all()
    }

    fn exists(&self, key: &str) -> io::Result<bool> {
        match fs::symlink_metadata(self.path(key)) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn list(&self, prefix: &str) -> Listing<'_> {
        let mut out = Vec::new();
        self.walk(&self.path(prefix), prefix, &mut out);
        Box::new(out.into_iter().map(Ok))
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        match fs::remove_file(self.path(key)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn location(&self, key: &str) -> PathBuf {
        self.path(key)
    }

    fn partial(&self, key: &str, remove: bool) -> TempState {
        files::remove_if_stale(&self.path(key), remove)
    }

    /// Remove the directory at `prefix` and its ancestors while they are empty, stopping
    /// below the root.
    fn prune(&self, prefix: &str) -> usize {
        let dir = self.path(prefix.trim_end_matches('/'));
        let mut removed = 0;
        let mut cur = Some(dir.as_path());
        while let Some(d) = cur.filter(|d| d.starts_with(&self.root) && *d != self.root) {
            // Fails (and stops) when the directory is not empty.
            if fs::remove_dir(d).is_err() {
                break;
            }
            removed += 1;
            cur = d.parent();
        }
        removed
    }

    fn check_writable(&self) -> io::Result<()> {
        fs::create_dir_all(&self.root).and_then(|_| tempfile::tempfile_in(&self.root).map(drop))
    }
}
