//! `deskmail ingest` and `deskmail reindex` as clients of the one pipeline: files are read on
//! the caller's thread and submitted in batches; the committer stores and indexes them exactly
//! as it does the daemon's mail.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tracing::{info, warn};

use super::{Ack, CommitError, IndexCommits, Intake, IntakeOptions, ItemOutcome, StageTimings};
use crate::index::MailIndex;
use crate::model::RawMail;
use crate::parse::ParseLimits;
use crate::pipeline::{DataDir, Pipeline, STORE_CACHE_BYTES};
use crate::source::files::InputError;
use crate::store::Store;

/// Messages per submission (one store batch each).
const BATCH: usize = 256;
/// Batches submitted and not answered yet, at most. The committer (the store and the index) is the
/// slowest stage: without a bound every message read would wait in its queue, parsed and with
/// its bytes, and the memory of one run grew with its size (1.4 GiB for 100,000 messages;
/// issue 14). Four keep the workers busy while the committer works: eight were no faster, and a
/// 100,000-message slice into a million-message store reached 317–369 MiB of its own memory
/// against 287–338 with four (sixteen held 70 MiB more at 100,000 messages).
const MAX_IN_FLIGHT: usize = 4;

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
    pub flagged: BTreeMap<String, u64>,
    pub bytes: u64,
    pub seconds: f64,
    /// Where the committer spent its time (the stages after parse + rules).
    pub timings: StageTimings,
}

impl IngestSummary {
    fn count(&mut self, report: Vec<ItemOutcome>, origins: Vec<String>) {
        for (outcome, origin) in report.into_iter().zip(origins) {
            match outcome {
                ItemOutcome::Stored { flags } => {
                    self.ingested += 1;
                    for f in flags {
                        *self.flagged.entry(f).or_default() += 1;
                    }
                }
                ItemOutcome::Duplicate => self.duplicates += 1,
                ItemOutcome::Rejected(reason) => {
                    self.rejected += 1;
                    self.rejections.push(RejectionReport {
                        path: origin,
                        reason,
                    });
                }
            }
        }
    }

    fn handled(&self) -> u64 {
        self.ingested + self.duplicates + self.rejected
    }
}

/// Run raw mail through the pipeline, in input order. `on_progress` is called with the number
/// of messages handled so far. Rejected input is recorded and reported; it never stops the run.
/// A store that cannot be written does: the error is returned after what was committed is
/// flushed.
pub fn ingest<I>(
    pipeline: Arc<Pipeline>,
    inputs: I,
    workers: usize,
    on_progress: &dyn Fn(u64),
) -> Result<IngestSummary, CommitError>
where
    I: Iterator<Item = Result<RawMail, InputError>>,
{
    ingest_scanned(pipeline, inputs, workers, None, on_progress)
}

/// Batches submitted to the intake, with the origins of their messages, oldest first.
type InFlight = VecDeque<(Ack, Vec<String>)>;

/// Take in the answers that are ready, and wait for more until at most `at_most` are out
/// (answers come in submission order: the oldest is waited for).
fn settle(
    in_flight: &mut InFlight,
    summary: &mut IngestSummary,
    at_most: usize,
    on_progress: &dyn Fn(u64),
) -> Result<(), CommitError> {
    while let Some((ack, _)) = in_flight.front_mut() {
        let answer = match ack.try_recv() {
            Ok(a) => a,
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) if in_flight.len() <= at_most => {
                return Ok(());
            }
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {
                let (ack, origins) = in_flight.pop_front().expect("front exists");
                let answer = ack.blocking_recv().map_err(|_| super::IntakeStopped)?;
                summary.count(answer?.outcomes, origins);
                on_progress(summary.handled());
                continue;
            }
            Err(_) => return Err(super::IntakeStopped.into()),
        };
        let (_, origins) = in_flight.pop_front().expect("front exists");
        summary.count(answer?.outcomes, origins);
        on_progress(summary.handled());
    }
    Ok(())
}

/// [`ingest`], each message scanned by `scanner` first (`[antivirus]`). A batch that could not
/// be scanned stops the run with [`CommitError::Unscanned`]; nothing of it is stored.
pub fn ingest_scanned<I>(
    pipeline: Arc<Pipeline>,
    inputs: I,
    workers: usize,
    scanner: Option<Arc<crate::antivirus::Scanner>>,
    on_progress: &dyn Fn(u64),
) -> Result<IngestSummary, CommitError>
where
    I: Iterator<Item = Result<RawMail, InputError>>,
{
    let started = Instant::now();
    let intake = Intake::start(
        pipeline,
        IntakeOptions {
            workers,
            replies: None,
            index_commits: IndexCommits::Bulk,
            scanner,
        },
    )?;
    let sender = intake.sender();
    let mut summary = IngestSummary::default();
    let mut in_flight = InFlight::new();
    let mut failure: Option<CommitError> = None;
    let mut batch: Vec<RawMail> = Vec::with_capacity(BATCH);
    let mut inputs = inputs.peekable();
    while inputs.peek().is_some() || !batch.is_empty() {
        match inputs.next() {
            Some(Ok(raw)) => {
                summary.bytes += raw.bytes.len() as u64;
                batch.push(raw);
                if batch.len() < BATCH {
                    continue;
                }
            }
            Some(Err(e)) => {
                warn!(error = %e, "Input could not be read");
                summary.rejected += 1;
                summary.rejections.push(RejectionReport {
                    path: e.path.clone(),
                    reason: format!("cannot read: {}", e.source),
                });
                continue;
            }
            None => {}
        }
        let mails = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
        let origins = mails.iter().map(|m| m.origin.clone()).collect();
        match sender.submit_blocking(mails, None, false) {
            Ok(ack) => in_flight.push_back((ack, origins)),
            Err(e) => {
                failure = Some(e.into());
                break;
            }
        }
        if let Err(e) = settle(&mut in_flight, &mut summary, MAX_IN_FLIGHT, on_progress) {
            failure = Some(e);
            break;
        }
    }
    if failure.is_none()
        && let Err(e) = settle(&mut in_flight, &mut summary, 0, on_progress)
    {
        failure = Some(e);
    }
    drop(sender);
    // Commits the index (after flushing the store) and finishes the writer.
    let (_, timings) = intake.finish();
    if let Some(e) = failure {
        return Err(e);
    }
    summary.timings = timings;
    summary.seconds = started.elapsed().as_secs_f64();
    info!(
        ingested = summary.ingested,
        duplicates = summary.duplicates,
        rejected = summary.rejected,
        "Ingest finished"
    );
    Ok(summary)
}

/// `deskmail reindex`: an empty index, filled by the committer from every stored message with
/// its stored decision (no rules run), so it also repairs an index that is damaged or has an
/// older schema. The number of messages indexed.
pub fn rebuild_index(data: &DataDir, limits: &ParseLimits) -> Result<u64, CommitError> {
    let store = Arc::new(Store::open(&data.store(), STORE_CACHE_BYTES)?);
    rebuild_index_of(store, data, limits)
}

/// `rebuild_index` with a store already open (a restore that just loaded it: the store's lock is
/// released only when its background flusher lets go, so opening it again at once can fail).
pub fn rebuild_index_of(
    store: Arc<Store>,
    data: &DataDir,
    limits: &ParseLimits,
) -> Result<u64, CommitError> {
    let index = MailIndex::recreate(&data.index())?;
    store.reset_indexed()?;
    let pipeline = Arc::new(Pipeline {
        store,
        index,
        rules: Arc::new(crate::rules::RuleSet::none()),
        limits: *limits,
    });
    // Starting the committer catches the index up with the store's log: all of it.
    let intake = Intake::start(
        pipeline,
        IntakeOptions {
            workers: 1,
            replies: None,
            index_commits: IndexCommits::Bulk,
            scanner: None,
        },
    )?;
    let caught_up = intake.caught_up();
    intake.finish();
    Ok(caught_up as u64)
}
