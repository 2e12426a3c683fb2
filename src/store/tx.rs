//! A batch in the making: reads see the batch's own writes; `apply` commits it atomically.
//!
//! The batch is also where encryption at rest happens ([`super::crypt`]), so no caller sees
//! it: records of the sealed key spaces are read opened and held in clear in the batch, and
//! sealed when it is applied; names of the named key spaces (subjects, Message-IDs, addresses)
//! become HMACs in the key. A sealed record keeps its data key when it is rewritten, gets a new
//! one when the batch is an erasure's (the old copies in sled's pages die with the old key),
//! and its key is shredded when the record is removed.

use std::collections::HashMap;

use serde::Deserialize;

use super::crypt::{Crypt, sealed_slot};
use super::{StoreError, dec, key};

/// Key spaces whose values carry message content or personal metadata: sealed.
pub(super) fn is_sealed(space: u8) -> bool {
    matches!(space, b'm' | b't' | b'v' | b'o' | b'n' | b'w' | b'g' | b'x')
}

/// Key spaces whose keys would carry text in clear (a subject, a Message-ID, an address, a
/// vendor that was only a sender's address): named by HMAC. None of them is scanned by prefix.
pub(super) fn is_named(space: u8) -> bool {
    matches!(space, b'i' | b's' | b'r' | b'v')
}

/// Message records are the large ones (about 1–2 KB of JSON): packed (zstd) before sealing,
/// as ciphertext does not compress.
fn packs(full: &[u8]) -> bool {
    full.first() == Some(&super::S_MESSAGES)
}

/// A record's value as sled keeps it: sealed under the data key in `slot`, packed first when it
/// is a message record.
pub(super) fn seal_value(
    crypt: &Crypt,
    slot: u64,
    full: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, StoreError> {
    if packs(full) {
        Ok(crypt.seal(slot, full, &super::blobs::pack(plain))?)
    } else {
        Ok(crypt.seal(slot, full, plain)?)
    }
}

/// A value read from sled in clear: opened and unpacked if sealed; a value from before
/// encryption as it is.
pub(super) fn open_value(crypt: &Crypt, full: &[u8], stored: &[u8]) -> Result<Vec<u8>, StoreError> {
    if sealed_slot(stored).is_none() {
        return Ok(stored.to_vec());
    }
    let plain = crypt.unseal(full, stored)?;
    if packs(full) {
        Ok(super::blobs::unpack(&plain)?)
    } else {
        Ok(plain.into_owned())
    }
}

/// A key space's full key for a clear name.
pub(super) fn full_key(crypt: &Crypt, space: u8, k: &[u8]) -> Vec<u8> {
    if is_named(space) {
        key(space, &crypt.name(space, k))
    } else {
        key(space, k)
    }
}

/// A key (without its space) and its value.
pub(super) type KeyValue = (Vec<u8>, Vec<u8>);

pub(super) struct Tx<'a> {
    pub(super) tree: &'a sled::Tree,
    pub(super) crypt: &'a Crypt,
    pending: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// The data key each sealed record read from the tree is sealed under.
    known: std::cell::RefCell<HashMap<Vec<u8>, u64>>,
    /// Data keys made for records of this batch (a message and its raw bytes share one).
    fresh: HashMap<Vec<u8>, u64>,
    /// An erasure's batch: every sealed record it rewrites gets a new data key.
    erasing: bool,
    _writer: Option<std::sync::MutexGuard<'a, ()>>,
}

impl<'a> Tx<'a> {
    /// For reads of counters, or a writer with its own lock (the audit chain).
    pub(super) fn new(tree: &'a sled::Tree, crypt: &'a Crypt) -> Self {
        Tx {
            tree,
            crypt,
            pending: HashMap::new(),
            known: Default::default(),
            fresh: HashMap::new(),
            erasing: false,
            _writer: None,
        }
    }

    pub(super) fn with_writer(
        tree: &'a sled::Tree,
        crypt: &'a Crypt,
        writer: std::sync::MutexGuard<'a, ()>,
    ) -> Self {
        let mut tx = Tx::new(tree, crypt);
        tx._writer = Some(writer);
        tx
    }

    /// Make this an erasure's batch (see the module's notes).
    pub(super) fn erasing(mut self) -> Self {
        self.erasing = true;
        self
    }

    /// A value read from the tree, opened if sealed (noting its data key).
    fn open_stored(&self, full: &[u8], v: &[u8]) -> Result<Vec<u8>, StoreError> {
        if !is_sealed(full[0]) {
            return Ok(v.to_vec());
        }
        if let Some(slot) = sealed_slot(v) {
            self.known.borrow_mut().insert(full.to_vec(), slot);
        }
        open_value(self.crypt, full, v)
    }

    pub(super) fn get(&self, space: u8, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let full = full_key(self.crypt, space, k);
        if let Some(v) = self.pending.get(&full) {
            return Ok(v.clone());
        }
        match self.tree.get(&full)? {
            Some(v) => Ok(Some(self.open_stored(&full, &v)?)),
            None => Ok(None),
        }
    }

    pub(super) fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        space: u8,
        k: &[u8],
    ) -> Result<Option<T>, StoreError> {
        self.get(space, k)?.map(|v| dec(&v)).transpose()
    }

    pub(super) fn contains(&self, space: u8, k: &[u8]) -> Result<bool, StoreError> {
        let full = full_key(self.crypt, space, k);
        match self.pending.get(&full) {
            Some(v) => Ok(v.is_some()),
            None => Ok(self.tree.contains_key(&full)?),
        }
    }

    /// Every (key without its space, value) under `prefix`, the batch's own writes included.
    /// (Not for named key spaces: their keys are HMACs.)
    pub(super) fn scan(&self, space: u8, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        debug_assert!(!is_named(space));
        let full = key(space, prefix);
        let mut out = std::collections::BTreeMap::new();
        for kv in self.tree.scan_prefix(&full) {
            let (k, v) = kv?;
            let v = self.open_stored(&k, &v)?;
            out.insert(k[2..].to_vec(), v);
        }
        for (k, v) in self.pending.iter().filter(|(k, _)| k.starts_with(&full)) {
            match v {
                Some(v) => out.insert(k[2..].to_vec(), v.clone()),
                None => out.remove(&k[2..]),
            };
        }
        Ok(out.into_iter().collect())
    }

    pub(super) fn insert(&mut self, space: u8, k: &[u8], v: impl Into<Vec<u8>>) {
        let full = full_key(self.crypt, space, k);
        self.pending.insert(full, Some(v.into()));
    }

    pub(super) fn remove(&mut self, space: u8, k: &[u8]) {
        let full = full_key(self.crypt, space, k);
        self.pending.insert(full, None);
    }

    /// A new data key for a sealed record written in this batch; returned so bytes kept
    /// elsewhere (a message's raw bytes in the blob log) can be sealed under the same key.
    pub(super) fn new_data_key(&mut self, space: u8, k: &[u8]) -> Result<u64, StoreError> {
        debug_assert!(is_sealed(space));
        let (slot, _) = self.crypt.allocate()?;
        self.fresh.insert(full_key(self.crypt, space, k), slot);
        Ok(slot)
    }

    pub(super) fn counter(&self, name: &[u8]) -> Result<u64, StoreError> {
        Ok(self
            .get(super::S_META, name)?
            .map_or(0, |v| super::be_u64(&v)))
    }

    pub(super) fn set_counter(&mut self, name: &[u8], value: u64) {
        self.insert(super::S_META, name, value.to_be_bytes().to_vec());
    }

    pub(super) fn bump(&mut self, name: &[u8], by: u64) -> Result<u64, StoreError> {
        let next = self.counter(name)? + by;
        self.set_counter(name, next);
        Ok(next)
    }

    /// The data key the stored record at `full` is sealed under now.
    fn stored_slot(&self, full: &[u8]) -> Result<Option<u64>, StoreError> {
        if let Some(s) = self.known.borrow().get(full) {
            return Ok(Some(*s));
        }
        Ok(self.tree.get(full)?.and_then(|v| sealed_slot(&v)))
    }

    /// Seal, write the new data keys, then apply the batch atomically. Data keys the batch
    /// stopped using are journalled and shredded once it is on disk: at once for an erasure,
    /// else at the store's next flush.
    pub(super) fn apply(self) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let mut dead: Vec<(u64, Vec<u8>)> = Vec::new();
        for (k, v) in &self.pending {
            let sealed = is_sealed(k[0]);
            match v {
                Some(v) if sealed => {
                    // A fresh key is only made for a record that does not exist yet (a new
                    // message, after the dedupe checks): no lookup for an old key on that path.
                    let old = match self.fresh.get(k) {
                        Some(_) => None,
                        None => self.stored_slot(k)?,
                    };
                    // A message's record keeps its key even in an erasure: its raw bytes in
                    // the blob log are sealed under the same one.
                    let keeps = !self.erasing || k[0] == super::S_MESSAGES;
                    let slot = match (self.fresh.get(k), old) {
                        (Some(&f), _) => f,
                        (None, Some(o)) if keeps => o,
                        _ => self.crypt.allocate()?.0,
                    };
                    if let Some(o) = old.filter(|o| *o != slot) {
                        dead.push((o, k.clone()));
                    }
                    batch.insert(k.as_slice(), seal_value(self.crypt, slot, k, v)?);
                }
                None if sealed => {
                    if let Some(o) = self.stored_slot(k)? {
                        dead.push((o, k.clone()));
                    }
                    batch.remove(k.as_slice());
                }
                Some(v) => batch.insert(k.as_slice(), v.as_slice()),
                None => batch.remove(k.as_slice()),
            }
        }
        // New data keys before the records sealed under them (like the blob log).
        self.crypt.sync()?;
        self.crypt.journal(&dead)?;
        self.tree.apply_batch(batch)?;
        if self.erasing && !dead.is_empty() {
            self.tree.flush()?;
            replay_shreds(self.tree, self.crypt)?;
        }
        Ok(())
    }
}

/// Shred the journalled data keys no live record uses (after the batches that stopped using
/// them are on disk).
pub(super) fn replay_shreds(tree: &sled::Tree, crypt: &Crypt) -> Result<usize, StoreError> {
    Ok(crypt.replay_journal(|k| {
        Ok(tree
            .get(k)
            .map_err(|e| super::crypt::CryptError::Io {
                path: "sled".into(),
                source: std::io::Error::other(e.to_string()),
            })?
            .and_then(|v| sealed_slot(&v)))
    })?)
}
