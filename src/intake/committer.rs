//! The committer: the one thread that writes messages to the store and the index, for every
//! path a message takes (`deskmail ingest`, the daemon's sources, a rebuild of the index).
//!
//! Batches are committed strictly in submission order, each as one store batch with its
//! rejections and its cursor; every stored message is added to the index; the index is
//! committed only after the store is flushed, so it is never ahead of what is durable
//! (invariant 5), and the log's "indexed" mark moves after the index commit.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::oneshot;
use tracing::{error, info, warn};

use super::{
    BatchReport, CommitError, INDEX_IDLE, INDEX_MAX_DELAY, IndexCommits, IntakeCounters,
    ItemOutcome, StageTimings,
};
use crate::index::MailIndexWriter;
use crate::model::MessageId;
use crate::pipeline::{INDEX_COMMIT_EVERY, Pipeline, Work};
use crate::store::{BatchExtras, CommitOutcome, FolderCursor, Processed, RejectionRecord};

/// A rejection's metric label: one of a small fixed set (never the detail).
fn rejection_kind(r: &crate::parse::Rejection) -> &'static str {
    use crate::parse::Rejection;
    match r {
        Rejection::Empty => "empty",
        Rejection::TooLarge { .. } => "too_large",
        Rejection::NotMail(_) => "not_mail",
        Rejection::ParserFailed(_) => "parser_failed",
    }
}

/// What the dispatcher and the workers send the committer.
pub(super) enum ToCommitter {
    /// A batch begins: how many items to wait for, and what to answer.
    Start {
        batch: u64,
        len: usize,
        cursor: Option<(String, FolderCursor)>,
        durable: bool,
        reply: oneshot::Sender<Result<BatchReport, CommitError>>,
    },
    Item {
        batch: u64,
        index: usize,
        work: Box<Work>,
    },
    Unindex {
        ids: Vec<MessageId>,
        reply: oneshot::Sender<Result<(), CommitError>>,
    },
    CatchUp {
        reply: oneshot::Sender<Result<usize, CommitError>>,
    },
}

struct PendingBatch {
    slots: Vec<Option<Work>>,
    remaining: usize,
    cursor: Option<(String, FolderCursor)>,
    durable: bool,
    reply: oneshot::Sender<Result<BatchReport, CommitError>>,
}

pub(super) struct Committer {
    pub(super) pipeline: Arc<Pipeline>,
    pub(super) writer: Option<MailIndexWriter>,
    pub(super) counters: Arc<IntakeCounters>,
    pub(super) timings: Arc<Mutex<StageTimings>>,
    pub(super) policy: IndexCommits,
    /// Documents added since the last index commit, and the highest log number among them.
    pub(super) backlog: usize,
    pub(super) backlog_seq: u64,
    pub(super) last_index_commit: Instant,
}

impl Committer {
    pub(super) fn run(mut self, rx: crossbeam_channel::Receiver<ToCommitter>) {
        let mut pending: BTreeMap<u64, PendingBatch> = BTreeMap::new();
        let mut next = 1u64;
        loop {
            let t = Instant::now();
            let received = rx.recv_timeout(INDEX_IDLE);
            self.time(|s| s.waiting += t.elapsed().as_secs_f64());
            let idle = match received {
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
            let due = match self.policy {
                IndexCommits::Live => idle || self.last_index_commit.elapsed() >= INDEX_MAX_DELAY,
                IndexCommits::Bulk => false,
            };
            if self.backlog > 0
                && (due || self.backlog >= INDEX_COMMIT_EVERY)
                && let Err(e) = self.commit_index()
            {
                error!(error = %e, "Index commit failed; will retry");
            }
            if let Some(w) = self.writer.as_mut() {
                w.let_go_of_merged();
            }
        }
        // Every message is in the store now: its memtable is written out while the final
        // commit waits for the index's last segment (one thread), not after it.
        self.pipeline.store.write_out_soon();
        if let Err(e) = self.commit_index() {
            error!(error = %e, "Final index commit failed; the next start re-indexes");
        }
        if let Err(e) = self.pipeline.store.flush() {
            error!(error = %e, "Final store flush failed");
        }
        let t = Instant::now();
        if let Some(w) = self.writer.take() {
            // A bulk ingest's last segments merged into one while nothing else runs; a live
            // writer's would be merged at every stop of the daemon.
            if matches!(self.policy, IndexCommits::Bulk) {
                w.merge_tail();
            }
            if let Err(e) = w.finish() {
                error!(error = %e, "Index writer did not finish cleanly");
            }
        }
        self.time(|s| s.index_finish += t.elapsed().as_secs_f64());
        info!("Pipeline stopped");
    }

    fn time(&self, f: impl FnOnce(&mut StageTimings)) {
        f(&mut self.timings.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn commit(&mut self, batch: PendingBatch) {
        let started = Instant::now();
        if let Some(e) = unscanned(&batch) {
            error!(error = %e, "Antivirus scan failed; the batch will be offered again");
            let _ = batch.reply.send(Err(e));
            return;
        }
        let Sorted {
            mut outcomes,
            processed,
            positions,
            extras,
        } = Sorted::of(batch.slots, batch.cursor);
        let t = Instant::now();
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
        self.time(|s| s.store_commit += t.elapsed().as_secs_f64());
        let stored = match result {
            Ok(stored) => stored,
            Err(e) => {
                error!(error = %e, "Store commit failed; the batch will be offered again");
                let _ = batch.reply.send(Err(e.into()));
                return;
            }
        };
        let c = &self.counters;
        c.rejected
            .fetch_add(extras.rejections.len() as u64, Ordering::Relaxed);
        let t = Instant::now();
        self.index_stored(&processed, stored, &positions, &mut outcomes);
        self.time(|s| s.index_add += t.elapsed().as_secs_f64());
        crate::metrics::batch_committed(started.elapsed());
        let _ = batch.reply.send(Ok(BatchReport { outcomes }));
    }

    /// After the store commit: each stored message counted and added to the index, each
    /// duplicate counted; their outcomes set.
    fn index_stored(
        &mut self,
        processed: &[Processed],
        stored: Vec<CommitOutcome>,
        positions: &[usize],
        outcomes: &mut [ItemOutcome],
    ) {
        let c = &self.counters;
        for ((p, outcome), &i) in processed.iter().zip(stored).zip(positions) {
            match outcome {
                CommitOutcome::Stored {
                    thread,
                    seq,
                    flags,
                    stored_at,
                } => {
                    c.stored.fetch_add(1, Ordering::Relaxed);
                    crate::metrics::message_ingested(
                        &p.message.mailbox,
                        &p.decision.category,
                        p.decision.category_rule.as_deref(),
                    );
                    if let Some(w) = self.writer.as_mut()
                        && let Err(e) = w.add_new(&p.message, &p.decision, &thread, stored_at)
                    {
                        // The store has it; the next start re-indexes from the log.
                        error!(error = %e, "Index add failed");
                    }
                    self.backlog += 1;
                    self.backlog_seq = self.backlog_seq.max(seq);
                    outcomes[i] = ItemOutcome::Stored { flags };
                }
                CommitOutcome::Duplicate { .. } => {
                    c.duplicates.fetch_add(1, Ordering::Relaxed);
                    crate::metrics::message_duplicate();
                    outcomes[i] = ItemOutcome::Duplicate;
                }
            }
        }
    }

    /// Index what the store logged beyond the index (a correction made in review, a rebuild),
    /// after committing what is in flight.
    fn catch_up(&mut self) -> Result<usize, CommitError> {
        self.commit_index()?;
        let w = self.writer.as_mut().ok_or(CommitError::NoWriter)?;
        Ok(crate::pipeline::catch_up_index(
            &self.pipeline.store,
            w,
            &self.pipeline.limits,
        )?)
    }

    /// Delete documents and commit at once: an erased message must stop being found now.
    fn unindex(&mut self, ids: &[MessageId]) -> Result<(), CommitError> {
        let w = self.writer.as_mut().ok_or(CommitError::NoWriter)?;
        let held = w.segments_holding(ids)?;
        for id in ids {
            w.delete(id)?;
        }
        self.backlog += 1; // forces the commit below even when nothing else is pending
        self.commit_index()?;
        if let Some(w) = self.writer.as_mut() {
            w.purge_deleted(&held)?;
        }
        Ok(())
    }

    fn commit_index(&mut self) -> Result<(), CommitError> {
        if self.backlog == 0 {
            return Ok(());
        }
        let t = Instant::now();
        // The index must never be ahead of what is durable in the store.
        self.pipeline.store.flush()?;
        let mut requeued = Vec::new();
        if let Some(w) = self.writer.as_mut() {
            // Messages a thread merge moved carry their new thread id into this commit.
            requeued =
                crate::pipeline::add_reindex_queue(&self.pipeline.store, w, &self.pipeline.limits)?;
            w.commit()?;
        }
        self.pipeline.store.mark_indexed_through(self.backlog_seq)?;
        if !requeued.is_empty() {
            self.pipeline.store.reindex_done(&requeued)?;
        }
        self.backlog = 0;
        self.last_index_commit = Instant::now();
        self.time(|s| s.index_commit += t.elapsed().as_secs_f64());
        Ok(())
    }
}

/// The error for a batch with a message the antivirus scan could not look at: such a batch is
/// refused whole (not stored, not passed), like a batch the store could not write.
fn unscanned(batch: &PendingBatch) -> Option<CommitError> {
    let mut first = None;
    let mut count = 0;
    for w in batch.slots.iter().flatten() {
        if let Work::Unscanned { origin, error } = w {
            count += 1;
            first.get_or_insert_with(|| format!("{origin}: {error}"));
        }
    }
    first.map(|error| CommitError::Unscanned {
        unscanned: count,
        batch: batch.slots.len(),
        error,
    })
}

/// A batch's slots sorted out before the store commit: what to store (with each one's place in
/// the batch), the rejections to record with the folder cursor, and every slot's outcome so far.
struct Sorted {
    outcomes: Vec<ItemOutcome>,
    processed: Vec<Processed>,
    positions: Vec<usize>,
    extras: BatchExtras,
}

impl Sorted {
    fn of(slots: Vec<Option<Work>>, cursor: Option<(String, FolderCursor)>) -> Sorted {
        let mut outcomes: Vec<ItemOutcome> = Vec::with_capacity(slots.len());
        let mut processed: Vec<Processed> = Vec::with_capacity(slots.len());
        let mut positions = Vec::with_capacity(slots.len());
        let mut extras = BatchExtras {
            cursor,
            rejections: Vec::new(),
        };
        for (i, work) in slots.into_iter().enumerate() {
            match work {
                Some(Work::Done(p)) => {
                    outcomes.push(ItemOutcome::Stored { flags: Vec::new() });
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
                    crate::metrics::message_rejected(rejection_kind(&reason));
                    outcomes.push(ItemOutcome::Rejected(reason.to_string()));
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
                // Refused above; `None` never happens either (a batch commits when it is full).
                Some(Work::Unscanned { .. }) | None => {
                    crate::metrics::message_rejected("lost");
                    outcomes.push(ItemOutcome::Rejected("lost in the pipeline".into()))
                }
            }
        }
        Sorted {
            outcomes,
            processed,
            positions,
            extras,
        }
    }
}
