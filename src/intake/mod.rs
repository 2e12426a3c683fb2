//! The one pipeline every message goes through: `deskmail ingest` (the files it is given),
//! the daemon's sources (IMAP folders, drop folders) and a rebuild of the index all submit
//! batches of raw mail and get back what became of each message, after it is committed.
//!
//! ```text
//!  sources ──Submission──▶ dispatcher ──(batch, i, RawMail)──▶ workers (parse + rules)
//!  (bounded mpsc)               │ Start(batch)                       │ Item(batch, i, Work)
//!                               └──────────────▶ committer ◀─────────┘
//!                         store: batch + cursor + rejections in one write; reply to the source
//!                         tantivy: add; commit (store flushed first) when idle or every
//!                         second (the daemon), every 20,000 documents (a bulk ingest)
//! ```
//! Batches commit strictly in submission order, and a batch's messages in their order within
//! it, so what is stored — threads, "the first invoice", the IBAN seen first — depends on the
//! input, never on which worker finished first; a folder's cursor only ever moves forward over
//! messages that are stored. The rule set can be swapped while running ([`replace_rules`]);
//! each decision records the version that made it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info};

use crate::model::{MessageId, RawMail};
use crate::pipeline::{INDEX_HEAP_BYTES, Pipeline, process};
use crate::rules::RuleSet;
use crate::store::FolderCursor;

mod committer;
mod ingest;
use committer::{Committer, ToCommitter};
pub use ingest::{
    IngestSummary, RejectionReport, ingest, ingest_scanned, rebuild_index, rebuild_index_of,
};

/// Submissions waiting for the dispatcher (each holds up to one source batch).
const SUBMISSION_QUEUE: usize = 4;
/// Messages between dispatcher and workers.
const WORK_QUEUE: usize = 512;
/// The daemon commits the index after this long without new work...
const INDEX_IDLE: Duration = Duration::from_millis(200);
/// ...and at least this often while work keeps coming.
const INDEX_MAX_DELAY: Duration = Duration::from_secs(1);

/// When the committer commits the index (it always flushes the store first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexCommits {
    /// The daemon: searchable within a second of arriving.
    Live,
    /// A bulk ingest: every 20,000 documents and at the end (each commit costs a segment).
    Bulk,
}

/// Why the pipeline could not do what it was asked: the typed boundary between the committer
/// and whoever submitted.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
    #[error("the index writer is gone")]
    NoWriter,
    #[error(transparent)]
    Stopped(#[from] IntakeStopped),
    /// Fail-closed: nothing of the batch was stored; the source offers it again later.
    #[error(
        "{unscanned} of the batch's {batch} messages could not be scanned for viruses, so none of them was stored: {error}"
    )]
    Unscanned {
        unscanned: usize,
        batch: usize,
        error: String,
    },
}

/// Seconds the committer spent in each of its stages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTimings {
    pub store_commit: f64,
    pub index_add: f64,
    pub index_commit: f64,
    pub index_finish: f64,
    /// Time the committer waited for parsed messages.
    pub waiting: f64,
}

/// What sources (and the API) ask of the intake.
enum IntakeRequest {
    Batch(Submission),
    /// Remove messages from the index (erasure, retention) through the one index writer.
    Unindex {
        ids: Vec<MessageId>,
        reply: oneshot::Sender<Result<(), CommitError>>,
    },
    /// Index what the store logged beyond the index (a correction made in review, a rebuild).
    CatchUp {
        reply: oneshot::Sender<Result<usize, CommitError>>,
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
    pub reply: oneshot::Sender<Result<BatchReport, CommitError>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ItemOutcome {
    /// Stored, with the flags the store raised (duplicate_invoice, bank_details_changed, …).
    Stored {
        flags: Vec<String>,
    },
    Duplicate,
    Rejected(String),
}

/// The fate of each message of a submission, in submission order.
#[derive(Debug, Clone, Default)]
pub struct BatchReport {
    pub outcomes: Vec<ItemOutcome>,
}

/// What a submitter waits on: the batch's report once it is committed.
pub type Ack = oneshot::Receiver<Result<BatchReport, CommitError>>;

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
    fn submission(
        mails: Vec<RawMail>,
        cursor: Option<(String, FolderCursor)>,
        durable: bool,
    ) -> (IntakeRequest, Ack) {
        let (reply, rx) = oneshot::channel();
        let sub = Submission {
            mails,
            cursor,
            durable,
            reply,
        };
        (IntakeRequest::Batch(sub), rx)
    }

    /// Submit a batch; the answer comes once it is committed. The wait for a queue slot is the
    /// backpressure that keeps a fast source from filling memory.
    pub async fn submit(
        &self,
        mails: Vec<RawMail>,
        cursor: Option<(String, FolderCursor)>,
        durable: bool,
    ) -> Result<Ack, IntakeStopped> {
        let (request, ack) = Self::submission(mails, cursor, durable);
        self.tx.send(request).await.map_err(|_| IntakeStopped)?;
        Ok(ack)
    }

    /// [`submit`](Self::submit) from a thread that is not in an async runtime.
    pub fn submit_blocking(
        &self,
        mails: Vec<RawMail>,
        cursor: Option<(String, FolderCursor)>,
        durable: bool,
    ) -> Result<Ack, IntakeStopped> {
        let (request, ack) = Self::submission(mails, cursor, durable);
        self.tx.blocking_send(request).map_err(|_| IntakeStopped)?;
        Ok(ack)
    }

    /// Remove messages from the index and commit it; waits (call from a blocking thread).
    pub fn unindex_blocking(&self, ids: Vec<MessageId>) -> Result<(), CommitError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(IntakeRequest::Unindex { ids, reply })
            .map_err(|_| IntakeStopped)?;
        rx.blocking_recv().map_err(|_| IntakeStopped)?
    }

    /// Have the committer index what the store logged beyond the index (blocking); how many.
    pub fn catch_up_blocking(&self) -> Result<usize, CommitError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .blocking_send(IntakeRequest::CatchUp { reply })
            .map_err(|_| IntakeStopped)?;
        rx.blocking_recv().map_err(|_| IntakeStopped)?
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the pipeline has stopped")]
pub struct IntakeStopped;

pub type SharedRules = Arc<RwLock<Arc<RuleSet>>>;

/// How to run the pipeline.
pub struct IntakeOptions {
    /// Parse + rules threads.
    pub workers: usize,
    /// Reply templates and settings, when the daemon sends automatic replies.
    pub replies: Option<Arc<crate::outbound::ReplySettings>>,
    pub index_commits: IndexCommits,
    /// Scan every message with clamd before the rules (`[antivirus]`); None: not scanned.
    pub scanner: Option<Arc<crate::antivirus::Scanner>>,
}

pub struct Intake {
    tx: Option<mpsc::Sender<IntakeRequest>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    rules: SharedRules,
    pub counters: Arc<IntakeCounters>,
    timings: Arc<Mutex<StageTimings>>,
    caught_up: usize,
}

impl Intake {
    /// Start the dispatcher, the parse + rules threads and the committer.
    pub fn start(pipeline: Arc<Pipeline>, options: IntakeOptions) -> Result<Intake, CommitError> {
        let IntakeOptions {
            workers,
            replies,
            index_commits,
            scanner,
        } = options;
        let timings = Arc::new(Mutex::new(StageTimings::default()));
        let mut writer = pipeline.index.writer(INDEX_HEAP_BYTES)?;
        // First the index catches up with the store: what a crash left between the two
        // commits, corrections made in review, or all of it after a rebuild.
        let caught_up =
            crate::pipeline::catch_up_index(&pipeline.store, &mut writer, &pipeline.limits)?;
        if caught_up > 0 {
            info!(
                count = caught_up,
                "Indexed messages the store holds beyond the index"
            );
        }
        let rules: SharedRules = Arc::new(RwLock::new(Arc::clone(&pipeline.rules)));
        let counters = Arc::new(IntakeCounters::default());
        let (tx, mut rx) = mpsc::channel::<IntakeRequest>(SUBMISSION_QUEUE);
        let (work_tx, work_rx) = crossbeam_channel::bounded::<Work>(WORK_QUEUE);
        let (commit_tx, commit_rx) = crossbeam_channel::unbounded::<ToCommitter>();
        let mut threads = Vec::new();

        let to_committer = commit_tx.clone();
        threads.push(spawn("intake-dispatch", move || {
            dispatch(&mut rx, &to_committer, &work_tx)
        }));
        for _ in 0..workers.max(1) {
            let worker = Worker {
                rules: Arc::clone(&rules),
                limits: pipeline.limits,
                replies: replies.clone(),
                store: Arc::clone(&pipeline.store),
                scanner: scanner.clone(),
            };
            let (work_rx, commit_tx) = (work_rx.clone(), commit_tx.clone());
            threads.push(spawn("parse-rules", move || {
                worker.run(work_rx, &commit_tx)
            }));
        }
        drop(commit_tx);
        let c = Arc::clone(&counters);
        let t = Arc::clone(&timings);
        threads.push(spawn("committer", move || {
            Committer {
                pipeline,
                writer: Some(writer),
                counters: c,
                timings: t,
                policy: index_commits,
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
            timings,
            caught_up,
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

    /// Where the committer spent its time so far.
    pub fn timings(&self) -> StageTimings {
        self.timings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Messages the committer indexed from the store's log when it started (a crash between
    /// the store and the index commit, corrections, a rebuild).
    pub fn caught_up(&self) -> usize {
        self.caught_up
    }

    /// [`shutdown`](Self::shutdown), and where the committer spent its time.
    pub fn finish(self) -> (IntakeTotals, StageTimings) {
        let timings = Arc::clone(&self.timings);
        let totals = self.shutdown();
        let t = timings.lock().unwrap_or_else(|p| p.into_inner()).clone();
        (totals, t)
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

/// A piece of work for the parse + rules threads: the batch it belongs to, its place in it.
type Work = (u64, usize, RawMail);

/// The dispatcher: each batch announced to the committer, then its mails handed to the parse +
/// rules threads; the other requests passed to the committer as they come. Returns when the
/// submissions end or the committer has stopped.
fn dispatch(
    rx: &mut mpsc::Receiver<IntakeRequest>,
    to_committer: &crossbeam_channel::Sender<ToCommitter>,
    work_tx: &crossbeam_channel::Sender<Work>,
) {
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
}

/// One parse + rules thread: what it needs to turn a mail into the committer's work.
struct Worker {
    rules: SharedRules,
    limits: crate::parse::ParseLimits,
    replies: Option<Arc<crate::outbound::ReplySettings>>,
    store: Arc<crate::store::Store>,
    scanner: Option<Arc<crate::antivirus::Scanner>>,
}

impl Worker {
    /// Parses, scans and classifies each mail with the rules current when it is taken, until
    /// the work ends or the committer has stopped.
    fn run(
        self,
        work_rx: crossbeam_channel::Receiver<Work>,
        commit_tx: &crossbeam_channel::Sender<ToCommitter>,
    ) {
        for (batch, index, raw) in work_rx {
            let current = current_rules(&self.rules);
            let work = Box::new(process(
                raw,
                &current,
                &self.limits,
                self.replies.as_deref(),
                Some(&self.store),
                self.scanner.as_deref(),
            ));
            if commit_tx
                .send(ToCommitter::Item { batch, index, work })
                .is_err()
            {
                return;
            }
        }
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
