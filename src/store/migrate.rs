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
use std::collections::HashMap;

use super::codec;
use super::kv::{self, KeyForm, Kv, KvBatch};
use super::open::open_sled;
use super::threads::split_members;
use super::tx::{
    KeyValue, full_key, is_named, is_sealed, move_to_blobs, open_value, parse_pointer, pointer,
    renamed_from_hex, slot_of, store_value,
};
use super::{
    S_IDS, S_LOG, S_MEMBERS, S_MESSAGES, S_THREADS, StoreError, StoredMessage, blob_aad, dec, enc,
};

/// Records written per batch while copying.
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

/// The format this release writes. 4: the records of format 3 in fjall (`kv`) instead of sled.
/// 5: a thread's record may say the thread is named after its subject (`codec::thread_value`),
/// which a release of format 4 would read as damaged (format 4's records are format 5's).
/// 6: the ids that start the keys of messages, threads and thread members kept in bytes
/// ([`super::keys`]); a store of format 4 or 5 is copied into that form ([`migrate_by_copy`]).
pub const CURRENT_FORMAT: u32 = 6;
/// The file in the store directory that names its format (formats 1 and 2 had none).
const FORMAT_FILE: &str = "format";

/// The format of the store in `dir`; None when there is no store yet.
pub(super) fn format_of(dir: &Path) -> Result<Option<u32>, StoreError> {
    if !kv::exists(dir) && !dir.join("db").exists() {
        return Ok(None);
    }
    if !dir.join("keyring").exists() {
        return Ok(Some(1));
    }
    let path = dir.join(FORMAT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().map(Some).map_err(|_| StoreError::Io {
            path: path.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a store format number: {:?}", text.trim()),
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some(2)),
        Err(e) => Err(io(&path)(e)),
    }
}

/// Name the current format in `dir` (a new store, or a migrated one before its swap).
pub(super) fn write_format(dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(FORMAT_FILE);
    std::fs::write(&path, format!("{CURRENT_FORMAT}\n")).map_err(io(&path))
}

/// What [`upgrade`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upgraded {
    /// The store is (or was just created) of the current format.
    Current,
    /// An older store was migrated, and closed just now.
    Migrated,
}

/// Bring the store in `dir` (closed; `wait`: for the engine's lock, see `Store::reopen`) to
/// the current format; a newer one is refused.
pub(super) fn upgrade(
    dir: &Path,
    cache_bytes: u64,
    wait: std::time::Duration,
) -> Result<Upgraded, StoreError> {
    recover(dir)?;
    create_private(dir)?;
    let _only_one = upgrade_lock(dir, wait.max(UPGRADE_LOCK_WAIT))?;
    match format_of(dir)? {
        None => {
            // The keys first: a store whose engine files exist without a keyring reads as
            // format 1, and another process opening it then would migrate it (found when a
            // daemon and a `deskmail stats` opened a new data directory at the same moment).
            drop(Crypt::open(dir)?);
            write_format(dir).map(|()| Upgraded::Current)
        }
        Some(1) => migrate(dir, cache_bytes, wait).map(|_| Upgraded::Migrated),
        Some(2) => move_records(dir, cache_bytes, wait).map(|_| Upgraded::Migrated),
        Some(3) => migrate_by_copy(dir, cache_bytes, wait, "records moved from sled to fjall")
            .map(|_| Upgraded::Migrated),
        Some(4 | 5) => migrate_by_copy(dir, cache_bytes, wait, "ids in the keys kept in bytes")
            .map(|_| Upgraded::Migrated),
        Some(CURRENT_FORMAT) => Ok(Upgraded::Current),
        Some(found) => Err(StoreError::NewerFormat {
            path: dir.display().to_string(),
            found,
            supported: CURRENT_FORMAT,
        }),
    }
}

/// How long an open waits for another process's creation or migration of the store before
/// it says the store is locked (creating one takes milliseconds).
const UPGRADE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// The file in the store directory whose lock one process at a time holds to create or migrate.
const UPGRADE_LOCK_FILE: &str = "upgrade.lock";

/// Hold the store directory's upgrade lock, waiting up to `wait` for another process to let
/// it go; released when the file is dropped.
fn upgrade_lock(dir: &Path, wait: std::time::Duration) -> Result<std::fs::File, StoreError> {
    let path = dir.join(UPGRADE_LOCK_FILE);
    let file = super::permissions::open_private_rw(&path).map_err(io(&path))?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: dir.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
        }
    }
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

/// A fresh `store.migrating` beside `dir`, if the disk has room for a copy of `needed` bytes.
fn prepare(dir: &Path, needed: u64) -> Result<PathBuf, StoreError> {
    let migrating = sibling(dir, ".migrating");
    if migrating.exists() {
        std::fs::remove_dir_all(&migrating).map_err(io(&migrating))?;
    }
    create_private(&migrating)?;
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
    Ok(migrating)
}

fn create_private(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))
}

/// The tree of a store being copied: sled's `deskmail` tree for a store of format 1 to 3, the
/// engine for a current one (or a restored archive whose records are of an earlier format).
enum Source {
    Sled(sled::Tree),
    Kv(Kv),
}

impl Source {
    fn open(dir: &Path, cache_bytes: u64, wait: std::time::Duration) -> Result<Self, StoreError> {
        if kv::exists(dir) {
            // Formats 4 and 5 kept ids in hex. An engine under a store of format 1 to 3 was
            // written by this release: a restored archive of such a store, whose records are
            // migrated at the next open ([`crate::backup`]).
            let form = match format_of(dir)? {
                Some(4 | 5) => KeyForm::AsWritten,
                _ => KeyForm::IdsInBytes,
            };
            return Ok(Source::Kv(Kv::open(dir, cache_bytes, wait, form)?));
        }
        let db = open_sled(dir, cache_bytes, wait)?;
        Ok(Source::Sled(db.open_tree("deskmail")?))
    }

    /// Every record, in key order.
    fn records(&self) -> Box<dyn Iterator<Item = Result<KeyValue, StoreError>> + '_> {
        match self {
            Source::Sled(tree) => Box::new(tree.iter().map(|kv| {
                let (k, v) = kv?;
                Ok((k.to_vec(), v.to_vec()))
            })),
            Source::Kv(kv) => Box::new(kv.iter().map(|kv| {
                let (k, v) = kv?;
                Ok((k.to_vec(), v.to_vec()))
            })),
        }
    }
}

/// The bytes the store's key-value files take (the engine's, or an earlier format's sled file).
fn engine_bytes(dir: &Path) -> u64 {
    if kv::exists(dir) {
        kv::disk_bytes(dir)
    } else {
        std::fs::metadata(dir.join("db")).map_or(0, |m| m.len())
    }
}

/// Every record of `old` into `new`, each through `convert` and then (with a keyring: every
/// format from 2 on) [`compact_record`]; the blob log and the keyring are synced before what
/// refers to them is written. `in_key_order`: the conversions keep every key and its order (a
/// copy of the engine of format 4 on), so the records are loaded straight into tables
/// ([`Kv::load`]: the copy has no journal to read at every open); otherwise in batches.
fn copy_records(
    old: &Source,
    new: &Kv,
    new_blobs: &BlobLog,
    crypt: Option<&Crypt>,
    in_key_order: bool,
    mut convert: impl FnMut(&[u8], &[u8], &mut Vec<KeyValue>) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let sync = || -> Result<(), StoreError> {
        new_blobs.sync()?;
        if let Some(crypt) = crypt {
            crypt.sync()?;
        }
        Ok(())
    };
    let mut records = 0;
    let mut copy_all = |put: &mut dyn FnMut(Vec<u8>, Vec<u8>) -> Result<(), StoreError>| {
        let (mut out, mut compacted) = (Vec::new(), Vec::new());
        for kv in old.records() {
            let (k, v) = kv?;
            if k.len() >= 2 {
                convert(&k, &v, &mut out)?;
            } else {
                out.push((k, v));
            }
            for (k, v) in out.drain(..) {
                match crypt {
                    Some(crypt) if k.len() >= 2 => {
                        compact_record(crypt, new_blobs, &k, &v, &mut compacted)?
                    }
                    _ => compacted.push((k, v)),
                }
            }
            for (k, v) in compacted.drain(..) {
                put(k, v)?;
            }
            records += 1;
        }
        Ok::<(), StoreError>(())
    };
    if in_key_order && matches!(old, Source::Kv(_)) {
        new.load(|write| {
            copy_all(&mut |k, v| write(&k, &v))?;
            sync()
        })?;
    } else {
        let mut batch = KvBatch::default();
        copy_all(&mut |k, v| {
            batch.insert(k, v);
            if batch.len() >= BATCH {
                sync()?;
                new.apply_batch(std::mem::take(&mut batch))?;
            }
            Ok(())
        })?;
        sync()?;
        new.apply_batch(batch)?;
    }
    new.flush()?;
    Ok(records)
}

/// The finished copy named as the current format and swapped in for the old store.
fn swap_in(dir: &Path, migrating: &Path) -> Result<(), StoreError> {
    write_format(migrating)?;
    let old = sibling(dir, ".old");
    std::fs::rename(dir, &old).map_err(io(dir))?;
    std::fs::rename(migrating, dir).map_err(io(dir))?;
    if let Some(parent) = dir.parent() {
        std::fs::File::open(parent)
            .and_then(|f| f.sync_all())
            .map_err(io(parent))?;
    }
    std::fs::remove_dir_all(&old).map_err(io(&old))
}

/// Migrate the legacy store in `dir` (closed) to the sealed format.
pub(super) fn migrate(
    dir: &Path,
    cache_bytes: u64,
    wait: std::time::Duration,
) -> Result<Migrated, StoreError> {
    let started = std::time::Instant::now();
    // The copy needs about the old store's size (the new one is removed if it does not fit).
    let migrating = prepare(dir, crate::metrics::dir_size(dir, usize::MAX))?;
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
    let old_db = Source::open(dir, cache_bytes, wait)?;
    let old_blobs = BlobLog::open(&dir.join("blobs"))?;
    let new_db = Kv::open(
        &migrating,
        cache_bytes,
        std::time::Duration::ZERO,
        KeyForm::IdsInBytes,
    )?;
    let new_blobs = BlobLog::open(&migrating.join("blobs"))?;
    let mut done = Migrated::default();
    let mut seq_of = HashMap::new();
    done.records = copy_records(
        &old_db,
        &new_db,
        &new_blobs,
        Some(&crypt),
        false,
        |k, v, out| {
            note_seq(k, v, &mut seq_of);
            let copy = Copy {
                crypt: &crypt,
                old_blobs: &old_blobs,
                new_blobs: &new_blobs,
                seq_of: &seq_of,
            };
            copy.record(k, v, &mut done, out)
        },
    )?;
    drop((new_db, old_db, new_blobs, old_blobs, crypt));
    swap_in(dir, &migrating)?;
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

/// Migrate a format-2 store in `dir` (closed): each sealed message record moved as it is into
/// the blob log, sled keeping a pointer; each thread record opened, its members written as
/// `j/` records and the rest sealed again under its own data key; every other record copied
/// as it is (`copy_beside`).
pub(super) fn move_records(
    dir: &Path,
    cache_bytes: u64,
    wait: std::time::Duration,
) -> Result<Migrated, StoreError> {
    let started = std::time::Instant::now();
    let mut done = Migrated::default();
    let mut seq_of = HashMap::new();
    done.records = copy_beside(dir, cache_bytes, wait, false, |crypt, blobs, k, v, out| {
        done.messages += u64::from(from_format_2(crypt, blobs, &mut seq_of, k, v, out)?);
        Ok(())
    })?;
    tracing::info!(
        records = done.records,
        messages = done.messages,
        secs = started.elapsed().as_secs(),
        "Store migrated to format 3 (message records moved to the blob log, thread members split out)"
    );
    Ok(done)
}

/// A record as format 4 keeps it, into `out`: the value of an `i/`, `q/`, `j/` or `t/` record
/// written by an earlier format re-encoded (`codec`), and the key of a named record (`i/ s/ r/
/// v/`) with its name in bytes instead of hex (`tx::renamed_from_hex`); a sealed one among
/// them opened and sealed again under its own data key, bound to its new key. Anything else
/// as it is.
pub(super) fn compact_record(
    crypt: &Crypt,
    blobs: &BlobLog,
    k: &[u8],
    v: &[u8],
    out: &mut Vec<KeyValue>,
) -> Result<(), StoreError> {
    let space = k[0];
    let renamed = renamed_from_hex(k);
    let recoded = matches!(space, S_IDS | S_LOG | S_MEMBERS | S_THREADS);
    if renamed.is_none() && !recoded {
        out.push((k.to_vec(), v.to_vec()));
        return Ok(());
    }
    let new_k = renamed.as_deref().unwrap_or(k);
    let value = match slot_of(v).filter(|_| is_sealed(space)) {
        Some(slot) => {
            let plain = open_value(crypt, blobs, k, v)?;
            let compact = match recoded {
                true => codec::compact_value(space, &plain)?,
                false => None,
            };
            match (compact, new_k == k) {
                (None, true) => None,
                (compact, _) => {
                    let plain = compact.as_deref().unwrap_or(&plain);
                    Some(store_value(crypt, blobs, slot, new_k, plain)?)
                }
            }
        }
        None if recoded => codec::compact_value(space, v)?,
        None => None,
    };
    out.push((new_k.to_vec(), value.unwrap_or_else(|| v.to_vec())));
    Ok(())
}

/// Migrate a store of format 3 to 5 in `dir` (closed) into the current format by the copy
/// `compact` makes (`change` says what it changes, for the log): from format 3, sled's records
/// copied into the engine, the small per-message ones in their binary form
/// ([`compact_record`]); from formats 4 and 5, the engine's records copied into one that keeps
/// the ids in their keys in bytes (the values as they are: a sealed value is bound to its key
/// as the store writes it, which is unchanged).
fn migrate_by_copy(
    dir: &Path,
    cache_bytes: u64,
    wait: std::time::Duration,
    change: &str,
) -> Result<Compacted, StoreError> {
    let started = std::time::Instant::now();
    let copied = compact(dir, cache_bytes, wait)?;
    tracing::info!(
        records = copied.records,
        kv_bytes_before = copied.kv_bytes_before,
        kv_bytes_after = copied.kv_bytes_after,
        secs = started.elapsed().as_secs(),
        "Store migrated to format {CURRENT_FORMAT} ({change})"
    );
    Ok(copied)
}

/// What compacting did: the key-value files before and after, and the records copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Compacted {
    pub records: u64,
    pub kv_bytes_before: u64,
    pub kv_bytes_after: u64,
}

/// Copy the store in `dir` (closed, current format) into a fresh one and swap it in: written
/// once, in key order, its tables hold each record once (no overwritten versions, no removed
/// records), and the old files (with whatever an erasure removed) are gone with them. Values
/// still in an earlier encoding are written in the binary one ([`compact_record`]).
pub(super) fn compact(
    dir: &Path,
    cache_bytes: u64,
    wait: std::time::Duration,
) -> Result<Compacted, StoreError> {
    let kv_bytes_before = engine_bytes(dir);
    // Keys and their order are kept (values only are re-encoded), but sled's (format 3, its
    // names still in hex) are renamed on the way: loaded in key order only from the engine.
    let records = copy_beside(dir, cache_bytes, wait, true, |_, _, k, v, out| {
        out.push((
            k.to_vec(),
            shorter_pointer(k, v).unwrap_or_else(|| v.to_vec()),
        ));
        Ok(())
    })?;
    Ok(Compacted {
        records,
        kv_bytes_before,
        kv_bytes_after: engine_bytes(dir),
    })
}

/// A message record's pointer into the blob log written by an earlier release in its long form
/// (25 bytes), in the short one where its parts fit ([`super::tx::pointer`]); None for any
/// other value, or one already short.
pub(super) fn shorter_pointer(k: &[u8], v: &[u8]) -> Option<Vec<u8>> {
    let (slot, r) = parse_pointer(v).filter(|_| k.first() == Some(&S_MESSAGES))?;
    let short = pointer(slot, r);
    (short.len() < v.len()).then_some(short)
}

/// The store in `dir` (closed) copied into `store.migrating` beside it, every record of the
/// `deskmail` tree through `convert` (with the copy's keyring and blob log), then swapped in.
/// The blob segments are hard-linked into the copy and never written again (what `convert`
/// appends goes to a new segment), the keyring files copied; the copy's engine holds no old
/// versions.
fn copy_beside(
    dir: &Path,
    cache_bytes: u64,
    wait: std::time::Duration,
    in_key_order: bool,
    mut convert: impl FnMut(
        &Crypt,
        &BlobLog,
        &[u8],
        &[u8],
        &mut Vec<KeyValue>,
    ) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let migrating = prepare(dir, engine_bytes(dir))?;
    for name in ["keyring", "keyring.shred", "master.key"] {
        let from = dir.join(name);
        if from.exists() {
            let to = migrating.join(name);
            std::fs::copy(&from, &to).map_err(io(&to))?;
        }
    }
    let last = link_segments(&dir.join("blobs"), &migrating.join("blobs"))?;
    let next = migrating
        .join("blobs")
        .join(format!("seg-{:06}.log", last + 1));
    std::fs::File::create(&next).map_err(io(&next))?;
    let old_db = Source::open(dir, cache_bytes, wait)?;
    let new_db = Kv::open(
        &migrating,
        cache_bytes,
        std::time::Duration::ZERO,
        KeyForm::IdsInBytes,
    )?;
    let new_blobs = BlobLog::open(&migrating.join("blobs"))?;
    let crypt = Crypt::open(&migrating)?;
    let records = copy_records(
        &old_db,
        &new_db,
        &new_blobs,
        Some(&crypt),
        in_key_order,
        |k, v, out| convert(&crypt, &new_blobs, k, v, out),
    )?;
    drop((new_db, old_db, new_blobs, crypt));
    swap_in(dir, &migrating)?;
    Ok(records)
}

/// One record of a format-2 store (or backup archive, in key order) as this format keeps it,
/// into `out`: a sealed message record moved as it is into the blob log (true), sled keeping
/// a pointer; a thread record with its members' ids opened, the ids written as `j/` records,
/// the rest sealed again under the record's own data key; anything else as it is. `seq_of`
/// collects the ingest log as it passes (`q/` sorts before `t/`).
pub(super) fn from_format_2(
    crypt: &Crypt,
    blobs: &BlobLog,
    seq_of: &mut HashMap<Vec<u8>, u64>,
    k: &[u8],
    v: &[u8],
    out: &mut Vec<KeyValue>,
) -> Result<bool, StoreError> {
    note_seq(k, v, seq_of);
    // (A thread record in clear is format 1's: its own migration splits it.)
    if k[0] == S_THREADS
        && let Some(slot) = slot_of(v)
    {
        let plain = open_value(crypt, blobs, k, v)?;
        if let Some((record, members)) = split_members(&plain, seq_of)? {
            out.push((k.to_vec(), store_value(crypt, blobs, slot, k, &record)?));
            out.extend(members);
            return Ok(false);
        }
    }
    match move_to_blobs(blobs, k, v)? {
        Some(pointer) => {
            out.push((k.to_vec(), pointer));
            Ok(true)
        }
        None => {
            out.push((k.to_vec(), v.to_vec()));
            Ok(false)
        }
    }
}

/// Hard links in `to` to every blob segment of `from`; the highest segment number (1 if none).
fn link_segments(from: &Path, to: &Path) -> Result<u32, StoreError> {
    create_private(to)?;
    let mut last = 1;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let name = entry.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_prefix("seg-"))
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        last = last.max(n);
        let target = to.join(&name);
        std::fs::hard_link(entry.path(), &target).map_err(io(&target))?;
    }
    Ok(last)
}

/// The ingest log's entries (`q/<seq>` → message id, in clear in formats 1 and 2) as they pass:
/// the copy numbers each thread's members with them (`q/` sorts before `t/`).
fn note_seq(k: &[u8], v: &[u8], seq_of: &mut HashMap<Vec<u8>, u64>) {
    if k[0] == S_LOG {
        seq_of.insert(v.to_vec(), super::be_u64(&k[2..]));
    }
}

/// What copying a format-1 record needs.
struct Copy<'a> {
    crypt: &'a Crypt,
    old_blobs: &'a BlobLog,
    new_blobs: &'a BlobLog,
    seq_of: &'a HashMap<Vec<u8>, u64>,
}

impl Copy<'_> {
    /// One record of the `deskmail` tree as the current format keeps it (more than one for a
    /// thread record: its members become `j/` records).
    fn record(
        &self,
        k: &[u8],
        v: &[u8],
        done: &mut Migrated,
        out: &mut Vec<KeyValue>,
    ) -> Result<(), StoreError> {
        let (crypt, space) = (self.crypt, k[0]);
        let k = if is_named(space) {
            done.renamed += 1;
            full_key(crypt, space, &k[2..])
        } else {
            k.to_vec()
        };
        if !is_sealed(space) {
            out.push((k, v.to_vec()));
            return Ok(());
        }
        let (slot, _) = crypt.allocate()?;
        let mut plain = v.to_vec();
        if space == S_MESSAGES {
            let mut record: StoredMessage = dec(v)?;
            // A blob that does not read stops the migration: the old store stays as it was.
            let raw = self.old_blobs.read(record.raw)?;
            let sealed = crypt.seal(
                slot,
                &blob_aad(&record.message.id),
                &super::blobs::pack(&raw),
            )?;
            record.raw = BlobRef {
                sealed: true,
                ..self.new_blobs.append(&sealed)?
            };
            done.messages += 1;
            plain = enc(&record)?;
        } else if space == S_THREADS
            && let Some((record, members)) = split_members(v, self.seq_of)?
        {
            plain = record;
            out.extend(members);
        }
        done.sealed += 1;
        let stored = store_value(crypt, self.new_blobs, slot, &k, &plain)?;
        out.push((k, stored));
        Ok(())
    }
}
