//! Opening a store: migrating an older format first, waiting for the engine's lock when this
//! process has just closed the store, and what is loaded at open (blob log, keyring, pending
//! shreds). sled's database is opened here only to migrate a store of format 1 to 3.

use std::path::{Path, PathBuf};

use super::blobs::BlobLog;
use super::kv::{KeyForm, Kv};
use super::{Store, StoreError, crypt, migrate, tx};

/// How long an open waits for the lock on a store this process has just closed.
const REOPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The sled database of an earlier format's store in `dir`. A lock held by another process is
/// `StoreError::Locked` at once, or after `wait` (for a store this process closed a moment ago).
pub(super) fn open_sled(
    dir: &Path,
    cache_bytes: u64,
    wait: std::time::Duration,
) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    loop {
        let opened = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(1000))
            .open();
        match opened {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(ref io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("lock") =>
            {
                if started.elapsed() < wait {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    continue;
                }
                return Err(StoreError::Locked {
                    path: dir.display().to_string(),
                });
            }
            Err(other) => return Err(StoreError::Sled(other)),
        }
    }
}

impl Store {
    /// Open (or create) the store in `dir`. `cache_bytes` bounds the engine's block cache. Its
    /// directories and blob segments are created private; the engine's own files are private
    /// under the umask the data directory's opening sets ([`super::permissions`]).
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        Self::open_waiting(dir, cache_bytes, std::time::Duration::ZERO)
    }

    /// Open a store this process has just closed: the engine's background threads may hold its
    /// lock for a moment after the last handle is dropped, so a lock is waited for (a few
    /// seconds).
    pub fn reopen(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        Self::open_waiting(dir, cache_bytes, REOPEN_WAIT)
    }

    /// Rewrite the closed store in `dir` compactly (`deskmail compact`): brought to the current
    /// format first, then copied in key order into a fresh engine and swapped in. Refused with
    /// `StoreError::Locked` while a process (the daemon) holds it.
    pub fn compact(dir: &Path, cache_bytes: u64) -> Result<migrate::Compacted, StoreError> {
        if migrate::format_of(dir)?.is_none() {
            return Err(StoreError::Io {
                path: dir.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no store here"),
            });
        }
        // A migration closes the store just before the copy opens it: wait for the lock then
        // (a daemon holding it is refused after the wait).
        let wait = match migrate::upgrade(dir, cache_bytes, std::time::Duration::ZERO)? {
            migrate::Upgraded::Migrated => REOPEN_WAIT,
            migrate::Upgraded::Current => std::time::Duration::ZERO,
        };
        migrate::compact(dir, cache_bytes, wait)
    }

    /// Open (or create) the store in `dir`, waiting up to `wait` for a lock another process
    /// holds (a process that writes waits out a command that only reads for a moment).
    pub fn open_waiting(
        dir: &Path,
        cache_bytes: u64,
        wait: std::time::Duration,
    ) -> Result<Store, StoreError> {
        // A new store is created private and named as the current format; an older one is
        // migrated first (`migrate`), and closed by it just before the open below.
        let wait = match migrate::upgrade(dir, cache_bytes, wait)? {
            migrate::Upgraded::Migrated => REOPEN_WAIT,
            migrate::Upgraded::Current => wait,
        };
        let tree = Kv::open(dir, cache_bytes, wait, KeyForm::IdsInBytes)?;
        let blobs = BlobLog::open(&dir.join("blobs"))?;
        let crypt = crypt::Crypt::open(dir)?;
        // Data keys a crash kept from being shredded after their batch landed.
        tx::replay_shreds(&tree, &crypt)?;
        let anchors = std::env::var_os("DESKMAIL_AUDIT_ANCHORS")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.parent().unwrap_or(dir).join("audit-anchors.log"));
        Ok(Store {
            tree,
            blobs,
            crypt,
            audit_lock: std::sync::Mutex::new(std::time::Instant::now()),
            audit_key: crate::audit::AuditKey::from_env()?,
            anchors,
            write_lock: std::sync::Mutex::new(()),
            dir: dir.to_path_buf(),
        })
    }
}
