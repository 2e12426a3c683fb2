//! A batch in the making: reads see the batch's own writes; `apply` commits it atomically.
//!
//! The batch is also where encryption at rest happens ([`super::crypt`]), so no caller sees it:
//! records of the sealed key spaces are read opened and held in clear in the batch, and sealed when
//! it is applied; names of the named key spaces (subjects, Message-IDs, addresses) become HMACs in
//! the key. A sealed record keeps its data key when it is rewritten, gets a new one when the batch
//! is an erasure's (old copies in the engine's journal and tables die with the old key), and its
//! key is shredded when the record is removed.

use std::collections::HashMap;

use serde::Deserialize;

use super::blobs::{BlobLog, BlobRef};
use super::crypt::{Crypt, sealed_slot};
use super::kv::{Kv, KvBatch};
use super::records::{IdEntry, ThreadRecord};
use super::{S_IDS, S_THREADS, StoreError, codec, dec, key};
use crate::model::ThreadId;

/// Key spaces whose values carry message content or personal metadata: sealed.
pub(super) fn is_sealed(space: u8) -> bool {
    matches!(space, b'm' | b't' | b'v' | b'o' | b'n' | b'w' | b'g' | b'x')
}

/// Key spaces whose keys would carry text in clear (a subject, a Message-ID, an address, a
/// vendor that was only a sender's address): named by HMAC. None of them is scanned by prefix.
pub(super) fn is_named(space: u8) -> bool {
    matches!(space, b'i' | b's' | b'r' | b'v')
}

/// The full key a record of a named key space had before format 4 named it in bytes: the same
/// HMAC in 32 hex digits (`i/` + 32 hex). None for any other key.
pub(super) fn renamed_from_hex(full: &[u8]) -> Option<Vec<u8>> {
    let (&space, rest) = full.split_first()?;
    let hex_name = rest.strip_prefix(b"/")?;
    if !is_named(space) || hex_name.len() != 2 * super::crypt::NAME_BYTES {
        return None;
    }
    let name = hex::decode(hex_name).ok()?;
    Some(super::key(space, &name))
}

/// Message records are the large ones (about 1–2 KB of JSON): packed (zstd) before sealing,
/// as ciphertext does not compress, and kept in the blob log: the tree keeps where they are.
/// (Kept in sled they made most of its file, its space amplification included: 3 KB of sled
/// file per message at 100,000 messages for 0.7 KB of sealed record; issue 14.)
fn packs(full: &[u8]) -> bool {
    full.first() == Some(&super::S_MESSAGES)
}

/// The first byte of a tree value that points at a sealed record in the blob log: then the
/// record's data key slot (u64 LE), segment (u32 LE), offset (u64 LE), length (u32 LE).
const IN_BLOBS: u8 = 0xE3;
const POINTER_BYTES: usize = 1 + 8 + 4 + 8 + 4;
/// The same in 15 bytes (format 6), written whenever each part fits: slot (u32 LE), segment
/// (u16 LE), offset (u32 LE), length (u32 LE). A segment holds up to 1 GiB, so every part fits
/// but for a store of more than 4 billion data keys or 65,536 segments; then the long form.
/// At a million messages the 10 bytes saved are 10 MB of the engine's files.
const IN_BLOBS_SHORT: u8 = 0xE4;
const SHORT_POINTER_BYTES: usize = 1 + 4 + 2 + 4 + 4;

/// What the tree keeps for a record sealed under `slot` in the blob log at `r`: the short form
/// when its parts fit, else the long one.
pub(super) fn pointer(slot: u64, r: BlobRef) -> Vec<u8> {
    if let (Ok(slot), Ok(segment), Ok(offset)) = (
        u32::try_from(slot),
        u16::try_from(r.segment),
        u32::try_from(r.offset),
    ) {
        let mut p = Vec::with_capacity(SHORT_POINTER_BYTES);
        p.push(IN_BLOBS_SHORT);
        p.extend_from_slice(&slot.to_le_bytes());
        p.extend_from_slice(&segment.to_le_bytes());
        p.extend_from_slice(&offset.to_le_bytes());
        p.extend_from_slice(&r.len.to_le_bytes());
        return p;
    }
    let mut p = Vec::with_capacity(POINTER_BYTES);
    p.push(IN_BLOBS);
    p.extend_from_slice(&slot.to_le_bytes());
    p.extend_from_slice(&r.segment.to_le_bytes());
    p.extend_from_slice(&r.offset.to_le_bytes());
    p.extend_from_slice(&r.len.to_le_bytes());
    p
}

/// The data key slot and blob of a pointer value (either form); None for any other value.
pub(super) fn parse_pointer(stored: &[u8]) -> Option<(u64, BlobRef)> {
    let at = |i: usize, n: usize| -> u64 {
        let mut le = [0u8; 8];
        le[..n].copy_from_slice(&stored[i..i + n]);
        u64::from_le_bytes(le)
    };
    let (slot, segment, offset, len) = match (stored.first()?, stored.len()) {
        (&IN_BLOBS, POINTER_BYTES) => (at(1, 8), at(9, 4), at(13, 8), at(21, 4)),
        (&IN_BLOBS_SHORT, SHORT_POINTER_BYTES) => (at(1, 4), at(5, 2), at(7, 4), at(11, 4)),
        _ => return None,
    };
    Some((
        slot,
        BlobRef {
            segment: segment as u32,
            offset,
            len: len as u32,
            sealed: true,
        },
    ))
}

/// The data key a stored value is sealed under (in the tree or, for a pointer, in the blob log);
/// None for a value in clear.
pub(super) fn slot_of(stored: &[u8]) -> Option<u64> {
    parse_pointer(stored)
        .map(|(slot, _)| slot)
        .or_else(|| sealed_slot(stored))
}

/// A record's value sealed under the data key in `slot` (packed first when it is a message
/// record).
fn seal_value(crypt: &Crypt, slot: u64, full: &[u8], plain: &[u8]) -> Result<Vec<u8>, StoreError> {
    if packs(full) {
        Ok(crypt.seal(slot, full, &super::blobs::pack(plain))?)
    } else {
        Ok(crypt.seal(slot, full, plain)?)
    }
}

/// What the tree keeps for a sealed record: the sealed value, or for a message record a pointer to
/// it in the blob log (appended, buffered: sync the log before the batch that refers to it).
pub(super) fn store_value(
    crypt: &Crypt,
    blobs: &BlobLog,
    slot: u64,
    full: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let sealed = seal_value(crypt, slot, full, plain)?;
    if packs(full) {
        Ok(pointer(slot, blobs.append(&sealed)?))
    } else {
        Ok(sealed)
    }
}

/// A sealed message record kept in sled by the format before (a value sealed in place) moved
/// to the blob log as it is: the pointer the tree keeps instead. None for any other value.
pub(super) fn move_to_blobs(
    blobs: &BlobLog,
    full: &[u8],
    stored: &[u8],
) -> Result<Option<Vec<u8>>, StoreError> {
    match sealed_slot(stored) {
        Some(slot) if packs(full) => Ok(Some(pointer(slot, blobs.append(stored)?))),
        _ => Ok(None),
    }
}

/// A value read from the tree in clear: fetched from the blob log if it points there, opened and
/// unpacked if sealed; a value from before encryption as it is.
pub(super) fn open_value(
    crypt: &Crypt,
    blobs: &BlobLog,
    full: &[u8],
    stored: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let fetched;
    let stored = match parse_pointer(stored) {
        Some((_, r)) => {
            fetched = blobs.read(r)?;
            fetched.as_slice()
        }
        None => stored,
    };
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
    pub(super) tree: &'a Kv,
    pub(super) crypt: &'a Crypt,
    blobs: &'a BlobLog,
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
    pub(super) fn new(tree: &'a Kv, crypt: &'a Crypt, blobs: &'a BlobLog) -> Self {
        Tx {
            tree,
            crypt,
            blobs,
            pending: HashMap::new(),
            known: Default::default(),
            fresh: HashMap::new(),
            erasing: false,
            _writer: None,
        }
    }

    pub(super) fn with_writer(
        tree: &'a Kv,
        crypt: &'a Crypt,
        blobs: &'a BlobLog,
        writer: std::sync::MutexGuard<'a, ()>,
    ) -> Self {
        let mut tx = Tx::new(tree, crypt, blobs);
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
        if let Some(slot) = slot_of(v) {
            self.known.borrow_mut().insert(full.to_vec(), slot);
        }
        open_value(self.crypt, self.blobs, full, v)
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

    /// A thread's record (binary since format 4, JSON before: [`codec`]).
    pub(super) fn get_thread(&self, id: &ThreadId) -> Result<Option<ThreadRecord>, StoreError> {
        self.get(S_THREADS, id.0.as_bytes())?
            .map(|v| codec::thread_of(&v))
            .transpose()
    }

    /// Write thread `id`'s record.
    pub(super) fn put_thread(&mut self, id: &ThreadId, t: &ThreadRecord) -> Result<(), StoreError> {
        self.insert(S_THREADS, id.0.as_bytes(), codec::thread_value(t)?);
        Ok(())
    }

    /// What a Message-ID (without brackets) names: its thread and, once it arrived, its message.
    pub(super) fn get_id_entry(&self, mid: &str) -> Result<Option<IdEntry>, StoreError> {
        self.get(S_IDS, mid.as_bytes())?
            .map(|v| codec::id_entry_of(&v))
            .transpose()
    }

    pub(super) fn put_id_entry(&mut self, mid: &str, e: &IdEntry) -> Result<(), StoreError> {
        self.insert(S_IDS, mid.as_bytes(), codec::id_entry_value(e)?);
        Ok(())
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

    /// Drops this batch's write of `k` (an insert or a removal not applied yet); whether there
    /// was one. What the tree holds stays as it is.
    pub(super) fn discard_pending(&mut self, space: u8, k: &[u8]) -> bool {
        let full = full_key(self.crypt, space, k);
        self.pending.remove(&full).is_some()
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
        Ok(self.tree.get(full)?.and_then(|v| slot_of(&v)))
    }

    /// Seal, write the new data keys, then apply the batch atomically. Data keys the batch
    /// stopped using are journalled and shredded once it is on disk: at once for an erasure,
    /// else at the store's next flush.
    pub(super) fn apply(self) -> Result<(), StoreError> {
        let mut batch = KvBatch::default();
        let mut dead: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut in_blobs = false;
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
                    in_blobs |= packs(k);
                    batch.insert(
                        k.as_slice(),
                        store_value(self.crypt, self.blobs, slot, k, v)?,
                    );
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
        // Records (and a commit's raw messages) in the blob log and new data keys before the
        // batch that refers to them: a pointer never reaches disk before its bytes.
        if in_blobs {
            self.blobs.sync()?;
        }
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
pub(super) fn replay_shreds(tree: &Kv, crypt: &Crypt) -> Result<usize, StoreError> {
    let get = |k: &[u8]| {
        tree.get(k).map_err(|e| super::crypt::CryptError::Io {
            path: "store".into(),
            source: std::io::Error::other(e.to_string()),
        })
    };
    Ok(crypt.replay_journal(|k| {
        // An entry journalled before format 4 names its record the way that format did.
        let now = match get(k)? {
            None => renamed_from_hex(k).map(|k| get(&k)).transpose()?.flatten(),
            found => found,
        };
        Ok(now.and_then(|v| slot_of(&v)))
    })?)
}

#[cfg(test)]
mod tests {
    use super::{BlobRef, parse_pointer, pointer, renamed_from_hex};

    #[test]
    fn a_pointer_is_short_when_its_parts_fit_and_long_otherwise_and_both_read_back() {
        let blob = |segment, offset| BlobRef {
            segment,
            offset,
            len: 70_000,
            sealed: true,
        };
        for (slot, r, len) in [
            (1_000_001, blob(3, (1 << 30) + 5), 15),
            (
                u64::from(u32::MAX),
                blob(u32::from(u16::MAX), u64::from(u32::MAX)),
                15,
            ),
            (u64::from(u32::MAX) + 1, blob(1, 0), 25),
            (7, blob(1 << 16, 0), 25),
            (7, blob(1, 1 << 32), 25),
        ] {
            let p = pointer(slot, r);
            assert_eq!(p.len(), len, "{slot} {r:?}");
            assert_eq!(parse_pointer(&p), Some((slot, r)), "{slot} {r:?}");
            // A value of another length with the same first byte is not a pointer.
            assert_eq!(parse_pointer(&p[..len - 1]), None);
        }
        assert_eq!(parse_pointer(b""), None);
        assert_eq!(parse_pointer(&[0xE1; 15]), None);
    }

    #[test]
    fn a_hex_name_of_a_named_space_is_renamed_in_bytes_and_nothing_else_is() {
        let hex_name = b"i/00ff10a0b1c2d3e4f5061728394a5b6c";
        let mut want = b"i/".to_vec();
        want.extend_from_slice(&hex::decode(&hex_name[2..]).unwrap());
        assert_eq!(renamed_from_hex(hex_name), Some(want.clone()));
        assert_eq!(renamed_from_hex(&want), None, "a name in bytes stays");
        // A space that is not named keeps its hex (message ids are ids, not names).
        assert_eq!(
            renamed_from_hex(b"m/00ff10a0b1c2d3e4f5061728394a5b6c"),
            None
        );
        assert_eq!(renamed_from_hex(b"i/00ff10a0b1c2d3e4f5061728394a5b6"), None);
        assert_eq!(
            renamed_from_hex(b"i/zzff10a0b1c2d3e4f5061728394a5b6c"),
            None
        );
        assert_eq!(renamed_from_hex(b"i"), None);
    }
}
