//! Asking the daemon that holds a data directory's store (`deskmail run`, or `deskmail serve`)
//! to render a view over its control socket: the engine does when it finds the store locked,
//! the `deskmail` front as soon as a daemon listens (src/front.rs).

use std::path::Path;

use anyhow::{Result, anyhow};

use deskmail::daemon::control::{self, View};

/// The daemon's rendering of `view` (or the error it answered), once its socket in `data`
/// accepted the connection; the outer error: no daemon listens there.
pub fn daemon(data: &Path, view: &View) -> std::io::Result<Result<String>> {
    let stream = control::connect(&control::socket_path(data))?;
    Ok(control::ask_on(stream, view)
        .map_err(|e| anyhow!("{e} (the store is held by a running deskmail daemon)")))
}
