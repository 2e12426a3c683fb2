//! The store: the one place that writes state, and the source of truth (the index is derived).
//!
//! State lives in one ordered key-value tree (fjall, [`kv`]), in key spaces marked by a one-letter
//! prefix (`m/` messages, `t/` threads, `j/` thread members, ...), and in the blob log (`blobs`):
//! raw messages and the message records, which the tree points at. A batch of processed messages is
//! prepared in memory (an overlay that reads its own writes, so threading and dedupe see earlier
//! messages of the same batch) and applied with one atomic `apply_batch` after the blob log is
//! synced: the message with its decision, its raw bytes, the thread update, AP invoice records,
//! counters and its place in the ingest log land together or not at all. Keys are documented in
//! docs/ARCHITECTURE.md.
//!
//! Speed notes (spamassassin corpus): sled's multi-tree transactions (format 3 and before) cost
//! ~200 µs a message; one tree, one batch and ~6 keys a message cost a fraction of that. Every key
//! is a lookup and an insert, so the layout keeps them few: the decision rides in the message
//! record, a Message-ID maps to both its message and its thread, and "indexed" is a high-water mark
//! over the ingest log instead of a marker per message.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::access::TokenRecord;
use crate::audit::{AuditEntry, AuditRecord};
use crate::model::{Decision, FieldValue, Message, MessageId, ThreadId};
use crate::outbound::{Draft, OutboxRecord, OutboxState};
use crate::receivables::{Receivable, ReceivableStatus, receivable_key};

pub mod blobs;
mod codec;
pub mod crypt;
mod erase;
mod keys;
mod kv;
mod migrate;
mod open;
mod outbox;
pub mod permissions;
mod receivables;
mod records;
pub mod snapshot;
pub mod space;
mod threads;
mod trust;
mod tx;
mod usage;

use blobs::BlobLog;
pub use blobs::BlobRef;
pub use migrate::CURRENT_FORMAT as STORE_FORMAT;
pub use migrate::Compacted;
use receivables::{release_receivables, update_receivable};
use records::IdEntry;
pub use records::{
    BatchExtras, ContactErasure, ErasedMessage, FolderCursor, InvoiceRecord, KeyStatus,
    RejectionRecord, Stats, StoredMessage, ThreadRecord,
};
pub use trust::{ReviewChange, ReviewError, ReviewOutcome};
use tx::Tx;
pub use usage::{SpaceUsage, StoreUsage};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store database error: {0}")]
    Kv(#[from] fjall::Error),
    #[error("store database error (an earlier format's sled store): {0}")]
    Sled(#[from] sled::Error),
    #[error("store record could not be encoded or decoded: {0}")]
    Codec(#[from] serde_json::Error),
    #[error(transparent)]
    Blob(#[from] blobs::BlobError),
    #[error("store encryption: {0}")]
    Crypt(#[from] crypt::CryptError),
    #[error("the store at {path} is in use by another deskmail process (one process at a time)")]
    Locked { path: String },
    #[error(transparent)]
    AuditKey(#[from] crate::audit::AuditKeyError),
    #[error(
        "the audit log is keyed: set DESKMAIL_AUDIT_KEY_FILE (or _COMMAND) before writing to it"
    )]
    AuditKeyMissing,
    #[error(
        "the disk holding {path} is nearly full: {free_mb} MB free, this batch needs about \
         {needed_mb} MB (room for the index to merge included) and deskmail keeps \
         {reserve_mb} MB in reserve (DESKMAIL_MIN_FREE_MB); \
         nothing of the batch was written: free some space and run again"
    )]
    DiskFull {
        path: String,
        free_mb: u64,
        reserve_mb: u64,
        needed_mb: u64,
    },
    #[error(
        "the store at {path} is format {found}, written by a newer deskmail; this one reads \
         formats up to {supported}: run the newer release (or restore a backup it can read)"
    )]
    NewerFormat {
        path: String,
        found: u32,
        supported: u32,
    },
    #[error("store I/O error at {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// A message ready to commit: parsed, decided, with its original bytes.
#[derive(Debug, Clone)]
pub struct Processed {
    pub message: Message,
    pub decision: Decision,
    pub raw: Vec<u8>,
    /// `raw` as the blob log keeps it ([`blobs::pack`]), made by the worker that processed the
    /// message so the committer only seals it; None: packed at commit.
    pub packed: Option<Vec<u8>>,
    /// Replies the decision asks for; queued in the outbox in the same batch.
    pub outbound: Vec<crate::outbound::Draft>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Stored as number `seq` in the ingest log.
    Stored {
        thread: ThreadId,
        flags: Vec<String>,
        seq: u64,
        stored_at: DateTime<Utc>,
    },
    /// Already stored (same bytes, or same Message-ID header).
    Duplicate { existing: MessageId },
}

// Key spaces: every key is `<letter>/<key>`.
const S_MESSAGES: u8 = b'm';
const S_IDS: u8 = b'i';
const S_THREADS: u8 = b't';
/// A thread's members: `j/<thread id>\0<log number, u64 BE>` → message id.
const S_MEMBERS: u8 = b'j';
const S_SUBJECTS: u8 = b's';
const S_INVOICES: u8 = b'v';
const S_LOG: u8 = b'q';
const S_META: u8 = b'c';
const S_REJECTIONS: u8 = b'x';
const S_CURSORS: u8 = b'u';
const S_TOKENS: u8 = b'k';
const S_ERASED: u8 = b'e';
const S_HOLDS: u8 = b'h';
const S_OUTBOX: u8 = b'o';
const S_RECEIVABLES: u8 = b'n';
/// Replies per thread: `p/<thread>\0<outbox id>` (empty value), so a thread view or an erasure
/// finds its replies without scanning the outbox.
const S_THREAD_REPLIES: u8 = b'p';
/// Last automatic reply to a sender in a thread: `r/<address>\0<thread>`.
const S_REPLIED: u8 = b'r';
const S_AUDIT: u8 = b'a';

const C_MESSAGES: &[u8] = b"messages";
const C_THREADS: &[u8] = b"threads";
const C_INVOICES: &[u8] = b"invoices";
const C_REJECTED: &[u8] = b"rejected";
/// Next ingest log number.
const C_SEQ: &[u8] = b"seq";
/// Every log entry up to and including this one is in the index.
const C_INDEXED: &[u8] = b"indexed";
/// Number of the last audit record written.
const C_AUDIT: &[u8] = b"audit";
/// Messages stored from one mailbox: `mailbox:NAME`.
const C_MAILBOX_PREFIX: &str = "mailbox:";

fn key(space: u8, k: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(k.len() + 2);
    v.push(space);
    v.push(b'/');
    v.extend_from_slice(k);
    v
}

fn strip(space_key: &[u8]) -> String {
    String::from_utf8_lossy(space_key.get(2..).unwrap_or_default()).into_owned()
}

/// What a message's sealed raw bytes are bound to (its record's key).
fn blob_aad(id: &MessageId) -> Vec<u8> {
    key(S_MESSAGES, id.0.as_bytes())
}

fn be_u64(v: &[u8]) -> u64 {
    u64::from_be_bytes(v.try_into().unwrap_or([0; 8]))
}

pub struct Store {
    /// The ordered key-value engine every record is in ([`kv`]).
    tree: kv::Kv,
    blobs: BlobLog,
    /// Data keys, sealing and record names (encryption at rest, [`crypt`]).
    crypt: crypt::Crypt,
    /// Audit records are numbered and chained: one writer at a time. Holds when the last
    /// anchor was written.
    audit_lock: std::sync::Mutex<std::time::Instant>,
    /// The key audit records are MACed with (from the environment), and where anchors go.
    audit_key: Option<crate::audit::AuditKey>,
    anchors: PathBuf,
    /// Read-modify-write batches (a commit, an erasure, a reminder) hold this, so two of them
    /// never read the same record and the later write loses the earlier one's change.
    write_lock: std::sync::Mutex<()>,
    /// The directory it was opened from (the engine's files and the blob log), for its size.
    dir: PathBuf,
}

fn enc<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(v)?)
}

fn dec<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, StoreError> {
    Ok(serde_json::from_slice(b)?)
}

impl Store {
    /// A read-modify-write batch: holds the write lock until applied or dropped.
    fn begin(&self) -> Tx<'_> {
        Tx::with_writer(
            &self.tree,
            &self.crypt,
            &self.blobs,
            self.write_lock.lock().unwrap_or_else(|p| p.into_inner()),
        )
    }

    /// A batch for reads (counters), or for a writer with its own lock (the audit chain).
    fn tx(&self) -> Tx<'_> {
        Tx::new(&self.tree, &self.crypt, &self.blobs)
    }

    /// An erasure's batch: what it rewrites gets new data keys, what it removes is shredded
    /// once the batch is on disk.
    fn begin_erasure(&self) -> Tx<'_> {
        self.begin().erasing()
    }

    /// Every record of a key space, opened (sealed ones decrypted).
    fn records<T: for<'de> Deserialize<'de>>(
        &self,
        space: u8,
    ) -> impl Iterator<Item = Result<(kv::Bytes, T), StoreError>> + '_ {
        self.tree.scan_prefix(key(space, b"")).map(move |kv| {
            let (k, v) = kv?;
            let t = dec(&tx::open_value(&self.crypt, &self.blobs, &k, &v)?)?;
            Ok((k, t))
        })
    }

    /// Commit a batch atomically. Outcomes are in input order.
    pub fn commit_batch(&self, batch: &[Processed]) -> Result<Vec<CommitOutcome>, StoreError> {
        self.commit_batch_with(batch, &BatchExtras::default())
    }

    /// Commit a batch, its rejections and its folder cursor in one atomic write, so the cursor
    /// never runs ahead of what is stored.
    pub fn commit_batch_with(
        &self,
        batch: &[Processed],
        extras: &BatchExtras,
    ) -> Result<Vec<CommitOutcome>, StoreError> {
        let now = Utc::now();
        // Before anything is written: the store must never meet a full disk (store::space).
        let incoming: usize = batch.iter().map(|p| p.raw.len()).sum();
        space::check(&self.dir, incoming as u64)?;
        let mut tx = self.begin();
        let mut out = Vec::with_capacity(batch.len());
        let mut per_mailbox: HashMap<&str, u64> = HashMap::new();
        for p in batch {
            let outcome = commit_one(&mut tx, &self.blobs, p, now)?;
            if matches!(outcome, CommitOutcome::Stored { .. }) {
                *per_mailbox.entry(p.message.mailbox.as_str()).or_default() += 1;
            }
            out.push(outcome);
        }
        for (p, outcome) in batch.iter().zip(out.iter_mut()) {
            if let CommitOutcome::Stored { thread, .. } = outcome {
                settle_moved(&mut tx, &p.message.id, thread)?;
            }
        }
        for (mailbox, n) in per_mailbox {
            tx.bump(format!("{C_MAILBOX_PREFIX}{mailbox}").as_bytes(), n)?;
        }
        for (content, rec) in &extras.rejections {
            if !tx.contains(S_REJECTIONS, content.0.as_bytes())? {
                tx.insert(S_REJECTIONS, content.0.as_bytes(), enc(rec)?);
                tx.bump(C_REJECTED, 1)?;
            }
        }
        if let Some((folder, cursor)) = &extras.cursor {
            tx.insert(S_CURSORS, folder.as_bytes(), enc(cursor)?);
        }
        // The batch syncs the blob log (these raw messages, the records) before the tree sees it.
        tx.apply()?;
        Ok(out)
    }

    /// Begins writing what is in memory out to the store's tables on its own thread (no
    /// waiting; durability is the journal's either way), so that closing the store later has
    /// little left to do: the end of an ingest, before it waits for the index.
    pub fn write_out_soon(&self) {
        self.tree.write_out_soon();
    }

    /// Make everything committed so far durable on disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.tree.flush()?;
        // Data keys of records removed or re-keyed since: their batches are on disk now.
        tx::replay_shreds(&self.tree, &self.crypt)?;
        Ok(())
    }

    /// Record that some input was rejected. Keyed by content, so the same bad input counts once.
    /// Returns false when it was already recorded.
    pub fn record_rejection(
        &self,
        content_id: &MessageId,
        rec: &RejectionRecord,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin();
        if tx.contains(S_REJECTIONS, content_id.0.as_bytes())? {
            return Ok(false);
        }
        tx.insert(S_REJECTIONS, content_id.0.as_bytes(), enc(rec)?);
        tx.bump(C_REJECTED, 1)?;
        tx.apply()?;
        Ok(true)
    }

    pub fn stats(&self) -> Result<Stats, StoreError> {
        let tx = self.tx();
        Ok(Stats {
            messages: tx.counter(C_MESSAGES)?,
            threads: tx.counter(C_THREADS)?,
            invoices: tx.counter(C_INVOICES)?,
            rejected: tx.counter(C_REJECTED)?,
        })
    }

    /// The committed position of an IMAP folder (`MAILBOX/FOLDER`).
    pub fn cursor(&self, folder: &str) -> Result<Option<FolderCursor>, StoreError> {
        self.get_json(S_CURSORS, folder.as_bytes())
    }

    /// Every folder cursor, by folder key.
    pub fn cursors(&self) -> Result<Vec<(String, FolderCursor)>, StoreError> {
        self.tree
            .scan_prefix(key(S_CURSORS, b""))
            .map(|kv| {
                let (k, v) = kv?;
                Ok((strip(&k), dec(&v)?))
            })
            .collect()
    }

    /// Every AP invoice record (vendor + number), in key order.
    pub fn invoices(&self) -> Result<Vec<InvoiceRecord>, StoreError> {
        self.records(S_INVOICES).map(|r| Ok(r?.1)).collect()
    }

    /// Put a thread on legal hold (retention never disposes of it) or release it.
    /// Returns false when the thread does not exist.
    pub fn set_hold(&self, thread: &ThreadId, on: bool, by: &str) -> Result<bool, StoreError> {
        if self.thread(thread)?.is_none() {
            return Ok(false);
        }
        let k = key(S_HOLDS, thread.0.as_bytes());
        if on {
            self.tree.insert(
                k,
                enc(&serde_json::json!({ "since": Utc::now(), "by": by }))?,
            )?;
        } else {
            self.tree.remove(k)?;
        }
        self.tree.flush()?;
        Ok(true)
    }

    /// Threads on legal hold.
    pub fn holds(&self) -> Result<std::collections::HashSet<ThreadId>, StoreError> {
        self.tree
            .scan_prefix(key(S_HOLDS, b""))
            .keys()
            .map(|k| Ok(ThreadId(strip(&k?))))
            .collect()
    }

    /// Every stored message record (a full scan: exports and retention, not hot paths).
    pub fn stored_messages(&self) -> impl Iterator<Item = Result<StoredMessage, StoreError>> + '_ {
        self.records(S_MESSAGES).map(|r| Ok(r?.1))
    }

    /// Store a new token's record under its hash.
    pub fn put_token(&self, hash: &str, rec: &TokenRecord) -> Result<(), StoreError> {
        self.tree
            .insert(key(S_TOKENS, hash.as_bytes()), enc(rec)?)?;
        self.tree.flush()?;
        Ok(())
    }

    /// The record of a presented token (by its hash), revoked or not.
    pub fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.get_json(S_TOKENS, hash.as_bytes())
    }

    /// Every token record, by hash.
    pub fn tokens(&self) -> Result<Vec<(String, TokenRecord)>, StoreError> {
        self.tree
            .scan_prefix(key(S_TOKENS, b""))
            .map(|kv| {
                let (k, v) = kv?;
                Ok((strip(&k), dec(&v)?))
            })
            .collect()
    }

    /// Revoke every live token with this name; returns how many.
    pub fn revoke_tokens(&self, name: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for (hash, mut rec) in self.tokens()? {
            if rec.name == name && rec.revoked_at.is_none() {
                rec.revoked_at = Some(Utc::now());
                self.tree
                    .insert(key(S_TOKENS, hash.as_bytes()), enc(&rec)?)?;
                n += 1;
            }
        }
        self.tree.flush()?;
        Ok(n)
    }

    /// Append to the audit log: the record is numbered, chained to the previous one and written
    /// with the head counter in one atomic batch. Callers recording a change call
    /// [`Store::flush`] after it.
    pub fn audit(&self, entry: AuditEntry) -> Result<AuditRecord, StoreError> {
        let mut last_anchor = self.audit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut tx = self.tx();
        let last = tx.counter(C_AUDIT)?;
        let previous = match last {
            0 => None,
            n => tx.get_json::<AuditRecord>(S_AUDIT, &n.to_be_bytes())?,
        };
        if self.audit_key.is_none() && previous.as_ref().is_some_and(|p| p.mac.is_some()) {
            // An unkeyed record after keyed ones would read as tampering.
            return Err(StoreError::AuditKeyMissing);
        }
        let prev = previous.map(|r| r.hash).unwrap_or_default();
        let mut rec = AuditRecord::new(last + 1, Utc::now(), entry, prev);
        rec.mac = self.audit_key.as_ref().map(|k| k.mac(&rec.hash));
        tx.insert(S_AUDIT, &rec.seq.to_be_bytes(), enc(&rec)?);
        tx.set_counter(C_AUDIT, rec.seq);
        tx.apply()?;
        // No fsync per record: the engine's journal is synced within a second (`kv`),
        // so a power cut can lose the last second of read records; changes are flushed by
        // their callers. An fsync per read cost ~180 ms at p99 under load.
        if rec.seq.is_multiple_of(crate::audit::ANCHOR_EVERY)
            || last_anchor.elapsed() >= crate::audit::ANCHOR_INTERVAL
        {
            self.anchor(&rec);
            *last_anchor = std::time::Instant::now();
        }
        Ok(rec)
    }

    /// Pin the chain's head outside the store: the anchor file and the log (the journal).
    fn anchor(&self, rec: &AuditRecord) {
        tracing::info!(seq = rec.seq, hash = %rec.hash, "Audit anchor");
        if let Err(e) = crate::audit::append_anchor(&self.anchors, rec) {
            tracing::warn!(path = %self.anchors.display(), error = %e, "Cannot write the audit anchor");
        }
    }

    /// Anchor the head now (at shutdown, after a verification), if there are records.
    pub fn anchor_audit_head(&self) -> Result<(), StoreError> {
        let mut last_anchor = self.audit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let tx = self.tx();
        let last = tx.counter(C_AUDIT)?;
        if let Some(rec) = tx.get_json::<AuditRecord>(S_AUDIT, &last.to_be_bytes())? {
            self.anchor(&rec);
            *last_anchor = std::time::Instant::now();
        }
        Ok(())
    }

    /// Audit records from number `from` on, at most `limit`.
    pub fn audit_records(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        self.tree
            .range(key(S_AUDIT, &from.max(1).to_be_bytes())..key(S_AUDIT, &u64::MAX.to_be_bytes()))
            .take(limit)
            .map(|kv| dec(&kv?.1))
            .collect()
    }

    /// Check the whole audit chain; the number of records, or where it breaks.
    /// Verify the chain against its head counter, the key (when set) and the anchors.
    pub fn audit_verify(
        &self,
    ) -> Result<Result<crate::audit::Verified, crate::audit::ChainBreak>, StoreError> {
        let anchors = match crate::audit::read_anchors(&self.anchors) {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let last = self.tx().counter(C_AUDIT)?;
        let mut records = Vec::new();
        for kv in self.tree.scan_prefix(key(S_AUDIT, b"")) {
            let (_, v) = kv?;
            records.push(dec::<AuditRecord>(&v)?);
        }
        Ok(crate::audit::verify(
            records.into_iter(),
            last,
            self.audit_key.as_ref(),
            &anchors,
        ))
    }

    /// The number of the newest audit record (the chain's head), 0 when there is none.
    pub fn audit_head_seq(&self) -> Result<u64, StoreError> {
        self.tx().counter(C_AUDIT)
    }

    /// Where the master key comes from and the keyring's counts.
    pub fn key_status(&self) -> Result<KeyStatus, StoreError> {
        let (data_keys, destroyed) = self.crypt.counts()?;
        Ok(KeyStatus {
            master_key: match self.crypt.source() {
                crypt::KeySource::External => {
                    "from DESKMAIL_STORE_KEY_FILE / DESKMAIL_STORE_KEY_COMMAND".into()
                }
                crypt::KeySource::InDirectory(p) => format!(
                    "{} (in the data directory: copies of the directory carry it)",
                    p.display()
                ),
            },
            // Slot 0 is the names key, not a record's.
            data_keys: data_keys.saturating_sub(1),
            destroyed,
        })
    }

    /// Wrap every data key under a new master key (rotation): the keyring is rewritten beside
    /// itself and renamed into place; records are not touched. The store must be dropped
    /// afterwards and opened with the new key; a master key file in the data directory is
    /// removed (it no longer opens the keyring).
    pub fn rotate_master_key(&self, new_master: &[u8]) -> Result<u64, StoreError> {
        let _writer = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let ring = self.crypt.keyring_path();
        let tmp = ring.with_extension("rotating");
        let live = self.crypt.rewrap_into(new_master, &tmp)?;
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StoreError::Io { path, source }
        };
        std::fs::rename(&tmp, ring).map_err(io(ring))?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))?;
        if let crypt::KeySource::InDirectory(p) = self.crypt.source() {
            std::fs::remove_file(p).map_err(io(p))?;
        }
        Ok(live.saturating_sub(1))
    }

    /// Bytes on disk: the engine's files and the blob log (a bounded directory walk).
    pub fn size_on_disk(&self) -> u64 {
        crate::metrics::dir_size(&self.dir, 10_000)
    }

    /// Messages stored from one mailbox (duplicates not counted).
    pub fn mailbox_count(&self, mailbox: &str) -> Result<u64, StoreError> {
        self.tx()
            .counter(format!("{C_MAILBOX_PREFIX}{mailbox}").as_bytes())
    }

    pub fn message(&self, id: &MessageId) -> Result<Option<StoredMessage>, StoreError> {
        self.get_json(S_MESSAGES, id.0.as_bytes())
    }

    /// The stored message whose Message-ID header is `header_id` (without brackets).
    pub fn message_by_header_id(
        &self,
        header_id: &str,
    ) -> Result<Option<StoredMessage>, StoreError> {
        match self.tx().get_id_entry(header_id)?.and_then(|e| e.message) {
            Some(id) => self.message(&id),
            None => Ok(None),
        }
    }

    pub fn raw(&self, id: &MessageId) -> Result<Option<Vec<u8>>, StoreError> {
        match self.message(id)? {
            Some(m) => Ok(Some(self.raw_bytes(&m)?)),
            None => Ok(None),
        }
    }

    /// The original bytes behind a record already read (saves reading the record again).
    pub fn raw_bytes(&self, stored: &StoredMessage) -> Result<Vec<u8>, StoreError> {
        let bytes = self.blobs.read(stored.raw)?;
        if !stored.raw.sealed {
            return Ok(bytes);
        }
        let packed = self.crypt.unseal(&blob_aad(&stored.message.id), &bytes)?;
        Ok(blobs::unpack(&packed)?)
    }

    /// A thread by its id, or by an id it had before a merge.
    /// A thread's record with its members (an id it was merged away from finds it).
    pub fn thread(&self, id: &ThreadId) -> Result<Option<ThreadRecord>, StoreError> {
        let tx = self.tx();
        let found = match tx.get_thread(id)? {
            Some(t) => Some(t),
            None => {
                let now = threads::resolve(&tx, id.clone())?;
                if &now == id {
                    return Ok(None);
                }
                tx.get_thread(&now)?
            }
        };
        found
            .map(|mut t| {
                t.messages = threads::members(&tx, &t.thread_id)?
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect();
                Ok(t)
            })
            .transpose()
    }

    /// Find a message by a unique prefix of its id (agents copy short ids).
    pub fn resolve_message_id(&self, prefix: &str) -> Result<Option<MessageId>, StoreError> {
        Ok(self.unique_key(S_MESSAGES, prefix)?.map(MessageId))
    }

    /// Find a thread by a unique prefix of its id, or by the whole id it had before a merge.
    pub fn resolve_thread_id(&self, prefix: &str) -> Result<Option<ThreadId>, StoreError> {
        if let Some(id) = self.unique_key(S_THREADS, prefix)? {
            return Ok(Some(ThreadId(id)));
        }
        Ok(self
            .thread(&ThreadId(prefix.to_string()))?
            .map(|t| t.thread_id))
    }

    /// Messages committed to the store but not yet to the index, with their log numbers
    /// (invariant: the store is the truth, the index is derived).
    pub fn pending_index(&self) -> Result<Vec<(u64, MessageId)>, StoreError> {
        self.pending_index_first(usize::MAX)
    }

    /// The first `limit` entries of [`Store::pending_index`] (a rebuild of a million messages
    /// goes through the log a slice at a time).
    pub fn pending_index_first(&self, limit: usize) -> Result<Vec<(u64, MessageId)>, StoreError> {
        let done = self.tx().counter(C_INDEXED)?;
        let start = key(S_LOG, &(done + 1).to_be_bytes());
        let end = key(S_LOG, &u64::MAX.to_be_bytes());
        self.tree
            .range(start..end)
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                Ok((be_u64(&k[2..]), codec::message_id_of(&v)?))
            })
            .collect()
    }

    /// Everything in the ingest log up to `seq` is in the index.
    pub fn mark_indexed_through(&self, seq: u64) -> Result<(), StoreError> {
        let mut tx = self.begin();
        if seq > tx.counter(C_INDEXED)? {
            tx.set_counter(C_INDEXED, seq);
            tx.apply()?;
        }
        Ok(())
    }

    /// Forget what the index holds: every log entry is pending again (a new, empty index).
    pub fn reset_indexed(&self) -> Result<(), StoreError> {
        let mut tx = self.begin();
        tx.set_counter(C_INDEXED, 0);
        tx.apply()?;
        self.flush()
    }

    /// The last number given out in the ingest log.
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        self.tx().counter(C_SEQ)
    }

    /// Every stored message id, in ingest order (for `reindex`).
    pub fn message_ids(&self) -> impl Iterator<Item = Result<MessageId, StoreError>> + '_ {
        self.tree
            .scan_prefix(key(S_LOG, b""))
            .values()
            .map(|v| codec::message_id_of(&v?))
    }

    /// The key in `space` starting with `prefix`, if exactly one does.
    fn unique_key(&self, space: u8, prefix: &str) -> Result<Option<String>, StoreError> {
        let mut it = self.tree.scan_prefix(key(space, prefix.as_bytes())).keys();
        let first = it.next().transpose()?;
        if it.next().transpose()?.is_some() {
            return Ok(None);
        }
        Ok(first.map(|k| strip(&k)))
    }

    fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        space: u8,
        k: &[u8],
    ) -> Result<Option<T>, StoreError> {
        let full = tx::full_key(&self.crypt, space, k);
        match self.tree.get(&full)? {
            Some(v) => Ok(Some(dec(&tx::open_value(
                &self.crypt,
                &self.blobs,
                &full,
                &v,
            )?)?)),
            None => Ok(None),
        }
    }
}

/// A new message's raw bytes into the blob log, packed (by its worker, or now) and sealed under
/// a new data key its record will share: erasing shreds both.
fn seal_raw(t: &mut Tx<'_>, blobs: &BlobLog, p: &Processed) -> Result<BlobRef, StoreError> {
    let slot = t.new_data_key(S_MESSAGES, p.message.id.0.as_bytes())?;
    let packed = match &p.packed {
        Some(packed) => std::borrow::Cow::Borrowed(packed),
        None => std::borrow::Cow::Owned(blobs::pack(&p.raw)),
    };
    let sealed = t.crypt.seal(slot, &blob_aad(&p.message.id), &packed)?;
    Ok(BlobRef {
        sealed: true,
        ..blobs.append(&sealed)?
    })
}

fn commit_one(
    t: &mut Tx<'_>,
    blobs: &BlobLog,
    p: &Processed,
    now: DateTime<Utc>,
) -> Result<CommitOutcome, StoreError> {
    let msg = &p.message;
    let key = msg.id.0.as_bytes();
    // Same bytes means same Message-ID, so when there is one, its `i/` entry answers both dedupe
    // questions with one lookup; only messages without a Message-ID need the `m/` check.
    let own_entry: Option<IdEntry> = match &msg.message_id {
        Some(mid) => t.get_id_entry(mid)?,
        None => {
            // An erased message must not come back when the source offers it again.
            if t.contains(S_MESSAGES, key)? || t.contains(S_ERASED, key)? {
                return Ok(CommitOutcome::Duplicate {
                    existing: msg.id.clone(),
                });
            }
            None
        }
    };
    if let Some(existing) = own_entry.as_ref().and_then(|e| e.message.clone()) {
        return Ok(CommitOutcome::Duplicate { existing });
    }

    let mut decision = p.decision.clone();
    // The registry first: it names the vendor the invoice record is kept under, and its guard
    // raises flags the review needs.
    trust::observe_vendor(t, msg, &mut decision, now)?;
    let (flag, invoice_thread) = record_invoice(t, msg, &decision)?;
    let outbound = &p.outbound;
    decision.flags.extend(flag);
    // The same invoice's thread, and the one a reply stored before this message named for it.
    let known: Vec<ThreadId> = invoice_thread
        .into_iter()
        .chain(own_entry.map(|e| e.thread))
        .collect();
    let (thread_id, mut thread) = threads::assign_thread(t, msg, &known)?;
    let new_thread = thread.count == 0;

    if thread.first_date.is_none()
        || msg
            .date
            .is_some_and(|d| thread.first_date.is_some_and(|f| d < f))
    {
        thread.first_date = msg.date;
        if !msg.subject.is_empty() {
            thread.subject = msg.subject.clone();
        }
    }
    if msg.date > thread.last_date {
        thread.last_date = msg.date;
    }
    let seq = t.bump(C_SEQ, 1)?;
    thread.count += 1;
    t.put_thread(&thread_id, &thread)?;
    threads::add_member(t, &thread_id, seq, &msg.id);

    let in_review = trust::open_review(t, msg, &mut decision, &thread_id.0, now)?;
    // Keep what cannot be re-derived cheaply; headers, body and attachment text come from `raw`.
    let stored = msg.without_derived_text();
    let flags = decision.flags.clone();
    // Only AR decisions can change a receivable: no field copies on the hot path otherwise.
    let ar_update = decision
        .category
        .starts_with("ar.")
        .then(|| (decision.field_strings(), decision.category.clone()));

    let record = StoredMessage {
        message: stored,
        decision,
        thread_id: thread_id.clone(),
        stored_at: now,
        seq,
        raw: seal_raw(t, blobs, p)?,
    };
    t.insert(S_MESSAGES, key, enc(&record)?);
    t.insert(S_LOG, &seq.to_be_bytes(), codec::message_id_value(&msg.id));
    t.bump(C_MESSAGES, 1)?;
    if new_thread {
        t.bump(C_THREADS, 1)?;
    }
    queue_replies(t, outbound, &msg.id, &thread_id, now, in_review)?;
    if let Some((fields, category)) = &ar_update {
        // Under review, the receivable only waits: the person's decision changes it.
        let defer = in_review.then_some(msg.id.0.as_str());
        update_receivable(t, fields, category, msg, defer)?;
    }
    Ok(CommitOutcome::Stored {
        thread: thread_id,
        flags,
        seq,
        stored_at: now,
    })
}

/// A message of this batch that a later one moved to another thread (threads merged): its
/// thread becomes the one the batch leaves it in, and its re-index entry is dropped. The
/// committer then indexes it once, under that thread, instead of under the first and again at
/// the next index commit: about 82 % of a 6k ingest's moves are of a message in the same batch.
/// (Should the index commit not happen, the catch-up indexes it from the store's record, which
/// names the same thread.)
fn settle_moved(t: &mut Tx<'_>, id: &MessageId, thread: &mut ThreadId) -> Result<(), StoreError> {
    if !t.discard_pending(trust::S_REINDEX, id.0.as_bytes()) {
        return Ok(());
    }
    if let Some(record) = t.get_json::<StoredMessage>(S_MESSAGES, id.0.as_bytes())? {
        *thread = record.thread_id;
    }
    Ok(())
}

/// Queue the decision's replies in the same batch, at most one per sender per thread per
/// period (an outbox id that exists is never queued twice: ids are deterministic).
fn queue_replies(
    t: &mut Tx<'_>,
    drafts: &[Draft],
    source: &MessageId,
    thread: &ThreadId,
    now: DateTime<Utc>,
    in_review: bool,
) -> Result<(), StoreError> {
    for d in drafts {
        if t.contains(S_OUTBOX, d.id.as_bytes())? {
            continue;
        }
        let rate_key = format!("{}\0{}", d.mail.to.to_ascii_lowercase(), thread.0);
        if let Some(last) = t.get_json::<DateTime<Utc>>(S_REPLIED, rate_key.as_bytes())?
            && now - last < chrono::Duration::hours(i64::from(d.period_hours))
        {
            tracing::debug!(to = %d.mail.to, "Already replied in this thread recently");
            continue;
        }
        let mut rec = OutboxRecord::new(d, &source.0, &thread.0, now);
        if in_review && rec.state == OutboxState::Queued {
            // Nothing goes out on a value a person has not checked.
            rec.state = OutboxState::Review;
        }
        t.insert(S_OUTBOX, d.id.as_bytes(), enc(&rec)?);
        t.insert(
            S_THREAD_REPLIES,
            format!("{}\0{}", thread.0, d.id).as_bytes(),
            Vec::new(),
        );
        t.insert(S_REPLIED, rate_key.as_bytes(), enc(&now)?);
    }
    Ok(())
}

/// AP invoices: remember vendor + number; the same vendor, number and amount seen again is a
/// duplicate invoice (a classic double-payment risk), a different amount is a conflict.
/// Returns the flag to raise and, for a repeat, the thread of the first message that carried it.
/// An AP invoice decision's (vendor, number, `v/` key). The vendor is identified by the
/// strongest thing known: the seller's VAT ID, else its IBAN (both exact, from an e-invoice or
/// the document), else the vendor's name, else the sender's address.
fn invoice_key(msg: &Message, d: &Decision) -> Option<(String, String, String)> {
    if d.category != "ap.invoice" {
        return None;
    }
    let number = d.fields.get("invoice_number")?.value.canonical();
    let field = |name: &str| d.fields.get(name).map(|f| f.value.canonical());
    let vendor = field("vendor")
        .or_else(|| msg.from.as_ref().and_then(|a| a.email.clone()))
        .unwrap_or_default();
    // The registry's vendor first: the same vendor whether its invoice came as XML with a VAT
    // ID or as a PDF with only an IBAN.
    let identity = match (&d.vendor_id, field("vendor_vat_id"), field("iban")) {
        (Some(id), _, _) => format!("vendor:{id}"),
        (None, Some(vat), _) => format!("vat:{}", fold(&vat)),
        (None, None, Some(iban)) => format!("iban:{}", fold(&iban)),
        (None, None, None) => fold(&vendor),
    };
    let key = format!("{identity}\0{}", fold(&number));
    Some((vendor, number, key))
}

fn record_invoice(
    t: &mut Tx<'_>,
    msg: &Message,
    d: &Decision,
) -> Result<(Option<String>, Option<ThreadId>), StoreError> {
    let Some((vendor, number, key)) = invoice_key(msg, d) else {
        return Ok((None, None));
    };
    let amount = d.fields.get("amount_total").and_then(|f| match &f.value {
        FieldValue::Amount { value, .. } => Some(value.normalize().to_string()),
        _ => None,
    });
    let currency = d.fields.get("currency").map(|f| f.value.canonical());
    match t.get(S_INVOICES, key.as_bytes())? {
        Some(v) => {
            let mut rec: InvoiceRecord = dec(&v)?;
            let same_amount = rec.amount == amount && rec.currency == currency;
            let first_thread = match rec.messages.first() {
                Some(first) => t
                    .get_json::<StoredMessage>(S_MESSAGES, first.0.as_bytes())?
                    .map(|m| m.thread_id),
                None => None,
            };
            rec.messages.push(msg.id.clone());
            t.insert(S_INVOICES, key.as_bytes(), enc(&rec)?);
            let flag = if same_amount {
                "duplicate_invoice"
            } else {
                "invoice_amount_conflict"
            };
            Ok((Some(flag.into()), first_thread))
        }
        None => {
            let rec = InvoiceRecord {
                vendor,
                invoice_number: number,
                amount,
                currency,
                due_date: d.fields.get("due_date").map(|f| f.value.canonical()),
                messages: vec![msg.id.clone()],
            };
            t.insert(S_INVOICES, key.as_bytes(), enc(&rec)?);
            t.bump(C_INVOICES, 1)?;
            Ok((None, None))
        }
    }
}

/// Case- and punctuation-insensitive key part: "ACME Supplies Ltd." == "acme supplies ltd".
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
