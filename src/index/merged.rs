//! Letting go of the segments that merges replaced (issue 14: an ingest's peak memory).
//!
//! A reader's searcher maps every file of the segments it was opened on, and tantivy's directory
//! shares one map per file with whoever else opens it. A merge reads its source segments whole
//! (the doc store block after block, every posting list) through those same maps, so while the
//! writer's reader still holds the sources, every page the merge read stays resident in this
//! process, also after the merge has deleted their files. The writer's reader used to move on
//! only at the next index commit (every 20,000 documents in a bulk ingest) and, at the end of
//! an ingest, only after its last merges: a 100,000-message slice into a million-message
//! directory ended with 80–159 MiB of such pages (docs/PERFORMANCE.md).

use std::time::{Duration, Instant};

use tantivy::index::SegmentId;
use tantivy::{Index, IndexReader};

use super::IndexError;

/// How often a writer looks for merges that finished: a look reads `meta.json` (a few KB).
pub(super) const LOOK_EVERY: Duration = Duration::from_millis(250);

/// Reloads `reader` when the index's segments are no longer the ones its searcher holds (a
/// merge finished): true when it did.
pub(super) fn let_go_of_merged(reader: &IndexReader, index: &Index) -> Result<bool, IndexError> {
    let mut on_disk: Vec<SegmentId> = index.searchable_segment_ids()?;
    let mut held: Vec<SegmentId> = reader
        .searcher()
        .segment_readers()
        .iter()
        .map(|r| r.segment_id())
        .collect();
    on_disk.sort_unstable();
    held.sort_unstable();
    if on_disk == held {
        return Ok(false);
    }
    reader.reload()?;
    Ok(true)
}

/// Rate-limits [`let_go_of_merged`] for a caller that asks often (the committer, after every
/// batch and every idle wait).
#[derive(Debug)]
pub(super) struct MergeWatch {
    looked: Instant,
}

impl MergeWatch {
    pub(super) fn new() -> Self {
        MergeWatch {
            looked: Instant::now(),
        }
    }

    /// Looks (at most every [`LOOK_EVERY`]) and lets go of merged-away segments. A failure
    /// costs memory, not results: it is logged and the next look tries again.
    pub(super) fn look(&mut self, reader: &IndexReader, index: &Index) {
        if self.looked.elapsed() < LOOK_EVERY {
            return;
        }
        self.look_now(reader, index);
    }

    /// Looks now (a caller that paces itself).
    pub(super) fn look_now(&mut self, reader: &IndexReader, index: &Index) {
        self.looked = Instant::now();
        if let Err(e) = let_go_of_merged(reader, index) {
            tracing::warn!(error = %e, "Cannot reload the writer's reader after a merge");
        }
    }
}
