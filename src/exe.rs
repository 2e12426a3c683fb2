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
