//! Each thread's latest activity beside every document: built by a process that keeps the
//! index open (the daemon's control socket, `deskmail serve`), and by a writer that finishes
//! (the end of a bulk ingest, a daemon that stops), which leaves it beside the segments
//! ([`FILE`]) for the next process that searches them.
//!
//! Newest first ranks a thread by the date of its newest message, matching or not. Without
//! this table a search learns that from the messages dated after its first page's matches
//! (`select::select_newest`), and for a month of old mail that is most of the index: at a
//! million messages `date:2002-08` read the thread of 400,000 of them. With it, the first pass
//! ranks the matches by their thread's activity directly, and no other thread can rank before
//! the ones it keeps.
//!
//! The table is exact for one set of segments with their deletions and is used only by a
//! search reading that very set; a long-running reader builds it from scratch on a thread of
//! its own when it sees a new set, and until it is ready searches read activity as they did
//! without it. (A reload that finds no new commit gives a new searcher generation of the same
//! segments: the table is kept.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tantivy::BitSet;
use tantivy::directory::{Directory, MmapDirectory, OwnedBytes};
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

/// The table's file in the index directory: written when a writer finishes (the end of a bulk
/// ingest, a daemon that stops), read by a search that finds none in memory, above all
/// a CLI search without a daemon, which cannot spend the 0.2 s a build takes at a million
/// messages. Reading it maps it (through tantivy's directory): a search touches only the pages
/// it looks at.
pub(super) const FILE: &str = "thread-activity";

/// Removes the temporary copies a crashed writer left (`thread-activity.tmp-PID`): one index
/// writer at a time writes the table (tantivy's writer lock), so any such copy is stale, and
/// tantivy's own clean-up does not know the file. Best effort: a copy left costs disk only.
fn remove_stale_copies(dir: &Path) {
    let prefix = format!("{FILE}.tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Layout (little-endian): this magic; the segment count; per segment its id (32 hex digits),
/// delete stamp (`u64::MAX`: none), document count and dated-document count; the count of
/// distinct activities and the activities (`i64`, ascending); then per segment its ranks (one
/// `u32` per document) and its dated documents most recently active first (`u32` each).
const MAGIC: &[u8; 8] = b"DMACT\x00\x00\x01";
const NO_DELETES: u64 = u64::MAX;

/// The activity of each document's thread, for one set of segments, in its file layout (built
/// in memory or mapped from [`FILE`]).
pub(super) struct Activity {
    /// The segments it was built from: a searcher reading others cannot use it.
    identity: Segments,
    bytes: OwnedBytes,
    /// The distinct activities (Unix seconds), ascending: a document holds its thread's rank
    /// among them, 4 bytes instead of 8.
    distinct: Span,
    /// Per segment ordinal.
    segments: Vec<SegmentSpans>,
}

/// Where an array lies in the table's bytes: its offset and number of elements.
#[derive(Clone, Copy)]
struct Span {
    at: usize,
    len: usize,
}

/// One segment's part of the table.
struct SegmentSpans {
    /// Per document: its thread's activity as `1 +` its index in `distinct` (so ranks order
    /// like activities), or [`UNDATED`] (no dated message in the thread, or deleted).
    ranks: Span,
    /// The documents with a dated thread, most recently active first.
    by_activity: Span,
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
            segments.push((ranks, by_activity));
        }
        let bytes = encode(&segments_of(searcher), &distinct, &segments);
        Activity::decode(OwnedBytes::new(bytes)).map_err(|why| IndexError::Io {
            path: PathBuf::from(FILE),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
        })
    }

    /// The table in `bytes`, checked whole: a short, long or foreign file is refused.
    fn decode(bytes: OwnedBytes) -> Result<Activity, &'static str> {
        let mut r = Cursor {
            data: bytes.as_slice(),
            at: 0,
        };
        if r.take(MAGIC.len())? != MAGIC {
            return Err("not a thread activity table");
        }
        let count = u32_of(r.take(4)?) as usize;
        let mut identity = Vec::with_capacity(count);
        let mut sizes = Vec::with_capacity(count);
        for _ in 0..count {
            let id = std::str::from_utf8(r.take(32)?).map_err(|_| "bad segment id")?;
            let id = SegmentId::from_uuid_string(id).map_err(|_| "bad segment id")?;
            let deletes = u64_of(r.take(8)?);
            identity.push((id, (deletes != NO_DELETES).then_some(deletes)));
            sizes.push((u32_of(r.take(4)?) as usize, u32_of(r.take(4)?) as usize));
        }
        let len = usize::try_from(u64_of(r.take(8)?)).map_err(|_| "too large")?;
        let distinct = r.span(len, 8)?;
        let mut segments = Vec::with_capacity(count);
        for (max_doc, dated) in sizes {
            let ranks = r.span(max_doc, 4)?;
            let by_activity = r.span(dated, 4)?;
            segments.push(SegmentSpans { ranks, by_activity });
        }
        if r.at != r.data.len() {
            return Err("trailing bytes");
        }
        Ok(Activity {
            identity,
            bytes,
            distinct,
            segments,
        })
    }

    /// The table written in the index directory `dir`, if there is one that reads whole.
    pub(super) fn read(dir: &Path) -> Option<Activity> {
        // A missing file is the usual case (no ingest has finished since the index changed).
        let file = MmapDirectory::open(dir)
            .ok()?
            .open_read(Path::new(FILE))
            .ok()?;
        let bytes = file.read_bytes().ok()?;
        Activity::decode(bytes)
            .map_err(|why| tracing::warn!(why, "Ignoring the thread activity table on disk"))
            .ok()
    }

    /// Writes the table into the index directory `dir`, replacing the one there at once (a
    /// reader maps either the old file or the new one, never half of one).
    pub(super) fn write(&self, dir: &Path) -> std::io::Result<()> {
        remove_stale_copies(dir);
        let tmp = dir.join(format!("{FILE}.tmp-{}", std::process::id()));
        let written = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(self.bytes.as_slice()))
            .and_then(|()| std::fs::rename(&tmp, dir.join(FILE)));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// Builds the table for `searcher` and writes it into the index directory `dir` (the end
    /// of a bulk ingest, so that the searches after it find it).
    pub(super) fn write_for(searcher: &Searcher, dir: &Path) -> Result<(), IndexError> {
        let table = Activity::of(searcher)?;
        table.write(dir).map_err(|source| IndexError::Io {
            path: dir.join(FILE),
            source,
        })
    }

    #[inline]
    fn u32_in(&self, span: Span, i: usize) -> Option<u32> {
        if i >= span.len {
            return None;
        }
        let at = span.at + 4 * i;
        self.bytes.as_slice().get(at..at + 4).map(u32_of)
    }

    /// The activity of the thread of the document at `addr`: its newest message's date.
    #[inline]
    pub(super) fn of_doc(&self, addr: DocAddress) -> Option<i64> {
        let seg = self.segments.get(addr.segment_ord as usize)?;
        let rank = self.u32_in(seg.ranks, addr.doc_id as usize)?;
        let at = rank.checked_sub(1)? as usize;
        if at >= self.distinct.len {
            return None;
        }
        let at = self.distinct.at + 8 * at;
        self.bytes
            .as_slice()
            .get(at..at + 8)
            .map(|b| u64_of(b) as i64)
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
        let by = seg.by_activity;
        let Some(order) = self.bytes.as_slice().get(by.at..by.at + 4 * by.len) else {
            return Vec::new();
        };
        let mut docs = Vec::with_capacity(target + target / 4);
        let mut last = None;
        for doc in order.chunks_exact(4).map(u32_of) {
            let is_match = doc < matched.max_value() && matched.contains(doc);
            // A rank is read (a random access into the segment's ranks) only for a match, and
            // past the target for each document until the ranks leave the last match's.
            if docs.len() >= target {
                if self.u32_in(seg.ranks, doc as usize) != last {
                    break;
                }
                if is_match {
                    docs.push(doc);
                }
            } else if is_match {
                docs.push(doc);
                last = self.u32_in(seg.ranks, doc as usize);
            }
        }
        docs.sort_unstable();
        docs
    }

    /// Built for the segments (and deletions) `searcher` reads, in its order.
    fn is_for(&self, searcher: &Searcher) -> bool {
        let readers = searcher.segment_readers();
        self.identity.len() == readers.len()
            && self.identity.iter().zip(&self.segments).zip(readers).all(
                |((&(id, deletes), seg), r)| {
                    id == r.segment_id()
                        && deletes == r.delete_opstamp()
                        && seg.ranks.len == r.max_doc() as usize
                },
            )
    }
}

/// The table's bytes ([`MAGIC`]'s layout) for `identity`, `distinct` and each segment's ranks
/// and documents in order of activity.
fn encode(identity: &Segments, distinct: &[i64], segments: &[(Vec<u32>, Vec<DocId>)]) -> Vec<u8> {
    let docs: usize = segments.iter().map(|(r, b)| r.len() + b.len()).sum();
    let mut out = Vec::with_capacity(16 + identity.len() * 48 + distinct.len() * 8 + docs * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(identity.len() as u32).to_le_bytes());
    for ((id, deletes), (ranks, by_activity)) in identity.iter().zip(segments) {
        out.extend_from_slice(id.uuid_string().as_bytes());
        out.extend_from_slice(&deletes.unwrap_or(NO_DELETES).to_le_bytes());
        out.extend_from_slice(&(ranks.len() as u32).to_le_bytes());
        out.extend_from_slice(&(by_activity.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&(distinct.len() as u64).to_le_bytes());
    for d in distinct {
        out.extend_from_slice(&d.to_le_bytes());
    }
    for (ranks, by_activity) in segments {
        for r in ranks.iter().chain(by_activity) {
            out.extend_from_slice(&r.to_le_bytes());
        }
    }
    out
}

/// Reads the table's bytes in order.
struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(n).ok_or("too large")?;
        let part = self.data.get(self.at..end).ok_or("truncated")?;
        self.at = end;
        Ok(part)
    }

    /// An array of `len` elements of `size` bytes here.
    fn span(&mut self, len: usize, size: usize) -> Result<Span, &'static str> {
        let at = self.at;
        self.take(len.checked_mul(size).ok_or("too large")?)?;
        Ok(Span { at, len })
    }
}

fn u32_of(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn u64_of(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
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
/// being built. A CLI search, which reads the index once, never builds one: it uses the
/// table on disk when that is for the segments it reads.
pub(super) struct ActivityCache {
    /// The index directory, where [`FILE`] is.
    dir: PathBuf,
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    table: Option<Arc<Activity>>,
    /// [`FILE`] was looked at (once a process: a table found later is built here).
    looked_on_disk: bool,
    building: bool,
    /// No new build starts before this: after a build that took `t`, `REST_FACTOR × t`. A
    /// daemon that indexes new mail while it is searched changes its segments at every commit;
    /// without a rest each reload would rebuild (about 0.2 s at a million messages). Searches
    /// in between read activity without the table.
    rest_until: Option<Instant>,
}

/// A build is followed by a rest this many times as long: building takes at most a tenth of a
/// core however often the segments change.
const REST_FACTOR: u32 = 9;

impl ActivityCache {
    /// The cache of the index in `dir`.
    pub(super) fn at(dir: &Path) -> Self {
        ActivityCache {
            dir: dir.to_path_buf(),
            state: Mutex::default(),
        }
    }

    /// The table for the segments `searcher` reads, if it is built (here, or on disk by the
    /// last bulk ingest or long-running reader).
    pub(super) fn for_searcher(&self, searcher: &Searcher) -> Option<Arc<Activity>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !state.looked_on_disk {
            state.looked_on_disk = true;
            if state.table.is_none() {
                state.table = Activity::read(&self.dir).map(Arc::new);
            }
        }
        state.table.as_ref().filter(|t| t.is_for(searcher)).cloned()
    }

    /// Starts building the table for `searcher` on a thread of its own unless it exists or
    /// one is being built.
    pub(super) fn keep(self: &Arc<Self>, searcher: &Searcher) {
        if self.for_searcher(searcher).is_some() {
            return;
        }
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

    /// Drops the table, in memory and on disk.
    #[cfg(test)]
    pub(super) fn forget(&self) {
        match std::fs::remove_file(self.dir.join(FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("{e}"),
            _ => {}
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.table = None;
        state.rest_until = None;
        state.looked_on_disk = false;
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
        // Kept in memory only: the daemon's writer leaves the table of its last segments on
        // disk when it stops (`MailIndexWriter::finish`), so writing each one built here (9 MB
        // at a million messages, after every commit's rebuild) would serve nobody in between:
        // while the daemon runs, CLI searches ask it.
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
