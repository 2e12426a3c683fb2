//! `deskmail run`: the long-running process. Every source feeds one [`Intake`] pipeline:
//! - IMAP folders from the config: one supervised task per (mailbox, folder)
//!   ([`crate::source::imap`]);
//! - drop folders: directories clients upload .eml/mbox files to (e.g. over SFTP); each new file
//!   is ingested, then moved to `processed/`, or to `failed/` with a `.reason` file beside it.
//!
//! Beside them: a rules watcher (reload on edit or SIGHUP; a broken edit keeps the last good
//! set), the status file ([`crate::health`]), the control socket ([`control`]), the outbox sender and
//! the dunning tick (every minute: reminders and dispute notices into the outbox).
//!
//! Shutdown is passed in as a future (SIGTERM/SIGINT in `main`, anything in tests): sources stop
//! taking new mail, the batches in hand are committed, the index is committed and the store
//! flushed before `run` returns.

pub mod control;
mod preflight;
pub use preflight::{Prepared, Problems, check_antivirus, preflight};

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio::sync::watch;
use tracing::{Instrument, error, info, info_span, warn};

use crate::config::DaemonSettings;
use crate::health::Health;
use crate::intake::{
    IndexCommits, Intake, IntakeOptions, IntakeSender, IntakeTotals, ItemOutcome, SharedRules,
};
use crate::pipeline::Pipeline;
use crate::rules::RuleSource;
use crate::source::imap::FolderTask;

/// Files younger than this may still be being written by an uploader.
const SETTLE: Duration = Duration::from_secs(1);

pub struct DropFolder {
    /// Recorded as the mailbox of what it ingests.
    pub name: String,
    /// The role recorded with what it ingests (ap@ or ar@ uploads).
    pub role: Option<crate::model::MailboxRole>,
    pub dir: PathBuf,
    pub interval: Duration,
}

impl DropFolder {
    pub fn processed(&self) -> PathBuf {
        self.dir.join("processed")
    }
    pub fn failed(&self) -> PathBuf {
        self.dir.join("failed")
    }
}

/// What one scan of the drop folder did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanOutcome {
    pub processed: usize,
    pub failed: usize,
}

pub struct DaemonOptions {
    /// The config and what was built from it ([`preflight`]).
    pub prepared: Prepared,
    /// Sync every source once, then stop (benchmarks, cron).
    pub once: bool,
    /// Parse + rules threads.
    pub workers: usize,
    /// The time the dunning cadence sees (`run --once --now`, to replay or test a day);
    /// None: the real clock.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
}

/// How often the daemon asks the cadence what is due.
const DUNNING_TICK: Duration = Duration::from_secs(60);

/// What `run` did, for `--once`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub seconds: f64,
    /// Sources that failed (name: error); empty when all went well.
    pub failures: Vec<String>,
    /// With `once`: reminders and notices queued, and what the sender did.
    pub dunning: Option<crate::outbound::dunning::TickReport>,
    pub sent: Option<crate::outbound::send::SendReport>,
}

/// Run until `shutdown` resolves (or, with `once`, until every source synced once).
pub async fn run(
    pipeline: Arc<Pipeline>,
    opts: DaemonOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<RunSummary> {
    let started = Instant::now();
    let Prepared {
        config,
        data,
        rules_source,
        replies,
        dunning,
        transport,
        ..
    } = opts.prepared;
    // SIGHUP (reload the rules) is listened for before anything can signal the daemon, as
    // SIGTERM is by its caller: the control socket appears below, and a SIGHUP sent once it is
    // there must not meet the signal's default action, which ends the process.
    let hup = if opts.once {
        None
    } else {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    };
    let r = start(pipeline, &config, &data, replies, opts.workers).await?;
    let control = tokio::spawn(control::serve(
        control::socket_path(&data),
        Arc::clone(&r.pipeline.store),
        Arc::new(r.intake.sender()),
        Some(Arc::new(control::SearchIndex::at(
            crate::pipeline::DataDir::new(&data).index(),
        ))),
    ));
    let (failures, dunning_report, sent) = if opts.once {
        sync_once(
            &r,
            &config,
            dunning.as_ref(),
            transport.as_ref(),
            opts.clock,
        )
        .await?
    } else {
        let services = Services {
            config: &config,
            data: &data,
            rules_source,
            dunning,
            transport,
            hup,
        };
        serve_until(&r, services, shutdown).await?;
        (Vec::new(), None, None)
    };
    control.abort();
    let Running {
        pipeline,
        intake,
        health,
        ..
    } = r;
    let totals: IntakeTotals = tokio::task::spawn_blocking(move || intake.shutdown()).await?;
    // The audit chain's head as we leave it, pinned outside the store.
    if let Err(e) = pipeline.store.anchor_audit_head() {
        warn!(error = %e, "Cannot anchor the audit log");
    }
    health.stopped();
    let _ = std::fs::remove_file(control::socket_path(&data));
    info!(
        stored = totals.stored,
        duplicates = totals.duplicates,
        rejected = totals.rejected,
        "Shut down cleanly"
    );
    Ok(RunSummary {
        stored: totals.stored,
        duplicates: totals.duplicates,
        rejected: totals.rejected,
        seconds: started.elapsed().as_secs_f64(),
        failures,
        dunning: dunning_report,
        sent,
    })
}

/// What the daemon's tasks share while it runs.
struct Running {
    pipeline: Arc<Pipeline>,
    intake: Intake,
    health: Arc<Health>,
    settings: DaemonSettings,
    drops: Vec<Arc<DropFolder>>,
}

/// The intake (its committer first catches the index up), the status board and the drop
/// folders, before any source is read.
async fn start(
    pipeline: Arc<Pipeline>,
    config: &crate::config::Config,
    data: &std::path::Path,
    replies: Option<Arc<crate::outbound::ReplySettings>>,
    workers: usize,
) -> anyhow::Result<Running> {
    let scanner = antivirus_scanner(config)?;
    let intake = {
        let p = Arc::clone(&pipeline);
        let options = IntakeOptions {
            workers,
            replies,
            index_commits: IndexCommits::Live,
            scanner: scanner.clone(),
        };
        tokio::task::spawn_blocking(move || Intake::start(p, options)).await??
    };
    let mut sources: Vec<(String, Vec<String>)> = config
        .mailboxes
        .iter()
        .map(|m| (m.name.clone(), m.folders.clone()))
        .collect();
    sources.extend(
        config
            .drop_folders
            .iter()
            .map(|d| (d.name.clone(), vec!["drop".to_string()])),
    );
    let health = Arc::new(Health::new(
        &sources,
        Some(data.join("status.json")),
        Some(Arc::clone(&pipeline)),
    ));
    health.set_rules_version(&intake.rules_version());
    if let Some(s) = scanner {
        health.set_antivirus(s);
    }
    let drops = config
        .drop_folders
        .iter()
        .map(|d| {
            Arc::new(DropFolder {
                name: d.name.clone(),
                role: d.role,
                dir: d.path.clone(),
                interval: Duration::from_secs(d.interval_secs.max(1)),
            })
        })
        .collect();
    Ok(Running {
        pipeline,
        intake,
        health,
        settings: config.daemon.clone(),
        drops,
    })
}

/// The scanner `[antivirus]` asks for (None: off). Start-up does not wait for clamd: while it
/// is down, batches are refused and their sources retry, and `status` says why.
pub fn antivirus_scanner(
    config: &crate::config::Config,
) -> anyhow::Result<Option<Arc<crate::antivirus::Scanner>>> {
    let Some(a) = &config.antivirus else {
        return Ok(None);
    };
    let client = a
        .client()
        .map_err(|e| anyhow::anyhow!("[antivirus]: {e}"))?;
    Ok(client.map(|c| Arc::new(crate::antivirus::Scanner::new(c))))
}

/// `run --once`: every source synced once, then one dunning tick at `clock` and one send pass.
/// Returns the sources that failed and what the tick and the sender did.
async fn sync_once(
    r: &Running,
    config: &crate::config::Config,
    dunning: Option<&Arc<crate::outbound::dunning::Dunning>>,
    transport: Option<&crate::outbound::send::Transport>,
    clock: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<OnceOutcome> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut failures = Vec::new();
    let (mut dunning_report, mut sent) = (None, None);
    for m in &config.mailboxes {
        let m = Arc::new(m.clone());
        for folder in &m.folders {
            let task = folder_task(&m, folder, &r.intake, &r.pipeline, &r.health, &r.settings);
            let name = task.key();
            tasks.spawn(async move { task.sync_once().await.map_err(|e| format!("{name}: {e}")) });
        }
    }
    for d in &r.drops {
        let (sender, d, h) = (r.intake.sender(), Arc::clone(d), Arc::clone(&r.health));
        tasks.spawn(async move {
            let r = scan_once(&sender, &d, SystemTime::now() + SETTLE).await;
            match r {
                Ok(_) => {
                    h.synced(&d.name, "drop");
                    Ok(())
                }
                Err(e) => Err(format!("{}: {e:#}", d.name)),
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                error!(error = %e, "Sync failed");
                failures.push(e);
            }
            Err(e) => failures.push(format!("a source task failed: {e}")),
        }
    }
    // What the mail just read changed is in the store: now the cadence, then the outbox.
    if let Some(d) = dunning {
        let (d, store) = (Arc::clone(d), Arc::clone(&r.pipeline.store));
        let now = clock.unwrap_or_else(chrono::Utc::now);
        dunning_report = Some(tokio::task::spawn_blocking(move || d.tick(&store, now)).await??);
    }
    if let Some(t) = transport {
        crate::outbound::send::recover(&r.pipeline.store);
        sent = Some(crate::outbound::send::send_due(&r.pipeline.store, t, None).await);
    }
    Ok((failures, dunning_report, sent))
}

/// The sources that failed, the dunning tick's report and the send pass's, for `run --once`.
type OnceOutcome = (
    Vec<String>,
    Option<crate::outbound::dunning::TickReport>,
    Option<crate::outbound::send::SendReport>,
);

/// What the long-running daemon starts beside its sources.
struct Services<'a> {
    config: &'a crate::config::Config,
    data: &'a std::path::Path,
    rules_source: RuleSource,
    dunning: Option<Arc<crate::outbound::dunning::Dunning>>,
    transport: Option<crate::outbound::send::Transport>,
    /// SIGHUP, listened for since the daemon started (`None`: it could not be).
    hup: Option<tokio::signal::unix::Signal>,
}

/// The long-running daemon: every source, the sender, the dunning tick, the API and metrics
/// listeners and the rules watcher, until `shutdown`; then the tasks stop and are awaited.
async fn serve_until(
    r: &Running,
    services: Services<'_>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let Services {
        config,
        data,
        rules_source,
        dunning,
        transport,
        hup,
    } = services;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for m in &config.mailboxes {
        let m = Arc::new(m.clone());
        for folder in &m.folders {
            let task = folder_task(&m, folder, &r.intake, &r.pipeline, &r.health, &r.settings);
            tasks.spawn(task.run(stop_rx.clone()).map_ok());
        }
    }
    for d in &r.drops {
        let (sender, d, h) = (r.intake.sender(), Arc::clone(d), Arc::clone(&r.health));
        let stop = stop_rx.clone();
        let span = info_span!("drop_folder", name = %d.name);
        tasks.spawn(
            watch_drop_folder(sender, d, h, stop)
                .instrument(span)
                .map_ok(),
        );
    }
    if let Some(transport) = transport {
        let store = Arc::clone(&r.pipeline.store);
        tasks.spawn(crate::outbound::send::run_sender(store, transport, stop_rx.clone()).map_ok());
    }
    if let Some(d) = &dunning {
        let store = Arc::clone(&r.pipeline.store);
        tasks.spawn(run_dunning(Arc::clone(d), store, stop_rx.clone()).map_ok());
    }
    spawn_api(&mut tasks, r, config, data, &stop_rx)?;
    spawn_metrics(&mut tasks, r, config, &stop_rx);
    tasks.spawn(
        watch_rules(
            rules_source.clone(),
            r.intake.rules_handle(),
            Arc::clone(&r.health),
            r.settings.rules_reload_secs,
            stop_rx.clone(),
            hup,
        )
        .map_ok(),
    );
    info!(
        mailboxes = config.mailboxes.len(),
        drop_folders = r.drops.len(),
        "Daemon running"
    );
    shutdown.await;
    info!("Shutting down: finishing the batches in hand");
    let _ = stop_tx.send(true);
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r {
            error!(error = %e, "A source task failed");
        }
    }
    Ok(())
}

/// The API on `[api] listen` (and the retention purge beside it), when configured.
fn spawn_api(
    tasks: &mut tokio::task::JoinSet<Result<(), String>>,
    r: &Running,
    config: &crate::config::Config,
    data: &std::path::Path,
    stop_rx: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    if let Some(api) = &config.api {
        let state = crate::api::ApiState::new(
            Arc::clone(&r.pipeline.store),
            Arc::new(crate::index::MailIndex::open_read_only(
                &crate::pipeline::DataDir::new(data).index(),
            )?),
            Some(r.intake.rules_handle()),
            config.retention.clone(),
            Arc::new(r.intake.sender()),
            crate::api::GuardSettings {
                failures_allowed: api.auth_failures_per_minute,
                trusted_proxies: api.trusted_proxies.clone(),
            },
        );
        let tls = api
            .tls_cert
            .clone()
            .zip(api.tls_key.clone())
            .map(|(cert, key)| crate::api::server::TlsFiles {
                cert,
                key,
                client_ca: api.client_ca.clone(),
            });
        let mut stop = stop_rx.clone();
        let serve = crate::api::server::serve(
            crate::api::router(Arc::clone(&state)),
            api.listen,
            tls,
            async move {
                let _ = stop.changed().await;
            },
        );
        tasks.spawn(
            async move {
                if let Err(e) = serve.await {
                    error!(error = %e, "The API could not start");
                }
            }
            .map_ok(),
        );
        if config.retention.is_set() {
            tasks.spawn(purge_periodically(state, stop_rx.clone()).map_ok());
        }
    }
    Ok(())
}

/// Prometheus metrics on `[metrics] listen`, when configured.
fn spawn_metrics(
    tasks: &mut tokio::task::JoinSet<Result<(), String>>,
    r: &Running,
    config: &crate::config::Config,
    stop_rx: &watch::Receiver<bool>,
) {
    if let Some(m) = &config.metrics {
        let p = Arc::clone(&r.pipeline);
        let app = crate::api::metrics::router(
            Arc::clone(&r.pipeline.store),
            Arc::new(move || p.index.size_on_disk()),
            Some(r.intake.rules_handle()),
        );
        let tls = m
            .tls_cert
            .clone()
            .zip(m.tls_key.clone())
            .map(|(cert, key)| crate::api::server::TlsFiles {
                cert,
                key,
                client_ca: None,
            });
        let mut stop = stop_rx.clone();
        let serve = crate::api::server::serve_as("metrics on", app, m.listen, tls, async move {
            let _ = stop.changed().await;
        });
        tasks.spawn(
            async move {
                if let Err(e) = serve.await {
                    error!(error = %e, "The metrics listener could not start");
                }
            }
            .map_ok(),
        );
    }
}
/// `[dunning]` with its templates, checked; None without a cadence.
/// Ask the cadence what is due now and then (at start, then every minute).
async fn run_dunning(
    d: Arc<crate::outbound::dunning::Dunning>,
    store: Arc<crate::store::Store>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (d2, s2) = (Arc::clone(&d), Arc::clone(&store));
        match tokio::task::spawn_blocking(move || d2.tick(&s2, chrono::Utc::now())).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => error!(error = %e, "Dunning tick failed"),
            Err(e) => error!(error = %e, "Dunning tick failed"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(DUNNING_TICK) => {}
        }
    }
}

fn folder_task(
    m: &Arc<crate::config::MailboxConfig>,
    folder: &str,
    intake: &Intake,
    pipeline: &Arc<Pipeline>,
    health: &Arc<Health>,
    settings: &DaemonSettings,
) -> FolderTask {
    FolderTask {
        mailbox: Arc::clone(m),
        folder: folder.to_string(),
        intake: intake.sender(),
        store: Arc::clone(pipeline),
        health: Arc::clone(health),
        settings: settings.clone(),
    }
}

/// Lets unit-returning futures join the same JoinSet as the fallible ones.
trait MapOk: Future<Output = ()> + Sized {
    fn map_ok(self) -> impl Future<Output = Result<(), String>> {
        async move {
            self.await;
            Ok(())
        }
    }
}
impl<F: Future<Output = ()>> MapOk for F {}

async fn watch_drop_folder(
    intake: IntakeSender,
    drop: Arc<DropFolder>,
    health: Arc<Health>,
    mut stop: watch::Receiver<bool>,
) {
    info!(dir = %drop.dir.display(), "Watching the drop folder");
    health.connected(&drop.name, "drop");
    loop {
        match scan_once(&intake, &drop, SystemTime::now()).await {
            Ok(o) => {
                if o.processed + o.failed > 0 {
                    info!(
                        processed = o.processed,
                        failed = o.failed,
                        "Drop folder scanned"
                    );
                }
                health.synced(&drop.name, "drop");
            }
            Err(e) => {
                error!(error = %format!("{e:#}"), "Drop folder scan failed");
                health.failed(&drop.name, "drop", &format!("{e:#}"));
            }
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(drop.interval) => {}
        }
    }
}

/// Ingest every settled file in the drop folder once. `now` is injected for tests.
pub async fn scan_once(
    intake: &IntakeSender,
    drop: &DropFolder,
    now: SystemTime,
) -> anyhow::Result<ScanOutcome> {
    std::fs::create_dir_all(drop.processed())?;
    std::fs::create_dir_all(drop.failed())?;
    let mut outcome = ScanOutcome::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&drop.dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .filter(|p| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|m| now.duration_since(m).unwrap_or_default() >= SETTLE)
        })
        .collect();
    files.sort();
    for file in files {
        let span = info_span!("drop_file", path = %file.display());
        let (path, name, role) = (file.clone(), drop.name.clone(), drop.role);
        let read = tokio::task::spawn_blocking(move || {
            crate::source::files::read_file(&path, &name, role)
        })
        .await?;
        let mails = match read {
            Ok(m) => m,
            Err(e) => {
                fail(&file, drop, &[format!("cannot read: {}", e.source)])?;
                outcome.failed += 1;
                continue;
            }
        };
        let origins: Vec<String> = mails.iter().map(|m| m.origin.clone()).collect();
        let report = intake
            .submit(mails, None, true)
            .await?
            .await
            .map_err(|_| anyhow::anyhow!("the pipeline stopped"))?
            .map_err(|e| anyhow::anyhow!("commit failed, the file stays for the next scan: {e}"))?;
        // The store is flushed: the file can now leave the drop folder.
        let reasons: Vec<String> = report
            .outcomes
            .iter()
            .zip(&origins)
            .filter_map(|(o, origin)| match o {
                ItemOutcome::Rejected(r) => Some(format!("{origin}: {r}")),
                _ => None,
            })
            .collect();
        let _e = span.enter();
        if reasons.is_empty() {
            move_into(&file, &drop.processed())?;
            outcome.processed += 1;
        } else {
            fail(&file, drop, &reasons)?;
            outcome.failed += 1;
        }
    }
    Ok(outcome)
}

fn fail(file: &Path, drop: &DropFolder, reasons: &[String]) -> std::io::Result<()> {
    let dest = move_into(file, &drop.failed())?;
    std::fs::write(
        dest.with_file_name(format!("{}.reason", file_name(&dest))),
        reasons.join("\n") + "\n",
    )?;
    warn!(reasons = %reasons.join("; "), "Moved to failed/");
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Move a file into `dir`, never overwriting: a clash gets a numeric suffix.
fn move_into(file: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    let name = file_name(file);
    let mut dest = dir.join(&name);
    let mut n = 1;
    while dest.exists() {
        dest = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    std::fs::rename(file, &dest)?;
    Ok(dest)
}

/// Dispose of mail past its retention period now and then (`purge_every_hours`, default 24).
async fn purge_periodically(state: Arc<crate::api::ApiState>, mut stop: watch::Receiver<bool>) {
    let hours = u64::from(state.retention.purge_every_hours.unwrap_or(24).max(1));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(hours * 3600)) => {}
        }
        match state.purge_now().await {
            Ok(report) => {
                let _ = state.store.audit(crate::audit::AuditEntry {
                    actor: "deskmail".into(),
                    role: None,
                    action: "retention purge".into(),
                    targets: report.message_ids.iter().map(|m| m.0.clone()).collect(),
                    outcome: format!("{} erased", report.erased),
                });
                let _ = state.store.flush();
                info!(erased = report.erased, "Retention purge done");
            }
            Err(e) => error!(error = %e, "Retention purge failed"),
        }
    }
}

/// Reload the rules when a file changes or on SIGHUP (`hup`, listened for by the caller; None
/// if it could not be). A broken edit is reported with `path:line` and the last good rule set
/// stays active.
async fn watch_rules(
    source: RuleSource,
    rules: SharedRules,
    health: Arc<Health>,
    every_secs: u64,
    mut stop: watch::Receiver<bool>,
    mut hup: Option<tokio::signal::unix::Signal>,
) {
    let mut seen = source.fingerprint();
    loop {
        let hangup = async {
            match hup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => return,
            _ = hangup => {
                info!("SIGHUP: reloading the rules");
                // What is loaded now is the files as they are: the next check compares with it.
                seen = source.fingerprint();
            }
            _ = tokio::time::sleep(Duration::from_secs(every_secs.max(1))) => {
                let now = source.fingerprint();
                if now == seen {
                    continue;
                }
                seen = now;
            }
        }
        let s = source.clone();
        match tokio::task::spawn_blocking(move || s.load()).await {
            Ok(Ok(set)) => {
                let version = set.version().to_string();
                let old = crate::intake::current_rules(&rules).version().to_string();
                if version != old {
                    crate::intake::replace_rules(&rules, Arc::new(set));
                    health.set_rules_version(&version);
                    info!(version = %version, previous = %old, "Rules reloaded");
                }
            }
            Ok(Err(e)) => {
                crate::metrics::rules_reload_failed();
                let old = crate::intake::current_rules(&rules).version().to_string();
                error!(keeping = %old, "The edited rule files have errors; the last good rules stay active:\n{e}");
            }
            Err(e) => {
                crate::metrics::rules_reload_failed();
                error!(error = %e, "Rules reload failed")
            }
        }
    }
}
