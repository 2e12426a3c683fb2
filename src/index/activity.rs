//! Each thread's latest activity beside every document, kept by a process that keeps the index
//! open (the daemon's control socket, `deskmail serve`).
//!
//! Newest first ranks a thread by the date of its newest message, matching or not. Without
//! this table a search learns that from the messages dated after its first page's matches
//! (`select::select_newest`), and for a month of old mail that is most of the index: at a
//! million messages `date:2002-08` read the thread of 400,000 of them. With it, the first pass
//! ranks the matches by their thread's activity directly, and no other thread can rank before
//! the ones it keeps.
//!
//! The table is exact for one set of segments with their deletions and is used only by a
//! search reading that very set; it is built from scratch on a thread of its own when a
//! long-running reader sees a new set, and until it is ready searches read activity as they
//! did without it. (A reload that finds no new commit gives a new searcher generation of the
//! same segments: the table is kept.)

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tantivy::BitSet;
use tantivy::index::SegmentId;
use tantivy::{COLLECT_BLOCK_BUFFER_LEN, DocAddress, DocId, Opstamp, Searcher, SegmentOrdinal};

use super::collect::{ThreadDates, ThreadMap};
use super::{IndexError, schema};

/// The segments a searcher reads, in ordinal order, each with the stamp of its deletions.
type Segments = Vec<(SegmentId, Option<Opstamp>)>;

fn segments_of(searcher: &Searcher) -> Segments {
    searcher
        .segment_readers()
        .iter()
        .map(|r| (r.segment_id(), r.delete_opstamp()))
        .collect()
}

/// The activity of each document's thread, for one set of segments.
pub(super) struct Activity {
    /// The segments it was built from: a searcher reading others cannot use it.
    identity: Segments,
    /// The distinct activities (Unix seconds), ascending: a document holds its thread's rank
    /// among them, 4 bytes instead of 8.
    distinct: Box<[i64]>,
    /// Per segment ordinal.
    segments: Vec<SegmentActivity>,
}

/// One segment's part of the table.
struct SegmentActivity {
    /// Per document: its thread's activity as `1 +` its index in `distinct` (so ranks order
    /// like activities), or [`UNDATED`] (no dated message in the thread, or deleted).
    ranks: Box<[u32]>,
    /// The documents with a dated thread, most recently active first.
    by_activity: Box<[DocId]>,
}

/// The rank of a document whose thread has no dated message, or of a deleted document.
const UNDATED: u32 = 0;

impl Activity {
    /// Reads the thread and date of every live document twice: once for each thread's newest
    /// date, once to write its rank beside each document.
    pub(super) fn of(searcher: &Searcher) -> Result<Activity, IndexError> {
        let mut newest: ThreadMap<Option<i64>> = ThreadMap::default();
        newest.reserve(searcher.num_docs() as usize / 2);
        for reader in searcher.segment_readers() {
            let mut columns = ThreadDates::of(reader)?;
            let alive = reader.alive_bitset();
            for_doc_blocks(reader.max_doc(), |docs| {
                for (doc, t, d) in columns.read(docs) {
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        let slot = newest.entry(t.unwrap_or(0)).or_insert(d);
                        *slot = (*slot).max(d);
                    }
                }
            });
        }
        let mut distinct: Vec<i64> = newest.values().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        // Each thread's rank by bisection: sorting the threads by date instead is faster but
        // leaves its 16 bytes a thread behind in the building thread's heap.
        let rank_of: ThreadMap<u32> = newest
            .into_iter()
            .filter_map(|(t, d)| {
                let at = distinct.binary_search(&d?).ok()?;
                Some((t, u32::try_from(at + 1).ok()?))
            })
            .collect();
        let mut threads = Vec::new();
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        for reader in searcher.segment_readers() {
            let thread = reader.fast_fields().u64(schema::THREAD_N)?;
            let alive = reader.alive_bitset();
            let mut ranks = vec![UNDATED; reader.max_doc() as usize];
            for_doc_blocks(reader.max_doc(), |docs| {
                threads.resize(docs.len(), None);
                thread.first_vals(docs, &mut threads);
                for (&doc, t) in docs.iter().zip(&threads) {
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        ranks[doc as usize] =
                            rank_of.get(&t.unwrap_or(0)).copied().unwrap_or(UNDATED);
                    }
                }
            });
            let mut by_activity: Vec<DocId> = (0..reader.max_doc())
                .filter(|&d| ranks[d as usize] != UNDATED)
                .collect();
            by_activity.sort_unstable_by_key(|&d| std::cmp::Reverse(ranks[d as usize]));
            segments.push(SegmentActivity {
                ranks: ranks.into_boxed_slice(),
                by_activity: by_activity.into_boxed_slice(),
            });
        }
        Ok(Activity {
            identity: segments_of(searcher),
            distinct: distinct.into_boxed_slice(),
            segments,
        })
    }

    /// The activity of the thread of the document at `addr`: its newest message's date.
    #[inline]
    pub(super) fn of_doc(&self, addr: DocAddress) -> Option<i64> {
        let rank = *self
            .segments
            .get(addr.segment_ord as usize)?
            .ranks
            .get(addr.doc_id as usize)?;
        rank.checked_sub(1)
            .and_then(|at| self.distinct.get(at as usize).copied())
    }

    /// The first `target` members of `matched` (one segment's matches) in order of their
    /// thread's activity, most recent first, and every match tied with the last of them (all
    /// the matches of a thread share its activity, so each thread here has all its matches
    /// here); sorted by document.
    pub(super) fn most_active_matches(
        &self,
        segment: SegmentOrdinal,
        matched: &BitSet,
        target: usize,
    ) -> Vec<DocId> {
        let Some(seg) = self.segments.get(segment as usize) else {
            return Vec::new();
        };
        let mut docs = Vec::with_capacity(target + target / 4);
        let mut last = None;
        for &doc in seg.by_activity.iter() {
            let key = seg.ranks[doc as usize];
            if docs.len() >= target && last != Some(key) {
                break;
            }
            if doc < matched.max_value() && matched.contains(doc) {
                docs.push(doc);
                last = Some(key);
            }
        }
        docs.sort_unstable();
        docs
    }

    /// Built for the segments (and deletions) `searcher` reads, in its order.
    fn is_for(&self, searcher: &Searcher) -> bool {
        let readers = searcher.segment_readers();
        self.identity.len() == readers.len()
            && self
                .identity
                .iter()
                .zip(readers)
                .all(|(&(id, deletes), r)| id == r.segment_id() && deletes == r.delete_opstamp())
    }
}

/// Calls `f` with the documents `0..max_doc` a block at a time.
fn for_doc_blocks(max_doc: DocId, mut f: impl FnMut(&[DocId])) {
    let mut block: Vec<DocId> = Vec::with_capacity(COLLECT_BLOCK_BUFFER_LEN);
    let mut start = 0;
    while start < max_doc {
        let end = max_doc.min(start + COLLECT_BLOCK_BUFFER_LEN as DocId);
        block.clear();
        block.extend(start..end);
        f(&block);
        start = end;
    }
}

/// The table of the newest segments a long-running reader has seen, and whether one is
/// being built. A CLI search, which reads the index once, never builds one.
#[derive(Default)]
pub(super) struct ActivityCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    table: Option<Arc<Activity>>,
    building: bool,
    /// No new build starts before this: after a build that took `t`, `REST_FACTOR × t`. A
    /// daemon that indexes new mail while it is searched changes its segments at every commit;
    /// without a rest each reload would rebuild (about 0.2 s at a million messages). Searches in between read activity without the table.
    rest_until: Option<Instant>,
}

/// A build is followed by a rest this many times as long: building takes at most a tenth of a
/// core however often the segments change.
const REST_FACTOR: u32 = 9;

impl ActivityCache {
    /// The table for the segments `searcher` reads, if it is built.
    pub(super) fn for_searcher(&self, searcher: &Searcher) -> Option<Arc<Activity>> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.table.as_ref().filter(|t| t.is_for(searcher)).cloned()
    }

    /// Starts building the table for `searcher` on a thread of its own unless it exists or
    /// one is being built.
    pub(super) fn keep(self: &Arc<Self>, searcher: &Searcher) {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.building
                || state.table.as_ref().is_some_and(|t| t.is_for(searcher))
                || state.rest_until.is_some_and(|t| Instant::now() < t)
            {
                return;
            }
            state.building = true;
        }
        let cache = Arc::clone(self);
        let searcher = searcher.clone();
        let spawned = std::thread::Builder::new()
            .name("thread-activity".into())
            .spawn(move || cache.build(&searcher));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "Cannot start building the thread activity table");
            self.state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .building = false;
        }
    }

    #[cfg(test)]
    pub(super) fn forget(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.table = None;
        state.rest_until = None;
    }

    /// Rests for `rest` from now (none: may build at once).
    #[cfg(test)]
    pub(super) fn rest(&self, rest: Option<std::time::Duration>) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .rest_until = rest.map(|r| Instant::now() + r);
    }

    #[cfg(test)]
    pub(super) fn is_building(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .building
    }

    /// Builds the table for `searcher` here and now (on the thread [`Self::keep`] starts, and in
    /// tests). One build runs at a time, so the table it stores is the newest.
    pub(super) fn build(&self, searcher: &Searcher) {
        let started = Instant::now();
        let built = Activity::of(searcher);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.building = false;
        state.rest_until = Some(Instant::now() + started.elapsed() * REST_FACTOR);
        match built {
            Ok(table) => {
                tracing::debug!(
                    docs = searcher.num_docs(),
                    took_ms = started.elapsed().as_millis() as u64,
                    "thread activity table built"
                );
                state.table = Some(Arc::new(table));
            }
            Err(e) => tracing::warn!(error = %e, "Cannot build the thread activity table"),
        }
    }
}
