//! The store format before encryption at rest (no keyring; records and raw bytes in clear;
//! subjects, Message-IDs and addresses in sled keys) migrated to the sealed one.
//!
//! A migration copies, it never rewrites in place: sled would keep the clear records in its
//! old pages, and the blob log its clear messages. Every record is written into a new store
//! beside the old one (`store.migrating`), sealed under a new data key, names made HMACs, each
//! raw message sealed into a new blob log; then the directories are swapped (`store` →
//! `store.old`, `store.migrating` → `store`) and the old one removed. A crash before the swap
//! leaves the old store as it was (the half-made copy is removed by the next attempt); a crash
//! between the two renames is finished at the next open.

use std::path::{Path, PathBuf};

use super::blobs::{BlobLog, BlobRef};
use super::crypt::{Crypt, KeySource};
use super::tx::{full_key, is_named, is_sealed};
use super::{S_MESSAGES, StoreError, StoredMessage, blob_aad, dec, enc};

/// Records written per sled batch while copying.
const BATCH: usize = 4096;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir.with_file_name(name)
}

/// A store directory from before encryption: sled's files and no keyring.
pub(super) fn is_legacy(dir: &Path) -> bool {
    dir.join("db").exists() && !dir.join("keyring").exists()
}

/// Finish a swap a crash interrupted, and clear what an earlier attempt left.
pub(super) fn recover(dir: &Path) -> Result<(), StoreError> {
    let migrating = sibling(dir, ".migrating");
    let old = sibling(dir, ".old");
    if !dir.exists() && migrating.join("keyring").exists() && old.exists() {
        std::fs::rename(&migrating, dir).map_err(io(dir))?;
    }
    if dir.exists() {
        for leftover in [&migrating, &old] {
            if leftover.exists() {
                std::fs::remove_dir_all(leftover).map_err(io(leftover))?;
            }
        }
    }
    Ok(())
}

/// What a migration did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub records: u64,
    pub sealed: u64,
    pub renamed: u64,
    pub messages: u64,
}

/// Migrate the legacy store in `dir` (closed) to the sealed format.
pub(super) fn migrate(dir: &Path, cache_bytes: u64) -> Result<Migrated, StoreError> {
    let started = std::time::Instant::now();
    let migrating = sibling(dir, ".migrating");
    if migrating.exists() {
        std::fs::remove_dir_all(&migrating).map_err(io(&migrating))?;
    }
    std::fs::create_dir_all(&migrating).map_err(io(&migrating))?;
    // The copy needs about the old store's size (the new one is removed if it does not fit).
    let needed = crate::metrics::dir_size(dir, usize::MAX);
    let reserve = super::space::reserve_bytes();
    if let Some(free) = super::space::free_bytes(&migrating)
        && free < needed.saturating_add(reserve)
    {
        std::fs::remove_dir_all(&migrating).map_err(io(&migrating))?;
        return Err(StoreError::DiskFull {
            path: migrating.display().to_string(),
            free_mb: free >> 20,
            reserve_mb: reserve >> 20,
            needed_mb: needed.div_ceil(1 << 20),
        });
    }
    // The master key stays where it was: the environment's, or the old directory's file.
    let (master, source) = super::crypt::master_key(dir)?;
    let source = match source {
        KeySource::InDirectory(path) => {
            let moved = migrating.join("master.key");
            std::fs::copy(&path, &moved).map_err(io(&moved))?;
            KeySource::InDirectory(moved)
        }
        external => external,
    };
    let crypt = Crypt::open_with(&migrating, &master, source)?;
    let old_db = sled::Config::new()
        .path(dir)
        .cache_capacity(cache_bytes)
        .open()?;
    let old_blobs = BlobLog::open(&dir.join("blobs"))?;
    let new_db = sled::Config::new()
        .path(&migrating)
        .cache_capacity(cache_bytes)
        .open()?;
    let new_blobs = BlobLog::open(&migrating.join("blobs"))?;
    let mut done = Migrated::default();
    let mut names = old_db.tree_names();
    names.sort();
    for name in names {
        let from = old_db.open_tree(&name)?;
        let to = new_db.open_tree(&name)?;
        let ours = name.as_ref() == b"deskmail";
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        for kv in from.iter() {
            let (k, v) = kv?;
            let (k, v) = if ours && k.len() >= 2 {
                copy_record(&crypt, &old_blobs, &new_blobs, &k, &v, &mut done)?
            } else {
                (k.to_vec(), v.to_vec())
            };
            batch.insert(k, v);
            done.records += 1;
            in_batch += 1;
            if in_batch == BATCH {
                new_blobs.sync()?;
                crypt.sync()?;
                to.apply_batch(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
        new_blobs.sync()?;
        crypt.sync()?;
        to.apply_batch(batch)?;
    }
    new_db.flush()?;
    drop((new_db, old_db, new_blobs, old_blobs, crypt));
    let old = sibling(dir, ".old");
    std::fs::rename(dir, &old).map_err(io(dir))?;
    std::fs::rename(&migrating, dir).map_err(io(dir))?;
    if let Some(parent) = dir.parent() {
        std::fs::File::open(parent)
            .and_then(|f| f.sync_all())
            .map_err(io(parent))?;
    }
    std::fs::remove_dir_all(&old).map_err(io(&old))?;
    tracing::info!(
        records = done.records,
        sealed = done.sealed,
        renamed = done.renamed,
        messages = done.messages,
        secs = started.elapsed().as_secs(),
        "Store migrated to the sealed format (records and raw messages encrypted, names hashed)"
    );
    Ok(done)
}

/// One record of the `deskmail` tree as the sealed format keeps it.
fn copy_record(
    crypt: &Crypt,
    old_blobs: &BlobLog,
    new_blobs: &BlobLog,
    k: &[u8],
    v: &[u8],
    done: &mut Migrated,
) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    let space = k[0];
    let k = if is_named(space) {
        done.renamed += 1;
        full_key(crypt, space, &k[2..])
    } else {
        k.to_vec()
    };
    if !is_sealed(space) {
        return Ok((k, v.to_vec()));
    }
    let (slot, _) = crypt.allocate()?;
    let mut plain = v.to_vec();
    if space == S_MESSAGES {
        let mut record: StoredMessage = dec(v)?;
        // A blob that does not read stops the migration: the old store stays as it was.
        let raw = old_blobs.read(record.raw)?;
        let sealed = crypt.seal(
            slot,
            &blob_aad(&record.message.id),
            &super::blobs::pack(&raw),
        )?;
        record.raw = BlobRef {
            sealed: true,
            ..new_blobs.append(&sealed)?
        };
        done.messages += 1;
        plain = enc(&record)?;
    }
    done.sealed += 1;
    let sealed = super::tx::seal_value(crypt, slot, &k, &plain)?;
    Ok((k, sealed))
}
