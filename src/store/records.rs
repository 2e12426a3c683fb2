//! The records the store keeps and the values its methods return.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::BlobRef;
use crate::model::{Decision, Message, MessageId, ThreadId};

/// What the store keeps per message: the parsed message without what is re-derived from the raw
/// bytes on demand (headers, body and attachment text), its decision and its thread.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMessage {
    pub message: Message,
    pub decision: Decision,
    pub thread_id: ThreadId,
    pub stored_at: DateTime<Utc>,
    /// Position in the ingest log.
    pub seq: u64,
    /// Where the original bytes are in the blob log.
    pub raw: BlobRef,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ThreadRecord {
    pub thread_id: ThreadId,
    pub subject: String,
    pub first_date: Option<DateTime<Utc>>,
    pub last_date: Option<DateTime<Utc>>,
    /// How many messages the thread has. Their ids are records of their own (`j/`), not part
    /// of this one: a thread record is rewritten with every message it gains, and with the ids
    /// in it a thread of n messages cost n² bytes of writes (issue 14).
    #[serde(default)]
    pub count: u64,
    /// The thread holds a subject's reference-less replies and is named after that subject
    /// (`threads::subject_thread_id`): such a name comes before any Message-ID's when threads
    /// merge, so the originals that keep joining it never rename it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_subject: bool,
    /// Message ids in the order they were stored: filled by [`Store::thread`] from the `j/`
    /// records, never stored in this one.
    #[serde(skip)]
    pub messages: Vec<MessageId>,
}

/// A Message-ID seen on a stored message or in its In-Reply-To/References.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct IdEntry {
    pub(super) thread: ThreadId,
    /// The stored message with this Message-ID, once one arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) message: Option<MessageId>,
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

/// What erasing one message did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasedMessage {
    pub id: MessageId,
    pub thread_id: ThreadId,
    pub thread_removed: bool,
    /// AP invoice records kept (pseudonymised) that this message carried.
    pub invoices_kept: usize,
}

/// What [`Store::erase_contact_records`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContactErasure {
    /// Ids of the outbox records removed (addressed to the contact).
    pub outbox_removed: Vec<String>,
    /// Ids of the outbox records kept with the address replaced by its pseudonym.
    pub outbox_redacted: Vec<String>,
    pub receivables_pseudonymised: usize,
}

/// How far one IMAP folder has been read: every UID up to `last_uid` under this `uid_validity`
/// is committed. Written in the same batch as the messages it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderCursor {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// What rides along with a batch of messages, in the same atomic write.
#[derive(Debug, Clone, Default)]
pub struct BatchExtras {
    /// `(folder key, cursor)`: the folder key is `MAILBOX/FOLDER`.
    pub cursor: Option<(String, FolderCursor)>,
    /// Input that could not be parsed, keyed by content (counted once).
    pub rejections: Vec<(MessageId, RejectionRecord)>,
}

/// Encryption at rest, for `deskmail keys status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyStatus {
    pub master_key: String,
    pub data_keys: u64,
    pub destroyed: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub messages: u64,
    pub threads: u64,
    pub invoices: u64,
    pub rejected: u64,
}
