//! The stages every message goes through, as functions the one pipeline
//! ([`crate::intake`]) runs: opening a data directory ([`Pipeline::open`]: store, index, rules,
//! limits), [`process`] (parse + rules for one message, on a worker thread), and keeping the
//! index derived from the store ([`catch_up_index`]: what the store logged beyond the index —
//! a crash between the two commits, a correction in review, a rebuild — is indexed again from
//! the stored raw bytes and decisions).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing::{debug, info_span, warn};

use crate::antivirus::{self, Scanner, Verdict};
use crate::index::{MailIndex, MailIndexWriter};
use crate::model::{Decision, MessageId, RawMail};
use crate::parse::{ParseLimits, Rejection, parse};
use crate::rules::RuleSet;
use crate::store::{Processed, Store};

/// Documents between index commits during a bulk ingest.
pub(crate) const INDEX_COMMIT_EVERY: usize = 20_000;
/// The index writer's memory budget (tantivy's minimum is 15 MB per thread).
pub const INDEX_HEAP_BYTES: usize = 40 * 1024 * 1024;
/// store engine's block cache.
pub const STORE_CACHE_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    Input(#[from] crate::source::files::InputError),
}

/// Paths of the parts of a data directory.
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    /// The data directory at `root`. Every command that touches one names it here first, so this is
    /// where its privacy is kept: from now on the process creates files 0600 and directories 0700
    /// (the store's engine and tantivy create theirs themselves, so it is the umask), and an
    /// existing directory open to the group or others is reported (each entry with its path and
    /// mode) and closed to 0700 ([`crate::store::permissions`]).
    pub fn new(root: &Path) -> Self {
        crate::store::permissions::open_data_dir(root);
        DataDir {
            root: root.to_path_buf(),
        }
    }
    pub fn store(&self) -> PathBuf {
        self.root.join("store")
    }
    pub fn index(&self) -> PathBuf {
        self.root.join("index")
    }
}

pub struct Pipeline {
    /// Shared with the API when the daemon serves it.
    pub store: Arc<Store>,
    pub index: MailIndex,
    pub rules: Arc<RuleSet>,
    pub limits: ParseLimits,
}

/// One message after parse + rules.
pub(crate) enum Work {
    Done(Box<Processed>),
    Rejected {
        origin: String,
        content: MessageId,
        size: u64,
        reason: Rejection,
    },
    /// The antivirus scan could not be done: the message must not be stored (nor passed), so
    /// the committer refuses its whole batch and the source offers it again.
    Unscanned {
        origin: String,
        error: String,
    },
}

/// How long opening a data directory to write to it waits for another process's lock.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Pipeline {
    /// Open store and index in `data`. The committer brings the index up to the store when it
    /// starts ([`crate::intake::Intake::start`]).
    pub fn open(
        data: &DataDir,
        rules: Arc<RuleSet>,
        limits: ParseLimits,
    ) -> Result<Pipeline, PipelineError> {
        // A command that reads the store (`deskmail status` polled while the daemon starts)
        // holds it for a moment: wait for it rather than fail to start.
        let store = Arc::new(Store::open_waiting(
            &data.store(),
            STORE_CACHE_BYTES,
            LOCK_WAIT,
        )?);
        let index = match MailIndex::open_or_create(&data.index()) {
            // The index is derived: one written by an older release (another schema) is
            // rebuilt from the store instead of refusing to start (by the committer, which
            // catches the index up with the whole log when it starts).
            Err(crate::index::IndexError::SchemaMismatch(dir)) => {
                warn!(
                    index = %dir.display(),
                    "The search index has an older schema; rebuilding it from the store"
                );
                let index = MailIndex::recreate(&data.index())?;
                store.reset_indexed()?;
                index
            }
            other => other?,
        };
        Ok(Pipeline {
            store,
            index,
            rules,
            limits,
        })
    }
}

/// Parse one raw message and run the rules on it (the parallel stage of every pipeline).
/// Thread conditions look up earlier messages in the store (read-only; any thread may).
pub struct StoreLookup<'a>(pub &'a Store);

impl crate::rules::PriorLookup for StoreLookup<'_> {
    fn prior(&self, message_id: &str) -> Option<crate::rules::PriorMessage> {
        let stored = self.0.message_by_header_id(message_id).ok().flatten()?;
        Some(crate::rules::PriorMessage {
            category: stored.decision.category,
            from_address: stored.message.from.and_then(|a| a.email),
        })
    }
}

pub(crate) fn process(
    raw: RawMail,
    rules: &RuleSet,
    limits: &ParseLimits,
    replies: Option<&crate::outbound::ReplySettings>,
    store: Option<&Store>,
    scanner: Option<&Scanner>,
) -> Work {
    let _span = info_span!("message", origin = %raw.origin, mailbox = %raw.mailbox).entered();
    // Before anything reads the content: a message clamd could not look at goes nowhere.
    let verdict = match scanner.map(|s| s.scan(&raw.bytes)) {
        Some(Err(e)) => {
            return Work::Unscanned {
                origin: raw.origin,
                error: e.to_string(),
            };
        }
        Some(Ok(v)) => v,
        None => Verdict::Clean,
    };
    match parse(&raw, limits) {
        Ok(message) if verdict != Verdict::Clean => {
            // No rule runs on it: no category a reply, invoice record or receivable could come
            // from; agents see it in quarantine and in review.
            Work::Done(Box::new(Processed {
                outbound: Vec::new(),
                decision: quarantine_decision(&verdict, rules.version()),
                message,
                packed: Some(crate::store::blobs::pack(&raw.bytes)),
                raw: raw.bytes,
            }))
        }
        Ok(message) => {
            // Only replies have a thread to look up, and only when a rule asks about it: a
            // message costs no store read otherwise.
            let is_reply = !message.in_reply_to.is_empty() || !message.references.is_empty();
            let thread = match store {
                Some(s) if is_reply && rules.uses_thread_context() => {
                    crate::rules::ThreadContext::of(&message, &StoreLookup(s))
                }
                _ => crate::rules::ThreadContext::default(),
            };
            let decision = rules.evaluate_in(&message, &thread);
            debug!(category = %decision.category, "Classified");
            let outbound = replies
                .map(|r| r.drafts(&message, &decision))
                .unwrap_or_default();
            Work::Done(Box::new(Processed {
                outbound,
                message,
                decision,
                // Packed here, on the worker's thread, not on the committer's.
                packed: Some(crate::store::blobs::pack(&raw.bytes)),
                raw: raw.bytes,
            }))
        }
        Err(reason) => Work::Rejected {
            content: MessageId::of_bytes(&raw.bytes),
            size: raw.bytes.len() as u64,
            origin: raw.origin,
            reason,
        },
    }
}

/// The decision of a message the antivirus scan quarantined.
fn quarantine_decision(verdict: &Verdict, rules_version: &str) -> Decision {
    let (flag, virus) = match verdict {
        Verdict::Infected(name) => (antivirus::FLAG_INFECTED, name.clone()),
        _ => (
            antivirus::FLAG_TOO_LARGE,
            antivirus::TOO_LARGE_NAME.to_string(),
        ),
    };
    Decision {
        category: antivirus::QUARANTINE_CATEGORY.into(),
        flags: vec![flag.into()],
        rules_version: rules_version.into(),
        confidence: 100,
        virus: Some(virus),
        ..Decision::default()
    }
}

/// Index what the store holds beyond the index: log entries past the index's mark (a crash
/// between the two commits) and messages corrected in review (their documents are replaced);
/// commit, then move the mark and clear the queue. Returns how many.
pub fn catch_up_index(
    store: &Store,
    writer: &mut MailIndexWriter,
    limits: &ParseLimits,
) -> Result<usize, PipelineError> {
    catch_up_in_slices(store, writer, limits, INDEX_COMMIT_EVERY)
}

pub(crate) fn catch_up_in_slices(
    store: &Store,
    writer: &mut MailIndexWriter,
    limits: &ParseLimits,
    slice: usize,
) -> Result<usize, PipelineError> {
    // A slice of the log at a time, each committed and marked: a rebuild of a million messages
    // held every document until one commit at the end (1.4 GiB of memory), and a crash in it
    // started over from the first message.
    let mut done = 0;
    loop {
        let pending = store.pending_index_first(slice)?;
        let Some(&(last, _)) = pending.last() else {
            break;
        };
        let ids: Vec<MessageId> = pending.into_iter().map(|(_, id)| id).collect();
        index_from_store(store, writer, limits, &ids)?;
        writer.commit()?;
        store.mark_indexed_through(last)?;
        done += ids.len();
    }
    let corrected = store.reindex_queue()?;
    if !corrected.is_empty() {
        index_from_store(store, writer, limits, &corrected)?;
        writer.commit()?;
        store.reindex_done(&corrected)?;
        done += corrected.len();
    }
    Ok(done)
}

/// Re-add what the store queued for re-indexing (messages a thread merge moved, corrections)
/// to the writer, uncommitted; the caller commits, then calls `Store::reindex_done` with the
/// returned ids, so a crash in between leaves them queued.
pub fn add_reindex_queue(
    store: &Store,
    writer: &mut MailIndexWriter,
    limits: &ParseLimits,
) -> Result<Vec<MessageId>, PipelineError> {
    let queued = store.reindex_queue()?;
    index_from_store(store, writer, limits, &queued)?;
    Ok(queued)
}

/// Re-parse stored raw messages and add them to the index with their stored decisions.
fn index_from_store(
    store: &Store,
    writer: &mut MailIndexWriter,
    limits: &ParseLimits,
    ids: &[MessageId],
) -> Result<(), PipelineError> {
    for id in ids {
        let Some(stored) = store.message(id)? else {
            warn!(message = %id, "Logged message is missing from the store; skipped");
            continue;
        };
        let raw = RawMail {
            role: stored.message.role,
            mailbox: stored.message.mailbox.clone(),
            origin: stored.message.origin.clone(),
            bytes: store.raw_bytes(&stored)?,
        };
        match parse(&raw, limits) {
            Ok(mut msg) => {
                // The addresses of the stored record, which data-protection requests check
                // (`privacy::messages_of` finds them by the index), even if a later release
                // reads the headers differently.
                msg.from = stored.message.from;
                msg.to = stored.message.to;
                msg.cc = stored.message.cc;
                writer.add(&msg, &stored.decision, &stored.thread_id, stored.stored_at)?
            }
            Err(e) => {
                warn!(message = %id, error = %e, "Stored message no longer parses; not indexed")
            }
        }
    }
    Ok(())
}

/// Iterate the raw mail in a list of files, one file in memory at a time.
pub fn raw_mail_from_files(
    files: Vec<PathBuf>,
    mailbox: String,
    role: Option<crate::model::MailboxRole>,
) -> impl Iterator<Item = Result<RawMail, crate::source::files::InputError>> + Send {
    files.into_iter().flat_map(move |path| {
        match crate::source::files::read_file_mails(&path, &mailbox, role) {
            Ok(mails) => mails,
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_catches_up_in_slices_to_the_last_log_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), 8 << 20).unwrap();
        for n in 0..5 {
            let p = crate::store::tests::processed(&format!(
                "Message-ID: <c{n}@x>\nSubject: catch up {n}\n\nword{n}\n"
            ));
            store.commit_batch(std::slice::from_ref(&p)).unwrap();
        }
        let index = MailIndex::open_or_create(&dir.path().join("index")).unwrap();
        let mut w = index.writer(crate::index::MIN_WRITER_HEAP).unwrap();
        let limits = ParseLimits::default();
        assert_eq!(catch_up_in_slices(&store, &mut w, &limits, 2).unwrap(), 5);
        assert!(
            store.pending_index().unwrap().is_empty(),
            "marked through the last"
        );
        index.reload().unwrap();
        assert_eq!(
            index.num_docs(),
            5,
            "slices of 2, 2 and 1, each indexed once"
        );
        assert_eq!(
            index
                .search("word4", &Default::default())
                .unwrap()
                .total_messages,
            1
        );
        // Nothing left: a second catch-up adds nothing.
        assert_eq!(catch_up_in_slices(&store, &mut w, &limits, 2).unwrap(), 0);
    }
}
