//! The collectors a search runs on a few threads: their matches with thread, date and score,
//! their stats, their newest dates.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    BitSet, COLLECT_BLOCK_BUFFER_LEN, DateTime, DocAddress, DocId, Score, Searcher, SegmentOrdinal,
    SegmentReader, Term,
};

use super::{Fields, IndexError, schema};

/// Thread ids are hash-derived (uniform bits): hash maps keyed by them need no hashing.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(super) type ThreadMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

#[derive(Debug, Clone, Copy)]
pub(super) struct Hit {
    pub(super) addr: DocAddress,
    pub(super) thread: u64,
    /// Unix seconds.
    pub(super) date: Option<i64>,
    pub(super) score: Score,
}

/// Count, oldest message and newest date of one thread (live docs only).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ThreadStats {
    pub(super) count: u64,
    /// (date or i64::MAX when undated, address): the minimum is the oldest message.
    pub(super) oldest: Option<(i64, DocAddress)>,
    pub(super) newest_date: Option<i64>,
}

impl ThreadStats {
    pub(super) fn add(&mut self, date: Option<i64>, addr: DocAddress) {
        self.merge(ThreadStats {
            count: 1,
            oldest: Some((date.unwrap_or(i64::MAX), addr)),
            newest_date: date,
        });
    }

    pub(super) fn merge(&mut self, o: ThreadStats) {
        self.count += o.count;
        self.oldest = match (self.oldest, o.oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.newest_date = self.newest_date.max(o.newest_date);
    }
}

/// The newest date of each of the given threads over the whole index: one pass over the
/// thread and date fast fields of every live document.
pub(super) fn newest_dates(
    searcher: &Searcher,
    threads: impl Iterator<Item = u64>,
) -> Result<ThreadMap<Option<i64>>, IndexError> {
    let mut newest: ThreadMap<Option<i64>> = threads.map(|t| (t, None)).collect();
    for reader in searcher.segment_readers() {
        let thread = reader.fast_fields().u64(schema::THREAD_N)?;
        let date = reader.fast_fields().date(schema::DATE)?;
        let alive = reader.alive_bitset();
        for doc in 0..reader.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            if let Some(t) = thread.first(doc)
                && let Some(slot) = newest.get_mut(&t)
            {
                *slot = (*slot).max(date_of(&date, doc));
            }
        }
    }
    Ok(newest)
}

/// Stats of the given threads over the whole index, in one query (no scoring).
pub(super) fn thread_stats(
    searcher: &Searcher,
    fields: &Fields,
    threads: &[u64],
) -> Result<ThreadMap<ThreadStats>, IndexError> {
    let all = in_threads(fields, threads.iter().copied());
    Ok(searcher.search(&all, &ThreadStatsCollector)?)
}

/// Every message of the given threads: a union of term queries (a `TermSetQuery` walks the
/// term dictionary with an automaton, several times slower for a few hundred threads).
pub(super) fn in_threads(fields: &Fields, threads: impl IntoIterator<Item = u64>) -> BooleanQuery {
    let clauses: Vec<Box<dyn Query>> = threads
        .into_iter()
        .map(|t| {
            Box::new(TermQuery::new(
                Term::from_field_u64(fields.thread_n, t),
                IndexRecordOption::Basic,
            )) as Box<dyn Query>
        })
        .collect();
    BooleanQuery::union(clauses)
}

pub(super) struct ThreadStatsCollector;

pub(super) struct ThreadStatsSegmentCollector {
    segment: SegmentOrdinal,
    thread: Column<u64>,
    date: Column<DateTime>,
    stats: ThreadMap<ThreadStats>,
}

impl Collector for ThreadStatsCollector {
    type Fruit = ThreadMap<ThreadStats>;
    type Child = ThreadStatsSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<ThreadStatsSegmentCollector> {
        Ok(ThreadStatsSegmentCollector {
            segment,
            thread: reader.fast_fields().u64(schema::THREAD_N)?,
            date: reader.fast_fields().date(schema::DATE)?,
            stats: ThreadMap::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<ThreadMap<ThreadStats>>,
    ) -> tantivy::Result<ThreadMap<ThreadStats>> {
        let mut all: ThreadMap<ThreadStats> = ThreadMap::default();
        for fruit in fruits {
            for (thread, stats) in fruit {
                all.entry(thread).or_default().merge(stats);
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for ThreadStatsSegmentCollector {
    type Fruit = ThreadMap<ThreadStats>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let thread = self.thread.first(doc).unwrap_or(0);
        let date = date_of(&self.date, doc);
        self.stats
            .entry(thread)
            .or_default()
            .add(date, DocAddress::new(self.segment, doc));
    }

    fn harvest(self) -> ThreadMap<ThreadStats> {
        self.stats
    }
}

/// A document's date in Unix seconds, `None` when it is undated.
pub(super) fn date_of(column: &Column<DateTime>, doc: DocId) -> Option<i64> {
    column.first(doc).and_then(super::dated)
}

/// Reads the dates of sorted documents a block at a time, their values decoded together
/// (every document has a value: its row is the document itself).
#[derive(Default)]
pub(super) struct BlockDates {
    dates: Vec<Option<DateTime>>,
}

impl BlockDates {
    /// The date of each of `docs` (sorted) in Unix seconds, `None` for undated ones, in order.
    pub(super) fn read<'a>(
        &'a mut self,
        column: &Column<DateTime>,
        docs: &'a [DocId],
    ) -> impl Iterator<Item = (DocId, Option<i64>)> + 'a {
        self.dates.clear();
        self.dates.resize(docs.len(), None);
        column.first_vals(docs, &mut self.dates);
        docs.iter()
            .copied()
            .zip(self.dates.iter().map(|d| d.and_then(super::dated)))
    }
}

/// The thread and date columns of one segment, read for sorted documents a block at a time.
pub(super) struct ThreadDates {
    thread: Column<u64>,
    date: Column<DateTime>,
    threads: Vec<Option<u64>>,
    dates: Vec<Option<DateTime>>,
}

impl ThreadDates {
    pub(super) fn of(reader: &SegmentReader) -> Result<Self, IndexError> {
        Ok(ThreadDates {
            thread: reader.fast_fields().u64(schema::THREAD_N)?,
            date: reader.fast_fields().date(schema::DATE)?,
            threads: Vec::new(),
            dates: Vec::new(),
        })
    }

    pub(super) fn date(&self) -> &Column<DateTime> {
        &self.date
    }

    /// Each of `docs` (sorted) with its thread and its date in Unix seconds (`None` when
    /// undated), the values of the block decoded together.
    pub(super) fn read<'a>(
        &'a mut self,
        docs: &'a [DocId],
    ) -> impl Iterator<Item = (DocId, Option<u64>, Option<i64>)> + 'a {
        self.threads.resize(docs.len(), None);
        self.thread.first_vals(docs, &mut self.threads);
        self.dates.resize(docs.len(), None);
        self.date.first_vals(docs, &mut self.dates);
        docs.iter()
            .zip(&self.threads)
            .zip(&self.dates)
            .map(|((&doc, &t), d)| (doc, t, d.and_then(super::dated)))
    }
}

/// About how many documents of a segment are dated `since` (Unix seconds) or later, from every
/// 64th value of its date column (a few thousand reads at 100,000 documents).
pub(super) fn dated_since_estimate(column: &Column<DateTime>, since: i64) -> u64 {
    let floor = super::clamped_date(since);
    let rows = column.values.num_vals();
    64 * (0..rows)
        .step_by(64)
        .filter(|&r| column.values.get_val(r) >= floor)
        .count() as u64
}

/// The members of a bit set (the matches of a segment), in order.
pub(super) fn bit_docs(bits: &BitSet) -> impl Iterator<Item = DocId> + '_ {
    (0..bits.max_value().div_ceil(64)).flat_map(move |bucket| {
        let mut tiny = bits.tinyset(bucket);
        std::iter::from_fn(move || tiny.pop_lowest().map(|i| bucket * 64 + i))
    })
}

/// Calls `f` with the members of a bit set, in order, a block of
/// [`COLLECT_BLOCK_BUFFER_LEN`] at a time (for column reads in bulk; the set is not copied).
pub(super) fn for_bit_blocks(bits: &BitSet, mut f: impl FnMut(&[DocId])) {
    let mut block = Vec::with_capacity(COLLECT_BLOCK_BUFFER_LEN);
    for doc in bit_docs(bits) {
        block.push(doc);
        if block.len() == COLLECT_BLOCK_BUFFER_LEN {
            f(&block);
            block.clear();
        }
    }
    if !block.is_empty() {
        f(&block);
    }
}
