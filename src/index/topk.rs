//! Top-k threads first (issue 14): one pass over the matches that keeps, per thread, only its
//! first hit, and only for the threads that can still be among the first `k`; plus exact totals
//! of matching messages and of distinct threads up to [`THREAD_COUNT_BOUND`].
//!
//! A search used to collect every match (40 bytes each) and group them all: at a million
//! messages a query matching most of the mail spent most of its time on that. Here the memory
//! is bounded by `k` and the bound, plus one bit per document of the index (which documents
//! matched, for a later pass), and the newest-first pass reads no scores (tantivy's block
//! iteration, two fast-field reads per block).

use std::cmp::Ordering;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Weight;
use tantivy::{BitSet, DateTime, DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::SortOrder;
use super::collect::{Hit, ThreadMap};
use super::schema;

/// Distinct matching threads are counted exactly up to this many; beyond it a search says
/// "more than" this number (counting them all would mean remembering every thread).
pub const THREAD_COUNT_BOUND: usize = 10_000;

/// What the pass over every match leaves.
#[derive(Debug, Default)]
pub(super) struct Firsts {
    /// Matching (live) messages, exact.
    pub(super) messages: u64,
    /// Distinct matching threads seen, at most [`THREAD_COUNT_BOUND`].
    pub(super) threads: ThreadMap<()>,
    /// `threads` stopped at the bound: there are more.
    pub(super) more_threads: bool,
    /// The kept threads' first hits (see [`Keeper`]).
    pub(super) firsts: ThreadMap<Hit>,
    /// The keeper dropped threads: `firsts` is not every matching thread.
    pub(super) pruned: bool,
    /// Every match, one bit per document of each segment (an eighth of a byte per document in
    /// the index): a later pass over the matches need not run the query again.
    pub(super) matched: Vec<(SegmentOrdinal, BitSet)>,
}

/// Keeps each thread's first hit in the search order, for the threads that can still be among
/// the first `k`.
///
/// - Newest first, without scores: a thread's first hit is its newest match (then the lowest
///   address); the keeper keeps every thread whose newest match is dated at or after the `k`-th
///   newest such date (ties at that date are all kept, since scores, unknown here, order them).
///   So every thread with a match dated at or after the final cut is kept, with its exact
///   newest match; that is what newest-first ranking by activity builds on.
/// - Relevance: the exact search order (score, date, address); exactly the best `k` are kept.
///
/// The map is cut back when it reaches twice its last size (at least `2k`), so the work is
/// amortised constant per hit.
struct Keeper {
    k: usize,
    sort: SortOrder,
    firsts: ThreadMap<Hit>,
    /// Newest first: hits dated before this cannot make a thread one of the first `k`.
    date_floor: Option<Option<i64>>,
    /// Relevance: hits ordered after this one cannot.
    hit_floor: Option<Hit>,
    next_cut: usize,
    pruned: bool,
}

/// The search order of two hits (`Less` = first).
pub(super) fn hit_order(sort: SortOrder, a: &Hit, b: &Hit) -> Ordering {
    match sort {
        SortOrder::Newest => b
            .date
            .cmp(&a.date)
            .then(b.score.total_cmp(&a.score))
            .then(a.addr.cmp(&b.addr)),
        SortOrder::Relevance => b
            .score
            .total_cmp(&a.score)
            .then(b.date.cmp(&a.date))
            .then(a.addr.cmp(&b.addr)),
    }
}

impl Keeper {
    fn new(k: usize, sort: SortOrder) -> Self {
        Keeper {
            k: k.max(1),
            sort,
            firsts: ThreadMap::default(),
            date_floor: None,
            hit_floor: None,
            next_cut: 2 * k.max(1),
            pruned: false,
        }
    }

    #[inline]
    fn below_floor(&self, hit: &Hit) -> bool {
        match self.sort {
            SortOrder::Newest => self.date_floor.is_some_and(|floor| hit.date < floor),
            SortOrder::Relevance => self
                .hit_floor
                .is_some_and(|floor| hit_order(self.sort, hit, &floor).is_gt()),
        }
    }

    #[inline]
    fn offer(&mut self, hit: Hit) {
        if self.below_floor(&hit) {
            return;
        }
        let sort = self.sort;
        self.firsts
            .entry(hit.thread)
            .and_modify(|first| {
                if hit_order(sort, &hit, first).is_lt() {
                    *first = hit;
                }
            })
            .or_insert(hit);
        if self.firsts.len() >= self.next_cut {
            self.cut();
        }
    }

    /// Drops the threads that can no longer be among the first `k`.
    fn cut(&mut self) {
        let k = self.k;
        if self.firsts.len() > k {
            let before = self.firsts.len();
            match self.sort {
                SortOrder::Newest => {
                    let mut dates: Vec<Option<i64>> =
                        self.firsts.values().map(|h| h.date).collect();
                    let (_, kth, _) = dates.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
                    let floor = *kth;
                    self.firsts.retain(|_, h| h.date >= floor);
                    self.date_floor = Some(floor);
                }
                SortOrder::Relevance => {
                    let sort = self.sort;
                    let mut hits: Vec<Hit> = self.firsts.values().copied().collect();
                    let (_, kth, _) =
                        hits.select_nth_unstable_by(k - 1, |a, b| hit_order(sort, a, b));
                    let floor = *kth;
                    self.firsts
                        .retain(|_, h| !hit_order(sort, h, &floor).is_gt());
                    self.hit_floor = Some(floor);
                }
            }
            self.pruned |= self.firsts.len() < before;
        }
        // Ties (or undated mail) may keep more than k: cut again only once the map has doubled.
        self.next_cut = (2 * self.firsts.len()).max(2 * k);
    }
}

/// The collector of [`Firsts`]: `k` threads in `sort` order (see [`Keeper`]).
pub(super) struct FirstsCollector {
    pub(super) k: usize,
    pub(super) sort: SortOrder,
}

pub(super) struct FirstsSegment {
    segment: SegmentOrdinal,
    thread: Column<u64>,
    date: Column<DateTime>,
    keeper: Keeper,
    messages: u64,
    threads: ThreadMap<()>,
    more_threads: bool,
    matched: BitSet,
    // Block buffers for the unscored pass.
    live: Vec<DocId>,
    thread_vals: Vec<Option<u64>>,
    date_vals: Vec<Option<DateTime>>,
}

impl FirstsSegment {
    #[inline]
    fn count_thread(&mut self, thread: u64) {
        if self.more_threads {
            return;
        }
        if self.threads.len() < THREAD_COUNT_BOUND {
            self.threads.insert(thread, ());
        } else if !self.threads.contains_key(&thread) {
            self.more_threads = true;
        }
    }

    #[inline]
    fn add(&mut self, doc: DocId, thread: Option<u64>, date: Option<DateTime>, score: Score) {
        let thread = thread.unwrap_or(0);
        self.messages += 1;
        self.matched.insert(doc);
        self.count_thread(thread);
        self.keeper.offer(Hit {
            addr: DocAddress::new(self.segment, doc),
            thread,
            date: date.map(|d| d.into_timestamp_secs()),
            score,
        });
    }

    /// Live docs of one block, their columns read in bulk.
    fn add_block(&mut self, docs: &[DocId]) {
        let n = docs.len();
        self.thread_vals.resize(n, None);
        self.date_vals.resize(n, None);
        self.thread.first_vals(docs, &mut self.thread_vals[..n]);
        self.date.first_vals(docs, &mut self.date_vals[..n]);
        let (threads, dates) = (
            std::mem::take(&mut self.thread_vals),
            std::mem::take(&mut self.date_vals),
        );
        for ((&doc, &thread), &date) in docs.iter().zip(&threads).zip(&dates) {
            self.add(doc, thread, date, 0.0);
        }
        (self.thread_vals, self.date_vals) = (threads, dates);
    }
}

impl Collector for FirstsCollector {
    type Fruit = Firsts;
    type Child = FirstsSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FirstsSegment> {
        Ok(FirstsSegment {
            segment,
            thread: reader.fast_fields().u64(schema::THREAD_N)?,
            date: reader.fast_fields().date(schema::DATE)?,
            keeper: Keeper::new(self.k, self.sort),
            messages: 0,
            threads: ThreadMap::with_capacity_and_hasher(1024, Default::default()),
            more_threads: false,
            matched: BitSet::with_max_value(reader.max_doc()),
            live: Vec::new(),
            thread_vals: Vec::new(),
            date_vals: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == SortOrder::Relevance
    }

    /// Newest first reads no scores and takes the matches a block at a time.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Firsts> {
        let mut seg = self.for_segment(segment, reader)?;
        let alive = reader.alive_bitset();
        if self.requires_scoring() {
            weight.for_each(reader, &mut |doc, score| {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    seg.collect(doc, score);
                }
            })?;
        } else {
            weight.for_each_no_score(reader, &mut |docs| {
                let mut live = std::mem::take(&mut seg.live);
                live.clear();
                live.extend(
                    docs.iter()
                        .copied()
                        .filter(|&d| alive.is_none_or(|a| a.is_alive(d))),
                );
                seg.add_block(&live);
                seg.live = live;
            })?;
        }
        Ok(seg.harvest())
    }

    fn merge_fruits(&self, fruits: Vec<Firsts>) -> tantivy::Result<Firsts> {
        let mut keeper = Keeper::new(self.k, self.sort);
        let mut all = Firsts::default();
        for fruit in fruits {
            all.messages += fruit.messages;
            all.more_threads |= fruit.more_threads;
            if !all.more_threads {
                for thread in fruit.threads.into_keys() {
                    if all.threads.len() >= THREAD_COUNT_BOUND {
                        if !all.threads.contains_key(&thread) {
                            all.more_threads = true;
                            break;
                        }
                    } else {
                        all.threads.insert(thread, ());
                    }
                }
            }
            keeper.pruned |= fruit.pruned;
            all.matched.extend(fruit.matched);
            for hit in fruit.firsts.into_values() {
                keeper.offer(hit);
            }
        }
        keeper.cut();
        all.firsts = keeper.firsts;
        all.pruned = keeper.pruned;
        Ok(all)
    }
}

impl SegmentCollector for FirstsSegment {
    type Fruit = Firsts;

    fn collect(&mut self, doc: DocId, score: Score) {
        let thread = self.thread.first(doc);
        let date = self.date.first(doc);
        self.add(doc, thread, date, score);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.add_block(docs);
    }

    fn harvest(self) -> Firsts {
        Firsts {
            messages: self.messages,
            threads: self.threads,
            more_threads: self.more_threads,
            firsts: self.keeper.firsts,
            pruned: self.keeper.pruned,
            matched: vec![(self.segment, self.matched)],
        }
    }
}
