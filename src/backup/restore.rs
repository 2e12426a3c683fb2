//! `deskmail restore`: an archive into a new data directory, checked member by member against
//! its manifest, the store loaded, the index rebuilt; built beside the target and renamed into
//! place only when all of that succeeded.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::{
    ANCHORS, BackupError, FORMAT, FORMAT_VERSION, Hashing, KEYRING, MANIFEST, MASTER_KEY, Manifest,
    Member, io,
};
use crate::parse::ParseLimits;
use crate::pipeline::{DataDir, STORE_CACHE_BYTES};
use crate::store::{Stats, Store, StoreError};

/// The largest manifest read (a store has a handful of trees and segments).
const MANIFEST_LIMIT: u64 = 16 << 20;
/// Where tree dumps wait inside the new directory until they are loaded.
const STAGING: &str = ".restore-staging";

/// What a restore made.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreSummary {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub stats: Stats,
    pub indexed: u64,
    pub seconds: f64,
}

impl std::fmt::Display for RestoreSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.manifest.counts;
        let space = |s: &str| c.keys_by_space.get(s).copied().unwrap_or(0);
        writeln!(
            f,
            "restored into {} in {:.2}s (backup of {}, deskmail {})",
            self.path.display(),
            self.seconds,
            self.manifest.created_at.to_rfc3339(),
            self.manifest.deskmail_version
        )?;
        writeln!(
            f,
            "{} messages, {} threads, {} invoices, {} rejected, {} audit records, \
             {} folder cursors, {} outbox records, {} receivables; index rebuilt: {} messages",
            self.stats.messages,
            self.stats.threads,
            self.stats.invoices,
            self.stats.rejected,
            c.audit_records,
            space("u"),
            space("o"),
            space("n"),
            self.indexed
        )?;
        writeln!(f, "{}", super::NOT_INCLUDED)?;
        writeln!(
            f,
            "audit anchors are in {}/{ANCHORS}; check the chain with `deskmail audit verify` \
             and the same audit key",
            self.path.display()
        )
    }
}

/// Restore `archive` into `target`, which must not exist or be empty. The restored store is
/// the backup's state exactly: nothing is added to its audit log (an anchor written then could
/// land in the live store's anchor file when `DESKMAIL_AUDIT_ANCHORS` points there).
pub fn restore(archive: &Path, target: &Path) -> Result<RestoreSummary, BackupError> {
    let started = Instant::now();
    refuse_non_empty(target)?;
    crate::store::permissions::restrict_umask();
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    // Removed with everything in it on any error: nothing half-restored is left.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.restore-"))
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    let manifest = unpack(archive, tmp.path())?;
    let (store, stats) = load_store(archive, tmp.path(), &manifest)?;
    let indexed = crate::intake::rebuild_index_of(
        std::sync::Arc::new(store),
        &DataDir::new(tmp.path()),
        &ParseLimits::default(),
    )?;
    super::sync_dir(tmp.path())?;
    if target.exists() {
        std::fs::remove_dir(target).map_err(io(target))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, target).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        io(target)(e)
    })?;
    super::sync_dir(&parent)?;
    let summary = RestoreSummary {
        path: target.to_path_buf(),
        manifest,
        stats,
        indexed,
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(path = %target.display(), messages = summary.stats.messages, "Restored");
    Ok(summary)
}

fn refuse_non_empty(target: &Path) -> Result<(), BackupError> {
    match std::fs::read_dir(target) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(BackupError::NotEmpty(target.display().to_string())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(target)(e)),
    }
}

/// Where a member goes in the new directory; None for a name a backup never writes.
fn member_path(dir: &Path, name: &str) -> Option<PathBuf> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if name == ANCHORS {
        return Some(dir.join(ANCHORS));
    }
    // The data keys (and the master key when it lived in the data directory): the store's
    // sealed records open with nothing else.
    if name == KEYRING || name == MASTER_KEY {
        return Some(dir.join(name));
    }
    if let Some(n) = name.strip_prefix("store/tree-")?.strip_suffix(".kv")
        && digits(n)
    {
        return Some(dir.join(STAGING).join(format!("tree-{n}.kv")));
    }
    None
}

fn blob_path(dir: &Path, name: &str) -> Option<PathBuf> {
    let n = name.strip_prefix("blobs/seg-")?.strip_suffix(".log")?;
    (n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| dir.join("store/blobs").join(format!("seg-{n}.log")))
}

/// Unpack every member into `dir`, hashing each; the manifest, once every member matched it.
fn unpack(archive: &Path, dir: &Path) -> Result<Manifest, BackupError> {
    let damaged = |why: String| BackupError::Damaged {
        path: archive.display().to_string(),
        why,
    };
    let file = File::open(archive).map_err(io(archive))?;
    let zstd = zstd::Decoder::new(file).map_err(|e| damaged(e.to_string()))?;
    let mut tar = tar::Archive::new(zstd);
    let mut seen: BTreeMap<String, Member> = BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    for entry in tar.entries().map_err(|e| damaged(e.to_string()))? {
        let mut entry = entry.map_err(|e| damaged(e.to_string()))?;
        let name = entry
            .path()
            .map_err(|e| damaged(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if manifest.is_some() {
            return Err(damaged(format!("{name:?} follows the manifest")));
        }
        if name == MANIFEST {
            let mut json = Vec::new();
            (&mut entry)
                .take(MANIFEST_LIMIT)
                .read_to_end(&mut json)
                .map_err(|e| damaged(e.to_string()))?;
            manifest =
                Some(serde_json::from_slice(&json).map_err(|e| damaged(format!("manifest: {e}")))?);
            continue;
        }
        let dest = member_path(dir, &name)
            .or_else(|| blob_path(dir, &name))
            .ok_or_else(|| damaged(format!("unexpected member {name:?}")))?;
        if seen.contains_key(&name) {
            return Err(damaged(format!("{name:?} appears twice")));
        }
        let member = write_member(&mut entry, &name, &dest).map_err(|e| match e {
            BackupError::Io { source, .. } if dest.exists() => damaged(source.to_string()),
            other => other,
        })?;
        seen.insert(name, member);
    }
    // Read to the end of the zstd frame, so its checksum is checked too.
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink())
        .map_err(|e| damaged(e.to_string()))?;
    let manifest =
        manifest.ok_or_else(|| damaged("no manifest (the archive was cut short)".into()))?;
    check_manifest(&manifest, &seen).map_err(damaged)?;
    Ok(manifest)
}

/// Copy one member to `dest` (0600, fsynced), hashing it.
fn write_member(entry: &mut impl Read, name: &str, dest: &Path) -> Result<Member, BackupError> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mut out = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dest)
            .map_err(io(dest))?
    };
    let mut hashing = Hashing::new(entry);
    std::io::copy(&mut hashing, &mut out).map_err(io(dest))?;
    out.sync_all().map_err(io(dest))?;
    use sha2::Digest;
    Ok(Member {
        name: name.to_string(),
        bytes: hashing.bytes,
        sha256: hex::encode(hashing.hasher.finalize()),
    })
}

fn check_manifest(manifest: &Manifest, seen: &BTreeMap<String, Member>) -> Result<(), String> {
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return Err(format!(
            "format {} version {}; this deskmail reads {FORMAT} version {FORMAT_VERSION}",
            manifest.format, manifest.format_version
        ));
    }
    for m in &manifest.members {
        match seen.get(&m.name) {
            None => return Err(format!("member {} is missing", m.name)),
            Some(got) if got.bytes != m.bytes => {
                return Err(format!(
                    "member {} has {} bytes, the manifest says {}",
                    m.name, got.bytes, m.bytes
                ));
            }
            Some(got) if got.sha256 != m.sha256 => {
                return Err(format!("member {} fails its SHA-256 check", m.name));
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = seen
        .keys()
        .find(|n| !manifest.members.iter().any(|m| &m.name == *n))
    {
        return Err(format!("member {extra} is not in the manifest"));
    }
    Ok(())
}

/// Load the tree dumps into a new store in `dir/store` and check its counts against the
/// manifest. The store stays open for the index rebuild.
fn load_store(
    archive: &Path,
    dir: &Path,
    manifest: &Manifest,
) -> Result<(Store, Stats), BackupError> {
    let damaged = |why: String| BackupError::Damaged {
        path: archive.display().to_string(),
        why,
    };
    let store = Store::open(&dir.join("store"), STORE_CACHE_BYTES)?;
    let has_keyring = manifest.members.iter().any(|m| m.name == KEYRING);
    let format = manifest
        .store_format
        .unwrap_or(if has_keyring { 2 } else { 1 });
    if format > crate::store::STORE_FORMAT {
        return Err(StoreError::NewerFormat {
            path: archive.display().to_string(),
            found: format,
            supported: crate::store::STORE_FORMAT,
        }
        .into());
    }
    for t in &manifest.trees {
        let name = hex::decode(&t.name_hex).map_err(|e| damaged(format!("tree name: {e}")))?;
        let path = member_path(dir, &t.member)
            .filter(|_| t.member.starts_with("store/"))
            .ok_or_else(|| damaged(format!("tree member {:?}", t.member)))?;
        let mut dump = File::open(&path).map_err(io(&path))?;
        let keys = store.load_tree(&name, &mut dump, format)?;
        if keys != t.keys {
            return Err(damaged(format!(
                "tree {} has {keys} keys, the manifest says {}",
                t.name, t.keys
            )));
        }
    }
    let staging = dir.join(STAGING);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    let stats = store.stats()?;
    let c = &manifest.counts;
    let head = store.audit_head_seq()?;
    if (
        stats.messages,
        stats.threads,
        stats.invoices,
        stats.rejected,
        head,
    ) != (
        c.messages,
        c.threads,
        c.invoices,
        c.rejected,
        c.audit_records,
    ) {
        return Err(damaged(format!(
            "the restored store's counts {stats:?} (audit {head}) differ from the manifest's"
        )));
    }
    store.flush()?;
    if has_keyring {
        return Ok((store, stats));
    }
    // An archive from before encryption at rest: its records are in the earlier format. The
    // keyring this open made is not theirs; without it the store reads as that format and is
    // migrated on the next open, like a data directory of that release.
    drop(store);
    let store_dir = dir.join("store");
    for made in ["keyring", "keyring.shred", "master.key"] {
        match std::fs::remove_file(store_dir.join(made)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(&store_dir.join(made))(e));
            }
            _ => {}
        }
    }
    Ok((Store::reopen(&store_dir, STORE_CACHE_BYTES)?, stats))
}
