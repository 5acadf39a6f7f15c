//! Whether a plugin file is one only its owner (or root) could have written, checked as ssh
//! checks authorized_keys: the file and every directory above it, after resolving symlinks,
//! and the directories above the link too when the path goes through one.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

const REMEDY: &str =
    "or pass --allow-insecure-plugins (DSM_ALLOW_INSECURE_PLUGINS=1) to use it anyway";
const STICKY: u32 = 0o1000;

/// A plugin is code dsm runs: refuse a file that users other than you and root could have
/// written or replaced: one writable by group or others, owned by another user, or below a
/// directory that is (a directory writable by others is fine with the sticky bit, as /tmp).
pub fn check_permissions(path: &Path) -> Result<(), String> {
    let real = path
        .canonicalize()
        .map_err(|e| format!("cannot be resolved: {e}"))?;
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let via = if is_link {
        format!("resolves to {}, which ", real.display())
    } else {
        String::new()
    };
    check_file(&real, &via)?;
    for dir in real.ancestors().skip(1) {
        check_dir(dir, &via)?;
    }
    // The directories holding the link matter too: whoever can write there can point it
    // elsewhere.
    let link_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let link_dir = link_dir
        .canonicalize()
        .map_err(|e| format!("cannot be resolved: {e}"))?;
    if Some(link_dir.as_path()) != real.parent() {
        for dir in link_dir.ancestors() {
            check_dir(dir, "")?;
        }
    }
    Ok(())
}

fn check_file(real: &Path, via: &str) -> Result<(), String> {
    let meta = std::fs::metadata(real).map_err(|e| format!("cannot be inspected: {e}"))?;
    let mode = meta.mode();
    if mode & 0o022 != 0 {
        return Err(format!(
            "{via}is writable by other users (mode {:o}), so anyone could replace the code dsm would run; fix it with `chmod go-w {}` {REMEDY}",
            mode & 0o7777,
            real.display()
        ));
    }
    if !trusted_owner(meta.uid()) {
        return Err(format!(
            "{via}is owned by uid {}, neither you nor root, so that user could replace the code dsm would run; fix it with `chown {} {}` {REMEDY}",
            meta.uid(),
            my_uid(),
            real.display()
        ));
    }
    Ok(())
}

fn check_dir(dir: &Path, via: &str) -> Result<(), String> {
    let meta = std::fs::metadata(dir).map_err(|e| {
        format!(
            "{via}lies in {}, which cannot be inspected: {e}",
            dir.display()
        )
    })?;
    let mode = meta.mode();
    if mode & 0o002 != 0 && mode & STICKY == 0 {
        return Err(format!(
            "{via}lies in {}, which anyone may write to (mode {:o}, no sticky bit), so the file could be swapped; move it to a protected directory {REMEDY}",
            dir.display(),
            mode & 0o7777
        ));
    }
    if mode & 0o020 != 0 && mode & STICKY == 0 {
        return Err(format!(
            "{via}lies in {}, which its group may write to (mode {:o}), so the file could be swapped; fix it with `chmod g-w {}` {REMEDY}",
            dir.display(),
            mode & 0o7777,
            dir.display()
        ));
    }
    if !trusted_owner(meta.uid()) {
        return Err(format!(
            "{via}lies in {}, owned by uid {}, neither you nor root, so that user could swap the file; move it to a directory of yours {REMEDY}",
            dir.display(),
            meta.uid()
        ));
    }
    Ok(())
}

fn trusted_owner(uid: u32) -> bool {
    uid == 0 || uid == my_uid()
}

fn my_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn set_mode(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn plugin_in(dir: &Path) -> std::path::PathBuf {
        let f = dir.join("libdsm_x.so");
        std::fs::write(&f, b"x").unwrap();
        set_mode(&f, 0o755);
        f
    }

    #[test]
    fn files_others_can_write_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = plugin_in(dir.path());
        assert!(check_permissions(&f).is_ok());
        for mode in [0o775, 0o757, 0o777] {
            set_mode(&f, mode);
            let err = check_permissions(&f).unwrap_err();
            assert!(
                err.contains("writable by other users") && err.contains("chmod go-w"),
                "{err}"
            );
        }
    }

    #[test]
    fn world_writable_directories_need_the_sticky_bit() {
        let dir = tempfile::tempdir().unwrap();
        let f = plugin_in(dir.path());
        set_mode(dir.path(), 0o777);
        let err = check_permissions(&f).unwrap_err();
        assert!(
            err.contains("no sticky bit") && err.contains("--allow-insecure-plugins"),
            "{err}"
        );
        set_mode(dir.path(), 0o1777);
        assert!(check_permissions(&f).is_ok());
        set_mode(dir.path(), 0o700);
    }

    #[test]
    fn every_directory_above_counts() {
        let top = tempfile::tempdir().unwrap();
        let inner = top.path().join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        let f = plugin_in(&inner);
        set_mode(&top.path().join("a"), 0o775);
        let err = check_permissions(&f).unwrap_err();
        assert!(
            err.contains("its group may write") && err.contains("/a,"),
            "{err}"
        );
        set_mode(&top.path().join("a"), 0o755);
        assert!(check_permissions(&f).is_ok());
    }
}
