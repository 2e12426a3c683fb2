//! The sled store: the one place that writes state, and the source of truth (the index is derived).
//!
//! Every batch of processed messages is committed in **one sled transaction** across all trees:
//! the message, its raw bytes, its decision, the thread update, AP invoice records, counters and
//! the "not yet indexed" marker land together or not at all. Keys are documented in
//! docs/ARCHITECTURE.md.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use crate::model::{Decision, FieldValue, Message, MessageId, ThreadId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store database error: {0}")]
    Sled(#[from] sled::Error),
    #[error("store record could not be encoded or decoded: {0}")]
    Codec(#[from] serde_json::Error),
    #[error("the store at {path} is in use by another deskmail process (sled admits one process): {source}")]
    Locked { path: String, source: sled::Error },
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}

/// A message ready to commit: parsed, decided, with its original bytes.
#[derive(Debug, Clone)]
pub struct Processed {
    pub message: Message,
    pub decision: Decision,
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    Stored { thread: ThreadId, flags: Vec<String> },
    /// Already stored (same bytes, or same Message-ID header).
    Duplicate { existing: MessageId },
}

/// What the store keeps per message. Body and attachment text are derived from `raw` on demand.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMessage {
    pub message: Message,
    pub thread_id: ThreadId,
    pub stored_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ThreadRecord {
    pub thread_id: ThreadId,
    pub subject: String,
    pub first_date: Option<DateTime<Utc>>,
    pub last_date: Option<DateTime<Utc>>,
    /// Message ids in the order they were stored.
    pub messages: Vec<MessageId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SubjectEntry {
    thread: ThreadId,
    /// Created by a reply/forward that could not be threaded by references: an original that
    /// arrives later with the same subject joins it.
    by_reply: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvoiceRecord {
    pub vendor: String,
    pub invoice_number: String,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub due_date: Option<String>,
    /// Every message that carried this invoice, first one first.
    pub messages: Vec<MessageId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RejectionRecord {
    pub origin: String,
    pub reason: String,
    pub size: u64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub messages: u64,
    pub threads: u64,
    pub invoices: u64,
    pub rejected: u64,
}

// Tree names, in the order of `Store::tx_trees`.
const T_MESSAGES: usize = 0;
const T_RAW: usize = 1;
const T_DECISIONS: usize = 2;
const T_MSGIDS: usize = 3;
const T_THREAD_REFS: usize = 4;
const T_THREADS: usize = 5;
const T_SUBJECTS: usize = 6;
const T_INVOICES: usize = 7;
const T_META: usize = 8;
const T_INDEX_PENDING: usize = 9;
const TREE_NAMES: [&str; 10] = [
    "messages", "raw", "decisions", "msgids", "thread_refs", "threads", "subjects", "invoices", "meta",
    "index_pending",
];

const C_MESSAGES: &[u8] = b"count:messages";
const C_THREADS: &[u8] = b"count:threads";
const C_INVOICES: &[u8] = b"count:invoices";
const C_REJECTED: &[u8] = b"count:rejected";

pub struct Store {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    rejections: sled::Tree,
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn enc<T: Serialize>(v: &T) -> TxResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| ConflictableTransactionError::Abort(StoreError::Codec(e)))
}

fn dec<T: for<'de> Deserialize<'de>>(b: &[u8]) -> TxResult<T> {
    serde_json::from_slice(b).map_err(|e| ConflictableTransactionError::Abort(StoreError::Codec(e)))
}

fn bump(meta: &TransactionalTree, key: &[u8], by: u64) -> TxResult<()> {
    let cur = meta.get(key)?.map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])));
    meta.insert(key, &(cur + by).to_be_bytes())?;
    Ok(())
}

impl Store {
    /// Open (or create) the store in `dir`. `cache_bytes` bounds sled's page cache.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|e| match e {
                sled::Error::Io(ref io) if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock") => {
                    StoreError::Locked { path: dir.display().to_string(), source: e }
                }
                other => StoreError::Sled(other),
            })?;
        let trees = TREE_NAMES.iter().map(|n| db.open_tree(n)).collect::<Result<Vec<_>, _>>()?;
        let rejections = db.open_tree("rejections")?;
        Ok(Store { db, trees, rejections })
    }

    /// Commit a batch atomically. Outcomes are in input order.
    pub fn commit_batch(&self, batch: &[Processed]) -> Result<Vec<CommitOutcome>, StoreError> {
        let trees: Vec<&sled::Tree> = self.trees.iter().collect();
        let now = Utc::now();
        let outcomes = trees.as_slice().transaction(|t| {
            let mut out = Vec::with_capacity(batch.len());
            for p in batch {
                out.push(commit_one(t, p, now)?);
            }
            Ok(out)
        })?;
        Ok(outcomes)
    }

    /// Make everything committed so far durable on disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Record that some input was rejected. Keyed by content, so the same bad input counts once.
    /// Returns false when it was already recorded.
    pub fn record_rejection(&self, content_id: &MessageId, rec: &RejectionRecord) -> Result<bool, StoreError> {
        let key = content_id.0.as_bytes();
        let value = serde_json::to_vec(rec)?;
        let meta = &self.trees[T_META];
        let fresh = (&self.rejections, meta).transaction(|(rej, meta)| {
            if rej.get(key)?.is_some() {
                return Ok(false);
            }
            rej.insert(key, value.as_slice())?;
            bump(meta, C_REJECTED, 1)?;
            Ok(true)
        });
        fresh.map_err(|e: TransactionError<StoreError>| e.into())
    }

    pub fn rejections(&self) -> Result<Vec<(String, RejectionRecord)>, StoreError> {
        self.rejections
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                Ok((String::from_utf8_lossy(&k).into_owned(), serde_json::from_slice(&v)?))
            })
            .collect()
    }

    pub fn stats(&self) -> Result<Stats, StoreError> {
        let get = |k: &[u8]| -> Result<u64, StoreError> {
            Ok(self.trees[T_META].get(k)?.map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))))
        };
        Ok(Stats { messages: get(C_MESSAGES)?, threads: get(C_THREADS)?, invoices: get(C_INVOICES)?, rejected: get(C_REJECTED)? })
    }

    pub fn message(&self, id: &MessageId) -> Result<Option<StoredMessage>, StoreError> {
        self.get_json(T_MESSAGES, id.0.as_bytes())
    }

    pub fn decision(&self, id: &MessageId) -> Result<Option<Decision>, StoreError> {
        self.get_json(T_DECISIONS, id.0.as_bytes())
    }

    pub fn raw(&self, id: &MessageId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.trees[T_RAW].get(id.0.as_bytes())?.map(|v| v.to_vec()))
    }

    pub fn thread(&self, id: &ThreadId) -> Result<Option<ThreadRecord>, StoreError> {
        self.get_json(T_THREADS, id.0.as_bytes())
    }

    /// Find a message by a unique prefix of its id (agents copy short ids).
    pub fn resolve_message_id(&self, prefix: &str) -> Result<Option<MessageId>, StoreError> {
        let mut it = self.trees[T_MESSAGES].scan_prefix(prefix.as_bytes()).keys();
        let first = it.next().transpose()?;
        if it.next().transpose()?.is_some() {
            return Ok(None);
        }
        Ok(first.map(|k| MessageId(String::from_utf8_lossy(&k).into_owned())))
    }

    /// Find a thread by a unique prefix of its id.
    pub fn resolve_thread_id(&self, prefix: &str) -> Result<Option<ThreadId>, StoreError> {
        let mut it = self.trees[T_THREADS].scan_prefix(prefix.as_bytes()).keys();
        let first = it.next().transpose()?;
        if it.next().transpose()?.is_some() {
            return Ok(None);
        }
        Ok(first.map(|k| ThreadId(String::from_utf8_lossy(&k).into_owned())))
    }

    pub fn invoices(&self) -> Result<Vec<InvoiceRecord>, StoreError> {
        self.trees[T_INVOICES].iter().values().map(|v| Ok(serde_json::from_slice(&v?)?)).collect()
    }

    /// Messages committed to the store but not yet to the index (invariant: the store is the truth).
    pub fn pending_index(&self) -> Result<Vec<MessageId>, StoreError> {
        self.trees[T_INDEX_PENDING]
            .iter()
            .keys()
            .map(|k| Ok(MessageId(String::from_utf8_lossy(&k?).into_owned())))
            .collect()
    }

    pub fn mark_indexed(&self, ids: &[MessageId]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for id in ids {
            batch.remove(id.0.as_bytes());
        }
        self.trees[T_INDEX_PENDING].apply_batch(batch)?;
        Ok(())
    }

    /// Every stored message id (for `reindex`).
    pub fn message_ids(&self) -> impl Iterator<Item = Result<MessageId, StoreError>> + '_ {
        self.trees[T_MESSAGES].iter().keys().map(|k| Ok(MessageId(String::from_utf8_lossy(&k?).into_owned())))
    }

    fn get_json<T: for<'de> Deserialize<'de>>(&self, tree: usize, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.trees[tree].get(key)? {
            Some(v) => Ok(Some(serde_json::from_slice(&v)?)),
            None => Ok(None),
        }
    }
}

fn commit_one(t: &[TransactionalTree], p: &Processed, now: DateTime<Utc>) -> TxResult<CommitOutcome> {
    let msg = &p.message;
    let key = msg.id.0.as_bytes();
    if t[T_MESSAGES].get(key)?.is_some() {
        return Ok(CommitOutcome::Duplicate { existing: msg.id.clone() });
    }
    if let Some(mid) = &msg.message_id {
        if let Some(existing) = t[T_MSGIDS].get(mid.as_bytes())? {
            return Ok(CommitOutcome::Duplicate { existing: MessageId(String::from_utf8_lossy(&existing).into_owned()) });
        }
        t[T_MSGIDS].insert(mid.as_bytes(), key)?;
    }

    let mut decision = p.decision.clone();
    let (flag, invoice_thread) = record_invoice(t, msg, &decision)?;
    decision.flags.extend(flag);
    let (thread_id, new_thread) = assign_thread(t, msg, invoice_thread)?;

    // Thread record.
    let mut thread: ThreadRecord = match t[T_THREADS].get(thread_id.0.as_bytes())? {
        Some(v) => dec(&v)?,
        None => ThreadRecord { thread_id: thread_id.clone(), subject: msg.subject.clone(), ..ThreadRecord::default() },
    };
    if thread.first_date.is_none() || msg.date.is_some_and(|d| thread.first_date.is_some_and(|f| d < f)) {
        thread.first_date = msg.date;
        if !msg.subject.is_empty() {
            thread.subject = msg.subject.clone();
        }
    }
    if msg.date > thread.last_date {
        thread.last_date = msg.date;
    }
    thread.messages.push(msg.id.clone());
    t[T_THREADS].insert(thread_id.0.as_bytes(), enc(&thread)?)?;

    // The message without derived text (re-parsed from raw when shown).
    let mut stored = msg.clone();
    stored.body_text = String::new();
    for a in &mut stored.attachments {
        a.text = None;
    }
    let record = StoredMessage { message: stored, thread_id: thread_id.clone(), stored_at: now };
    t[T_MESSAGES].insert(key, enc(&record)?)?;
    t[T_RAW].insert(key, p.raw.as_slice())?;
    t[T_DECISIONS].insert(key, enc(&decision)?)?;
    t[T_INDEX_PENDING].insert(key, &[])?;
    bump(&t[T_META], C_MESSAGES, 1)?;
    if new_thread {
        bump(&t[T_META], C_THREADS, 1)?;
    }
    Ok(CommitOutcome::Stored { thread: thread_id, flags: decision.flags })
}

/// Thread by references first, then by the message's own id being referenced by a stored reply,
/// then by normalised subject; otherwise start a thread keyed by the root reference.
/// `invoice_thread`: the thread of an earlier message carrying the same invoice (a resent or
/// duplicate invoice belongs with its original, whatever its headers say).
fn assign_thread(t: &[TransactionalTree], msg: &Message, invoice_thread: Option<ThreadId>) -> TxResult<(ThreadId, bool)> {
    let refs = &t[T_THREAD_REFS];
    let lookup = |id: &str| -> TxResult<Option<ThreadId>> {
        Ok(refs.get(id.as_bytes())?.map(|v| ThreadId(String::from_utf8_lossy(&v).into_owned())))
    };
    let mut found = invoice_thread;
    for id in msg.in_reply_to.iter().chain(msg.references.iter().rev()).chain(msg.message_id.iter()) {
        if found.is_some() {
            break;
        }
        if let Some(tid) = lookup(id)? {
            found = Some(tid);
            break;
        }
    }
    let subject_key = msg.normalized_subject.as_bytes();
    let subject_usable = msg.normalized_subject.chars().filter(|c| c.is_alphanumeric()).count() >= 6;
    if found.is_none() && subject_usable {
        if let Some(v) = t[T_SUBJECTS].get(subject_key)? {
            let entry: SubjectEntry = dec(&v)?;
            if msg.subject_is_reply || entry.by_reply {
                found = Some(entry.thread);
            }
        }
    }
    let (tid, new_thread) = match found {
        Some(tid) => (tid, false),
        None => {
            let root = msg
                .references
                .first()
                .or(msg.in_reply_to.first())
                .or(msg.message_id.as_ref())
                .cloned()
                .unwrap_or_else(|| msg.id.0.clone());
            let tid = ThreadId::of_key(&root);
            // A reply stored earlier may already have created this thread.
            let exists = t[T_THREADS].get(tid.0.as_bytes())?.is_some();
            (tid, !exists)
        }
    };
    for id in msg.message_id.iter().chain(&msg.in_reply_to).chain(&msg.references) {
        if refs.get(id.as_bytes())?.is_none() {
            refs.insert(id.as_bytes(), tid.0.as_bytes())?;
        }
    }
    if subject_usable && t[T_SUBJECTS].get(subject_key)?.is_none() {
        let by_reply = msg.subject_is_reply;
        t[T_SUBJECTS].insert(subject_key, enc(&SubjectEntry { thread: tid.clone(), by_reply })?)?;
    }
    Ok((tid, new_thread))
}

/// AP invoices: remember vendor + number; the same vendor, number and amount seen again is a
/// duplicate invoice (a classic double-payment risk), a different amount is a conflict.
/// Returns the flag to raise and, for a repeat, the thread of the first message that carried it.
fn record_invoice(t: &[TransactionalTree], msg: &Message, d: &Decision) -> TxResult<(Option<String>, Option<ThreadId>)> {
    if d.category != "ap.invoice" {
        return Ok((None, None));
    }
    let Some(number) = d.fields.get("invoice_number").map(|f| f.value.canonical()) else {
        return Ok((None, None));
    };
    let vendor = d
        .fields
        .get("vendor")
        .map(|f| f.value.canonical())
        .or_else(|| msg.from.as_ref().and_then(|a| a.email.clone()))
        .unwrap_or_default();
    let amount = d.fields.get("amount_total").and_then(|f| match &f.value {
        FieldValue::Amount { value, .. } => Some(value.normalize().to_string()),
        _ => None,
    });
    let currency = d.fields.get("currency").map(|f| f.value.canonical());
    let key = format!("{}\0{}", fold(&vendor), fold(&number));
    let invoices = &t[T_INVOICES];
    match invoices.get(key.as_bytes())? {
        Some(v) => {
            let mut rec: InvoiceRecord = dec(&v)?;
            let same_amount = rec.amount == amount && rec.currency == currency;
            let first_thread = match rec.messages.first() {
                Some(first) => t[T_MESSAGES].get(first.0.as_bytes())?.map(|v| dec::<StoredMessage>(&v)).transpose()?.map(|m| m.thread_id),
                None => None,
            };
            rec.messages.push(msg.id.clone());
            invoices.insert(key.as_bytes(), enc(&rec)?)?;
            let flag = if same_amount { "duplicate_invoice" } else { "invoice_amount_conflict" };
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
            invoices.insert(key.as_bytes(), enc(&rec)?)?;
            bump(&t[T_META], C_INVOICES, 1)?;
            Ok((None, None))
        }
    }
}

/// Case- and punctuation-insensitive key part: "ACME Supplies Ltd." == "acme supplies ltd".
fn fold(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests;
