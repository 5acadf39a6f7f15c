//! Where the cache's bytes live: a small interface with two backends, the local file system
//! (`fs.rs`, the default) and object storage (`object.rs`, `s3://bucket/prefix`).
//!
//! A backend stores whole objects under `/`-separated keys relative to its root. It knows
//! nothing of the cache's format: checksums, identity and validation sit above it
//! (`cache/store.rs`) and are the same on every backend. What every backend guarantees:
//! `put` publishes atomically (a reader sees the old object or all of the new one, never a
//! part), `get` reads a whole object and refuses one larger than asked, `list` walks a
//! prefix in key order a page at a time.
//!
//! A new backend implements [`Storage`] and gets its URL scheme in [`open`]; nothing else
//! changes.

mod ends;
pub(crate) mod files;
mod fs;
mod object;

use std::io::{self, Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use files::TempState;
pub use fs::FileStorage;
pub use object::ObjectStorage;

#[cfg(test)]
pub(crate) use files::TempFile;

/// What a listed key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A whole object, as `put` published it.
    Object,
    /// A write in progress or left by a killed process (file system only: an object store
    /// never shows a part of an upload).
    Partial,
    /// Something no `put` makes (a FIFO, a symbolic link), saying what it is.
    Other(String),
}

/// One key found by [`Storage::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, relative to the storage's root.
    pub key: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// What is there.
    pub what: What,
}

/// The listing of a prefix, fetched a page at a time as it is consumed.
pub type Listing<'a> = Box<dyn Iterator<Item = io::Result<Entry>> + Send + 'a>;

/// Whole objects under keys: what the cache (and a dataset writer) needs of a place to
/// keep bytes. Errors are `io::Error`s; `InvalidData` means "something is there, but not
/// an object this storage would serve" (too large, not a regular file).
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// The whole object at `key`, `Ok(None)` when there is none; more than `max` bytes is
    /// `InvalidData` (checked before reading, and again while reading).
    fn get(&self, key: &str, max: u64) -> io::Result<Option<Vec<u8>>>;

    /// Publish `bytes` at `key` atomically, replacing what is there.
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()>;

    /// The object at `key` to read in parts (a large cache file is decoded a slice at a
    /// time), as `get` would find it: `Ok(None)` when there is none, more than `max` bytes
    /// `InvalidData`. Backends that cannot seek in an object hand over its bytes whole.
    fn open(&self, key: &str, max: u64) -> io::Result<Option<Box<dyn ReadSeek>>> {
        Ok(self
            .get(key, max)?
            .map(|bytes| Box::new(Cursor::new(bytes)) as Box<dyn ReadSeek>))
    }

    /// The object at `key` as [`Storage::open`] finds it, of which only the first `head`
    /// and the last `tail` bytes will be read (a footer read): object storage fetches just
    /// those two ranges, and a read outside them fails. By default, [`Storage::open`].
    fn open_ends(
        &self,
        key: &str,
        max: u64,
        _head: u64,
        _tail: u64,
    ) -> io::Result<Option<Box<dyn ReadSeek>>> {
        self.open(key, max)
    }

    /// Publish what `write` writes at `key` atomically, as `put` does. Backends that can
    /// stream (the file system) hold none of it in memory; the others collect it for `put`.
    fn put_with(&self, key: &str, write: &mut WriteFn<'_>) -> io::Result<()> {
        let mut bytes = Vec::new();
        write(&mut bytes)?;
        self.put(key, &bytes)
    }

    /// Whether anything is at `key` (not read).
    fn exists(&self, key: &str) -> io::Result<bool>;

    /// Every key below `prefix` (`""` or ending in `/`), in key order.
    fn list(&self, prefix: &str) -> Listing<'_>;

    /// Remove the object at `key` (none there is not an error).
    fn delete(&self, key: &str) -> io::Result<()>;

    /// Where `key` is, for messages: a path or a URL.
    fn location(&self, key: &str) -> PathBuf;

    /// Whether a [`What::Partial`] key is still being written, removing it when it is a
    /// stale leftover and `remove` is set (never one a live writer holds).
    fn partial(&self, _key: &str, _remove: bool) -> TempState {
        TempState::InUse
    }

    /// Remove the stale leftovers below `prefix` (those [`Storage::partial`] calls stale).
    fn sweep(&self, prefix: &str) {
        for entry in self.list(prefix).flatten() {
            if entry.what == What::Partial && self.partial(&entry.key, true) == TempState::Stale {
                tracing::info!(
                    "cache: removed {} (left by a killed process)",
                    self.location(&entry.key).display()
                );
            }
        }
    }

    /// Remove what `delete`s left empty at `prefix` and above it (directories); how many.
    fn prune(&self, _prefix: &str) -> usize {
        0
    }

    /// Fail early, saying why, when nothing could be written here.
    fn check_writable(&self) -> io::Result<()>;
}

/// An object being read in parts.
pub trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// An object being written by [`Storage::put_with`]: bytes appended in order, and bytes
/// already written overwritten in place (a checksum filled in once the rest is known).
pub trait ObjectWriter: Write {
    /// Replace the written bytes at `at..at + bytes.len()`.
    fn overwrite(&mut self, at: u64, bytes: &[u8]) -> io::Result<()>;
}

impl ObjectWriter for Vec<u8> {
    fn overwrite(&mut self, at: u64, bytes: &[u8]) -> io::Result<()> {
        let span = usize::try_from(at)
            .ok()
            .and_then(|at| Some(at..at.checked_add(bytes.len())?))
            .filter(|span| span.end <= self.len())
            .ok_or_else(|| io::Error::other("overwriting past the end of what was written"))?;
        self[span].copy_from_slice(bytes);
        Ok(())
    }
}

/// What writes an object's bytes for [`Storage::put_with`].
pub type WriteFn<'a> = dyn FnMut(&mut dyn ObjectWriter) -> io::Result<()> + 'a;

/// The storage a location names: `s3://bucket/prefix` (object storage, configured from the
/// usual `AWS_*` variables), else a directory.
pub fn open(location: &Path) -> io::Result<Arc<dyn Storage>> {
    let text = location.to_string_lossy();
    match text.split_once("://") {
        None => Ok(Arc::new(FileStorage::new(location))),
        Some(("s3" | "s3a", _)) => Ok(Arc::new(ObjectStorage::s3(&text, &[])?)),
        Some((scheme, _)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{text}: unknown storage scheme {scheme:?}; use a directory or s3://bucket/prefix"
            ),
        )),
    }
}

/// Join a prefix and a key with one `/`.
pub(crate) fn join(prefix: &str, key: &str) -> String {
    match (prefix.trim_end_matches('/'), key.trim_start_matches('/')) {
        ("", k) => k.to_string(),
        (p, "") => format!("{p}/"),
        (p, k) => format!("{p}/{k}"),
    }
}

#[cfg(test)]
mod tests;
