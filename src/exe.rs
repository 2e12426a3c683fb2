//! deskmail's two executables, installed side by side: `deskmail`, the command people type,
//! a front that answers a search itself (with the index and the daemon's control socket, no
//! more; also `show`, `thread` and `stats` when a daemon holds the store), and
//! `deskmail-engine`, every subcommand, which the front runs for all the rest.
//!
//! Why two: a process's start costs in proportion to what its executable links. The whole
//! command line (mail servers, TLS, PDFs, the store, the rules) cost a search ~1.5 ms before
//! `main` (the dynamic loader's relocations: ~850 page faults against ~340), a fifth of a word
//! search through the daemon at a million messages (docs/PERFORMANCE.md, "A front for
//! searches"). `git` and `cargo` run
//! their subcommands the same way.

use std::path::PathBuf;

/// The command people type.
pub const FRONT: &str = "deskmail";
/// Every subcommand; the front runs it with its own arguments.
pub const ENGINE: &str = "deskmail-engine";

/// `name` in the directory of the running executable (both are installed there), if it is there.
pub fn beside_this(name: &str) -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.with_file_name(name);
    path.is_file().then_some(path)
}

/// The environment variable glibc reads its tunables from, once, when a process starts.
pub const TUNABLES_VAR: &str = "GLIBC_TUNABLES";

/// glibc's malloc with fixed thresholds for the engine's long-running commands: blocks of
/// 256 KiB and more are mapped on their own and handed back when freed, and the free top of a
/// heap is handed back past 1 MiB. By default glibc raises both thresholds after each large
/// block it frees (up to 32 and 64 MiB), and from then on keeps what a merge's buffers, a
/// table's filter or a finished segment's pages freed. A 100,000-message slice into a
/// million-message store: largest anonymous memory 317–369 → 273–290 MiB with 1 MiB / 4 MiB
/// (docs/PERFORMANCE.md, "glibc's thresholds; fewer messages and documents waiting"); a million
/// in one ingest, with the index's merges in two tiers, 256 KiB / 1 MiB took its peak under
/// 300 MiB at the same rate ("Two merge tiers and lower malloc thresholds").
pub const MALLOC_TUNABLES: &str =
    "glibc.malloc.mmap_threshold=262144:glibc.malloc.trim_threshold=1048576";

/// What [`TUNABLES_VAR`] must become for [`MALLOC_TUNABLES`] to apply, given its value now;
/// `None` when it needs no change: the settings are there, or whoever started the process chose
/// malloc thresholds of their own.
pub fn tunables_with_malloc(current: Option<&std::ffi::OsStr>) -> Option<std::ffi::OsString> {
    let Some(current) = current.filter(|c| !c.is_empty()) else {
        return Some(MALLOC_TUNABLES.into());
    };
    let chosen = current.to_string_lossy();
    let has = |name: &str| chosen.split(':').any(|t| t.split('=').next() == Some(name));
    if has("glibc.malloc.mmap_threshold") || has("glibc.malloc.trim_threshold") {
        return None;
    }
    let mut with = current.to_os_string();
    with.push(":");
    with.push(MALLOC_TUNABLES);
    Some(with)
}

/// Gives `command` (the front running the engine) [`MALLOC_TUNABLES`].
pub fn set_malloc_tunables(command: &mut std::process::Command) {
    if let Some(value) = tunables_with_malloc(std::env::var_os(TUNABLES_VAR).as_deref()) {
        command.env(TUNABLES_VAR, value);
    }
}

/// Runs this executable again, in this process and with the same arguments, when its
/// environment lacks [`MALLOC_TUNABLES`] (glibc reads them only at a start): for the engine's
/// long-running commands started without the front (a service unit, a script). Returns when
/// they are there already, or when the executable cannot be run again (it then goes on with
/// glibc's defaults).
pub fn rerun_with_malloc_tunables() {
    use std::os::unix::process::CommandExt;
    let Some(value) = tunables_with_malloc(std::env::var_os(TUNABLES_VAR).as_deref()) else {
        return;
    };
    let Ok(this) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(this);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    command.args(args).env(TUNABLES_VAR, value);
    // Returns only on failure; the command runs on as it is.
    let _ = command.exec();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn malloc_tunables_are_added_to_what_is_there_and_never_replace_a_choice() {
        assert_eq!(
            tunables_with_malloc(None).as_deref(),
            Some(OsStr::new(MALLOC_TUNABLES))
        );
        assert_eq!(
            tunables_with_malloc(Some(OsStr::new(""))).as_deref(),
            Some(OsStr::new(MALLOC_TUNABLES))
        );
        assert_eq!(
            tunables_with_malloc(Some(OsStr::new("glibc.malloc.arena_max=2"))),
            Some(format!("glibc.malloc.arena_max=2:{MALLOC_TUNABLES}").into())
        );
        // Ours already there (the front ran the engine), or thresholds someone chose: unchanged.
        assert_eq!(
            tunables_with_malloc(Some(OsStr::new(MALLOC_TUNABLES))),
            None
        );
        assert_eq!(
            tunables_with_malloc(Some(OsStr::new(
                "glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=0"
            ))),
            None
        );
        // A name that merely starts like one of ours is not ours.
        assert!(
            tunables_with_malloc(Some(OsStr::new("glibc.malloc.mmap_threshold_x=1"))).is_some()
        );
    }
}
