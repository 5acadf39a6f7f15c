//! The cache's file-system rules: read only regular files (a FIFO or device at a cache path
//! must not hang or feed a fetch), create files with the umask's mode, and name temporary
//! files after their writer so that a leftover can be told from a write in progress.
//!
//! A writer holds an exclusive `flock` on its temporary file from creation to rename. A
//! leftover is stale (safe to remove) only when that lock can be taken and the writer named
//! in the file name is no longer alive.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::{ObjectWriter, WriteFn};
use crate::cache::layout::TEMP_PREFIX;

/// A temporary file without a writer's pid in its name (an older dsm) is stale only when
/// it has not changed for this long.
const UNNAMED_STALE_AFTER: Duration = Duration::from_secs(600);

/// What is at a path that should hold a regular file, when it is something else.
pub(crate) fn kind_of(ft: &std::fs::FileType) -> &'static str {
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Open `path` for reading without blocking (a FIFO opens at once) or following a symbolic
/// link (as `cache verify` and `clear` never do), and only if it is a regular file:
/// `Ok(None)` when nothing is there, `Err(InvalidData)` saying what was found.
pub(crate) fn open_regular(path: &Path) -> io::Result<Option<File>> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a symbolic link is there, not a regular file; never followed",
            ))
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is there, not a regular file; never read",
                kind_of(&meta.file_type())
            ),
        ));
    }
    Ok(Some(file))
}

/// A regular file to read, refusing one larger than `max` bytes; its length.
pub(crate) fn open_bounded(path: &Path, max: u64) -> io::Result<Option<(File, u64)>> {
    let Some(file) = open_regular(path)? else {
        return Ok(None);
    };
    let len = file.metadata()?.len();
    if len > max {
        return Err(too_large(len, max));
    }
    Ok(Some((file, len)))
}

/// The whole of a regular file, refusing one larger than `max` bytes.
pub(crate) fn read_regular(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let Some((file, len)) = open_bounded(path, max)? else {
        return Ok(None);
    };
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64, max));
    }
    Ok(Some(bytes))
}

/// The error for an object larger than its reader accepts.
pub(crate) fn too_large(len: u64, max: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{len} bytes, more than any cache file holds ({max})"),
    )
}

/// A temporary file being written, locked, removed on drop unless it was renamed.
pub(crate) struct TempFile {
    path: PathBuf,
    file: File,
    persisted: bool,
}

impl TempFile {
    /// `{dir}/.dsm-tmp-{stem}.{pid}.{n}.tmp`, created new with mode 0666 minus the umask
    /// (as any other file the user creates), locked before anything is written to it.
    pub(crate) fn create(dir: &Path, stem: &str) -> io::Result<TempFile> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let pid = std::process::id();
        loop {
            let n = SEQ.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{TEMP_PREFIX}{stem}.{pid}.{n}.tmp"));
            let file = match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o666)
                .open(&path)
            {
                Ok(f) => f,
                // A name left by an earlier process with this pid.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            };
            let temp = TempFile {
                path,
                file,
                persisted: false,
            };
            temp.file.lock()?;
            return Ok(temp);
        }
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Write all of `bytes`, fsync, and rename over `target` (the lock goes with the file).
    pub(crate) fn persist(self, bytes: &[u8], target: &Path) -> io::Result<()> {
        self.persist_with(&mut |w| w.write_all(bytes), target)
    }

    /// [`TempFile::persist`] of what `write` writes, through a buffer (nothing held whole).
    pub(crate) fn persist_with(mut self, write: &mut WriteFn<'_>, target: &Path) -> io::Result<()> {
        let mut out = Buffered(BufWriter::new(&self.file));
        write(&mut out)?;
        out.flush()?;
        drop(out);
        self.file.sync_all()?;
        std::fs::rename(&self.path, target)?;
        self.persisted = true;
        Ok(())
    }
}

/// A temporary file written through a buffer; overwrites go to the file itself.
struct Buffered<'a>(BufWriter<&'a File>);

impl Write for Buffered<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl ObjectWriter for Buffered<'_> {
    fn overwrite(&mut self, at: u64, bytes: &[u8]) -> io::Result<()> {
        self.0.flush()?;
        self.0.get_ref().write_all_at(bytes, at)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Who wrote a temporary file, from its name: `None` for names of older dsm versions.
fn writer_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(".tmp")?;
    let mut parts = rest.rsplit('.');
    let _seq: u64 = parts.next()?.parse().ok()?;
    parts.next()?.parse().ok()
}

fn is_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether a temporary file is still being written, or a stale leftover of a process that
/// died.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TempState {
    /// Its writer holds the lock or is alive: never touched.
    InUse,
    /// Its writer is gone: removed by the next fetch of the series, `dsm cache clear` and
    /// `dsm cache verify --fix`.
    Stale,
}

/// Remove `path` if it is a stale leftover (checked under its lock, so a live writer is
/// never raced); returns its state as found.
pub(crate) fn remove_if_stale(path: &Path, remove: bool) -> TempState {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Ok(Some(file)) = open_regular(path) else {
        return TempState::InUse;
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) | Err(TryLockError::Error(_)) => return TempState::InUse,
    }
    let stale = match writer_pid(name) {
        Some(pid) => !is_alive(pid),
        None => file
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age >= UNNAMED_STALE_AFTER),
    };
    if !stale {
        return TempState::InUse;
    }
    if remove {
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!("cache: could not remove {}: {e}", path.display());
        }
    }
    TempState::Stale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_pids_come_from_the_name() {
        assert_eq!(writer_pid(".dsm-tmp-2024-01-01.4242.7.tmp"), Some(4242));
        assert_eq!(writer_pid(".dsm-tmp-2024-01.17.0.tmp"), Some(17));
        assert_eq!(writer_pid(".dsm-tmp-2024-01-01-Ab3xZq.tmp"), None);
        assert!(is_alive(std::process::id() as i32));
    }
}
