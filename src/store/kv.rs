//! The ordered key-value engine under the store: fjall (an LSM tree) in `store/kv/`, one
//! keyspace, `deskmail`, that every key space of the store (`m/`, `t/`, `q/`, ...) shares.
//!
//! Why not sled any more (format 4; docs/PERFORMANCE.md "Scale"): at a million messages sled
//! 0.34 read its whole page table at every open (270 ms and 205 MB for a `deskmail show`), held
//! 200 MiB in the daemon at rest, and its file was 8.4× the records it held. An LSM tree opens
//! in time bounded by its table count, keeps memory to its memtables and block cache, and after
//! compaction holds little more than its records. sled is still read to migrate a store of an
//! earlier format (`migrate`).
//!
//! Durability: a batch is written to fjall's journal and handed to the OS before `apply`
//! returns (a killed process loses nothing applied), fsynced by [`Kv::flush`] and by a
//! background thread at least once a second (as sled's `flush_every_ms` did), so a power cut
//! loses at most the last second of what was not flushed explicitly.
//!
//! Nothing outside `store` sees this type: the store's methods are the seam.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use fjall::config::{BlockSizePolicy, CompressionPolicy};
use fjall::{CompressionType, Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use super::StoreError;
use super::keys::{self, Scan};

/// A key or value read from the engine (cheap to clone, derefs to bytes).
pub(super) type Bytes = fjall::Slice;

/// The engine's directory inside the store directory.
pub(super) const KV_DIR: &str = "kv";
/// The keyspace every record lives in.
const KEYSPACE: &str = "deskmail";
/// How often what was applied is fsynced, at most.
const SYNC_EVERY: Duration = Duration::from_secs(1);
/// Memtable size: what a batch lands in before a table is written. Small enough that memory
/// stays flat; large enough that tables are few.
const MEMTABLE_BYTES: u64 = 16 << 20;
/// Table blocks: 16 KiB, compressed with LZ4 at every level (fjall's default is 4 KiB, and
/// LZ4 from the third level down). A million messages' records take 217 MB of tables so, 235
/// with the defaults (the same records copied both ways; docs/PERFORMANCE.md).
const DATA_BLOCK_BYTES: u32 = 16 << 10;
/// Journals kept at most (fjall's minimum): what an open after a crash may have to replay.
const JOURNALS_BYTES: u64 = 64 << 20;
/// Memtables larger than this are written out when the store is closed.
const REPLAY_BOUND: u64 = 2 << 20;

/// One atomic batch of inserts and removals.
#[derive(Default)]
pub(super) struct KvBatch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl KvBatch {
    pub(super) fn insert(&mut self, k: impl Into<Vec<u8>>, v: impl Into<Vec<u8>>) {
        self.ops.push((k.into(), Some(v.into())));
    }

    pub(super) fn remove(&mut self, k: impl Into<Vec<u8>>) {
        self.ops.push((k.into(), None));
    }

    pub(super) fn len(&self) -> usize {
        self.ops.len()
    }
}

/// How the engine keeps the keys of the per-message and per-thread key spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyForm {
    /// Their ids in bytes ([`keys`]; format 6 on).
    IdsInBytes,
    /// As they are written (formats 4 and 5: ids in hex), for a migration to read.
    AsWritten,
}

/// The store's ordered map: fjall's database and its one keyspace, and the thread that syncs
/// its journal once a second. Keys go in and come out as the store writes them; with
/// [`KeyForm::IdsInBytes`] the engine keeps some of them shorter ([`keys`]).
pub(super) struct Kv {
    db: Database,
    ks: Keyspace,
    form: KeyForm,
    /// Dropped (and the thread joined) before the database, so the lock is released on drop.
    syncer: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl Drop for Kv {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.syncer.take() {
            drop(stop);
            let _ = thread.join();
        }
        // A large memtable is written out as a table on close: the next open replays only
        // a small journal (replaying 16 MB costs about 150 ms, every `deskmail show` would pay).
        if self.db.write_buffer_size() > REPLAY_BOUND
            && let Err(e) = self.ks.rotate_memtable_and_wait()
        {
            tracing::warn!(error = %e, "Cannot write the store's memtable out on close");
        }
        if let Err(e) = self.db.persist(PersistMode::SyncAll) {
            tracing::warn!(error = %e, "Cannot sync the store's journal on close");
        }
    }
}

/// Whether `dir` (a store directory) holds an engine of this kind.
pub(super) fn exists(dir: &Path) -> bool {
    dir.join(KV_DIR).join("version").exists()
}

/// The bytes the engine's files take on disk (its journal is a sparse file of 64 MiB: the
/// blocks written count, not its length).
pub(super) fn disk_bytes(dir: &Path) -> u64 {
    crate::metrics::dir_size(&dir.join(KV_DIR), usize::MAX)
}

/// Another opener holds the engine's lock file in `path` (the lock is released again at once
/// when it is free; no lock file: a new store, nobody holds it).
fn lock_is_held(path: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path.join("lock"))
    else {
        return false;
    };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

impl Kv {
    /// Open (or create) the engine in `dir/kv`, its keys kept in `form`. `cache_bytes` bounds
    /// its block cache. A lock held by another process is `StoreError::Locked` at once, or
    /// after `wait` (for a store this process closed a moment ago).
    pub(super) fn open(
        dir: &Path,
        cache_bytes: u64,
        wait: Duration,
        form: KeyForm,
    ) -> Result<Kv, StoreError> {
        let path = dir.join(KV_DIR);
        let started = std::time::Instant::now();
        let db = loop {
            // fjall retries a held lock twice, 100 ms apart, before it says so: every command
            // run beside the daemon paid 200 ms to learn that it must ask the daemon. The lock
            // is looked at first; fjall's own check stays for a lock taken in between.
            if lock_is_held(&path) {
                if started.elapsed() < wait {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                return Err(StoreError::Locked {
                    path: dir.display().to_string(),
                });
            }
            match Database::builder(&path)
                .cache_size(cache_bytes.max(1 << 20))
                .worker_threads(1)
                .max_journaling_size(JOURNALS_BYTES)
                .open()
            {
                Ok(db) => break db,
                Err(fjall::Error::Locked) if started.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(fjall::Error::Locked) => {
                    return Err(StoreError::Locked {
                        path: dir.display().to_string(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        };
        let ks = db.keyspace(KEYSPACE, || {
            KeyspaceCreateOptions::default()
                .max_memtable_size(MEMTABLE_BYTES)
                .data_block_compression_policy(CompressionPolicy::all(CompressionType::Lz4))
                .data_block_size_policy(BlockSizePolicy::all(DATA_BLOCK_BYTES))
        })?;
        let (stop, stopped) = mpsc::channel::<()>();
        let synced = db.clone();
        let thread = std::thread::Builder::new()
            .name("deskmail-kv-sync".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(SYNC_EVERY) {
                    if let Err(e) = synced.persist(PersistMode::SyncData) {
                        tracing::warn!(error = %e, "Cannot sync the store's journal");
                    }
                }
            })
            .map_err(|source| StoreError::Io {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Kv {
            db,
            ks,
            form,
            syncer: Some((stop, thread)),
        })
    }

    /// The key the engine keeps for `k`; None: no record can have it ([`keys::stored`]).
    fn stored<'k>(&self, k: &'k [u8]) -> Option<std::borrow::Cow<'k, [u8]>> {
        match self.form {
            KeyForm::IdsInBytes => keys::stored(k),
            KeyForm::AsWritten => Some(std::borrow::Cow::Borrowed(k)),
        }
    }

    pub(super) fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<Bytes>, StoreError> {
        match self.stored(k.as_ref()) {
            Some(k) => Ok(self.ks.get(k)?),
            None => Ok(None),
        }
    }

    pub(super) fn contains_key(&self, k: impl AsRef<[u8]>) -> Result<bool, StoreError> {
        match self.stored(k.as_ref()) {
            Some(k) => Ok(self.ks.contains_key(k)?),
            None => Ok(false),
        }
    }

    /// One insert, applied at once (a batch of one).
    pub(super) fn insert(
        &self,
        k: impl Into<Vec<u8>>,
        v: impl Into<Vec<u8>>,
    ) -> Result<(), StoreError> {
        let mut batch = KvBatch::default();
        batch.insert(k, v);
        self.apply_batch(batch)
    }

    /// One removal, applied at once.
    pub(super) fn remove(&self, k: impl Into<Vec<u8>>) -> Result<(), StoreError> {
        let mut batch = KvBatch::default();
        batch.remove(k);
        self.apply_batch(batch)
    }

    /// Apply every change of `batch` atomically: after a crash all of it is there or none.
    pub(super) fn apply_batch(&self, batch: KvBatch) -> Result<(), StoreError> {
        // Handed to the OS (the journal's buffer written out) before this returns: a killed
        // process loses nothing applied; fsync is `flush` and the syncer's.
        let mut out = self.db.batch().durability(Some(PersistMode::Buffer));
        for (k, v) in batch.ops {
            let Some(kept) = self.stored(&k) else {
                // No record has such a key: nothing to remove, and none may be written.
                if v.is_none() {
                    continue;
                }
                return Err(bad_key("not a record key", &k));
            };
            match v {
                Some(v) => out.insert(&self.ks, kept.as_ref(), v),
                None => out.remove(&self.ks, kept.as_ref()),
            }
        }
        Ok(out.commit()?)
    }

    /// Starts writing a large memtable out as a table on the store's worker thread, without
    /// waiting: what closing the store would otherwise do then (see `Drop`), begun while the
    /// caller has other work to wait for (the end of an ingest: the index's last segment).
    /// Nothing changes for durability: the journal holds the records either way.
    pub(super) fn write_out_soon(&self) {
        if self.db.write_buffer_size() > REPLAY_BOUND
            && let Err(e) = self.ks.rotate_memtable()
        {
            tracing::warn!(error = %e, "Cannot start writing the store's memtable out");
        }
    }

    /// Make everything applied so far durable (fsync of the journal).
    pub(super) fn flush(&self) -> Result<(), StoreError> {
        Ok(self.db.persist(PersistMode::SyncAll)?)
    }

    /// Every (key, value) whose key starts with `prefix`, in key order.
    pub(super) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> KvIter {
        let prefix = prefix.as_ref();
        if self.form == KeyForm::AsWritten {
            return self.iter_of(self.ks.prefix(prefix));
        }
        match keys::scan(prefix) {
            Scan::Prefix(p) => self.iter_of(self.ks.prefix(p)),
            Scan::Range(from, to) => self.iter_of(self.ks.range(from..to)),
            Scan::Nothing => KvIter::empty(),
        }
    }

    /// Every (key, value) in `range`, in key order (for key spaces kept as they are written:
    /// the ingest log, the audit log).
    pub(super) fn range<K: AsRef<[u8]>>(&self, range: std::ops::Range<K>) -> KvIter {
        let (start, end) = (range.start.as_ref(), range.end.as_ref());
        match (self.stored(start), self.stored(end)) {
            (Some(start), Some(end)) => self.iter_of(self.ks.range(start..end)),
            _ => KvIter::empty(),
        }
    }

    /// Every (key, value), in key order.
    pub(super) fn iter(&self) -> KvIter {
        self.iter_of(self.ks.iter())
    }

    /// Every (key as the engine keeps it, value): what the files hold (`deskmail bench store`).
    pub(super) fn iter_kept(&self) -> KvIter {
        KvIter {
            inner: Some(self.ks.iter()),
            restore: false,
        }
    }

    fn iter_of(&self, inner: fjall::Iter) -> KvIter {
        KvIter {
            inner: Some(inner),
            restore: self.form == KeyForm::IdsInBytes,
        }
    }

    pub(super) fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.ks.is_empty()?)
    }
}

impl Kv {
    /// Load records in ascending key order straight into the tables of this empty engine
    /// (fjall's ingestion: no journal, no memtable): `fill` is handed the writer and gives
    /// every record to it, then the tables are written and made the engine's. For a copy
    /// (`compact`, a migration): fjall reads its whole journal at every open, 0.25–0.9 s at a
    /// million messages after a copy through batches; a copy loaded this way leaves none. A key
    /// out of order is an error.
    pub(super) fn load(
        &self,
        fill: impl FnOnce(
            &mut dyn FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
        ) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut ingestion = self.ks.start_ingestion()?;
        let mut last: Option<Vec<u8>> = None;
        fill(&mut |k, v| {
            let kept = self
                .stored(k)
                .ok_or_else(|| bad_key("not a record key", k))?;
            if last.as_deref().is_some_and(|last| last >= kept.as_ref()) {
                return Err(bad_key("a record out of key order", k));
            }
            ingestion.write(kept.as_ref(), v)?;
            last = Some(kept.into_owned());
            Ok(())
        })?;
        Ok(ingestion.finish()?)
    }
}

fn bad_key(what: &str, k: &[u8]) -> StoreError {
    StoreError::Io {
        path: "store".into(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{what}: {}", String::from_utf8_lossy(k)),
        ),
    }
}

/// An iterator of (key, value) pairs in key order.
pub(super) struct KvIter {
    /// None: nothing to scan.
    inner: Option<fjall::Iter>,
    /// Keys come out as the store wrote them ([`keys::logical`]).
    restore: bool,
}

impl Iterator for KvIter {
    type Item = Result<(Bytes, Bytes), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (k, v) = match self.inner.as_mut()?.next()?.into_inner() {
            Ok(kv) => kv,
            Err(e) => return Some(Err(e.into())),
        };
        if !self.restore {
            return Some(Ok((k, v)));
        }
        let k = match keys::logical(&k) {
            std::borrow::Cow::Borrowed(_) => k,
            std::borrow::Cow::Owned(restored) => Bytes::from(restored),
        };
        Some(Ok((k, v)))
    }
}

impl KvIter {
    fn empty() -> KvIter {
        KvIter {
            inner: None,
            restore: false,
        }
    }

    /// The keys alone.
    pub(super) fn keys(self) -> impl Iterator<Item = Result<Bytes, StoreError>> {
        self.map(|kv| kv.map(|(k, _)| k))
    }

    /// The values alone.
    pub(super) fn values(self) -> impl Iterator<Item = Result<Bytes, StoreError>> {
        self.map(|kv| kv.map(|(_, v)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine in `dir`, waiting for a lock this process let go of a moment ago.
    fn opened(dir: &Path, form: KeyForm) -> Kv {
        Kv::open(dir, 1 << 20, Duration::from_secs(5), form).unwrap()
    }

    #[test]
    fn a_batch_is_whole_after_reopen_and_a_second_opener_is_refused_while_it_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let kv = opened(dir.path(), KeyForm::IdsInBytes);
        let mut batch = KvBatch::default();
        for i in 0u32..1000 {
            batch.insert(format!("z/{i:04}"), i.to_be_bytes().to_vec());
        }
        batch.remove("z/0007");
        kv.apply_batch(batch).unwrap();
        kv.insert("q/x", "y").unwrap();
        // One process at a time: a second open waits for the lock, then says who holds it.
        match Kv::open(
            dir.path(),
            1 << 20,
            Duration::from_millis(50),
            KeyForm::IdsInBytes,
        ) {
            Err(StoreError::Locked { path }) => assert_eq!(path, dir.path().display().to_string()),
            other => panic!("expected Locked, got {:?}", other.err()),
        }
        // Without a wait it says so at once: fjall on its own retries for 200 ms, which every
        // command run beside the daemon paid before asking it.
        let asked = std::time::Instant::now();
        assert!(matches!(
            Kv::open(dir.path(), 1 << 20, Duration::ZERO, KeyForm::IdsInBytes),
            Err(StoreError::Locked { .. })
        ));
        assert!(
            asked.elapsed() < Duration::from_millis(150),
            "{:?}",
            asked.elapsed()
        );
        drop(kv);
        assert!(exists(dir.path()));
        let kv = opened(dir.path(), KeyForm::IdsInBytes);
        let keys: Vec<Bytes> = kv.scan_prefix("z/").keys().map(Result::unwrap).collect();
        assert_eq!(keys.len(), 999);
        assert_eq!(&*keys[0], b"z/0000");
        assert!(!kv.contains_key("z/0007").unwrap());
        assert_eq!(&*kv.get("z/0999").unwrap().unwrap(), &999u32.to_be_bytes());
        let range: Vec<Bytes> = kv
            .range(b"z/0010".as_slice()..b"z/0013".as_slice())
            .values()
            .map(Result::unwrap)
            .collect();
        assert_eq!(range.len(), 3);
        assert_eq!(kv.iter().count(), 1000);
        assert!(disk_bytes(dir.path()) > 0);
    }

    #[test]
    fn ids_are_kept_in_bytes_and_every_read_gives_the_keys_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let kv = opened(dir.path(), KeyForm::IdsInBytes);
        let mut ids: Vec<String> = (0u64..64)
            .map(|i| format!("{:032x}", u128::from(i) * 0x0123_4567_89ab_cdef_0011))
            .collect();
        // Ids at the top of the range: a scan by `f` or `fff` ends at the next key space.
        ids.extend(["f".repeat(32), format!("{}0", "f".repeat(31))]);
        let mut batch = KvBatch::default();
        for id in &ids {
            batch.insert(format!("m/{id}"), id.as_bytes().to_vec());
        }
        batch.insert("c/seq", vec![1]);
        batch.insert("n/after", vec![2]);
        kv.apply_batch(batch).unwrap();
        let first = format!("m/{}", ids[9]);
        assert_eq!(&*kv.get(&first).unwrap().unwrap(), ids[9].as_bytes());
        assert!(kv.contains_key(&first).unwrap());
        // A name that is not an id is looked for nowhere and cannot be written.
        assert!(kv.get("m/not-an-id").unwrap().is_none());
        assert!(kv.scan_prefix("m/zz").next().is_none());
        assert!(kv.insert("m/not-an-id", "x").is_err());
        kv.remove("m/not-an-id").unwrap();
        // Scans by a prefix of the hex id, odd or even, give the keys as they were written.
        let prefixes = [1, 2, 3, 7, 32]
            .map(|digits| ids[9][..digits].to_string())
            .into_iter()
            .chain(["f", "fff", "ffffffffffffffffffffffffffffffff"].map(String::from));
        for prefix in prefixes {
            let prefix = format!("m/{prefix}");
            let found: Vec<String> = kv
                .scan_prefix(&prefix)
                .keys()
                .map(|k| String::from_utf8(k.unwrap().to_vec()).unwrap())
                .collect();
            let mut expected: Vec<String> = ids
                .iter()
                .map(|id| format!("m/{id}"))
                .filter(|k| k.starts_with(&prefix))
                .collect();
            expected.sort();
            assert!(!expected.is_empty());
            assert_eq!(found, expected, "{prefix}");
        }
        let all: Vec<Bytes> = kv.iter().keys().map(Result::unwrap).collect();
        assert_eq!(all.len(), 68);
        assert_eq!(&*all[0], b"c/seq");
        assert_eq!(&*all[1], format!("m/{}", ids[0]).as_bytes());
        let kept: Vec<Bytes> = kv.iter_kept().keys().map(Result::unwrap).collect();
        assert_eq!(kept[1].len(), 2 + 16);
        drop(kv);
        // What the files hold, read as written: the short keys.
        let raw = opened(dir.path(), KeyForm::AsWritten);
        assert!(raw.get(&first).unwrap().is_none());
        assert_eq!(
            raw.scan_prefix("m/").keys().next().unwrap().unwrap().len(),
            18
        );
    }

    #[test]
    fn records_loaded_in_key_order_are_in_tables_with_no_journal_and_disorder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let kv = opened(dir.path(), KeyForm::IdsInBytes);
        let ids: Vec<String> = (0u64..20_000).map(|i| format!("{i:032x}")).collect();
        kv.load(|write| {
            write(b"c/seq", &[1])?;
            for id in &ids {
                write(format!("m/{id}").as_bytes(), &[7u8; 60])?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(
            &*kv.get(format!("m/{}", ids[4_321])).unwrap().unwrap(),
            &[7u8; 60]
        );
        assert_eq!(kv.scan_prefix("m/").count(), 20_000);
        drop(kv);
        let journals: u64 = std::fs::read_dir(dir.path().join(KV_DIR))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "jnl"))
            .map(|p| {
                use std::os::unix::fs::MetadataExt;
                let m = std::fs::metadata(p).unwrap();
                m.len().min(m.blocks() * 512)
            })
            .sum();
        assert!(journals < 64 << 10, "{journals} bytes of journal");
        let kv = opened(dir.path(), KeyForm::IdsInBytes);
        assert_eq!(kv.scan_prefix("m/").count(), 20_000);
        // Out of order (as the engine keeps the keys), or not a record key: refused.
        let other = tempfile::tempdir().unwrap();
        let kv = opened(other.path(), KeyForm::IdsInBytes);
        let err = kv
            .load(|write| {
                write(format!("m/{}", ids[2]).as_bytes(), b"x")?;
                write(format!("m/{}", ids[1]).as_bytes(), b"x")
            })
            .unwrap_err();
        assert!(err.to_string().contains("out of key order"), "{err}");
        let other = tempfile::tempdir().unwrap();
        let kv = opened(other.path(), KeyForm::IdsInBytes);
        assert!(kv.load(|write| write(b"m/not-an-id", b"x")).is_err());
    }

    /// Set in the child process of the test below: the store directory it writes to.
    const CHILD_DIR: &str = "DESKMAIL_KV_TEST_CHILD_DIR";

    #[test]
    fn a_batch_applied_is_there_after_the_process_dies_before_any_sync() {
        if let Some(dir) = std::env::var_os(CHILD_DIR) {
            let kv = opened(Path::new(&dir), KeyForm::IdsInBytes);
            let mut batch = KvBatch::default();
            for i in 0u32..3 {
                batch.insert(format!("k/{i:03}"), vec![7u8; 100]);
            }
            kv.apply_batch(batch).unwrap();
            // No drop, no sync (the syncer's first tick is a second away): what the OS was
            // handed is all the next open finds, as after `kill -9`.
            std::process::abort();
        }
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::kv::tests::a_batch_applied_is_there_after_the_process_dies_before_any_sync",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "the child aborts");
        let kv = opened(dir.path(), KeyForm::IdsInBytes);
        assert_eq!(kv.scan_prefix("k/").count(), 3);
    }

    /// A store whose memtable holds 20,000 records `z/…` (about 4 MB), more than a close
    /// leaves to replay.
    fn with_a_large_memtable(dir: &Path) -> Kv {
        let kv = opened(dir, KeyForm::IdsInBytes);
        let mut batch = KvBatch::default();
        for i in 0u32..20_000 {
            batch.insert(format!("z/{i:06}"), vec![7u8; 200]);
        }
        kv.apply_batch(batch).unwrap();
        kv
    }

    #[test]
    fn a_memtable_written_out_early_is_a_table_by_close_and_every_record_stays() {
        let dir = tempfile::tempdir().unwrap();
        let kv = with_a_large_memtable(dir.path());
        kv.write_out_soon();
        // Written after the rotation: in the new memtable, not lost with the old one.
        kv.insert(b"z/after".to_vec(), b"1".to_vec()).unwrap();
        let started = std::time::Instant::now();
        while kv.db.write_buffer_size() > REPLAY_BOUND {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never written out"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(kv);
        let kv = opened(dir.path(), KeyForm::IdsInBytes);
        assert!(kv.db.write_buffer_size() < REPLAY_BOUND);
        assert_eq!(kv.scan_prefix("z/").count(), 20_001);
    }

    #[test]
    fn a_memtable_written_out_on_close_leaves_little_to_replay() {
        let dir = tempfile::tempdir().unwrap();
        let kv = with_a_large_memtable(dir.path());
        assert!(kv.db.write_buffer_size() > REPLAY_BOUND);
        drop(kv);
        let kv = opened(dir.path(), KeyForm::IdsInBytes);
        assert!(
            kv.db.write_buffer_size() < REPLAY_BOUND,
            "{}",
            kv.db.write_buffer_size()
        );
        assert_eq!(kv.scan_prefix("z/").count(), 20_000);
    }
}
