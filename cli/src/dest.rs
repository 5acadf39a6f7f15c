//! What `-o PATH` points at, and so how to write it: a regular file (or a new one) is
//! replaced atomically, in the directory of the file a symlink leads to; a FIFO or a
//! character device (a pipe, /dev/null, a terminal) is written directly, never renamed over;
//! `-` is stdout. Modes: a new file gets 0666 minus the umask, a replaced one keeps its own.

use std::fs::{Metadata, Permissions};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use dsm_core::DsmError;

/// Symlinks followed before giving up (as the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

#[derive(Debug, PartialEq, Eq)]
pub enum Dest {
    /// `-o -`.
    Stdout,
    /// A FIFO or character device: opened for writing as it is.
    Direct(PathBuf),
    /// A regular file, existing (`mode` is kept) or new (`mode` None): written to a
    /// temporary file beside it, then renamed over it. The path is the symlink's target.
    Atomic { path: PathBuf, mode: Option<u32> },
}

impl Dest {
    pub fn classify(path: &Path) -> Result<Dest, DsmError> {
        if path.as_os_str() == "-" {
            return Ok(Dest::Stdout);
        }
        let path = resolve_links(path)?;
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Dest::Atomic { path, mode: None });
            }
            Err(e) => return Err(DsmError::io(format!("output {}", path.display()), e)),
        };
        let ft = meta.file_type();
        if ft.is_file() {
            let mode = Some(meta.permissions().mode() & 0o7777);
            Ok(Dest::Atomic { path, mode })
        } else if ft.is_fifo() || ft.is_char_device() {
            Ok(Dest::Direct(path))
        } else {
            Err(DsmError::InvalidInput(format!(
                "output {} is {}: give a file path, a FIFO or - for stdout",
                path.display(),
                kind(&meta)
            )))
        }
    }
}

/// The file a chain of symlinks ends at (which may not exist yet).
fn resolve_links(path: &Path) -> Result<PathBuf, DsmError> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p)
                    .map_err(|e| DsmError::io(format!("output {}", p.display()), e))?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(DsmError::InvalidInput(format!(
        "output {}: more than {MAX_LINKS} symlinks (a loop?)",
        path.display()
    )))
}

fn kind(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        "a directory"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The mode a written file ends with: the replaced file's, else 0666 minus the umask.
pub fn final_mode(kept: Option<u32>) -> Permissions {
    Permissions::from_mode(kept.unwrap_or(0o666 & !umask()))
}

/// This process's umask, read without changing it (Linux: /proc/self/status).
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
        })
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_new_and_linked_files_are_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.csv");
        assert_eq!(
            Dest::classify(&file).unwrap(),
            Dest::Atomic {
                path: file.clone(),
                mode: None
            }
        );
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, Permissions::from_mode(0o640)).unwrap();
        assert_eq!(
            Dest::classify(&file).unwrap(),
            Dest::Atomic {
                path: file.clone(),
                mode: Some(0o640)
            }
        );
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let link = sub.join("link.csv");
        std::os::unix::fs::symlink("../a.csv", &link).unwrap();
        let Dest::Atomic { path, .. } = Dest::classify(&link).unwrap() else {
            panic!("a symlink to a file is written atomically");
        };
        assert_eq!(path.canonicalize().unwrap(), file.canonicalize().unwrap());
    }

    #[test]
    fn stdout_directories_and_loops() {
        assert_eq!(Dest::classify(Path::new("-")).unwrap(), Dest::Stdout);
        let dir = tempfile::tempdir().unwrap();
        let err = Dest::classify(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        let a = dir.path().join("a");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        let err = Dest::classify(&a).unwrap_err().to_string();
        assert!(err.contains("symlinks"), "{err}");
    }

    #[test]
    fn new_files_get_the_umask() {
        // The test process's umask, whatever it is, read the way the kernel reports it.
        let mode = final_mode(None).mode();
        assert_eq!(mode & !0o666, 0, "never executable: {mode:o}");
        assert_eq!(mode, 0o666 & !umask());
        assert_eq!(final_mode(Some(0o604)).mode(), 0o604);
    }
}
