//! What several subcommands share: opening the data directory, asking the daemon when it holds
//! the store, who the caller is, logging, the progress bar.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};

use deskmail::access::Role;
use deskmail::config::Config;
use deskmail::daemon::control::{self, View};
use deskmail::pipeline::DataDir;
use deskmail::rules::{RuleSet, RuleSource};
use deskmail::store::{Store, StoreError};

/// Open an existing store (`create`: or make a new one, e.g. tokens before the first ingest).
pub fn open_store(data: &Path, create: bool) -> Result<Store> {
    let dir = DataDir::new(data).store();
    if !create && !dir.exists() {
        bail!(
            "no store in {} (run `deskmail ingest` first)",
            data.display()
        );
    }
    Store::open(&dir, deskmail::pipeline::STORE_CACHE_BYTES)
        .with_context(|| format!("cannot open the store in {}", data.display()))
}

/// Print what a view renders (from the store, or through the daemon holding it).
pub fn print_view(data: &Path, view: View) -> Result<ExitCode> {
    out!("{}", store_request(data, view, false)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Render a store view (or make a desk change): directly, or through the running daemon that
/// holds the store. `create`: a data directory without a store gets one (an import).
pub fn store_request(data: &Path, view: View, create: bool) -> Result<String> {
    let dir = DataDir::new(data).store();
    if !create && !dir.exists() {
        bail!(
            "no store in {} (run `deskmail ingest` first)",
            data.display()
        );
    }
    match Store::open(&dir, deskmail::pipeline::STORE_CACHE_BYTES) {
        Ok(store) => {
            let index = deskmail::privacy::IndexDir(DataDir::new(data).index());
            Ok(control::render(&store, &index, None, &view)?)
        }
        Err(StoreError::Locked { .. }) => super::ask::daemon(data, &view).unwrap_or_else(|e| {
            Err(anyhow!(
                "cannot reach the daemon at {}: {e} (the store is held by a running deskmail \
                 daemon)",
                control::socket_path(data).display()
            ))
        }),
        Err(e) => Err(e.into()),
    }
}

/// Who runs a local admin command, for the audit log.
pub fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".into())
    )
}

/// Record a local admin command (a person's address is kept only as a pseudonym).
pub fn cli_audit(store: &Store, action: &str, target: &str) -> Result<()> {
    deskmail::admin::record_admin_action(store, &cli_actor(), Role::Admin, action, [target], "ok")?;
    Ok(())
}

/// Load a config; its problems become an error `main` prints as a list and exits 1 on.
pub fn load_config(path: &Path) -> Result<Config> {
    Ok(Config::load(path)?)
}

/// The rules in `dir`, or the built-in rules without one.
pub fn load_rules(dir: Option<&Path>) -> Result<RuleSet> {
    RuleSource::from_option(dir.map(Path::to_path_buf))
        .load()
        .map_err(|e| anyhow!("the rule files have errors:\n{e}"))
}

/// Parse-and-rules workers: one per core.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Print a value as indented JSON.
pub fn print_json_pretty(value: &impl serde::Serialize) -> Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

pub fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} messages  {per_sec}  {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}
