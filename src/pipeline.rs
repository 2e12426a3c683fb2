//! The embedded pipeline: raw mail → parse → rules → store → index, with bounded channels
//! between the stages (backpressure, not memory growth).
//!
//! ```text
//!  reader ──RawMail──▶ workers (parse + rules, one per core) ──Processed──▶ committer
//!                                                                  │ sled: one transaction per batch
//!                                                                  └ tantivy: add, commit every N
//! ```
//! The committer is the only writer. The store marks each committed message "pending index" in
//! the same transaction and clears the mark after the index commits, so a crash between the two
//! is repaired by [`Pipeline::open`] re-indexing the pending set.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tracing::{debug, info, info_span, warn};

use crate::index::{MailIndex, MailIndexWriter};
use crate::model::{MessageId, RawMail};
use crate::parse::{ParseLimits, Rejection, parse};
use crate::rules::RuleSet;
use crate::store::{CommitOutcome, Processed, RejectionRecord, Store};

/// Work handed back in input order: the workers finish out of order by at most the channel's
/// capacity, so the buffer stays that small.
#[derive(Default)]
struct InOrder {
    next: u64,
    waiting: std::collections::BTreeMap<u64, Work>,
}

impl InOrder {
    fn put(&mut self, seq: u64, work: Work) {
        self.waiting.insert(seq, work);
    }

    fn next(&mut self) -> Option<Work> {
        let work = self.waiting.remove(&self.next)?;
        self.next += 1;
        Some(work)
    }
}

/// Messages per sled transaction.
const BATCH: usize = 256;
/// Documents between index commits during a bulk ingest.
pub(crate) const INDEX_COMMIT_EVERY: usize = 20_000;
/// The index writer's memory budget (tantivy's minimum is 15 MB per thread).
pub const INDEX_HEAP_BYTES: usize = 40 * 1024 * 1024;
/// sled page cache.
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

#[derive(Debug, Clone, Serialize)]
pub struct RejectionReport {
    pub path: String,
    pub reason: String,
}

/// What one ingest run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestSummary {
    pub ingested: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub rejections: Vec<RejectionReport>,
    /// Messages whose decision was flagged (e.g. duplicate_invoice), by flag.
    pub flagged: std::collections::BTreeMap<String, u64>,
    pub bytes: u64,
    pub seconds: f64,
    /// Where the committer spent its time (the stages after parse + rules).
    pub timings: StageTimings,
}

/// Seconds spent in each serial stage of an ingest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTimings {
    pub store_commit: f64,
    pub index_add: f64,
    pub index_commit: f64,
    pub index_finish: f64,
    /// Time the committer waited for parsed messages.
    pub waiting: f64,
}

/// Paths of the parts of a data directory.
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: &Path) -> Self {
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

/// Documents added to the index writer since its last commit.
#[derive(Default)]
struct IndexBacklog {
    count: usize,
    last_seq: u64,
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
}

impl Pipeline {
    /// Open store and index in `data`, and repair the index from the store's pending set.
    pub fn open(
        data: &DataDir,
        rules: Arc<RuleSet>,
        limits: ParseLimits,
    ) -> Result<Pipeline, PipelineError> {
        let store = Arc::new(Store::open(&data.store(), STORE_CACHE_BYTES)?);
        let index = match MailIndex::open_or_create(&data.index()) {
            // The index is derived: one written by an older release (another schema) is
            // rebuilt from the store instead of refusing to start.
            Err(crate::index::IndexError::SchemaMismatch(dir)) => {
                warn!(
                    index = %dir.display(),
                    "The search index has an older schema; rebuilding it from the store"
                );
                rebuild(&store, data, &limits)?.0
            }
            other => other?,
        };
        let p = Pipeline {
            store,
            index,
            rules,
            limits,
        };
        if !p.store.pending_index()?.is_empty() || !p.store.reindex_queue()?.is_empty() {
            let mut writer = p.index.writer(INDEX_HEAP_BYTES)?;
            let n = catch_up_index(&p.store, &mut writer, &p.limits)?;
            info!(
                count = n,
                "Re-indexed messages committed to the store but not to the index"
            );
            writer.finish()?;
        }
        Ok(p)
    }

    /// Run raw mail through every stage. `on_progress` is called with the number of messages
    /// handled so far. Rejected input is recorded and reported; it never stops the run.
    pub fn ingest<I>(
        &self,
        inputs: I,
        workers: usize,
        on_progress: &(dyn Fn(u64) + Sync),
    ) -> Result<IngestSummary, PipelineError>
    where
        I: Iterator<Item = Result<RawMail, crate::source::files::InputError>> + Send,
    {
        let started = Instant::now();
        let mut summary = IngestSummary::default();
        // Each message carries its input position: the committer stores them in input order
        // whatever order the workers finish in, so "the first invoice" and "the IBAN seen
        // first" do not depend on thread timing.
        let (raw_tx, raw_rx) = crossbeam_channel::bounded::<(u64, RawMail)>(BATCH * 2);
        let (work_tx, work_rx) = crossbeam_channel::bounded::<(u64, Work)>(BATCH * 2);
        let mut writer = self.index.writer(INDEX_HEAP_BYTES)?;
        let mut input_errors = Vec::new();

        let result: Result<(), PipelineError> = std::thread::scope(|s| {
            let reader = spawn_named(s, "reader", move || {
                let mut errors = Vec::new();
                let mut seq = 0u64;
                for item in inputs {
                    match item {
                        Ok(raw) => {
                            if raw_tx.send((seq, raw)).is_err() {
                                break;
                            }
                            seq += 1;
                        }
                        Err(e) => errors.push(e),
                    }
                }
                errors
            });
            for _ in 0..workers.max(1) {
                let raw_rx = raw_rx.clone();
                let work_tx = work_tx.clone();
                let rules = Arc::clone(&self.rules);
                let limits = self.limits;
                let store = &self.store;
                spawn_named(s, "parse-rules", move || {
                    for (seq, raw) in raw_rx {
                        let work = process(raw, &rules, &limits, None, Some(store));
                        if work_tx.send((seq, work)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(work_tx);
            drop(raw_rx);

            let mut batch: Vec<Processed> = Vec::with_capacity(BATCH);
            let mut since_commit = IndexBacklog::default();
            let mut handled = 0u64;
            let mut in_order = InOrder::default();
            loop {
                let work = match in_order.next() {
                    Some(w) => w,
                    None => {
                        let t = Instant::now();
                        let Ok((seq, work)) = work_rx.recv() else {
                            break;
                        };
                        summary.timings.waiting += t.elapsed().as_secs_f64();
                        in_order.put(seq, work);
                        continue;
                    }
                };
                handled += 1;
                match work {
                    Work::Done(p) => {
                        summary.bytes += p.raw.len() as u64;
                        batch.push(*p);
                        if batch.len() >= BATCH {
                            self.commit(&mut batch, &mut writer, &mut since_commit, &mut summary)?;
                        }
                    }
                    Work::Rejected {
                        origin,
                        content,
                        size,
                        reason,
                    } => {
                        warn!(path = %origin, reason = %reason, "Rejected input");
                        let rec = RejectionRecord {
                            origin: origin.clone(),
                            reason: reason.to_string(),
                            size,
                            at: chrono::Utc::now(),
                        };
                        self.store.record_rejection(&content, &rec)?;
                        summary.rejected += 1;
                        summary.rejections.push(RejectionReport {
                            path: origin,
                            reason: reason.to_string(),
                        });
                    }
                }
                if handled.is_multiple_of(64) {
                    on_progress(handled);
                }
                if since_commit.count >= INDEX_COMMIT_EVERY {
                    self.commit_index(&mut writer, &mut since_commit, &mut summary.timings)?;
                }
            }
            self.commit(&mut batch, &mut writer, &mut since_commit, &mut summary)?;
            self.commit_index(&mut writer, &mut since_commit, &mut summary.timings)?;
            on_progress(handled);
            input_errors = reader.join().unwrap_or_default();
            Ok(())
        });
        result?;
        for e in input_errors {
            warn!(error = %e, "Input could not be read");
            summary.rejected += 1;
            summary.rejections.push(RejectionReport {
                path: e.path.clone(),
                reason: format!("cannot read: {}", e.source),
            });
        }
        self.store.flush()?;
        let t = Instant::now();
        writer.finish()?;
        summary.timings.index_finish = t.elapsed().as_secs_f64();
        summary.seconds = started.elapsed().as_secs_f64();
        info!(
            ingested = summary.ingested,
            duplicates = summary.duplicates,
            rejected = summary.rejected,
            "Ingest finished"
        );
        Ok(summary)
    }

    fn commit(
        &self,
        batch: &mut Vec<Processed>,
        writer: &mut MailIndexWriter,
        since_commit: &mut IndexBacklog,
        summary: &mut IngestSummary,
    ) -> Result<(), PipelineError> {
        if batch.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        let outcomes = self.store.commit_batch(batch)?;
        summary.timings.store_commit += t.elapsed().as_secs_f64();
        let t = Instant::now();
        for (p, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                CommitOutcome::Stored { thread, flags, seq } => {
                    summary.ingested += 1;
                    for f in &flags {
                        *summary.flagged.entry(f.clone()).or_default() += 1;
                    }
                    // The index does not use the flags the store added: no copy of the decision.
                    writer.add(&p.message, &p.decision, &thread)?;
                    since_commit.count += 1;
                    since_commit.last_seq = since_commit.last_seq.max(seq);
                }
                CommitOutcome::Duplicate { .. } => summary.duplicates += 1,
            }
        }
        summary.timings.index_add += t.elapsed().as_secs_f64();
        batch.clear();
        Ok(())
    }

    fn commit_index(
        &self,
        writer: &mut MailIndexWriter,
        since_commit: &mut IndexBacklog,
        timings: &mut StageTimings,
    ) -> Result<(), PipelineError> {
        if since_commit.count == 0 {
            return Ok(());
        }
        let t = Instant::now();
        writer.commit()?;
        timings.index_commit += t.elapsed().as_secs_f64();
        // The committer is the only writer, so every log entry up to here is now indexed.
        self.store.mark_indexed_through(since_commit.last_seq)?;
        *since_commit = IndexBacklog::default();
        Ok(())
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
) -> Work {
    let _span = info_span!("message", origin = %raw.origin, mailbox = %raw.mailbox).entered();
    match parse(&raw, limits) {
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

/// Index what the store holds beyond the index: log entries past the index's mark (a crash
/// between the two commits) and messages corrected in review (their documents are replaced);
/// commit, then move the mark and clear the queue. Returns how many.
pub fn catch_up_index(
    store: &Store,
    writer: &mut MailIndexWriter,
    limits: &ParseLimits,
) -> Result<usize, PipelineError> {
    let pending = store.pending_index()?;
    let corrected = store.reindex_queue()?;
    if pending.is_empty() && corrected.is_empty() {
        return Ok(0);
    }
    let last = pending.last().map(|&(seq, _)| seq);
    let mut ids: Vec<MessageId> = pending.into_iter().map(|(_, id)| id).collect();
    ids.extend(corrected.iter().cloned());
    index_from_store(store, writer, limits, &ids)?;
    writer.commit()?;
    if let Some(last) = last {
        store.mark_indexed_through(last)?;
    }
    store.reindex_done(&corrected)?;
    Ok(ids.len())
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
            bytes: store.raw_bytes(stored.raw)?,
        };
        match parse(&raw, limits) {
            Ok(msg) => writer.add(&msg, &stored.decision, &stored.thread_id)?,
            Err(e) => {
                warn!(message = %id, error = %e, "Stored message no longer parses; not indexed")
            }
        }
    }
    Ok(())
}

/// `deskmail reindex`: rebuild the whole index from the store, starting from an empty index
/// directory, so it also repairs an index that is damaged or has an older schema. Needs no
/// rules: the stored decisions are indexed as they are.
pub fn rebuild_index(data: &DataDir, limits: &ParseLimits) -> Result<u64, PipelineError> {
    let store = Store::open(&data.store(), STORE_CACHE_BYTES)?;
    Ok(rebuild(&store, data, limits)?.1)
}

/// An empty index in `data`, filled from every stored message: the index and the count.
fn rebuild(
    store: &Store,
    data: &DataDir,
    limits: &ParseLimits,
) -> Result<(MailIndex, u64), PipelineError> {
    let index = MailIndex::recreate(&data.index())?;
    let mut writer = index.writer(INDEX_HEAP_BYTES)?;
    let last = store.last_seq()?;
    let ids: Vec<MessageId> = store.message_ids().collect::<Result<_, _>>()?;
    for chunk in ids.chunks(INDEX_COMMIT_EVERY) {
        index_from_store(store, &mut writer, limits, chunk)?;
        writer.commit()?;
    }
    store.mark_indexed_through(last)?;
    writer.finish()?;
    Ok((index, ids.len() as u64))
}

/// A named scoped thread (names show in `top -H`, perf and panic messages).
fn spawn_named<'scope, 'env, T: Send + 'scope>(
    s: &'scope std::thread::Scope<'scope, 'env>,
    name: &str,
    f: impl FnOnce() -> T + Send + 'scope,
) -> std::thread::ScopedJoinHandle<'scope, T> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn_scoped(s, f)
        .unwrap_or_else(|e| panic!("cannot start the {name} thread: {e}"))
}

/// Iterate the raw mail in a list of files, one file in memory at a time.
pub fn raw_mail_from_files(
    files: Vec<PathBuf>,
    mailbox: String,
    role: Option<crate::model::MailboxRole>,
) -> impl Iterator<Item = Result<RawMail, crate::source::files::InputError>> + Send {
    files.into_iter().flat_map(move |path| {
        match crate::source::files::read_file(&path, &mailbox, role) {
            Ok(list) => list.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        }
    })
}
