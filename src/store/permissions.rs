//! The data directory belongs to the service's user alone: it holds subjects, addresses and message
//! bodies (the key-value files, the blob log, the index), so any local user who could read it would
//! bypass roles and the audit log.
//!
//! - [`restrict_umask`]: from the first time a data directory is opened ([`open_data_dir`],
//!   called by `DataDir::new`, which every command that touches one goes through), every file
//!   and directory the process creates is 0600 / 0700 whatever umask it was started with. A
//!   umask is the one control that also covers the files the store engine and tantivy create
//!   themselves (tables, journals, segments, lock files), the control socket and the exports.
//!   It is process-wide, so it is set there and not by `Store::open` or the index: a program
//!   (a test) that uses the store in-process and also runs servers keeps its own umask.
//! - [`check_data_dir`]: an existing data directory left open (an older release made it 0755,
//!   its files 0644) is reported entry by entry with path and mode, and the directory itself is
//!   closed (0700), which shuts everyone else out of everything below it without touching the
//!   files; a closed one is not walked.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use nix::sys::stat::{Mode, umask};
use tracing::warn;

/// The permission bits of the group and of others.
const GROUP_OTHER: u32 = 0o077;
/// How many open entries below the directory are named one by one before a count.
const NAMED: usize = 20;

/// Make everything this process creates from now on private to its user (umask 077, kept
/// stricter where the caller's umask already was). Process-wide and idempotent.
pub fn restrict_umask() {
    let private = Mode::S_IRWXG | Mode::S_IRWXO;
    let before = umask(private);
    if !private.contains(before) {
        // The caller also masked owner bits: keep those.
        umask(before | private);
    }
}

/// Opening the data directory `root`: [`restrict_umask`], then [`check_data_dir`] the first
/// time this process opens `root` (a command names its data directory more than once).
pub fn open_data_dir(root: &Path) {
    static CHECKED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    restrict_umask();
    let first = CHECKED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(root.to_path_buf());
    if first {
        check_data_dir(root);
    }
}

/// An entry of a data directory that its group or others may access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEntry {
    pub path: PathBuf,
    /// The permission bits (e.g. 0o755).
    pub mode: u32,
}

/// Open (or create, private: 0600 whatever the umask) a file the store reads and writes in
/// place, such as its keyring or a lock file.
pub(super) fn open_private_rw(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

/// When the existing data directory `root` is open to the group or others: report every entry
/// of it (itself included) that they may access, as a warning with its path and mode, and
/// close `root` to 0700. A closed `root` already shuts everyone else out of what is below it,
/// so it is not walked (every command opens the data directory; a walk is a `stat` per file,
/// and a directory closed once would warn about the same files at every start). A directory
/// that does not exist yet is fine: it will be created private. Symbolic links are not
/// followed. Returns what was found open.
pub fn check_data_dir(root: &Path) -> Vec<OpenEntry> {
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return Vec::new();
    };
    if !meta.is_dir() {
        return Vec::new();
    }
    let root_mode = meta.permissions().mode() & 0o7777;
    if root_mode & GROUP_OTHER == 0 {
        return Vec::new();
    }
    let mut open = vec![OpenEntry {
        path: root.to_path_buf(),
        mode: root_mode,
    }];
    walk(root, &mut open);
    let below: Vec<&OpenEntry> = open.iter().filter(|e| e.path != root).collect();
    for (n, e) in below.iter().enumerate() {
        if n == NAMED {
            warn!(
                data = %root.display(),
                more = below.len() - NAMED,
                "More entries of the data directory are open to other users"
            );
            break;
        }
        warn!(
            path = %e.path.display(),
            mode = %format!("{:04o}", e.mode),
            "An entry of the data directory is open to other users (`chmod -R go= {}` closes it)",
            root.display()
        );
    }
    match std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700)) {
        Ok(()) => warn!(
            path = %root.display(),
            mode = %format!("{root_mode:04o}"),
            "The data directory was open to other users; it is 0700 now"
        ),
        Err(e) => warn!(
            path = %root.display(),
            mode = %format!("{root_mode:04o}"),
            error = %e,
            "The data directory is open to other users and could not be closed \
             (`chmod 700` it as its owner)"
        ),
    }
    open
}

fn walk(dir: &Path, open: &mut Vec<OpenEntry>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & GROUP_OTHER != 0 {
            open.push(OpenEntry {
                path: entry.path(),
                mode,
            });
        }
        if meta.is_dir() {
            walk(&entry.path(), open);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_6_an_open_data_dir_is_reported_and_closed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let set = |p: &Path, mode: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
        };
        std::fs::create_dir_all(root.join("store/blobs")).unwrap();
        std::fs::write(root.join("store/db"), "x").unwrap();
        std::fs::write(root.join("store/blobs/seg-000001.log"), "x").unwrap();
        set(&root, 0o755);
        set(&root.join("store"), 0o750);
        set(&root.join("store/db"), 0o644);
        set(&root.join("store/blobs"), 0o700);
        set(&root.join("store/blobs/seg-000001.log"), 0o600);
        let mut open = check_data_dir(&root);
        open.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(
            open,
            vec![
                OpenEntry {
                    path: root.clone(),
                    mode: 0o755
                },
                OpenEntry {
                    path: root.join("store"),
                    mode: 0o750
                },
                OpenEntry {
                    path: root.join("store/db"),
                    mode: 0o644
                },
            ]
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&root), 0o700);
        // Only the directory itself is changed: it alone already shuts others out.
        assert_eq!(mode(&root.join("store/db")), 0o644);
        // Closed, it is not walked again: the file left 0644 below it is out of others' reach.
        assert!(check_data_dir(&root).is_empty());
        // A closed directory whose entries an older release left open is no finding either.
        let closed = dir.path().join("closed");
        std::fs::create_dir_all(closed.join("store")).unwrap();
        std::fs::write(closed.join("store/db"), "x").unwrap();
        set(&closed.join("store"), 0o755);
        set(&closed.join("store/db"), 0o644);
        set(&closed, 0o700);
        assert!(check_data_dir(&closed).is_empty());
        // A directory that is not there yet is no finding.
        assert!(check_data_dir(&dir.path().join("absent")).is_empty());
    }

    #[test]
    fn finding_6_the_umask_makes_new_files_private() {
        restrict_umask();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("f"), "x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("d")), 0o700);
        assert_eq!(mode(&dir.path().join("f")), 0o600);
    }
}
