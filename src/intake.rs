//! The daemon's pipeline: every source (IMAP folders, drop folders) submits batches of raw mail
//! and gets back what became of each message, after it is committed.
//!
//! ```text
//!  sources ──Submission──▶ dispatcher ──(batch, i, RawMail)──▶ workers (parse + rules)
//!  (tokio, bounded mpsc)        │ Start(batch)                       │ Item(batch, i, Work)
//!                               └──────────────▶ committer ◀─────────┘
//!                         sled: batch + cursor + rejections in one write; reply to the source
//!                         tantivy: add; commit when idle or every second (store flushed first)
//! ```
//! Batches commit strictly in submission order, so a folder's cursor only ever moves forward
//! over messages that are stored. The rule set can be swapped while running ([`replace_rules`]);
//! each decision records the version that made it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

use crate::index::MailIndexWriter;
use crate::model::{MessageId, RawMail};
use crate::pipeline::{INDEX_COMMIT_EVERY, INDEX_HEAP_BYTES, Pipeline, Work, process};
use crate::rules::RuleSet;
use crate::store::{BatchExtras, CommitOutcome, FolderCursor, Processed, RejectionRecord};

/// Submissions waiting for the dispatcher (each holds up to one source batch).
const SUBMISSION_QUEUE: usize = 4;
/// Messages between dispatcher and workers.
const WORK_QUEUE: usize = 512;
/// The index is committed after this long without new work...
const INDEX_IDLE: Duration = Duration::from_millis(200);
/// ...and at least this often while work keeps coming.
const INDEX_MAX_DELAY: Duration = Duration::from_secs(1);

/// What sources (and the API) ask of the intake.
enum IntakeRequest {
    Batch(Submission),
    /// Remove messages from the index (erasure, retention) through the one index writer.
    Unindex {
        ids: Vec<MessageId>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Index what the store logged beyond the index (a correction made in review).
    CatchUp {
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// A batch of raw mail from one source.
pub struct Submission {
    pub mails: Vec<RawMail>,
    /// Written in the same atomic store write as the batch.
    pub cursor: Option<(String, FolderCursor)>,
    /// fsync the store before replying (the source is about to act on the answer, e.g. move
    /// the message on the server or delete the uploaded file).
    pub durable: bool,
    pub reply: oneshot::Sender<Result<BatchReport, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ItemOutcome {
    Stored,
    Duplicate,
    Rejected(String),
}

/// The fate of each message of a submission, in submission order.
#[derive(Debug, Clone, Default)]
pub struct BatchReport {
    pub outcomes: Vec<ItemOutcome>,
}

/// Running totals since start.
#[derive(Debug, Default)]
pub struct IntakeCounters {
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct IntakeTotals {
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

/// Where sources send their batches. Cheap to clone.
#[derive(Clone)]
pub struct IntakeSender {
    tx: mpsc::Sender<IntakeRequest>,
}

impl IntakeSender {
    /// Submit a batch and wait until it is committed. The wait for a queue slot is the
    /// backpressure that keeps a fast source from filling memory.
    pub async fn submit(
        &self,
        mails: Vec<RawMail>,
        cursor: Option<(String, FolderCursor)>,
        durable: bool,
    ) -> Result<oneshot::Receiver<Result<BatchReport, String>>, IntakeStopped> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(IntakeRequest::Batch(Submission {
                mails,
                cursor,
                durable,
                reply,
            }))
            .await
            .map_err(|_| IntakeStopped)?;
        Ok(rx)
    }

    /// Remove messages from the index and commit it; waits (call from a blocking thread).
    pub fn unindex_blocking(&self, ids: Vec<MessageId>) -> Result<(), String> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(IntakeRequest::Unindex { ids, reply })
            .map_err(|_| IntakeStopped.to_string())?;
        rx.blocking_recv().map_err(|_| IntakeStopped.to_string())?
    }

    /// Have the committer index what the store logged beyond the index (blocking).
    pub fn catch_up_blocking(&self) -> Result<(), String> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(IntakeRequest::CatchUp { reply })
            .map_err(|_| IntakeStopped.to_string())?;
        rx.blocking_recv().map_err(|_| IntakeStopped.to_string())?
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the pipeline has stopped")]
pub struct IntakeStopped;

pub type SharedRules = Arc<RwLock<Arc<RuleSet>>>;

pub struct Intake {
    tx: Option<mpsc::Sender<IntakeRequest>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    rules: SharedRules,
    pub counters: Arc<IntakeCounters>,
}

enum ToCommitter {
    Start {
        batch: u64,
        len: usize,
        cursor: Option<(String, FolderCursor)>,
        durable: bool,
        reply: oneshot::Sender<Result<BatchReport, String>>,
    },
    Item {
        batch: u64,
        index: usize,
        work: Box<Work>,
    },
    Unindex {
        ids: Vec<MessageId>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    CatchUp {
        reply: oneshot::Sender<Result<(), String>>,
    },
}

struct PendingBatch {
    slots: Vec<Option<Work>>,
    remaining: usize,
    cursor: Option<(String, FolderCursor)>,
    durable: bool,
    reply: oneshot::Sender<Result<BatchReport, String>>,
}

impl Intake {
    /// Start the dispatcher, `workers` parse + rules threads and the committer.
    /// `replies`: reply templates and settings, when the daemon sends automatic replies.
    pub fn start(
        pipeline: Arc<Pipeline>,
        workers: usize,
        replies: Option<Arc<crate::outbound::ReplySettings>>,
    ) -> Result<Intake, crate::index::IndexError> {
        let writer = pipeline.index.writer(INDEX_HEAP_BYTES)?;
        let rules: SharedRules = Arc::new(RwLock::new(Arc::clone(&pipeline.rules)));
        let counters = Arc::new(IntakeCounters::default());
        let (tx, mut rx) = mpsc::channel::<IntakeRequest>(SUBMISSION_QUEUE);
        let (work_tx, work_rx) = crossbeam_channel::bounded::<(u64, usize, RawMail)>(WORK_QUEUE);
        let (commit_tx, commit_rx) = crossbeam_channel::unbounded::<ToCommitter>();
        let mut threads = Vec::new();

        let to_committer = commit_tx.clone();
        threads.push(spawn("intake-dispatch", move || {
            let mut batch = 0u64;
            while let Some(request) = rx.blocking_recv() {
                let sub = match request {
                    IntakeRequest::Batch(sub) => sub,
                    IntakeRequest::Unindex { ids, reply } => {
                        if to_committer
                            .send(ToCommitter::Unindex { ids, reply })
                            .is_err()
                        {
                            return;
                        }
                        continue;
                    }
                    IntakeRequest::CatchUp { reply } => {
                        if to_committer.send(ToCommitter::CatchUp { reply }).is_err() {
                            return;
                        }
                        continue;
                    }
                };
                batch += 1;
                let start = ToCommitter::Start {
                    batch,
                    len: sub.mails.len(),
                    cursor: sub.cursor,
                    durable: sub.durable,
                    reply: sub.reply,
                };
                // Start goes before the items, so the committer always knows the batch first.
                if to_committer.send(start).is_err() {
                    return;
                }
                for (i, raw) in sub.mails.into_iter().enumerate() {
                    if work_tx.send((batch, i, raw)).is_err() {
                        return;
                    }
                }
            }
        }));
        for _ in 0..workers.max(1) {
            let work_rx = work_rx.clone();
            let commit_tx = commit_tx.clone();
            let rules = Arc::clone(&rules);
            let limits = pipeline.limits;
            let replies = replies.clone();
            let store = Arc::clone(&pipeline.store);
            threads.push(spawn("parse-rules", move || {
                for (batch, index, raw) in work_rx {
                    let current = current_rules(&rules);
                    let work = Box::new(process(
                        raw,
                        &current,
                        &limits,
                        replies.as_deref(),
                        Some(&store),
                    ));
                    if commit_tx
                        .send(ToCommitter::Item { batch, index, work })
                        .is_err()
                    {
                        return;
                    }
                }
            }));
        }
        drop(commit_tx);
        let c = Arc::clone(&counters);
        threads.push(spawn("committer", move || {
            Committer {
                pipeline,
                writer: Some(writer),
                counters: c,
                backlog: 0,
                backlog_seq: 0,
                last_index_commit: Instant::now(),
            }
            .run(commit_rx)
        }));
        Ok(Intake {
            tx: Some(tx),
            threads,
            rules,
            counters,
        })
    }

    pub fn sender(&self) -> IntakeSender {
        IntakeSender {
            tx: self.tx.clone().expect("intake is running"),
        }
    }

    /// The live rule set, for a watcher that swaps it.
    pub fn rules_handle(&self) -> SharedRules {
        Arc::clone(&self.rules)
    }

    pub fn rules_version(&self) -> String {
        current_rules(&self.rules).version().to_string()
    }

    pub fn totals(&self) -> IntakeTotals {
        IntakeTotals {
            stored: self.counters.stored.load(Ordering::Relaxed),
            duplicates: self.counters.duplicates.load(Ordering::Relaxed),
            rejected: self.counters.rejected.load(Ordering::Relaxed),
        }
    }

    /// Finish what was submitted, commit the index, flush the store, stop the threads. Every
    /// sender must be dropped first (sources stopped), or this waits for them.
    pub fn shutdown(mut self) -> IntakeTotals {
        self.tx = None;
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                error!("an intake thread panicked");
            }
        }
        self.totals()
    }
}

/// The rule set in force now (a poisoned lock still holds the last good set).
pub fn current_rules(shared: &SharedRules) -> Arc<RuleSet> {
    match shared.read() {
        Ok(r) => Arc::clone(&r),
        Err(p) => Arc::clone(&p.into_inner()),
    }
}

/// Swap the rule set the workers use; the next message is decided by the new one.
pub fn replace_rules(shared: &SharedRules, rules: Arc<RuleSet>) {
    match shared.write() {
        Ok(mut r) => *r = rules,
        Err(p) => *p.into_inner() = rules,
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .unwrap_or_else(|e| panic!("cannot start the {name} thread: {e}"))
}

struct Committer {
    pipeline: Arc<Pipeline>,
    writer: Option<MailIndexWriter>,
    counters: Arc<IntakeCounters>,
    /// Documents added since the last index commit, and the highest log number among them.
    backlog: usize,
    backlog_seq: u64,
    last_index_commit: Instant,
}

impl Committer {
    fn run(mut self, rx: crossbeam_channel::Receiver<ToCommitter>) {
        let mut pending: BTreeMap<u64, PendingBatch> = BTreeMap::new();
        let mut next = 1u64;
        loop {
            let idle = match rx.recv_timeout(INDEX_IDLE) {
                Ok(ToCommitter::Start {
                    batch,
                    len,
                    cursor,
                    durable,
                    reply,
                }) => {
                    pending.insert(
                        batch,
                        PendingBatch {
                            slots: (0..len).map(|_| None).collect(),
                            remaining: len,
                            cursor,
                            durable,
                            reply,
                        },
                    );
                    false
                }
                Ok(ToCommitter::Item { batch, index, work }) => {
                    if let Some(p) = pending.get_mut(&batch) {
                        p.slots[index] = Some(*work);
                        p.remaining -= 1;
                    }
                    false
                }
                Ok(ToCommitter::Unindex { ids, reply }) => {
                    let _ = reply.send(self.unindex(&ids));
                    false
                }
                Ok(ToCommitter::CatchUp { reply }) => {
                    let _ = reply.send(self.catch_up());
                    false
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => true,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            };
            while pending.get(&next).is_some_and(|p| p.remaining == 0) {
                if let Some(p) = pending.remove(&next) {
                    self.commit(p);
                }
                next += 1;
            }
            if self.backlog > 0
                && (idle
                    || self.backlog >= INDEX_COMMIT_EVERY
                    || self.last_index_commit.elapsed() >= INDEX_MAX_DELAY)
            {
                self.commit_index();
            }
        }
        self.commit_index();
        if let Err(e) = self.pipeline.store.flush() {
            error!(error = %e, "Final store flush failed");
        }
        if let Some(w) = self.writer.take()
            && let Err(e) = w.finish()
        {
            error!(error = %e, "Index writer did not finish cleanly");
        }
        info!("Pipeline stopped");
    }

    fn commit(&mut self, batch: PendingBatch) {
        let mut outcomes = vec![ItemOutcome::Stored; batch.slots.len()];
        let mut processed: Vec<Processed> = Vec::with_capacity(batch.slots.len());
        let mut positions = Vec::with_capacity(batch.slots.len());
        let mut extras = BatchExtras {
            cursor: batch.cursor,
            rejections: Vec::new(),
        };
        for (i, work) in batch.slots.into_iter().enumerate() {
            match work {
                Some(Work::Done(p)) => {
                    processed.push(*p);
                    positions.push(i);
                }
                Some(Work::Rejected {
                    origin,
                    content,
                    size,
                    reason,
                }) => {
                    warn!(origin = %origin, reason = %reason, "Rejected input");
                    outcomes[i] = ItemOutcome::Rejected(reason.to_string());
                    extras.rejections.push((
                        content,
                        RejectionRecord {
                            origin,
                            reason: reason.to_string(),
                            size,
                            at: chrono::Utc::now(),
                        },
                    ));
                }
                None => outcomes[i] = ItemOutcome::Rejected("lost in the pipeline".into()),
            }
        }
        let result = self
            .pipeline
            .store
            .commit_batch_with(&processed, &extras)
            .and_then(|o| {
                if batch.durable {
                    self.pipeline.store.flush()?;
                }
                Ok(o)
            });
        let stored = match result {
            Ok(stored) => stored,
            Err(e) => {
                error!(error = %e, "Store commit failed; the batch will be fetched again");
                let _ = batch.reply.send(Err(e.to_string()));
                return;
            }
        };
        let c = &self.counters;
        c.rejected
            .fetch_add(extras.rejections.len() as u64, Ordering::Relaxed);
        for ((p, outcome), &i) in processed.iter().zip(stored).zip(&positions) {
            match outcome {
                CommitOutcome::Stored { thread, seq, .. } => {
                    c.stored.fetch_add(1, Ordering::Relaxed);
                    if let Some(w) = self.writer.as_mut()
                        && let Err(e) = w.add(&p.message, &p.decision, &thread)
                    {
                        // The store has it; the next start re-indexes from the log.
                        error!(error = %e, "Index add failed");
                    }
                    self.backlog += 1;
                    self.backlog_seq = self.backlog_seq.max(seq);
                }
                CommitOutcome::Duplicate { .. } => {
                    c.duplicates.fetch_add(1, Ordering::Relaxed);
                    outcomes[i] = ItemOutcome::Duplicate;
                }
            }
        }
        let _ = batch.reply.send(Ok(BatchReport { outcomes }));
    }

    /// Delete documents and commit at once: an erased message must stop being found now.
    /// Batches in flight are committed first, so the log's pending entries are all settled.
    fn catch_up(&mut self) -> Result<(), String> {
        self.commit_index();
        let Some(w) = self.writer.as_mut() else {
            return Err("the index writer is gone".into());
        };
        crate::pipeline::catch_up_index(&self.pipeline.store, w, &self.pipeline.limits)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn unindex(&mut self, ids: &[MessageId]) -> Result<(), String> {
        let Some(w) = self.writer.as_mut() else {
            return Err("the index writer is gone".into());
        };
        for id in ids {
            w.delete(id).map_err(|e| e.to_string())?;
        }
        self.backlog += 1; // forces the commit below even when nothing else is pending
        self.commit_index();
        if self.backlog == 0 {
            Ok(())
        } else {
            Err("the index commit failed".into())
        }
    }

    fn commit_index(&mut self) {
        if self.backlog == 0 {
            return;
        }
        // The index must never be ahead of what is durable in the store.
        let result = self
            .pipeline
            .store
            .flush()
            .map_err(|e| e.to_string())
            .and_then(|_| match self.writer.as_mut() {
                Some(w) => w.commit().map_err(|e| e.to_string()),
                None => Ok(()),
            })
            .and_then(|_| {
                self.pipeline
                    .store
                    .mark_indexed_through(self.backlog_seq)
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(()) => {
                self.backlog = 0;
                self.last_index_commit = Instant::now();
            }
            Err(e) => error!(error = %e, "Index commit failed; will retry"),
        }
    }
}
