//! Whether a plugin file is one only its owner (or root) could have written, checked as ssh
//! checks authorized_keys: the file and every directory above it, after resolving symlinks,
//! and the directories above the link too when the path goes through one.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

const REMEDY: &str =
    "or pass --allow-insecure-plugins (DSM_ALLOW_INSECURE_PLUGINS=1) to use it anyway";
const STICKY: u32 = 0o1000;

/// A plugin is code dsm runs: refuse a file that users other than you and root could have
/// written or replaced: one writable by group or others, owned by another user, or below a
/// directory that is (a directory writable by others is fine with the sticky bit, as /tmp).
pub fn check_permissions(path: &Path) -> Result<(), String> {
    if let Some(chain) = plain_chain(path) {
        // No symlink on the way: the path is its own canonical form, and one lstat per
        // component is the whole check (realpath would readlink each one, then stat it).
        let mut chain = chain.iter();
        if let Some((_, meta)) = chain.next() {
            check_file_meta(path, meta, "")?;
        }
        for (dir, meta) in chain {
            check_dir_meta(dir, meta, "")?;
        }
        return Ok(());
    }
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

/// `path` and every directory above it (nearest first) with their lstat, when `path` is
/// absolute, has no `..` and nothing on it is a symlink; None otherwise (or when any of them
/// cannot be inspected), for the general check to resolve and report.
fn plain_chain(path: &Path) -> Option<Vec<(&Path, Metadata)>> {
    use std::path::Component;
    let plain = path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !plain {
        return None;
    }
    path.ancestors()
        .map(|p| {
            let meta = std::fs::symlink_metadata(p).ok()?;
            (!meta.file_type().is_symlink()).then_some((p, meta))
        })
        .collect()
}

fn check_file(real: &Path, via: &str) -> Result<(), String> {
    let meta = std::fs::metadata(real).map_err(|e| format!("cannot be inspected: {e}"))?;
    check_file_meta(real, &meta, via)
}

fn check_file_meta(real: &Path, meta: &Metadata, via: &str) -> Result<(), String> {
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
    check_dir_meta(dir, &meta, via)
}

fn check_dir_meta(dir: &Path, meta: &Metadata, via: &str) -> Result<(), String> {
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
    fn a_path_through_a_symlink_is_checked_where_it_leads_and_where_the_link_is() {
        let top = tempfile::tempdir().unwrap();
        let real_dir = top.path().join("real");
        let link_dir = top.path().join("links");
        std::fs::create_dir(&real_dir).unwrap();
        std::fs::create_dir(&link_dir).unwrap();
        let f = plugin_in(&real_dir);
        let link = link_dir.join("libdsm_x.so");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(check_permissions(&link).is_ok());
        // Where the link points: the file itself.
        set_mode(&f, 0o777);
        let err = check_permissions(&link).unwrap_err();
        assert!(
            err.contains("resolves to") && err.contains("writable by other users"),
            "{err}"
        );
        set_mode(&f, 0o755);
        // Where the link is: whoever writes there can repoint it.
        set_mode(&link_dir, 0o775);
        let err = check_permissions(&link).unwrap_err();
        assert!(
            err.contains("its group may write") && err.contains("/links,"),
            "{err}"
        );
        // A directory on the way that is a symlink counts the same.
        set_mode(&link_dir, 0o755);
        let dir_link = top.path().join("dirlink");
        std::os::unix::fs::symlink(&real_dir, &dir_link).unwrap();
        assert!(check_permissions(&dir_link.join("libdsm_x.so")).is_ok());
        set_mode(&real_dir, 0o777);
        let err = check_permissions(&dir_link.join("libdsm_x.so")).unwrap_err();
        assert!(
            err.contains("no sticky bit") && err.contains("/real,"),
            "{err}"
        );
        set_mode(&real_dir, 0o755);
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
