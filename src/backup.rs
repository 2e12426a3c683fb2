//! `deskmail backup` and `deskmail restore`: one archive file with a consistent snapshot of the
//! store (its tree, every key; [`crate::store::snapshot`]), the blob log up to the
//! snapshot's extent and the audit anchors; the search index is not in it (restore rebuilds it
//! from the store, as `deskmail reindex` does).
//!
//! The archive is a tar compressed with zstd (frame checksum on). Members, in order:
//! `store/tree-N.kv` (one per tree: `deskmail`; archives of formats 1 to 3 also have sled's empty
//! default tree), `blobs/seg-NNNNNN.log`, `audit-anchors.log` (when there is one) and last
//! `manifest.json`: format and version, deskmail's version, when, the store's counts, and each
//! member's size and SHA-256. Restore writes into a fresh directory beside the target, checks every
//! member against the manifest, loads the store, rebuilds the index and only then renames it into
//! place: a damaged or cut archive leaves nothing behind.
//!
//! Not in the archive, by design: the audit MAC key (`DESKMAIL_AUDIT_KEY_FILE` / `_COMMAND`),
//! the config, rules and templates, TLS and DKIM keys, mailbox secrets.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::Role;
use crate::store::snapshot::Snapshot;
use crate::store::{Store, StoreError};

mod restore;
pub use restore::{RestoreSummary, restore};

/// What the manifest's `format` says.
pub const FORMAT: &str = "deskmail-backup";
/// The archive layout's version; restore refuses another.
pub const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
const ANCHORS: &str = "audit-anchors.log";
/// The store's data keys (`store::crypt`), wrapped by the master key.
const KEYRING: &str = "store/keyring";
/// The master key, only when it lives in the data directory (no key file or command named):
/// the archive is then as protected as the directory was. An external key is never archived.
const MASTER_KEY: &str = "store/master.key";
/// zstd level: fast, and mail text still shrinks to about a quarter.
const ZSTD_LEVEL: i32 = 3;
/// What a backup never holds; printed with every backup and restore.
pub const NOT_INCLUDED: &str = "not in the archive: the store's master key when it comes from \
     DESKMAIL_STORE_KEY_FILE or _COMMAND (restore needs it), the audit MAC key \
     (DESKMAIL_AUDIT_KEY_FILE or _COMMAND), the config, rules and templates, TLS and DKIM keys, \
     mailbox secrets; the search index is rebuilt on restore";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the archive {path} is damaged or incomplete: {why}")]
    Damaged { path: String, why: String },
    #[error("{0} exists and is not empty: restore only into a new or empty directory")]
    NotEmpty(String),
    #[error("the backup path must be absolute (the daemon writes it): {0}")]
    Relative(String),
    #[error("rebuilding the index: {0}")]
    Index(#[from] crate::intake::CommitError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One archive member as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The store's counts when the snapshot was taken; restore checks them again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub messages: u64,
    pub threads: u64,
    pub invoices: u64,
    pub rejected: u64,
    pub audit_records: u64,
    /// Keys of the `deskmail` tree by key space (`m`, `q`, `u` cursors, `o` outbox, ...).
    pub keys_by_space: BTreeMap<String, u64>,
}

/// A tree of the store in the archive: its name (UTF-8 lossy for reading; `name_hex` is exact).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    pub name: String,
    pub name_hex: String,
    pub member: String,
    pub keys: u64,
}

/// `manifest.json`, the archive's last member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub deskmail_version: String,
    /// The store format of the records in the tree dumps (`store::STORE_FORMAT`); archives
    /// from before it was recorded hold format 2 (with a keyring) or 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_format: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub counts: Counts,
    pub trees: Vec<TreeEntry>,
    pub members: Vec<Member>,
    pub not_included: String,
}

/// What a backup wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub seconds: f64,
    /// How long writers were held off (the snapshot of the trees).
    pub snapshot_seconds: f64,
    pub manifest: Manifest,
}

impl std::fmt::Display for BackupSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.manifest.counts;
        writeln!(
            f,
            "backup written to {} ({} bytes, tar+zstd, format {}) in {:.2}s \
             (writers held off {:.3}s)",
            self.path.display(),
            self.bytes,
            self.manifest.format_version,
            self.seconds,
            self.snapshot_seconds
        )?;
        writeln!(
            f,
            "{} messages, {} threads, {} invoices, {} rejected, {} audit records, {} folder cursors",
            c.messages,
            c.threads,
            c.invoices,
            c.rejected,
            c.audit_records,
            c.keys_by_space.get("u").copied().unwrap_or(0)
        )?;
        writeln!(f, "{NOT_INCLUDED}")
    }
}

/// Back the store up to `out` (absolute) and record it in the audit log as `actor`'s.
pub fn backup_audited(
    store: &Store,
    out: &Path,
    actor: &str,
) -> Result<BackupSummary, BackupError> {
    let summary = write_backup(store, out)?;
    let target = format!(
        "{} ({} messages, {} bytes)",
        out.display(),
        summary.manifest.counts.messages,
        summary.bytes
    );
    crate::admin::record_admin_action(store, actor, Role::Admin, "backup", [target], "ok")?;
    Ok(summary)
}

/// Write a backup of `store` to `out`: through `OUT.tmp`, fsynced, then renamed into place.
pub fn write_backup(store: &Store, out: &Path) -> Result<BackupSummary, BackupError> {
    if !out.is_absolute() {
        return Err(BackupError::Relative(out.display().to_string()));
    }
    let started = Instant::now();
    crate::store::permissions::restrict_umask();
    let parent = out.parent().unwrap_or(Path::new("/"));
    let staging = tempfile::Builder::new()
        .prefix(".deskmail-backup-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let snapshot = store.snapshot(staging.path())?;
    let snapshot_seconds = started.elapsed().as_secs_f64();
    let tmp = tmp_path(out);
    let written = write_archive(&snapshot, &tmp);
    drop(snapshot);
    let manifest = match written {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, out).map_err(io(out))?;
    sync_dir(parent)?;
    let bytes = std::fs::metadata(out).map_err(io(out))?.len();
    let summary = BackupSummary {
        path: out.to_path_buf(),
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        snapshot_seconds,
        manifest,
    };
    tracing::info!(
        path = %out.display(),
        bytes,
        messages = summary.manifest.counts.messages,
        seconds = summary.seconds,
        "Backup written"
    );
    Ok(summary)
}

fn tmp_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    out.with_file_name(name)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// The archive itself: every member, then the manifest; fsynced.
fn write_archive(snapshot: &Snapshot<'_>, tmp: &Path) -> Result<Manifest, BackupError> {
    let created_at = Utc::now();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(io(tmp))?;
    let mut zstd =
        zstd::Encoder::new(BufWriter::with_capacity(1 << 20, file), ZSTD_LEVEL).map_err(io(tmp))?;
    zstd.include_checksum(true).map_err(io(tmp))?;
    let mut tar = tar::Builder::new(zstd);
    let mtime = created_at.timestamp().max(0) as u64;
    let mut members = Vec::new();
    let mut trees = Vec::new();
    for (i, t) in snapshot.trees.iter().enumerate() {
        let member = format!("store/tree-{i}.kv");
        let f = File::open(&t.path).map_err(io(&t.path))?;
        let len = f.metadata().map_err(io(&t.path))?.len();
        members.push(append(&mut tar, &member, f, len, mtime, tmp)?);
        trees.push(TreeEntry {
            name: String::from_utf8_lossy(&t.name).into_owned(),
            name_hex: hex::encode(&t.name),
            member,
            keys: t.keys,
        });
    }
    for s in &snapshot.segments {
        let f = File::open(&s.path).map_err(io(&s.path))?;
        let member = format!("blobs/seg-{:06}.log", s.segment);
        members.push(append(&mut tar, &member, f.take(s.len), s.len, mtime, tmp)?);
    }
    if let Some(anchors) = &snapshot.anchors {
        let len = anchors.len() as u64;
        members.push(append(&mut tar, ANCHORS, &anchors[..], len, mtime, tmp)?);
    }
    let keyring = &snapshot.keyring;
    let len = keyring.len() as u64;
    members.push(append(&mut tar, KEYRING, &keyring[..], len, mtime, tmp)?);
    if let Some(master) = &snapshot.master_key {
        let len = master.len() as u64;
        members.push(append(&mut tar, MASTER_KEY, &master[..], len, mtime, tmp)?);
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        deskmail_version: env!("CARGO_PKG_VERSION").into(),
        store_format: Some(crate::store::STORE_FORMAT),
        created_at,
        counts: Counts {
            messages: snapshot.stats.messages,
            threads: snapshot.stats.threads,
            invoices: snapshot.stats.invoices,
            rejected: snapshot.stats.rejected,
            audit_records: snapshot.audit_head,
            keys_by_space: snapshot.keys_by_space.clone(),
        },
        trees,
        members,
        not_included: NOT_INCLUDED.into(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| io(tmp)(e.into()))?;
    append(&mut tar, MANIFEST, &json[..], json.len() as u64, mtime, tmp)?;
    let zstd = tar.into_inner().map_err(io(tmp))?;
    let buffered = zstd.finish().map_err(io(tmp))?;
    let file = buffered.into_inner().map_err(|e| io(tmp)(e.into_error()))?;
    file.sync_all().map_err(io(tmp))?;
    Ok(manifest)
}

/// Add one member of exactly `len` bytes, hashing it on the way; its manifest entry.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    data: impl Read,
    len: u64,
    mtime: u64,
    archive: &Path,
) -> Result<Member, BackupError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(len);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    let mut hashing = Hashing::new(data);
    tar.append_data(&mut header, name, &mut hashing)
        .map_err(io(archive))?;
    if hashing.bytes != len {
        return Err(io(archive)(std::io::Error::other(format!(
            "{name}: read {} bytes, expected {len} (a file shrank under the backup)",
            hashing.bytes
        ))));
    }
    Ok(Member {
        name: name.to_string(),
        bytes: len,
        sha256: hex::encode(hashing.hasher.finalize()),
    })
}

/// A reader that hashes and counts what passes through it.
pub(crate) struct Hashing<R> {
    inner: R,
    pub(crate) hasher: Sha256,
    pub(crate) bytes: u64,
}

impl<R> Hashing<R> {
    pub(crate) fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
