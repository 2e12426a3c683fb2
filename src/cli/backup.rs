//! `backup` and `restore`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use deskmail::daemon::control::View;

use super::common::{cli_actor, store_request};

/// Write the archive: from the store directly, or through the daemon holding it.
pub fn backup(data: &Path, out: &Path) -> Result<ExitCode> {
    let out = std::path::absolute(out)
        .with_context(|| format!("cannot resolve the path {}", out.display()))?;
    let view = View::Backup {
        out,
        actor: cli_actor(),
    };
    out!("{}", store_request(data, view, false)?)?;
    Ok(ExitCode::SUCCESS)
}

pub fn restore(data: &Path, archive: &Path) -> Result<ExitCode> {
    let summary = deskmail::backup::restore(archive, data)?;
    out!("{summary}")?;
    Ok(ExitCode::SUCCESS)
}
