//! Threads as a function of the set of messages, whatever their arrival order, the worker
//! count or where a crash cut the input (issue 15: the benchmark corpus gave 3,988 threads in
//! file order and 4,016 reversed).
//!
//! A thread is a connected component of a graph whose edges each message brings with it, so
//! they do not depend on what was stored before:
//! - a message and every Message-ID it carries (its own, In-Reply-To, References): two
//!   messages naming one id are in one thread (a reply that arrives before its parent starts
//!   the thread and the parent joins it; a message whose references span two threads merges
//!   them);
//! - a reply without any reference header (`Re: …` from a client that drops them) and every
//!   message with the same normalised subject that is an original (no reply prefix) or such a
//!   reply; two originals with one subject stay apart unless a reference-less reply joins them;
//! - two AP messages carrying the same invoice (vendor + number): a resend joins the first.
//!
//! The thread's id is the smallest of its members' keys, so it is a function of the set too.
//! A member's key is `ThreadId::of_key` of its first reference, else In-Reply-To, else its
//! Message-ID; a reference-less reply's is its subject's ([`subject_thread_id`]), and keys of
//! subjects come before keys of Message-IDs. A subject's reference-less replies are all in one
//! thread, so that thread is named after the subject, and an original that joins it later
//! (the rule above) cannot rename it: with the smallest Message-ID key, each original joining a
//! thread of `n` members renamed it with a chance of one in `n`, moving all `n` (issue 14: at a
//! million messages of the benchmark corpus a fifth of the messages indexed were such moves).
//! Adding a message only ever merges threads; a merge moves the members of the thread that goes
//! into the one that stays (their records, holds and reply links), leaves a link `l/<old id>`
//! so an old id still finds its thread, and queues the moved messages for re-indexing (`z/`),
//! which the committer drains at its next index commit.

use serde::{Deserialize, Serialize};

use super::{
    C_THREADS, IdEntry, S_HOLDS, S_MEMBERS, S_MESSAGES, S_OUTBOX, S_SUBJECTS, S_THREAD_REPLIES,
    S_THREADS, StoreError, StoredMessage, ThreadRecord, Tx, codec, dec, enc,
};
use crate::model::{Message, MessageId, ThreadId};
use crate::outbound::OutboxRecord;

/// `l/<thread id>` → the thread it was merged into.
pub(super) const S_THREAD_LINKS: u8 = b'l';

/// A member's key below `j/`: the thread, then the message's log number (so a scan lists the
/// members in the order they were stored).
pub(super) fn member_key(thread: &ThreadId, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(thread.0.len() + 9);
    k.extend_from_slice(thread.0.as_bytes());
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub(super) fn add_member(t: &mut Tx<'_>, thread: &ThreadId, seq: u64, id: &MessageId) {
    t.insert(
        S_MEMBERS,
        &member_key(thread, seq),
        codec::message_id_value(id),
    );
}

pub(super) fn remove_member(t: &mut Tx<'_>, thread: &ThreadId, seq: u64) {
    t.remove(S_MEMBERS, &member_key(thread, seq));
}

/// A thread record without its members' ids, and their `j/` records.
pub(super) type SplitThread = (Vec<u8>, Vec<super::tx::KeyValue>);

/// A thread record of formats 1 and 2, which carried its members' ids, as this format keeps
/// it: the record (with its count) and one `j/` record per member, numbered by `seq_of` (the
/// ingest log). A member the log does not know (none should) goes last, in its old place.
/// None for a record of this format (no ids in it).
pub(super) fn split_members(
    plain: &[u8],
    seq_of: &std::collections::HashMap<Vec<u8>, u64>,
) -> Result<Option<SplitThread>, StoreError> {
    #[derive(Deserialize)]
    struct Members {
        #[serde(default)]
        messages: Option<Vec<MessageId>>,
    }
    let Members { messages } = super::dec(plain)?;
    let Some(messages) = messages else {
        return Ok(None);
    };
    let mut record: ThreadRecord = super::dec(plain)?;
    record.count = messages.len() as u64;
    let n = messages.len() as u64;
    let members = messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let seq = seq_of
                .get(m.0.as_bytes())
                .copied()
                .unwrap_or(u64::MAX - n + i as u64);
            (
                super::key(S_MEMBERS, &member_key(&record.thread_id, seq)),
                m.0.into_bytes(),
            )
        })
        .collect();
    Ok(Some((enc(&record)?, members)))
}

/// A thread's members (log number, message id) in the order they were stored.
pub(super) fn members(t: &Tx<'_>, thread: &ThreadId) -> Result<Vec<(u64, MessageId)>, StoreError> {
    let mut prefix = thread.0.as_bytes().to_vec();
    prefix.push(0);
    t.scan(S_MEMBERS, &prefix)?
        .into_iter()
        .map(|(k, v)| {
            let seq = k.get(prefix.len()..).map_or(0, super::be_u64);
            Ok((seq, codec::message_id_of(&v)?))
        })
        .collect()
}

/// Originals remembered per subject, the most recent ones, waiting for a reference-less reply
/// to join them. Bounded: a subject every newsletter or monthly statement repeats must not
/// grow one record without end, and such a reply answers one recent original, which it cannot
/// name: joining more of them only makes a larger wrong thread. The record is read and written
/// with every message with its subject: at 64 it was the largest record a message rewrote, and
/// about half of what the committer's store commits grew by between the first and the tenth
/// 100,000 messages (issue 14; docs/PERFORMANCE.md).
pub(super) const MAX_ORIGINALS: usize = 8;

/// What a normalised subject (`s/<subject>`) knows: the threads of originals with it, and the
/// thread reference-less replies with it joined. Records written before threads merged carry
/// `{thread, by_reply}`; they read as one original or one reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct SubjectEntry {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    originals: Vec<ThreadId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replied: Option<ThreadId>,
    #[serde(default, skip_serializing)]
    thread: Option<ThreadId>,
    #[serde(default, skip_serializing)]
    by_reply: bool,
}

impl SubjectEntry {
    fn upgraded(mut self) -> Self {
        if let Some(t) = self.thread.take() {
            if self.by_reply {
                self.replied.get_or_insert(t);
            } else if !self.originals.contains(&t) {
                self.originals.push(t);
            }
        }
        self
    }

    /// Its binary value ([`codec::subject_value`]); `None` when an id does not fit.
    fn binary(&self) -> Option<Vec<u8>> {
        codec::subject_value(&self.originals, self.replied.as_ref())
    }

    /// Forget a thread that went (erased); true when nothing is left to keep.
    pub(super) fn forget(&mut self, thread: &ThreadId) -> bool {
        self.originals.retain(|t| t != thread);
        if self.replied.as_ref() == Some(thread) {
            self.replied = None;
        }
        self.originals.is_empty() && self.replied.is_none()
    }
}

/// Read a subject entry in its current shape.
pub(super) fn subject_entry(
    t: &Tx<'_>,
    subject: &[u8],
) -> Result<Option<SubjectEntry>, StoreError> {
    let Some(v) = t.get(S_SUBJECTS, subject)? else {
        return Ok(None);
    };
    match codec::subject_of(&v) {
        Some(parsed) => {
            let (originals, replied) = parsed?;
            Ok(Some(SubjectEntry {
                originals,
                replied,
                ..SubjectEntry::default()
            }))
        }
        None => Ok(Some(dec::<SubjectEntry>(&v)?.upgraded())),
    }
}

/// A subject entry of an earlier format (JSON) in binary; `None` when it stays as it is.
pub(super) fn compact_subject(plain: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(dec::<SubjectEntry>(plain)?.upgraded().binary())
}

pub(super) fn write_subject_entry(
    t: &mut Tx<'_>,
    subject: &[u8],
    entry: &SubjectEntry,
) -> Result<(), StoreError> {
    let value = match entry.binary() {
        Some(v) => v,
        None => enc(entry)?,
    };
    t.insert(S_SUBJECTS, subject, value);
    Ok(())
}

/// The thread an id now names, following merge links.
pub(super) fn resolve(t: &Tx<'_>, id: ThreadId) -> Result<ThreadId, StoreError> {
    let mut id = id;
    // Links only point at threads that existed later; the bound is a guard against a damaged
    // store, not a limit a real chain reaches.
    for _ in 0..64 {
        match t.get_json::<ThreadId>(S_THREAD_LINKS, id.0.as_bytes())? {
            Some(next) if next != id => id = next,
            _ => break,
        }
    }
    Ok(id)
}

/// Whether the normalised subject is specific enough to thread by (six letters or digits).
fn subject_usable(msg: &Message) -> bool {
    msg.normalized_subject
        .chars()
        .filter(|c| c.is_alphanumeric())
        .count()
        >= 6
}

/// A reply that carries no reference header: only its subject can place it.
fn reference_less_reply(msg: &Message) -> bool {
    msg.subject_is_reply && msg.in_reply_to.is_empty() && msg.references.is_empty()
}

/// The id of the thread that holds the reference-less replies with this normalised subject.
/// A NUL cannot occur in a Message-ID, so this key is never one.
pub(super) fn subject_thread_id(normalized_subject: &str) -> ThreadId {
    ThreadId::of_key(&format!("\0subject\0{normalized_subject}"))
}

/// A thread's possible name: an id, and whether it is a subject's (those come first).
#[derive(Debug, Clone, Copy)]
struct Name<'a> {
    id: &'a ThreadId,
    by_subject: bool,
}

impl Name<'_> {
    /// The order in which threads' names win a merge: subjects' first, then the smaller id.
    fn rank(&self) -> (bool, &str) {
        (!self.by_subject, self.id.0.as_str())
    }
}

/// The name the merged thread takes: the first of the message's own and the linked threads'.
fn winning_name<'a>(own: Name<'a>, linked: &'a [(ThreadId, Option<ThreadRecord>)]) -> Name<'a> {
    let mut winner = own;
    for (id, record) in linked {
        let name = Name {
            id,
            by_subject: record.as_ref().is_some_and(|r| r.by_subject),
        };
        if name.rank() < winner.rank() {
            winner = name;
        }
    }
    winner
}

/// The key this message brings to its thread's name (see the module's documentation), and
/// whether it is a subject's.
fn own_key(msg: &Message, subject_usable: bool) -> (ThreadId, bool) {
    if subject_usable && reference_less_reply(msg) {
        return (subject_thread_id(&msg.normalized_subject), true);
    }
    let root = msg
        .references
        .first()
        .or(msg.in_reply_to.first())
        .or(msg.message_id.as_ref())
        .cloned()
        .unwrap_or_else(|| msg.id.0.clone());
    (ThreadId::of_key(&root), false)
}

/// Place a message: every thread its edges reach (`known`: threads the caller found, the same
/// invoice's, or the one a stored reply already named for this Message-ID), merged into one
/// whose id is the smallest root key; registers the message's ids and subject. Returns the
/// thread and its record so far (no messages yet for a new thread).
pub(super) fn assign_thread(
    t: &mut Tx<'_>,
    msg: &Message,
    known: &[ThreadId],
) -> Result<(ThreadId, ThreadRecord), StoreError> {
    let mut linked: Vec<ThreadId> = Vec::new();
    let mut link = |t: &Tx<'_>, id: ThreadId| -> Result<(), StoreError> {
        let id = resolve(t, id)?;
        if !linked.contains(&id) {
            linked.push(id);
        }
        Ok(())
    };
    for k in known {
        link(t, k.clone())?;
    }
    for id in msg.in_reply_to.iter().chain(&msg.references) {
        if let Some(e) = t.get_id_entry(id)? {
            link(t, e.thread)?;
        }
    }
    let subject_key = msg.normalized_subject.as_bytes();
    let usable = subject_usable(msg);
    let mut subject = if usable {
        subject_entry(t, subject_key)?
    } else {
        None
    };
    if let Some(entry) = &subject {
        if reference_less_reply(msg) {
            for o in entry.originals.iter().chain(&entry.replied) {
                link(t, o.clone())?;
            }
        } else if !msg.subject_is_reply
            && let Some(r) = &entry.replied
        {
            link(t, r.clone())?;
        }
    }
    let (own, own_by_subject) = own_key(msg, usable);
    let mut records = Vec::with_capacity(linked.len());
    for id in &linked {
        records.push((id.clone(), t.get_thread(id)?));
    }
    let winner = winning_name(
        Name {
            id: &own,
            by_subject: own_by_subject,
        },
        &records,
    );
    let (target, by_subject) = (winner.id.clone(), winner.by_subject);
    let thread = merge_into(t, &target, by_subject, records, msg)?;

    register_ids(t, msg, &target)?;
    if usable {
        let entry = subject.get_or_insert_with(SubjectEntry::default);
        // Threads merged just now are `target` from here on.
        let remap = |id: &mut ThreadId| {
            if linked.contains(id) {
                *id = target.clone();
            }
        };
        entry.replied.iter_mut().for_each(remap);
        // Only a merge can make two originals one thread; a subject every newsletter repeats
        // keeps up to MAX_ORIGINALS of them, read and written with each such message.
        if entry.originals.iter().any(|o| linked.contains(o)) {
            entry.originals.iter_mut().for_each(remap);
            let mut kept: Vec<ThreadId> = Vec::with_capacity(entry.originals.len());
            for o in entry.originals.drain(..) {
                if !kept.contains(&o) {
                    kept.push(o);
                }
            }
            entry.originals = kept;
        }
        if reference_less_reply(msg) {
            // It joined every original: one thread holds them all now.
            entry.replied = Some(target.clone());
            entry.originals.clear();
        } else if !msg.subject_is_reply
            && entry.replied.is_none()
            && !entry.originals.contains(&target)
        {
            entry.originals.push(target.clone());
            // An entry written under a larger bound shrinks to this one with its next message.
            let over = entry.originals.len().saturating_sub(MAX_ORIGINALS);
            entry.originals.drain(..over);
        }
        write_subject_entry(t, subject_key, entry)?;
    }
    Ok((target, thread))
}

/// The record of `target` with every linked thread (and its record, when it has one) merged
/// into it (a thread whose id is `target` may be among them, or none: a new thread).
fn merge_into(
    t: &mut Tx<'_>,
    target: &ThreadId,
    by_subject: bool,
    mut linked: Vec<(ThreadId, Option<ThreadRecord>)>,
    msg: &Message,
) -> Result<ThreadRecord, StoreError> {
    let own = match linked.iter().position(|(id, _)| id == target) {
        Some(i) => linked.remove(i).1,
        None => t.get_thread(target)?,
    };
    let mut thread = own.unwrap_or_else(|| ThreadRecord {
        thread_id: target.clone(),
        subject: msg.subject.clone(),
        ..ThreadRecord::default()
    });
    thread.by_subject = by_subject;
    let existed = thread.count > 0;
    let mut absorbed = 0u64;
    for (from, record) in linked {
        let Some(gone) = record else {
            continue;
        };
        move_thread(t, &from, target)?;
        join_records(&mut thread, gone);
        absorbed += 1;
    }
    // Every thread merged away leaves the count, except the one that only changed its id.
    let gone = if existed {
        absorbed
    } else {
        absorbed.saturating_sub(1)
    };
    if gone > 0 {
        let n = t.counter(C_THREADS)?;
        t.set_counter(C_THREADS, n.saturating_sub(gone));
    }
    Ok(thread)
}

/// Members, dates and subject (the oldest message's) of two records as one.
fn join_records(into: &mut ThreadRecord, gone: ThreadRecord) {
    let older = match (gone.first_date, into.first_date) {
        (Some(g), Some(i)) => g < i,
        (Some(_), None) => true,
        _ => into.count == 0,
    };
    if older {
        into.first_date = gone.first_date;
        if !gone.subject.is_empty() {
            into.subject = gone.subject.clone();
        }
    }
    if gone.last_date > into.last_date {
        into.last_date = gone.last_date;
    }
    into.count += gone.count;
}

/// Move what names thread `from` to `to`: its messages (queued for re-indexing), its legal
/// hold, its reply links and their outbox records; then link the old id to the new.
fn move_thread(t: &mut Tx<'_>, from: &ThreadId, to: &ThreadId) -> Result<(), StoreError> {
    for (seq, m) in members(t, from)? {
        remove_member(t, from, seq);
        add_member(t, to, seq, &m);
        if let Some(mut rec) = t.get_json::<StoredMessage>(S_MESSAGES, m.0.as_bytes())? {
            rec.thread_id = to.clone();
            t.insert(S_MESSAGES, m.0.as_bytes(), enc(&rec)?);
            t.insert(super::trust::S_REINDEX, m.0.as_bytes(), Vec::new());
        }
    }
    if let Some(hold) = t.get(S_HOLDS, from.0.as_bytes())? {
        t.remove(S_HOLDS, from.0.as_bytes());
        if !t.contains(S_HOLDS, to.0.as_bytes())? {
            t.insert(S_HOLDS, to.0.as_bytes(), hold);
        }
    }
    let prefix = format!("{}\0", from.0);
    for (k, v) in t.scan(S_THREAD_REPLIES, prefix.as_bytes())? {
        let reply = &k[prefix.len()..];
        t.remove(S_THREAD_REPLIES, &k);
        let mut moved = format!("{}\0", to.0).into_bytes();
        moved.extend_from_slice(reply);
        t.insert(S_THREAD_REPLIES, &moved, v);
        if let Some(mut rec) = t.get_json::<OutboxRecord>(S_OUTBOX, reply)? {
            rec.thread_id = to.0.clone();
            t.insert(S_OUTBOX, reply, enc(&rec)?);
        }
    }
    t.remove(S_THREADS, from.0.as_bytes());
    t.insert(S_THREAD_LINKS, from.0.as_bytes(), enc(to)?);
    Ok(())
}

/// Every id the message carries names its thread: its own (with the message, the dedupe key),
/// and the references it makes (so a parent that arrives later finds its thread).
fn register_ids(t: &mut Tx<'_>, msg: &Message, thread: &ThreadId) -> Result<(), StoreError> {
    if let Some(mid) = &msg.message_id {
        t.put_id_entry(
            mid,
            &IdEntry {
                thread: thread.clone(),
                message: Some(msg.id.clone()),
            },
        )?;
    }
    for id in msg.in_reply_to.iter().chain(&msg.references) {
        match t.get_id_entry(id)? {
            // Already pointing here, or at a thread merged into this one (resolved on read).
            Some(_) => {}
            None => t.put_id_entry(
                id,
                &IdEntry {
                    thread: thread.clone(),
                    message: None,
                },
            )?,
        }
    }
    Ok(())
}
