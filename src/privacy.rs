//! Data-protection requests: everything held about an email address, exported in one portable
//! archive or erased; and the retention purge, which uses the same erasure.
//!
//! "About an address" means every stored message it sent or received (From, To, Cc), every
//! outbox record addressed to it or naming it (replies, payment reminders, dispute notices) and
//! every imported receivable billed to it. Erasure removes those messages from the store, wipes
//! their raw bytes and drops them from the index, and removes the outbox records addressed to
//! it; records that only name it (a dispute notice to the team) keep a pseudonym instead. AP
//! invoice records and receivables stay for the books (numbers, amounts, dates), pseudonymised,
//! and an erased customer gets no more reminders. Mail already handed to the SMTP server (or
//! written by the file transport) is outside deskmail.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::{info, warn};

use crate::index::MailIndex;
use crate::model::MessageId;
use crate::store::{ErasedMessage, Store, StoreError, StoredMessage};

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error("cannot build the archive: {0}")]
    Archive(#[from] std::io::Error),
    #[error("{0:?} is not an email address")]
    NotAnAddress(String),
    #[error("updating the index: {0}")]
    Commit(#[from] crate::intake::CommitError),
    #[error("updating the index: {0}")]
    Reindex(#[from] crate::pipeline::PipelineError),
}

fn check_address(address: &str) -> Result<String, PrivacyError> {
    let a = address.trim().to_lowercase();
    if a.len() < 3 || !a.contains('@') || a.contains(char::is_whitespace) {
        return Err(PrivacyError::NotAnAddress(address.to_string()));
    }
    Ok(a)
}

/// Does this message involve the address (From, To or Cc)?
fn involves(m: &StoredMessage, address: &str) -> bool {
    let msg = &m.message;
    msg.from.iter().chain(&msg.to).chain(&msg.cc).any(|a| {
        a.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(address))
    })
}

/// Where a request finds the messages of an address.
#[derive(Clone, Copy)]
pub enum Lookup<'a> {
    /// The search index's address keywords ([`MailIndex::ids_with_address`]) and the messages
    /// stored since its last commit, each checked against its stored record: the request
    /// reads the person's mail, not every stored message (13 s at a million). When the index
    /// does not account for every stored message (it is being rebuilt, or was lost), every
    /// stored message is read instead.
    Index(&'a MailIndex),
    /// Every stored message is read.
    Scan,
}

/// Every stored message involving the address.
pub fn messages_of(
    store: &Store,
    lookup: Lookup<'_>,
    address: &str,
) -> Result<Vec<StoredMessage>, PrivacyError> {
    let address = check_address(address)?;
    let candidates = match lookup {
        Lookup::Index(index) => indexed_candidates(store, index, &address)?,
        Lookup::Scan => None,
    };
    let mut found = Vec::new();
    match candidates {
        Some(ids) => {
            for id in ids {
                if let Some(m) = store.message(&id)?
                    && involves(&m, &address)
                {
                    found.push(m);
                }
            }
        }
        None => {
            for m in store.stored_messages() {
                let m = m?;
                if involves(&m, &address) {
                    found.push(m);
                }
            }
        }
    }
    found.sort_by_key(|m| m.seq);
    Ok(found)
}

/// The messages that may involve `address` by the index (every message holding its keyword,
/// plus every message the store holds beyond the index's mark), each once; `None` when the
/// address has no keyword or the index cannot answer ([`by_index`]).
fn indexed_candidates(
    store: &Store,
    index: &MailIndex,
    address: &str,
) -> Result<Option<Vec<MessageId>>, PrivacyError> {
    Ok(by_index(store, index, || index.ids_with_address(address))?.map(|c| c.ids))
}

/// What the index names for a request, with every message the store holds beyond its mark.
struct Candidates {
    /// Each once, in id order.
    ids: Vec<MessageId>,
    /// The messages stored when the request began.
    stored: u64,
}

/// The index's answer (`find`) and the messages stored beyond its mark; `None` when `find` has
/// none, when the index holds fewer documents than the messages stored up to its mark (it was
/// lost or damaged), or when most messages are beyond its mark (a rebuild under way: reading
/// them in order costs less). The caller checks each candidate against its stored record.
fn by_index(
    store: &Store,
    index: &MailIndex,
    find: impl FnOnce() -> Result<Option<Vec<MessageId>>, crate::index::IndexError>,
) -> Result<Option<Candidates>, PrivacyError> {
    // In this order (stored count, then the mark, then the index), a message stored before
    // the request is either at or below the mark, so committed to the index before the
    // index is read, or beyond it and in `pending`; the ingest going on meanwhile only adds.
    let stored = store.stats()?.messages;
    // An erasure removes its message's log entry with the message.
    let pending: Vec<MessageId> = store
        .pending_index()?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    if pending.len() as u64 > stored / 2 {
        return Ok(None);
    }
    let Some(mut ids) = find()? else {
        return Ok(None);
    };
    let indexed = index.num_docs();
    if indexed + (pending.len() as u64) < stored {
        warn!(
            indexed,
            not_yet_indexed = pending.len(),
            stored,
            "The index does not account for every stored message; reading them all"
        );
        return Ok(None);
    }
    ids.extend(pending);
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(Candidates { ids, stored }))
}

/// What a data-protection export holds about an address, found (one pass over the records it
/// needs) before the archive is written: the caller knows how many messages it has before the
/// first byte goes out.
pub struct Export {
    address: String,
    exported_at: DateTime<Utc>,
    messages: Vec<StoredMessage>,
    /// The AP invoice records, receivables and outbox records (a person's few).
    invoices: serde_json::Value,
    receivables: serde_json::Value,
    outbox: serde_json::Value,
}

/// `export.json`, borrowed from an [`Export`] as it is written (a tree of JSON values of every
/// message record was five times the size of the file).
#[derive(Serialize)]
struct Summary<'a> {
    subject: &'a str,
    exported_at: DateTime<Utc>,
    messages: Vec<MessageEntry<'a>>,
    invoices: &'a serde_json::Value,
    receivables: &'a serde_json::Value,
    outbox: &'a serde_json::Value,
}

#[derive(Serialize)]
struct MessageEntry<'a> {
    id: &'a MessageId,
    thread_id: &'a crate::model::ThreadId,
    stored_at: DateTime<Utc>,
    message: &'a crate::model::Message,
    decision: &'a crate::model::Decision,
    raw: String,
}

impl Export {
    /// Everything held about `address`: its messages (see [`messages_of`]), the AP invoice
    /// records they carried, the receivables billed to it and the outbox records sent or
    /// queued to it or naming it.
    pub fn of(store: &Store, lookup: Lookup<'_>, address: &str) -> Result<Export, PrivacyError> {
        let messages = messages_of(store, lookup, address)?;
        let address = check_address(address)?;
        let receivables: Vec<_> = store
            .receivables()?
            .into_iter()
            .filter(|r| r.customer_email.eq_ignore_ascii_case(&address))
            .collect();
        let outbox: Vec<_> = store
            .outbox_list()?
            .into_iter()
            .filter(|r| r.mail.concerns(&address))
            .collect();
        let ids: std::collections::HashSet<&MessageId> =
            messages.iter().map(|m| &m.message.id).collect();
        let invoices: Vec<_> = store
            .invoices()?
            .into_iter()
            .filter(|i| i.messages.iter().any(|m| ids.contains(m)))
            .collect();
        fn json(records: impl Serialize) -> Result<serde_json::Value, std::io::Error> {
            serde_json::to_value(records).map_err(std::io::Error::other)
        }
        Ok(Export {
            address,
            exported_at: Utc::now(),
            invoices: json(invoices)?,
            receivables: json(receivables)?,
            outbox: json(outbox)?,
            messages,
        })
    }

    /// How many messages the archive holds.
    pub fn messages(&self) -> usize {
        self.messages.len()
    }

    /// The archive, a tar written into `out` as it is made (one message's bytes in memory at a
    /// time; made in memory, a contact's 24,769 messages took 726 MiB, docs/PERFORMANCE.md):
    /// `export.json` (the records above) and `messages/<id>.eml` (the original bytes).
    pub fn write_to(&self, store: &Store, out: impl std::io::Write) -> Result<(), PrivacyError> {
        let mut tar = tar::Builder::new(out);
        let mut add = |name: &str, bytes: &[u8]| -> std::io::Result<()> {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o600);
            h.set_mtime(Utc::now().timestamp().max(0) as u64);
            h.set_cksum();
            tar.append_data(&mut h, name, bytes)
        };
        let summary = Summary {
            subject: &self.address,
            exported_at: self.exported_at,
            messages: self
                .messages
                .iter()
                .map(|m| MessageEntry {
                    id: &m.message.id,
                    thread_id: &m.thread_id,
                    stored_at: m.stored_at,
                    message: &m.message,
                    decision: &m.decision,
                    raw: format!("messages/{}.eml", m.message.id),
                })
                .collect(),
            invoices: &self.invoices,
            receivables: &self.receivables,
            outbox: &self.outbox,
        };
        add(
            "export.json",
            &serde_json::to_vec_pretty(&summary).map_err(std::io::Error::other)?,
        )?;
        for m in &self.messages {
            add(
                &format!("messages/{}.eml", m.message.id),
                &store.raw_bytes(m)?,
            )?;
        }
        tar.into_inner()?.flush()?;
        Ok(())
    }
}

/// What an erasure or purge did: counts and ids, never content.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ErasureReport {
    pub erased: usize,
    pub message_ids: Vec<MessageId>,
    pub threads_removed: usize,
    pub invoices_kept_pseudonymised: usize,
    /// Outbox records addressed to the address, removed (erasure requests only).
    pub outbox_removed: usize,
    /// Outbox records that named it, kept with its pseudonym instead (erasure requests only).
    pub outbox_redacted: usize,
    /// Receivables billed to the address, kept with it pseudonymised (erasure requests only).
    pub receivables_pseudonymised: usize,
}

impl ErasureReport {
    fn add(&mut self, e: ErasedMessage) {
        self.erased += 1;
        self.threads_removed += usize::from(e.thread_removed);
        self.invoices_kept_pseudonymised += e.invoices_kept;
        self.message_ids.push(e.id);
    }
}

/// Who removes documents from the index: the index itself (taking its one writer for the
/// moment), or the running daemon's intake, which holds that writer.
/// Whoever holds the index's one writer: the index itself (no daemon running) or the daemon's
/// intake. Erasure removes documents through it; a correction in review re-indexes through it.
pub trait IndexUpdates: Send + Sync {
    fn unindex(&self, ids: &[MessageId]) -> Result<(), PrivacyError>;
    /// Index what the store's log holds beyond the index's mark (a corrected message).
    fn catch_up(&self, store: &Store) -> Result<(), PrivacyError>;
}

impl IndexUpdates for MailIndex {
    fn unindex(&self, ids: &[MessageId]) -> Result<(), PrivacyError> {
        let mut writer = self.writer(crate::pipeline::INDEX_HEAP_BYTES)?;
        let held = writer.segments_holding(ids)?;
        for id in ids {
            writer.delete(id)?;
        }
        writer.purge_deleted(&held)?;
        writer.finish()?;
        self.reload()?;
        Ok(())
    }

    fn catch_up(&self, store: &Store) -> Result<(), PrivacyError> {
        let mut writer = self.writer(crate::pipeline::INDEX_HEAP_BYTES)?;
        crate::pipeline::catch_up_index(store, &mut writer, &crate::parse::ParseLimits::default())?;
        writer.finish()?;
        self.reload()?;
        Ok(())
    }
}

/// The index in a directory, opened when an update comes (commands that hold the store but no
/// index writer).
pub struct IndexDir(pub std::path::PathBuf);

impl IndexUpdates for IndexDir {
    fn unindex(&self, ids: &[MessageId]) -> Result<(), PrivacyError> {
        MailIndex::open_or_create(&self.0)?.unindex(ids)
    }

    fn catch_up(&self, store: &Store) -> Result<(), PrivacyError> {
        MailIndex::open_or_create(&self.0)?.catch_up(store)
    }
}

impl IndexUpdates for crate::intake::IntakeSender {
    fn unindex(&self, ids: &[MessageId]) -> Result<(), PrivacyError> {
        Ok(self.unindex_blocking(ids.to_vec())?)
    }

    fn catch_up(&self, _store: &Store) -> Result<(), PrivacyError> {
        self.catch_up_blocking()?;
        Ok(())
    }
}

/// Erase these messages from the index and the store (blocking).
pub fn erase_messages(
    store: &Store,
    index: &dyn IndexUpdates,
    ids: &[MessageId],
    reason: &str,
) -> Result<ErasureReport, PrivacyError> {
    let mut report = ErasureReport::default();
    if ids.is_empty() {
        return Ok(report);
    }
    // Index first: a crash in between leaves stored messages that are not searchable (repaired
    // by `reindex`), never searchable ones whose content is gone.
    index.unindex(ids)?;
    for id in ids {
        if let Some(e) = store.erase_message(id, reason)? {
            report.add(e);
        }
    }
    info!(erased = report.erased, reason, ids = ?report.message_ids, "Erased messages");
    Ok(report)
}

/// Erase everything held about an address.
pub fn erase_address(
    store: &Store,
    index: &dyn IndexUpdates,
    lookup: Lookup<'_>,
    address: &str,
) -> Result<ErasureReport, PrivacyError> {
    let ids: Vec<MessageId> = messages_of(store, lookup, address)?
        .into_iter()
        .map(|m| m.message.id)
        .collect();
    let mut report = erase_messages(store, index, &ids, "data-protection erasure request")?;
    let rest = store.erase_contact_records(&check_address(address)?)?;
    info!(
        removed = ?rest.outbox_removed,
        redacted = ?rest.outbox_redacted,
        receivables = rest.receivables_pseudonymised,
        "Erased the contact's outbox records; receivables pseudonymised"
    );
    report.outbox_removed = rest.outbox_removed.len();
    report.outbox_redacted = rest.outbox_redacted.len();
    report.receivables_pseudonymised = rest.receivables_pseudonymised;
    Ok(report)
}

/// Retention policy: days to keep mail, per category prefix (the longest matching prefix wins),
/// else `default_days`.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    pub default_days: Option<u32>,
    #[serde(default)]
    pub categories: BTreeMap<String, u32>,
    /// The daemon purges this often (hours; default 24) when a period is set.
    pub purge_every_hours: Option<u32>,
}

impl RetentionPolicy {
    /// Whether any retention period is set (else nothing is ever purged).
    pub fn is_set(&self) -> bool {
        self.default_days.is_some() || !self.categories.is_empty()
    }

    pub fn days_for(&self, category: &str) -> Option<u32> {
        self.categories
            .iter()
            .filter(|(prefix, _)| {
                category == prefix.as_str() || category.starts_with(&format!("{prefix}."))
            })
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, d)| *d)
            .or(self.default_days)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RetentionStatus {
    pub policy: RetentionPolicy,
    pub messages: usize,
    /// Past their period and not on hold: the next purge removes them.
    pub due: usize,
    /// Past their period but kept by a legal hold on their thread.
    pub held: usize,
    pub threads_on_hold: usize,
}

/// What is due for disposal at `now`, and what holds keep. By the index (`lookup`), only the
/// messages whose retention began before their category's cutoff are read, with those stored
/// since its last commit; each is judged on its stored record, as reading every one does.
pub fn retention_due(
    store: &Store,
    lookup: Lookup<'_>,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<(Vec<MessageId>, RetentionStatus), PrivacyError> {
    let holds = store.holds()?;
    let mut status = RetentionStatus {
        policy: policy.clone(),
        threads_on_hold: holds.len(),
        ..RetentionStatus::default()
    };
    let mut due: Vec<(u64, MessageId)> = Vec::new();
    let mut judge = |m: StoredMessage, status: &mut RetentionStatus| {
        let Some(days) = policy.days_for(&m.decision.category) else {
            return;
        };
        if now - m.message.retention_from(m.stored_at) <= chrono::Duration::days(i64::from(days)) {
            return;
        }
        if holds.contains(&m.thread_id) {
            status.held += 1;
        } else {
            due.push((m.seq, m.message.id));
        }
    };
    if !policy.is_set() {
        status.messages = store.stats()?.messages as usize;
        return Ok((Vec::new(), status));
    }
    match retention_candidates(store, lookup, policy, now)? {
        Some(candidates) => {
            status.messages = candidates.stored as usize;
            for id in candidates.ids {
                if let Some(m) = store.message(&id)? {
                    judge(m, &mut status);
                }
            }
        }
        None => {
            for m in store.stored_messages() {
                status.messages += 1;
                judge(m?, &mut status);
            }
        }
    }
    due.sort_unstable();
    status.due = due.len();
    Ok((due.into_iter().map(|(_, id)| id).collect(), status))
}

/// The messages that may be due at `now` by the index (see [`by_index`]); `None`: read them
/// all, also when most may be due (a first run over an old archive), where reading in order
/// costs what looking most of them up does, without holding their ids.
fn retention_candidates(
    store: &Store,
    lookup: Lookup<'_>,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<Candidates>, PrivacyError> {
    let Lookup::Index(index) = lookup else {
        return Ok(None);
    };
    let candidates = by_index(store, index, || {
        index
            .ids_retained_before(|category| index_cutoff(policy, now, category))
            .map(Some)
    })?;
    Ok(candidates.filter(|c| c.ids.len() as u64 <= c.stored / 2))
}

/// The `retention_from` (seconds) before which a message of the index's `category` may be
/// due at `now`: a second late, since the index holds whole seconds; the index's `other` is
/// also a message with no category. `None`: kept for ever.
fn index_cutoff(policy: &RetentionPolicy, now: DateTime<Utc>, category: &str) -> Option<i64> {
    let days = |category: &str| policy.days_for(category);
    let days = if category == crate::model::CATEGORY_OTHER {
        days(category).into_iter().chain(days("")).min()
    } else {
        days(category)
    }?;
    Some((now - chrono::Duration::days(i64::from(days))).timestamp() + 1)
}

/// Dispose of everything past its retention period (not on hold). Logs counts and ids.
pub fn purge(
    store: &Store,
    index: &dyn IndexUpdates,
    lookup: Lookup<'_>,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<ErasureReport, PrivacyError> {
    let (due, _) = retention_due(store, lookup, policy, now)?;
    erase_messages(store, index, &due, "retention period ended")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_category_prefix_decides_the_period() {
        let p = RetentionPolicy {
            default_days: Some(730),
            categories: [("ap".to_string(), 1000), ("ap.invoice".to_string(), 2555)]
                .into_iter()
                .collect(),
            purge_every_hours: None,
        };
        assert_eq!(p.days_for("ap.invoice"), Some(2555));
        assert_eq!(p.days_for("ap.statement"), Some(1000));
        assert_eq!(p.days_for("apple"), Some(730));
        assert_eq!(p.days_for("other"), Some(730));
        assert_eq!(RetentionPolicy::default().days_for("other"), None);
    }

    /// Messages from, to and copied to jane (mixed case in the headers), lookalikes that are
    /// not hers, and one message to her stored after the index's last commit: the index's
    /// lookup finds what reading every stored message finds. With the index lost (an empty one
    /// beside a store that says everything is indexed) it reads every message instead.
    #[test]
    fn the_index_finds_a_person_s_mail_as_reading_every_message_does() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), 8 << 20).unwrap();
        let mail = [
            "From: Jane <Jane@Example.com>\nTo: ap@desk.test",
            "From: ap@desk.test\nTo: Bob <bob@example.com>, jane@example.com",
            "From: ap@desk.test\nTo: bob@example.com\nCc: <JANE@example.COM>",
            "From: jane@example.com.attacker.test\nTo: ap@desk.test",
            "From: \"jane@example.com\" <mallory@evil.test>\nTo: ap@desk.test",
            "From: ap@desk.test\nTo: x-jane@example.com",
        ];
        let commit = |n: usize, headers: &str| {
            let p = crate::store::tests::processed(&format!(
                "{headers}\nMessage-ID: <p{n}@x>\nSubject: n{n}\n\nbody {n}\n"
            ));
            store.commit_batch(std::slice::from_ref(&p)).unwrap();
        };
        for (n, headers) in mail.iter().enumerate() {
            commit(n, headers);
        }
        let index = MailIndex::open_or_create(&dir.path().join("index")).unwrap();
        let mut w = index.writer(crate::index::MIN_WRITER_HEAP).unwrap();
        crate::pipeline::catch_up_index(&store, &mut w, &Default::default()).unwrap();
        drop(w);
        // Stored after the index's last commit.
        commit(6, "From: ap@desk.test\nTo: jane@example.com");
        assert_eq!(store.pending_index().unwrap().len(), 1);

        let subjects = |lookup: Lookup<'_>| -> Vec<String> {
            messages_of(&store, lookup, "jane@example.com")
                .unwrap()
                .into_iter()
                .map(|m| m.message.subject)
                .collect()
        };
        let scanned = subjects(Lookup::Scan);
        assert_eq!(scanned, ["n0", "n1", "n2", "n6"]);
        assert_eq!(subjects(Lookup::Index(&index)), scanned);
        let candidates = indexed_candidates(&store, &index, "jane@example.com").unwrap();
        assert_eq!(
            candidates.map(|ids| ids.len()),
            Some(4),
            "no lookalike read"
        );

        // A rebuild under way (the mark back at the start): most messages are beyond it, and
        // reading them in order costs less than looking each up.
        store.reset_indexed().unwrap();
        assert_eq!(
            indexed_candidates(&store, &index, "jane@example.com").unwrap(),
            None
        );
        assert_eq!(subjects(Lookup::Index(&index)), scanned);
        store.mark_indexed_through(6).unwrap();

        // The index lost: the store says six messages are indexed, the index holds none.
        let lost = MailIndex::open_or_create(&dir.path().join("lost")).unwrap();
        assert_eq!(
            indexed_candidates(&store, &lost, "jane@example.com").unwrap(),
            None
        );
        assert_eq!(subjects(Lookup::Index(&lost)), scanned);
    }

    /// What a retention run decides: periods by category (the longest matching prefix), a
    /// held thread kept, mail without a date or dated in the future counting from when it
    /// was stored, and mail with no category taking the default period, not `other`'s (the
    /// index calls it `other`). By the index (one message stored after its last commit) it
    /// decides what reading every message decides, reading fewer; with the index lost, it
    /// reads them all.
    #[test]
    fn retention_counts_from_the_date_or_from_when_stored_and_keeps_held_threads() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), 8 << 20).unwrap();
        let mail = [
            ("old-other", "Mon, 1 Jan 2001 10:00:00 +0000", "other"),
            (
                "old-invoice",
                "Mon, 1 Jan 2001 10:00:00 +0000",
                "ap.invoice",
            ),
            ("held", "Mon, 1 Jan 2001 10:00:00 +0000", "other"),
            ("uncategorised", "Wed, 1 Jan 2014 10:00:00 +0000", ""),
            ("y2010", "Fri, 1 Jan 2010 10:00:00 +0000", "other"),
            ("y2014", "Wed, 1 Jan 2014 10:00:00 +0000", "other"),
            ("y2020", "Wed, 1 Jan 2020 10:00:00 +0000", "other"),
            ("future", "Fri, 1 Jan 2999 10:00:00 +0000", "other"),
        ];
        // Most of a desk's mail is within its period: by the index, only what may be due is
        // read. The undated message is stored after the index's last commit.
        let today = Utc::now().to_rfc2822();
        let recent: Vec<(String, &str, &str)> = (0..10)
            .map(|n| (format!("recent{n}"), today.as_str(), "other"))
            .collect();
        let mail: Vec<(String, &str, &str)> = mail
            .into_iter()
            .map(|(id, date, category)| (id.to_string(), date, category))
            .chain(recent)
            .chain([("undated".to_string(), "", "other")])
            .collect();
        let index = MailIndex::open_or_create(&dir.path().join("index")).unwrap();
        for (n, (id, date, category)) in mail.iter().enumerate() {
            let date = if date.is_empty() {
                String::new()
            } else {
                format!("Date: {date}\n")
            };
            let mut p = crate::store::tests::processed(&format!(
                "{date}Message-ID: <{id}@x>\nSubject: {id}\n\nbody\n"
            ));
            p.decision.category = category.to_string();
            store.commit_batch(std::slice::from_ref(&p)).unwrap();
            if n == mail.len() - 2 {
                let mut w = index.writer(crate::index::MIN_WRITER_HEAP).unwrap();
                crate::pipeline::catch_up_index(&store, &mut w, &Default::default()).unwrap();
            }
        }
        assert_eq!(store.pending_index().unwrap().len(), 1);
        let held = store.message_by_header_id("held@x").unwrap().unwrap();
        store.set_hold(&held.thread_id, true, "test").unwrap();
        let policy = RetentionPolicy {
            default_days: Some(3650),
            categories: [
                ("ap.invoice".to_string(), 36500),
                ("other".to_string(), 5000),
            ]
            .into_iter()
            .collect(),
            purge_every_hours: None,
        };
        let lost = MailIndex::open_or_create(&dir.path().join("lost")).unwrap();
        let decide = |now: DateTime<Utc>| {
            let mut decided = [Lookup::Scan, Lookup::Index(&index), Lookup::Index(&lost)]
                .map(|lookup| {
                    let (due, status) = retention_due(&store, lookup, &policy, now).unwrap();
                    let mut due: Vec<String> = due
                        .iter()
                        .map(|id| store.message(id).unwrap().unwrap().message.subject)
                        .collect();
                    due.sort();
                    (due, status.messages, status.held)
                })
                .into_iter();
            let scanned = decided.next().unwrap();
            assert!(decided.all(|d| d == scanned), "by the index as by reading");
            scanned
        };
        let now = Utc::now();
        assert_eq!(
            decide(now),
            (
                vec!["old-other".into(), "uncategorised".into(), "y2010".into()],
                19,
                1
            )
        );
        let read = |lookup| {
            retention_candidates(&store, lookup, &policy, now)
                .unwrap()
                .map(|c| c.ids.len())
        };
        assert_eq!(
            read(Lookup::Index(&index)),
            Some(6),
            "5 named and 1 stored since"
        );
        assert_eq!(read(Lookup::Index(&lost)), None);
        // What the index names: before the cutoff of their category in the index, `other`
        // taking the shorter of its own period and the default's (an uncategorised message is
        // `other` there); y2014 is read and kept (within `other`'s 5,000 days).
        let mut named: Vec<String> = index
            .ids_retained_before(|category| index_cutoff(&policy, now, category))
            .unwrap()
            .iter()
            .map(|id| store.message(id).unwrap().unwrap().message.subject)
            .collect();
        named.sort();
        assert_eq!(
            named,
            ["held", "old-other", "uncategorised", "y2010", "y2014"]
        );
        // To the millisecond: the uncategorised message is due just after its 3,650 days,
        // not at them (the index holds whole seconds).
        let dated = DateTime::parse_from_rfc2822("Wed, 1 Jan 2014 10:00:00 +0000")
            .unwrap()
            .to_utc();
        let at = dated + chrono::Duration::days(3650);
        let uncategorised = "uncategorised".to_string();
        assert!(!decide(at).0.contains(&uncategorised));
        let just_after = at + chrono::Duration::milliseconds(1);
        assert!(decide(just_after).0.contains(&uncategorised));
        // Fourteen years on, the undated and the future-dated are due too (stored today).
        let later = now + chrono::Duration::days(14 * 366);
        let (due, _, held) = decide(later);
        let most = retention_candidates(&store, Lookup::Index(&index), &policy, later).unwrap();
        assert!(most.is_none(), "most may be due: read in order");
        assert_eq!(
            due,
            [
                "future",
                "old-other",
                "recent0",
                "recent1",
                "recent2",
                "recent3",
                "recent4",
                "recent5",
                "recent6",
                "recent7",
                "recent8",
                "recent9",
                "uncategorised",
                "undated",
                "y2010",
                "y2014",
                "y2020"
            ],
            "the invoice keeps its hundred years"
        );
        assert_eq!(held, 1);
    }

    #[test]
    fn addresses_are_checked() {
        assert!(check_address("not an address").is_err());
        assert_eq!(
            check_address(" Jane@Example.COM ").unwrap(),
            "jane@example.com"
        );
    }
}
