//! What each mailbox is doing, for `deskmail status` and the logs.
//!
//! The daemon keeps the board in memory and rewrites `DATA/status.json` (write + rename) on
//! every change, so `deskmail status` works from another shell without touching the store,
//! which the store's engine lets only one process open.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::store::Store;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FolderHealth {
    pub connected: bool,
    pub last_sync: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Messages the last search found on the server that are not stored yet.
    #[serde(default)]
    pub lag: u64,
}

/// One mailbox, as `deskmail status` shows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MailboxHealth {
    pub name: String,
    /// Every watched folder has a live connection.
    pub connected: bool,
    /// The oldest of the folders' last completed syncs.
    pub last_sync: Option<DateTime<Utc>>,
    pub messages_stored: u64,
    /// The most recent error, if it was not followed by a successful sync.
    pub last_error: Option<String>,
    pub folders: BTreeMap<String, FolderHealth>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatusReport {
    pub pid: u32,
    pub started_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub rules_version: String,
    /// False when read back from a file whose daemon is gone.
    pub running: bool,
    pub mailboxes: Vec<MailboxHealth>,
    /// The antivirus scanner's counts and last error; None: `[antivirus]` is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub antivirus: Option<crate::antivirus::ScanStats>,
}

pub struct Health {
    board: Mutex<BTreeMap<String, MailboxHealth>>,
    meta: Mutex<StatusReport>,
    file: Option<PathBuf>,
    store: Option<Arc<crate::pipeline::Pipeline>>,
    antivirus: Mutex<Option<Arc<crate::antivirus::Scanner>>>,
}

impl Health {
    /// A board for these (mailbox, folders); writes `file` when given.
    pub fn new(
        mailboxes: &[(String, Vec<String>)],
        file: Option<PathBuf>,
        store: Option<Arc<crate::pipeline::Pipeline>>,
    ) -> Health {
        for (name, folders) in mailboxes {
            for f in folders {
                crate::metrics::source_known(name, f);
            }
        }
        let board = mailboxes
            .iter()
            .map(|(name, folders)| {
                (
                    name.clone(),
                    MailboxHealth {
                        name: name.clone(),
                        folders: folders
                            .iter()
                            .map(|f| (f.clone(), FolderHealth::default()))
                            .collect(),
                        ..MailboxHealth::default()
                    },
                )
            })
            .collect();
        Health {
            board: Mutex::new(board),
            meta: Mutex::new(StatusReport {
                pid: std::process::id(),
                started_at: Some(Utc::now()),
                running: true,
                ..StatusReport::default()
            }),
            file,
            store,
            antivirus: Mutex::new(None),
        }
    }

    /// Report this scanner's counts and last error (the intake's, when `[antivirus]` is on).
    pub fn set_antivirus(&self, scanner: Arc<crate::antivirus::Scanner>) {
        if let Ok(mut a) = self.antivirus.lock() {
            *a = Some(scanner);
        }
        self.write();
    }

    pub fn set_rules_version(&self, v: &str) {
        crate::metrics::rules_version(v);
        if let Ok(mut m) = self.meta.lock() {
            m.rules_version = v.to_string();
        }
        self.write();
    }

    pub fn connected(&self, mailbox: &str, folder: &str) {
        crate::metrics::source_connected(mailbox, folder, true);
        self.update(mailbox, folder, |f| f.connected = true);
    }

    pub fn disconnected(&self, mailbox: &str, folder: &str) {
        crate::metrics::source_connected(mailbox, folder, false);
        self.update(mailbox, folder, |f| f.connected = false);
    }

    pub fn synced(&self, mailbox: &str, folder: &str) {
        let now = Utc::now();
        crate::metrics::source_connected(mailbox, folder, true);
        crate::metrics::source_synced(mailbox, folder, now.timestamp());
        self.update(mailbox, folder, |f| {
            f.connected = true;
            f.last_sync = Some(now);
            f.last_error = None;
        });
    }

    /// Messages on the server not stored yet (IMAP: found by the last search, not committed).
    pub fn lag(&self, mailbox: &str, folder: &str, messages: u64) {
        crate::metrics::source_lag(mailbox, folder, messages);
        self.update(mailbox, folder, |f| f.lag = messages);
    }

    pub fn failed(&self, mailbox: &str, folder: &str, error: &str) {
        crate::metrics::source_connected(mailbox, folder, false);
        crate::metrics::source_error(mailbox, folder);
        self.update(mailbox, folder, |f| {
            f.connected = false;
            f.last_error = Some(error.to_string());
            f.last_error_at = Some(Utc::now());
        });
    }

    fn update(&self, mailbox: &str, folder: &str, f: impl FnOnce(&mut FolderHealth)) {
        if let Ok(mut b) = self.board.lock()
            && let Some(m) = b.get_mut(mailbox)
        {
            f(m.folders.entry(folder.to_string()).or_default());
        }
        self.write();
    }

    /// The current report, with per-mailbox figures rolled up from the folders.
    pub fn report(&self) -> StatusReport {
        let mut report = self.meta.lock().map(|m| m.clone()).unwrap_or_default();
        report.updated_at = Some(Utc::now());
        report.antivirus = self
            .antivirus
            .lock()
            .ok()
            .and_then(|a| a.as_ref().map(|s| s.stats()));
        let board = self.board.lock().map(|b| b.clone()).unwrap_or_default();
        report.mailboxes = board
            .into_values()
            .map(|mut m| {
                m.connected = !m.folders.is_empty() && m.folders.values().all(|f| f.connected);
                m.last_sync = if m.folders.values().all(|f| f.last_sync.is_some()) {
                    m.folders.values().filter_map(|f| f.last_sync).min()
                } else {
                    None
                };
                m.last_error = m
                    .folders
                    .iter()
                    .filter_map(|(name, f)| {
                        Some((
                            f.last_error_at?,
                            format!("{name}: {}", f.last_error.as_ref()?),
                        ))
                    })
                    .max()
                    .map(|(_, e)| e);
                if let Some(p) = &self.store {
                    m.messages_stored = p.store.mailbox_count(&m.name).unwrap_or(0);
                }
                m
            })
            .collect();
        report
    }

    fn write(&self) {
        let Some(path) = &self.file else { return };
        let report = self.report();
        if let Err(e) = write_atomically(path, &report) {
            warn!(error = %e, path = %path.display(), "Cannot write the status file");
        }
    }

    /// Mark the daemon as stopped in the status file.
    pub fn stopped(&self) {
        if let Ok(mut m) = self.meta.lock() {
            m.running = false;
        }
        if let Ok(mut b) = self.board.lock() {
            for m in b.values_mut() {
                for (folder, f) in m.folders.iter_mut() {
                    f.connected = false;
                    crate::metrics::source_connected(&m.name, folder, false);
                }
            }
        }
        self.write();
    }
}

/// Write + rename; the file names mailboxes and their errors: readable by the user alone.
fn write_atomically(path: &Path, report: &StatusReport) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("json.tmp");
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?
        .write_all(&serde_json::to_vec_pretty(report)?)?;
    std::fs::rename(tmp, path)
}

/// `deskmail status`: the daemon's status file; when the daemon is gone, what the store says.
pub fn read_status(data: &Path) -> Result<StatusReport, String> {
    let path = data.join("status.json");
    let mut report: StatusReport = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is not a status file: {e}", path.display()))?,
        Err(_) => StatusReport::default(),
    };
    let alive =
        report.running && report.pid != 0 && Path::new(&format!("/proc/{}", report.pid)).exists();
    if !alive {
        report.running = false;
        for m in &mut report.mailboxes {
            m.connected = false;
            for f in m.folders.values_mut() {
                f.connected = false;
            }
        }
        // No daemon holds the store: read the counts from it directly (opened as every command
        // opens a data directory: the store's engine writes its own files, which must be private
        // too).
        let store_dir = crate::pipeline::DataDir::new(data).store();
        if store_dir.exists()
            && let Ok(store) = Store::open(&store_dir, 8 << 20)
        {
            for m in &mut report.mailboxes {
                m.messages_stored = store.mailbox_count(&m.name).unwrap_or(m.messages_stored);
            }
        }
    }
    Ok(report)
}
