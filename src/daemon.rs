//! `deskmail run`: the long-running process. For the embedded default it watches a drop folder
//! (a directory clients upload .eml/mbox files to, e.g. over SFTP): each new file is ingested,
//! then moved to `processed/`, or to `failed/` with a `.reason` file beside it.
//!
//! Shutdown is passed in as a future (SIGTERM/SIGINT in `main`, anything in tests): the loop stops
//! taking new files, finishes the file in hand, and returns.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tracing::{error, info, info_span, warn};

use crate::pipeline::{Pipeline, raw_mail_from_files};

/// Files younger than this may still be being written by an uploader.
const SETTLE: Duration = Duration::from_secs(1);

pub struct DropFolder {
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

/// Run until `shutdown` resolves.
pub async fn run(
    pipeline: Arc<Pipeline>,
    drop: Arc<DropFolder>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    info!(drop = %drop.dir.display(), "Watching the drop folder");
    loop {
        let (p, d) = (Arc::clone(&pipeline), Arc::clone(&drop));
        match tokio::task::spawn_blocking(move || scan_once(&p, &d, SystemTime::now())).await? {
            Ok(o) if o.processed + o.failed > 0 => info!(
                processed = o.processed,
                failed = o.failed,
                "Drop folder scanned"
            ),
            Ok(_) => {}
            Err(e) => error!(error = %format!("{e:#}"), "Drop folder scan failed"),
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(drop.interval) => {}
        }
    }
    info!("Shut down cleanly");
    Ok(())
}

/// Ingest every settled file in the drop folder once. `now` is injected for tests.
pub fn scan_once(
    pipeline: &Pipeline,
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
        let _span = info_span!("drop_file", path = %file.display()).entered();
        let summary = pipeline.ingest(
            raw_mail_from_files(vec![file.clone()], "drop".into()),
            1,
            &|_| {},
        )?;
        // `ingest` flushed the store: the file can now leave the drop folder.
        if summary.rejected > 0 {
            let reasons: Vec<String> = summary
                .rejections
                .iter()
                .map(|r| format!("{}: {}", r.path, r.reason))
                .collect();
            let dest = move_into(&file, &drop.failed())?;
            std::fs::write(
                dest.with_file_name(format!("{}.reason", file_name(&dest))),
                reasons.join("\n") + "\n",
            )?;
            warn!(reasons = %reasons.join("; "), "Moved to failed/");
            outcome.failed += 1;
        } else {
            move_into(&file, &drop.processed())?;
            outcome.processed += 1;
        }
    }
    Ok(outcome)
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
