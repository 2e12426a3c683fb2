//! The long-running commands: `run` (the daemon), its start-up check `config check`, and
//! `serve` (the JSON API).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use deskmail::daemon::control;
use deskmail::daemon::{Problems, RunSummary};
use deskmail::index::MailIndex;
use deskmail::parse::ParseLimits;
use deskmail::pipeline::{DataDir, Pipeline};

use super::args::{ConfigCommand, RunArgs, ServeArgs};
use super::common::{load_config, load_rules, open_store, workers};

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let mut prepared =
        match deskmail::daemon::preflight(args.config.as_deref(), args.data, args.rules) {
            Ok(p) => p,
            Err(problems) => {
                let summary = format!(
                    "deskmail run: {} problem(s); nothing started",
                    problems.0.len()
                );
                return Ok(refuse(&problems, &summary));
            }
        };
    prepared.ensure_drop_folders(args.drop, args.interval)?;
    // clamd down is no reason not to start: mail waits for it (see `deskmail status`).
    if let Err(e) = deskmail::daemon::check_antivirus(&prepared.config) {
        eprintln!("warning: {e}; messages wait until clamd answers");
    }
    let pipeline = Pipeline::open(
        &DataDir::new(&prepared.data),
        Arc::clone(&prepared.rules),
        ParseLimits::default(),
    )
    .context("cannot open the data directory")?;
    let opts = deskmail::daemon::DaemonOptions {
        prepared,
        once: args.once,
        workers: workers(),
        clock: args.now,
    };
    let summary = block_on(|shutdown| deskmail::daemon::run(Arc::new(pipeline), opts, shutdown))??;
    if args.once {
        report_once(&summary, args.json)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// Every problem on stderr, then `summary`: exit 1, nothing started.
fn refuse(problems: &Problems, summary: &str) -> ExitCode {
    for p in &problems.0 {
        eprintln!("{p}");
    }
    eprintln!("{summary}");
    ExitCode::from(1)
}

/// What `run --once` did (text or JSON); exit 1 if a source failed.
fn report_once(summary: &RunSummary, json: bool) -> Result<ExitCode> {
    if json {
        outln!("{}", serde_json::to_string(summary)?)?;
    } else {
        print_once_summary(summary)?;
    }
    Ok(if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_once_summary(summary: &RunSummary) -> Result<()> {
    let total = summary.stored + summary.duplicates + summary.rejected;
    outln!(
        "stored {}, duplicates {}, rejected {} in {:.2}s ({:.0} msg/s)",
        summary.stored,
        summary.duplicates,
        summary.rejected,
        summary.seconds,
        total as f64 / summary.seconds.max(1e-9)
    )?;
    if let Some(d) = &summary.dunning {
        outln!(
            "queued {} reminders, {} dispute notices",
            d.reminders,
            d.notices
        )?;
    }
    if let Some(s) = &summary.sent {
        outln!(
            "sent {}, failed {}, retrying {}",
            s.sent,
            s.failed,
            s.retrying
        )?;
    }
    for f in &summary.failures {
        eprintln!("failed: {f}");
    }
    Ok(())
}

pub fn config(command: ConfigCommand) -> Result<ExitCode> {
    let ConfigCommand::Check { file, rules } = command;
    check(&file, rules)
}

/// `config check`: what `run` would build from the file, without starting it.
fn check(file: &Path, rules: Option<PathBuf>) -> Result<ExitCode> {
    match deskmail::daemon::preflight(Some(file), None, rules) {
        Ok(prepared) => {
            let antivirus = match deskmail::daemon::check_antivirus(&prepared.config) {
                Ok(Some(version)) => format!(", antivirus: clamd {version}"),
                Ok(None) => String::new(),
                Err(e) => {
                    let summary = format!("1 problem(s) in {}", file.display());
                    return Ok(refuse(&Problems(vec![e]), &summary));
                }
            };
            outln!(
                "{}: OK ({} mailboxes, {} drop folders, {} rules{antivirus})",
                file.display(),
                prepared.config.mailboxes.len(),
                prepared.config.drop_folders.len(),
                prepared.rules.rule_count()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            let summary = format!("{} problem(s) in {}", problems.0.len(), file.display());
            Ok(refuse(&problems, &summary))
        }
    }
}

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    let store = Arc::new(open_store(&args.data.data, false)?);
    // Not read-only: erasure and purge remove documents (no daemon holds the writer, since none
    // holds the store).
    let index = MailIndex::open_or_create(&DataDir::new(&args.data.data).index())
        .context("the search index (run `deskmail reindex` to rebuild it)")?;
    let retention = match &args.config {
        Some(path) => load_config(path)?.retention,
        None => Default::default(),
    };
    let rules = Arc::new(load_rules(args.rules.as_deref())?);
    let index = Arc::new(index);
    // Other commands (show, stats, backup...) reach the store through the control socket.
    let control = (
        control::socket_path(&args.data.data),
        Arc::clone(&store),
        Arc::clone(&index) as Arc<dyn deskmail::privacy::IndexUpdates>,
        Arc::new(control::SearchIndex::of(Arc::clone(&index))),
    );
    let app = deskmail::api::router(deskmail::api::ApiState::new(
        store,
        Arc::clone(&index),
        Some(Arc::new(std::sync::RwLock::new(rules))),
        retention,
        index,
        deskmail::api::GuardSettings {
            failures_allowed: args.auth_failures_per_minute,
            trusted_proxies: args.trusted_proxies,
        },
    ));
    let tls = args
        .tls_cert
        .zip(args.tls_key)
        .map(|(cert, key)| deskmail::api::server::TlsFiles {
            cert,
            key,
            client_ca: args.client_ca,
        });
    block_on(|shutdown| async move {
        let socket = control.0.clone();
        let control = tokio::spawn(control::serve(
            control.0,
            control.1,
            control.2,
            Some(control.3),
        ));
        let served = deskmail::api::server::serve(app, args.listen, tls, shutdown).await;
        control.abort();
        let _ = std::fs::remove_file(socket);
        served
    })??;
    Ok(ExitCode::SUCCESS)
}

/// Runs the future `start` makes on a multi-threaded tokio runtime, handing it the shutdown
/// signal. The signals are listened for before the future starts: polled lazily, a SIGTERM that
/// came while the daemon was still starting (its control socket already up) killed it instead of
/// stopping it.
fn block_on<F: Future>(start: impl FnOnce(Shutdown) -> F) -> Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let shutdown = {
        let _runtime = rt.enter();
        shutdown_signal()
    };
    Ok(rt.block_on(start(shutdown)))
}

/// Resolves on SIGINT or SIGTERM, listened for from when it is made.
type Shutdown = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// Listens for SIGINT and SIGTERM now (inside a runtime) and resolves on the first to come.
fn shutdown_signal() -> Shutdown {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    Box::pin(async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            (Ok(mut one), Err(_)) | (Err(_), Ok(mut one)) => {
                one.recv().await;
            }
            (Err(_), Err(_)) => std::future::pending().await,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A SIGTERM that comes after the shutdown signal is made and before anything awaits it
    /// resolves it. Listened for lazily, the signal's default action ended this test process.
    #[test]
    fn a_sigterm_before_the_shutdown_is_awaited_resolves_it() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let shutdown = {
            let _runtime = rt.enter();
            shutdown_signal()
        };
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let resolved =
            rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), shutdown).await });
        assert!(resolved.is_ok(), "the shutdown did not see the SIGTERM");
    }
}
