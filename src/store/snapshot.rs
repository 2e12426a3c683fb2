//! A consistent snapshot of the store for `deskmail backup`, and loading one into a new store
//! for `deskmail restore`.
//!
//! Consistency: every multi-key change to the tree is one `apply_batch` made under the write
//! lock (commits, erasures, reminders, review decisions: [`Store::begin`]) or under the audit
//! lock (an audit record with its head counter). [`Store::snapshot`] holds both while it dumps
//! the tree, so it sees no batch half-applied: in the daemon, that is between two of the
//! committer's batches. What is left are single-key writes (an outbox record's state, a token,
//! a legal hold), each seen whole or not at all. Under the same locks it notes how long each
//! blob segment is: a batch's blobs are synced before its batch is applied, so every blob the
//! dump refers to lies inside that extent, and appends only ever go past it. Wipes (erasure)
//! are held off from before the dump until the segments are copied ([`Snapshot`] keeps the
//! guard), so no blob the dump refers to is zeroed under the copy.
//!
//! The dump is deskmail's own, not the engine's on-disk format: per tree, records of
//! `u32 BE key length, key, u32 BE value length, value`, in key order. There is one tree,
//! `deskmail`; archives of formats 1 to 3 (sled) also hold sled's empty `__sled__default`.

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::RwLockWriteGuard;

use super::blobs::SegmentExtent;
use super::kv::{Kv, KvBatch};
use super::{Stats, Store, StoreError};

/// One tree written to a dump file.
#[derive(Debug, Clone)]
pub struct TreeDump {
    /// The tree's name (`deskmail`; archives of formats 1 to 3 also have sled's empty
    /// `__sled__default`).
    pub name: Vec<u8>,
    pub path: PathBuf,
    pub keys: u64,
}

/// A snapshot in the making: the trees dumped, the blob extent, the anchors. Wipes stay held
/// off until it is dropped, so copy the segments before dropping it.
pub struct Snapshot<'a> {
    pub trees: Vec<TreeDump>,
    pub segments: Vec<SegmentExtent>,
    /// The audit anchor file's bytes, when there is one.
    pub anchors: Option<Vec<u8>>,
    pub stats: Stats,
    pub audit_head: u64,
    /// Keys of the `deskmail` tree by key space (`m`, `q`, `u`, `a`, ...).
    pub keys_by_space: BTreeMap<String, u64>,
    /// The keyring's bytes (every data key the dump's records are sealed under).
    pub keyring: Vec<u8>,
    /// The master key file's bytes, when the key lives in the data directory.
    pub master_key: Option<Vec<u8>>,
    _wipes: RwLockWriteGuard<'a, ()>,
}

/// The name of the one tree a dump of this format holds.
const TREE: &[u8] = b"deskmail";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Store {
    /// Dump every tree into files in `staging` (which must exist) and note the blob extent
    /// and the anchors, with no batch half-applied (module docs). The write and audit locks
    /// are held only for the dump; the committer goes on as soon as it returns.
    pub fn snapshot(&self, staging: &Path) -> Result<Snapshot<'_>, StoreError> {
        let wipes = self.blobs.exclude_wipes();
        let _writer = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let _audit = self.audit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let started = std::time::Instant::now();
        let path = staging.join("tree-0.kv");
        let mut keys_by_space = BTreeMap::new();
        let keys = dump_tree(&self.tree, &path, |k| {
            if let Some(&space) = k.first() {
                *keys_by_space
                    .entry(char::from(space).to_string())
                    .or_insert(0) += 1;
            }
        })?;
        let trees = vec![TreeDump {
            name: TREE.to_vec(),
            path,
            keys,
        }];
        let segments = self.blobs.extent()?;
        self.crypt.sync()?;
        let ring = self.crypt.keyring_path();
        let keyring = std::fs::read(ring).map_err(io(ring))?;
        let master_key = match self.crypt.source() {
            super::crypt::KeySource::InDirectory(path) => {
                Some(std::fs::read(path).map_err(io(path))?)
            }
            super::crypt::KeySource::External => None,
        };
        let anchors = match std::fs::read(&self.anchors) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&self.anchors)(e)),
        };
        let snapshot = Snapshot {
            trees,
            segments,
            anchors,
            stats: self.stats()?,
            audit_head: self.audit_head_seq()?,
            keys_by_space,
            keyring,
            master_key,
            _wipes: wipes,
        };
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            messages = snapshot.stats.messages,
            "Store snapshot taken (writers held off meanwhile)"
        );
        Ok(snapshot)
    }

    /// Load a tree dump (from [`Store::snapshot`]) into this store, which must be empty (a new
    /// store). The number of keys read. A tree other than `deskmail` (sled's default tree in an
    /// archive of format 1 to 3) holds nothing of deskmail's: it must be empty. `format`: the store
    /// format of the dump's records; a format-2 dump's are converted on the way, as `migrate`
    /// converts a format-2 store (its thread records are opened: the archive's keyring must be in
    /// place).
    pub fn load_tree(
        &self,
        name: &[u8],
        dump: &mut dyn Read,
        format: u32,
    ) -> Result<u64, StoreError> {
        let mut reader = BufReader::with_capacity(1 << 20, dump);
        if name != TREE {
            return match read_field(&mut reader, true)? {
                None => Ok(0),
                Some(_) => Err(StoreError::Io {
                    path: self.dir.display().to_string(),
                    source: std::io::Error::other(format!(
                        "the snapshot's tree {:?} has records; deskmail keeps none there",
                        String::from_utf8_lossy(name)
                    )),
                }),
            };
        }
        let tree = &self.tree;
        if !tree.is_empty()? {
            return Err(StoreError::Io {
                path: self.dir.display().to_string(),
                source: std::io::Error::other("loading a snapshot needs an empty store"),
            });
        }
        let mut batch = KvBatch::default();
        let (mut keys, mut in_batch) = (0u64, 0usize);
        let convert = format == 2;
        let apply = |batch: KvBatch| -> Result<(), StoreError> {
            self.blobs.sync()?;
            self.crypt.sync()?;
            tree.apply_batch(batch)
        };
        let (mut seq_of, mut out, mut compacted) =
            (std::collections::HashMap::new(), Vec::new(), Vec::new());
        while let Some(k) = read_field(&mut reader, true)? {
            let v = read_field(&mut reader, false)?.unwrap_or_default();
            if convert && k.len() >= 2 {
                let (crypt, blobs) = (&self.crypt, &self.blobs);
                super::migrate::from_format_2(crypt, blobs, &mut seq_of, &k, &v, &mut out)?;
            } else {
                out.push((k, v));
            }
            for (k, v) in out.drain(..) {
                // Records of formats 2 and 3 (sealed, with the archive's keyring in place) are
                // kept in this format's encoding; format 1's are migrated as a whole at the next
                // open; formats 4 and 5 keep them in it already. Message records' pointers of
                // formats 3 to 5 are made short below.
                if (2..=3).contains(&format) && k.len() >= 2 {
                    super::migrate::compact_record(
                        &self.crypt,
                        &self.blobs,
                        &k,
                        &v,
                        &mut compacted,
                    )?;
                } else {
                    compacted.push((k, v));
                }
            }
            for (k, v) in compacted.drain(..) {
                let v = super::migrate::shorter_pointer(&k, &v).unwrap_or(v);
                batch.insert(k, v);
                in_batch += 1;
            }
            keys += 1;
            if in_batch >= 10_000 {
                apply(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
        apply(batch)?;
        self.flush()?;
        Ok(keys)
    }
}

/// Write a tree's records to `path`; `each` sees every key. The number of keys.
fn dump_tree(tree: &Kv, path: &Path, mut each: impl FnMut(&[u8])) -> Result<u64, StoreError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io(path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut keys = 0u64;
    for kv in tree.iter() {
        let (k, v) = kv?;
        each(&k);
        for field in [&k[..], &v[..]] {
            let len = u32::try_from(field.len())
                .map_err(|_| io(path)(std::io::Error::other("a key or value larger than 4 GiB")))?;
            out.write_all(&len.to_be_bytes()).map_err(io(path))?;
            out.write_all(field).map_err(io(path))?;
        }
        keys += 1;
    }
    out.flush().map_err(io(path))?;
    Ok(keys)
}

/// One length-prefixed field; None at a clean end (only where a record may end: `at_key`).
fn read_field(r: &mut impl Read, at_key: bool) -> Result<Option<Vec<u8>>, StoreError> {
    let damaged = |why: &str| StoreError::Io {
        path: "tree dump".into(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string()),
    };
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r
            .read(&mut len[got..])
            .map_err(|e| damaged(&e.to_string()))?;
        if n == 0 {
            return match (got, at_key) {
                (0, true) => Ok(None),
                _ => Err(damaged("the dump ends inside a record")),
            };
        }
        got += n;
    }
    let mut field = vec![0u8; u32::from_be_bytes(len) as usize];
    r.read_exact(&mut field)
        .map_err(|_| damaged("the dump ends inside a record"))?;
    Ok(Some(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_loads_into_a_new_store_key_for_key() {
        let a = tempfile::tempdir().unwrap();
        let store = Store::open(&a.path().join("store"), 8 << 20).unwrap();
        store
            .commit_batch(&[crate::store::tests::processed(
                "From: a@b.example\r\nSubject: Invoice 7\r\nMessage-ID: <snap-1@b.example>\r\n\r\nbody\r\n",
            )])
            .unwrap();
        store
            .audit(crate::audit::AuditEntry {
                actor: "cli:ann".into(),
                role: Some("admin".into()),
                action: "x".into(),
                targets: vec!["y".into()],
                outcome: "ok".into(),
            })
            .unwrap();
        let staging = tempfile::tempdir().unwrap();
        let snap = store.snapshot(staging.path()).unwrap();
        assert_eq!(snap.stats.messages, 1);
        assert_eq!(snap.audit_head, 1);
        assert_eq!(snap.keys_by_space.get("m"), Some(&1));
        assert_eq!(snap.keys_by_space.get("a"), Some(&1));
        let tree = snap.trees.iter().find(|t| t.name == b"deskmail").unwrap();

        let b = tempfile::tempdir().unwrap();
        let copy = Store::open(&b.path().join("store"), 8 << 20).unwrap();
        let mut dump = std::fs::File::open(&tree.path).unwrap();
        assert_eq!(
            copy.load_tree(b"deskmail", &mut dump, crate::store::STORE_FORMAT)
                .unwrap(),
            tree.keys
        );
        let originals: Vec<_> = store.tree.iter().map(|kv| kv.unwrap()).collect();
        let copies: Vec<_> = copy.tree.iter().map(|kv| kv.unwrap()).collect();
        assert_eq!(originals, copies);
        // Loading twice is refused: the store is no longer empty.
        let mut dump = std::fs::File::open(&tree.path).unwrap();
        assert!(
            copy.load_tree(b"deskmail", &mut dump, crate::store::STORE_FORMAT)
                .is_err()
        );
        // A dump cut inside a record is an error, not a shorter store.
        let bytes = std::fs::read(&tree.path).unwrap();
        let c = tempfile::tempdir().unwrap();
        let cut = Store::open(&c.path().join("store"), 8 << 20).unwrap();
        let err = cut
            .load_tree(
                b"deskmail",
                &mut &bytes[..bytes.len() - 3],
                crate::store::STORE_FORMAT,
            )
            .unwrap_err();
        assert!(err.to_string().contains("ends inside a record"), "{err}");
    }

    #[test]
    fn sleds_default_tree_of_an_older_archive_loads_only_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), 8 << 20).unwrap();
        let empty: &[u8] = &[];
        assert_eq!(
            store
                .load_tree(b"__sled__default", &mut &empty[..], 3)
                .unwrap(),
            0
        );
        let one_record = [&2u32.to_be_bytes()[..], b"k1", &1u32.to_be_bytes(), b"v"].concat();
        let err = store
            .load_tree(b"__sled__default", &mut &one_record[..], 3)
            .unwrap_err();
        assert!(err.to_string().contains("has records"), "{err}");
        assert!(store.tree.is_empty().unwrap());
    }
}
