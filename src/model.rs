//! Plain data shared by every stage: no I/O here.
//!
//! `RawMail` enters the pipeline, `parse` turns it into a [`Message`], `rules` turns that into a
//! [`Decision`], and `store` commits both. Ids are content-derived so the same input always maps to
//! the same key (idempotent ingest).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Bytes handed over by a source, with where they came from.
#[derive(Debug, Clone)]
pub struct RawMail {
    /// Logical mailbox name (e.g. "ap", or the directory an ingest came from).
    pub mailbox: String,
    /// Where the bytes came from: a file path, `path#N` inside an mbox, or `imap:UID`.
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// Content id of a stored message: the first 16 bytes of the SHA-256 of its raw bytes, hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    pub fn of_bytes(bytes: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(bytes);
        MessageId(hex::encode(&digest[..16]))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an erased person's address becomes in records kept for the books: `erased-` and the
/// first 4 bytes of its SHA-256, hex. Stable, so records about the same person still group, and
/// never an address (no `@`), so nothing is ever sent to it.
pub fn pseudonym(address: &str) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "erased-{}",
        &hex::encode(Sha256::digest(address.as_bytes()))[..8]
    )
}

/// Is this a [`pseudonym`] rather than an address?
pub fn is_pseudonym(s: &str) -> bool {
    s.starts_with("erased-") && !s.contains('@')
}

/// Thread id: the first 8 bytes of the SHA-256 of the thread's root key, hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ThreadId(pub String);

impl ThreadId {
    pub fn of_key(key: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(key.as_bytes());
        ThreadId(hex::encode(&digest[..8]))
    }

    /// The id as a number, for tantivy fast fields.
    pub fn as_u64(&self) -> u64 {
        u64::from_str_radix(&self.0, 16).unwrap_or(0)
    }
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, &self.email) {
            (Some(n), Some(e)) => write!(f, "{n} <{e}>"),
            (Some(n), None) => f.write_str(n),
            (None, Some(e)) => f.write_str(e),
            (None, None) => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    /// Text extracted from the attachment (PDF or text parts), bounded in size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why no text could be extracted, when extraction was attempted and failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_error: Option<String>,
}

impl Attachment {
    fn clone_without_text(&self) -> Attachment {
        Attachment {
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            text: None,
            text_error: self.text_error.clone(),
        }
    }
}

/// A parsed message: everything later stages need, owned, no borrowed parser state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub mailbox: String,
    pub origin: String,
    pub size: u64,
    /// The Message-ID header without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub subject: String,
    /// Subject without Re:/AW:/Fwd:/WG:/TR:/Doorst: prefixes, lowercased, whitespace folded.
    pub normalized_subject: String,
    /// Whether the subject carried a reply or forward prefix.
    pub subject_is_reply: bool,
    /// Whether the outermost prefix is a forward (Fwd:, WG:, TR:, Doorst:): the quoted message
    /// is then the content, not history.
    #[serde(default)]
    pub subject_is_forward: bool,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub date: Option<DateTime<Utc>>,
    /// Headers in order, names as written, values unfolded and decoded.
    pub headers: Vec<(String, String)>,
    /// Plain-text body; for HTML-only messages, the HTML rendered to text.
    pub body_text: String,
    /// For replies: the body without the quoted history (`>` lines, "-----Original Message-----",
    /// "On … wrote:" and what follows). None when nothing was quoted. Rules read this as `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_new: Option<String>,
    pub body_was_html: bool,
    pub attachments: Vec<Attachment>,
    /// Non-fatal problems met while parsing (broken boundary, undeclared charset, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Message {
    /// A copy without what is re-derived from the raw bytes (headers, body and attachment text),
    /// built field by field so the large parts are never copied.
    pub fn without_derived_text(&self) -> Message {
        Message {
            id: self.id.clone(),
            mailbox: self.mailbox.clone(),
            origin: self.origin.clone(),
            size: self.size,
            message_id: self.message_id.clone(),
            in_reply_to: self.in_reply_to.clone(),
            references: self.references.clone(),
            subject: self.subject.clone(),
            normalized_subject: self.normalized_subject.clone(),
            subject_is_reply: self.subject_is_reply,
            subject_is_forward: self.subject_is_forward,
            from: self.from.clone(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            date: self.date,
            headers: Vec::new(),
            body_text: String::new(),
            body_new: None,
            body_was_html: self.body_was_html,
            attachments: self
                .attachments
                .iter()
                .map(Attachment::clone_without_text)
                .collect(),
            warnings: self.warnings.clone(),
        }
    }

    /// What this message itself says: the body without quoted history.
    pub fn own_text(&self) -> &str {
        self.body_new.as_deref().unwrap_or(&self.body_text)
    }

    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A typed, normalised extracted value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldValue {
    Text {
        value: String,
    },
    Amount {
        value: Decimal,
        currency: Option<String>,
    },
    Date {
        value: NaiveDate,
    },
    Days {
        value: u32,
    },
    Currency {
        value: String,
    },
}

impl FieldValue {
    /// The canonical string form used in JSON output and rule examples.
    pub fn canonical(&self) -> String {
        match self {
            FieldValue::Text { value } | FieldValue::Currency { value } => value.clone(),
            FieldValue::Amount { value, .. } => value.to_string(),
            FieldValue::Date { value } => value.format("%Y-%m-%d").to_string(),
            FieldValue::Days { value } => value.to_string(),
        }
    }
}

/// Where a field came from: the rule, the source part, and the text that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub rule: String,
    /// "subject", "body", "attachment:NAME", "from_name", "header:NAME" or "derived".
    pub source: String,
    /// The matched text (bounded), so an agent sees why.
    pub matched: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedField {
    pub value: FieldValue,
    pub provenance: Provenance,
}

/// Something the daemon should do for a message; carried out by later stages (outbox, source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Reply { template: String },
    MoveTo { folder: String },
    Flag { keyword: String },
    Notify { to: String },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Reply { template } => write!(f, "reply with template {template:?}"),
            Action::MoveTo { folder } => write!(f, "move to folder {folder:?}"),
            Action::Flag { keyword } => write!(f, "flag with keyword {keyword:?}"),
            Action::Notify { to } => write!(f, "notify {to}"),
        }
    }
}

/// A rule that matched, with the conditions that made it match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMatch {
    pub rule: String,
    pub file: String,
    /// Human-readable reasons, e.g. `subject matches "(?i)\binvoice\b"`.
    pub why: Vec<String>,
}

pub const CATEGORY_OTHER: &str = "other";

/// What the rules made of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub category: String,
    /// The rule that set the category (None for "other").
    pub category_rule: Option<String>,
    pub fields: BTreeMap<String, ExtractedField>,
    pub matched_rules: Vec<RuleMatch>,
    pub actions: Vec<Action>,
    /// Flags raised at store time, e.g. "duplicate_invoice".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Version (content hash) of the rule set that made this decision.
    pub rules_version: String,
}

impl Decision {
    /// Fields as canonical strings (currency included), for JSON output and examples.
    pub fn field_strings(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|(k, f)| (k.clone(), f.value.canonical()))
            .collect()
    }
}
