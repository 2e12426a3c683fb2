//! Top-k threads first (issue 14): one pass over the matches that keeps, per thread, only its
//! first hit, and only for the threads that can still be among the first `k`; plus exact totals
//! of matching messages and of distinct threads up to [`THREAD_COUNT_BOUND`].
//!
//! A search used to collect every match (40 bytes each) and group them all: at a million
//! messages a query matching most of the mail spent most of its time on that. Here the memory
//! is bounded by `k` and the bound, plus one bit per document of the index (which documents
//! matched, for a later pass), and the newest-first pass reads no scores: it marks the
//! matches' bits a block at a time, then reads dates and threads only of the matches that can
//! matter (those after a cut, when a segment has many; see `FirstsSegment::keep_newest`).

use std::cmp::Ordering;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::fastfield::AliveBitSet;
use tantivy::query::{EnableScoring, Weight};
use tantivy::{
    BitSet, COLLECT_BLOCK_BUFFER_LEN, DateTime, DocAddress, DocId, DocSet, Score, SegmentOrdinal,
    SegmentReader,
};

use super::SortOrder;
use super::activity::Activity;
use super::collect::{BlockDates, Hit, ThreadMap, date_of, dated_since_estimate, for_bit_blocks};
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
    /// Matches whose date and thread were read to find the first hits: all of them, or, for a
    /// large result read newest first, those dated after a cut (see `keep_newest`).
    pub(super) read: u64,
    /// Every match, one bit per document of each segment (an eighth of a byte per document in
    /// the index): a later pass over the matches need not run the query again.
    pub(super) matched: Vec<(SegmentOrdinal, BitSet)>,
}

/// Keeps each thread's first hit in the search order, for the threads that can still be among
/// the first `k`.
///
/// - Newest first, without scores: a thread's first hit is its newest match (then the lowest
///   address); the keeper keeps every thread whose newest match is dated at or after the `k`-th
///   newest such date (ties at that date are all kept; their newest matches' addresses order
///   them later).
///   So every thread with a match dated at or after the final cut is kept, with its exact
///   newest match; that is what newest-first ranking by activity builds on. With the table of
///   each thread's activity ([`Activity`]) the key is that activity instead of the match's
///   date (all of a thread's matches share it): every thread whose activity is at or after
///   the `k`-th best is kept, which is the ranking itself.
/// - Relevance: the exact search order (score, date, address); exactly the best `k` are kept.
///
/// The map is cut back when it reaches twice its last size (at least `2k`), so the work is
/// amortised constant per hit.
struct Keeper {
    k: usize,
    sort: SortOrder,
    firsts: ThreadMap<Hit>,
    /// Newest first: the threads' activity, when the reader keeps it.
    activity: Option<Arc<Activity>>,
    /// Newest first: hits keyed (dated, or their thread active) before this cannot make a
    /// thread one of the first `k`.
    date_floor: Option<Option<i64>>,
    /// Relevance: hits ordered after this one cannot.
    hit_floor: Option<Hit>,
    next_cut: usize,
    pruned: bool,
}

/// The search order of two hits (`Less` = first).
pub(super) fn hit_order(sort: SortOrder, a: &Hit, b: &Hit) -> Ordering {
    match sort {
        // Newest first orders by date alone, then by address (the order the mail was indexed
        // in), not by score: the threads tied at the last place of a page are then ordered by
        // what the first pass already knows, not by reading every one of them back (a
        // thousand undated messages, or an archive's copies of one day, tie on their date).
        SortOrder::Newest => b.date.cmp(&a.date).then(a.addr.cmp(&b.addr)),
        SortOrder::Relevance => b
            .score
            .total_cmp(&a.score)
            .then(b.date.cmp(&a.date))
            .then(a.addr.cmp(&b.addr)),
    }
}

/// What newest first ranks a hit by: its thread's activity when the table is there, else its
/// date.
#[inline]
fn newest_key(activity: Option<&Activity>, hit: &Hit) -> Option<i64> {
    match activity {
        Some(table) => table.of_doc(hit.addr),
        None => hit.date,
    }
}

impl Keeper {
    fn new(k: usize, sort: SortOrder, activity: Option<Arc<Activity>>) -> Self {
        Keeper {
            k: k.max(1),
            sort,
            firsts: ThreadMap::default(),
            activity,
            date_floor: None,
            hit_floor: None,
            next_cut: 2 * k.max(1),
            pruned: false,
        }
    }

    #[inline]
    fn below_floor(&self, hit: &Hit) -> bool {
        match self.sort {
            SortOrder::Newest => self
                .date_floor
                .is_some_and(|floor| newest_key(self.activity.as_deref(), hit) < floor),
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
                    let activity = self.activity.as_deref();
                    let mut dates: Vec<Option<i64>> = self
                        .firsts
                        .values()
                        .map(|h| newest_key(activity, h))
                        .collect();
                    let (_, kth, _) = dates.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
                    let floor = *kth;
                    self.firsts.retain(|_, h| newest_key(activity, h) >= floor);
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
    k: usize,
    sort: SortOrder,
    /// Newest first: each thread's activity, when the reader keeps it for these segments.
    activity: Option<Arc<Activity>>,
    past_bound: Arc<AtomicBool>,
}

impl FirstsCollector {
    /// How the query's weight is built for this collector (scores only for relevance).
    pub(super) fn scoring<'a>(&self, searcher: &'a tantivy::Searcher) -> EnableScoring<'a> {
        if self.requires_scoring() {
            EnableScoring::enabled_from_searcher(searcher)
        } else {
            EnableScoring::disabled_from_searcher(searcher)
        }
    }

    pub(super) fn new(k: usize, sort: SortOrder, activity: Option<Arc<Activity>>) -> Self {
        FirstsCollector {
            k,
            sort,
            activity: activity.filter(|_| sort == SortOrder::Newest),
            past_bound: Arc::default(),
        }
    }
}

pub(super) struct FirstsSegment {
    segment: SegmentOrdinal,
    thread: Column<u64>,
    date: Column<DateTime>,
    keeper: Keeper,
    messages: u64,
    read: u64,
    threads: ThreadMap<()>,
    more_threads: bool,
    matched: BitSet,
    /// Set once any segment's distinct threads passed the bound.
    past_bound: Arc<AtomicBool>,
    // Block buffers for the unscored pass.
    thread_vals: Vec<Option<u64>>,
    block_dates: BlockDates,
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
    fn add(&mut self, doc: DocId, thread: Option<u64>, date: Option<i64>, score: Score) {
        let thread = thread.unwrap_or(0);
        self.messages += 1;
        self.read += 1;
        self.matched.insert(doc);
        self.count_thread(thread);
        self.keeper.offer(Hit {
            addr: DocAddress::new(self.segment, doc),
            thread,
            date,
            score,
        });
    }

    /// One block of matches (newest first, unscored; deleted ones included): marked, and their
    /// threads counted up to the bound (live ones only). Deleted matches leave the bits, and
    /// the matches are counted, once the segment is done ([`Self::finish_unscored`]); which
    /// of them the keeper takes is decided then too.
    fn add_block(&mut self, docs: &[DocId], alive: Option<&AliveBitSet>) {
        for &doc in docs {
            self.matched.insert(doc);
        }
        if self.more_threads || self.past_bound.load(AtomicOrdering::Relaxed) {
            self.more_threads = true;
            return;
        }
        let mut threads = std::mem::take(&mut self.thread_vals);
        threads.resize(docs.len(), None);
        self.thread.first_vals(docs, &mut threads);
        for (&doc, &t) in docs.iter().zip(&threads) {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                self.count_thread(t.unwrap_or(0));
            }
        }
        self.thread_vals = threads;
        if self.more_threads {
            // Past the bound in one segment is past it in all: the others need not count.
            self.past_bound.store(true, AtomicOrdering::Relaxed);
        }
    }

    /// After the last block: the deleted matches dropped from the bits (a word at a time), the
    /// matches counted, the keeper given its share.
    fn finish_unscored(&mut self, alive: Option<&AliveBitSet>, max_doc: DocId) {
        if let Some(alive) = alive {
            self.matched.intersect_update(alive.bitset());
        }
        self.messages = self.matched.len() as u64;
        self.keep_newest(max_doc);
    }

    /// Newest first: offers the keeper the segment's matches that can make a thread one of the
    /// first `k`. With many matches, only those dated at or after a cut `T` are read (the date
    /// column's own range filter finds them; the matches' bits pick them): when at least `k`
    /// threads have a match dated `T` or later, no match before `T` can change the first `k`.
    /// `T` is estimated from a sample of the matches' dates; when the estimate falls short, or
    /// the range holds more documents than there are matches, every match is read instead.
    ///
    /// With the activity table the window is the matches of the most recently active threads:
    /// the segment's documents in order of activity, the first [`WINDOW_TARGET`] matches
    /// among them and every match tied with the last (see `Activity::most_active_matches`).
    fn keep_newest(&mut self, max_doc: DocId) {
        if self.messages >= WINDOW_MIN_MATCHES {
            let kept = match self.keeper.activity.clone() {
                Some(table) => self.keep_most_active(&table),
                None => self
                    .window_cut()
                    .is_some_and(|cut| self.keep_since(cut, max_doc)),
            };
            if kept {
                return;
            }
        }
        self.keeper = Keeper::new(
            self.keeper.k,
            self.keeper.sort,
            self.keeper.activity.clone(),
        );
        let matched = std::mem::replace(&mut self.matched, BitSet::with_max_value(0));
        for_bit_blocks(&matched, |block| self.offer_block(block));
        self.matched = matched;
    }

    /// The date `T` above which about [`WINDOW_TARGET`] matches (at least `8k`) should lie,
    /// from every `n`-th match's date; `None` when the sample does not reach that far or the
    /// range would hold more documents than there are matches.
    fn window_cut(&self) -> Option<i64> {
        let target = WINDOW_TARGET.max(8 * self.keeper.k as u64);
        let step = (self.messages / WINDOW_SAMPLES).max(1);
        let mut dates: Vec<i64> = every_nth(&self.matched, step)
            .filter_map(|doc| date_of(&self.date, doc))
            .collect();
        let rank = (target / step) as usize;
        if rank >= dates.len() {
            return None;
        }
        let (_, cut, _) = dates.select_nth_unstable_by(rank, |a, b| b.cmp(a));
        let cut = *cut;
        // Documents (matching or not) dated `cut` or later.
        (dated_since_estimate(&self.date, cut) <= self.messages / 2).then_some(cut)
    }

    /// Offers every match dated `cut` or later; true when that gave the keeper `k` threads
    /// (the matches before `cut` cannot change them), false to read every match instead.
    fn keep_since(&mut self, cut: i64, max_doc: DocId) -> bool {
        let mut docs = Vec::new();
        self.date.get_docids_for_value_range(
            super::clamped_date(cut)..=DateTime::MAX,
            0..max_doc,
            &mut docs,
        );
        docs.retain(|&d| self.matched.contains(d));
        self.keep_window(&docs)
    }

    /// Offers the matches of the most recently active threads (see [`Self::keep_newest`]);
    /// true when they gave the keeper `k` threads.
    fn keep_most_active(&mut self, table: &Activity) -> bool {
        let target = WINDOW_TARGET.max(8 * self.keeper.k as u64) as usize;
        let docs = table.most_active_matches(self.segment, &self.matched, target);
        self.keep_window(&docs)
    }

    /// Offers a window of matches: true when that gave the keeper `k` threads (the matches
    /// outside it cannot change them), false to read every match instead.
    fn keep_window(&mut self, docs: &[DocId]) -> bool {
        for block in docs.chunks(COLLECT_BLOCK_BUFFER_LEN) {
            self.offer_block(block);
        }
        self.keeper.cut();
        if self.keeper.firsts.len() < self.keeper.k {
            return false;
        }
        self.keeper.pruned |= (docs.len() as u64) < self.messages;
        true
    }

    /// Offers a block of matches to the keeper: dates in bulk, a thread only for a match the
    /// keeper can still take (most of a large result is older than its date floor).
    fn offer_block(&mut self, docs: &[DocId]) {
        self.read += docs.len() as u64;
        if let Some(table) = self.keeper.activity.clone() {
            // Ranked by the thread's activity: a match's date is read only when the keeper can
            // take it.
            for &doc in docs {
                let addr = DocAddress::new(self.segment, doc);
                let key = table.of_doc(addr);
                if self.keeper.date_floor.is_some_and(|floor| key < floor) {
                    continue;
                }
                self.keeper.offer(Hit {
                    addr,
                    thread: self.thread.first(doc).unwrap_or(0),
                    date: date_of(&self.date, doc),
                    score: 0.0,
                });
            }
            return;
        }
        let mut dates = std::mem::take(&mut self.block_dates);
        for (doc, date) in dates.read(&self.date, docs) {
            if self.keeper.date_floor.is_some_and(|floor| date < floor) {
                continue;
            }
            self.keeper.offer(Hit {
                addr: DocAddress::new(self.segment, doc),
                thread: self.thread.first(doc).unwrap_or(0),
                date,
                score: 0.0,
            });
        }
        self.block_dates = dates;
    }
}

/// Every `step`-th member of a bit set (the first, the `step + 1`-th, ...), found by counting
/// the bits of whole words.
fn every_nth(bits: &BitSet, step: u64) -> impl Iterator<Item = DocId> + '_ {
    let mut next = 0u64; // rank of the next member to yield
    let mut seen = 0u64; // members in the buckets before this one
    (0..bits.max_value().div_ceil(64)).flat_map(move |bucket| {
        let tiny = bits.tinyset(bucket);
        let len = u64::from(tiny.len());
        let mut picked = Vec::new();
        while next < seen + len {
            let mut word = tiny;
            for _ in 0..next - seen {
                word.pop_lowest();
            }
            picked.extend(word.pop_lowest().map(|i| bucket * 64 + i));
            next += step;
        }
        seen += len;
        picked
    })
}

/// Below this many matches in a segment, reading every match costs less than a window.
const WINDOW_MIN_MATCHES: u64 = 16_384;
/// Matches a window aims to hold (the `k` threads' newest matches are among them unless the
/// newest matches crowd into few threads, when every match is read).
const WINDOW_TARGET: u64 = 4_096;
/// Matches whose dates are sampled to place the window.
const WINDOW_SAMPLES: u64 = 1_024;

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
            keeper: Keeper::new(self.k, self.sort, self.activity.clone()),
            messages: 0,
            read: 0,
            threads: ThreadMap::with_capacity_and_hasher(1024, Default::default()),
            more_threads: false,
            matched: BitSet::with_max_value(reader.max_doc()),
            past_bound: self.past_bound.clone(),
            thread_vals: Vec::new(),
            block_dates: BlockDates::default(),
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
            // The scorer, not `for_each_no_score`: tantivy's boolean weight runs a union there
            // with the query's score combiner (a score per match and clause), while a scorer of a
            // weight built without scoring combines nothing.
            let mut docs = weight.scorer(reader, 1.0)?;
            let mut buffer = [0 as DocId; COLLECT_BLOCK_BUFFER_LEN];
            loop {
                let n = docs.fill_buffer(&mut buffer);
                seg.add_block(&buffer[..n], alive);
                if n < COLLECT_BLOCK_BUFFER_LEN {
                    break;
                }
            }
            seg.finish_unscored(alive, reader.max_doc());
        }
        Ok(seg.harvest())
    }

    fn merge_fruits(&self, fruits: Vec<Firsts>) -> tantivy::Result<Firsts> {
        let mut keeper = Keeper::new(self.k, self.sort, self.activity.clone());
        let mut all = Firsts::default();
        for fruit in fruits {
            all.messages += fruit.messages;
            all.read += fruit.read;
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
        let date = date_of(&self.date, doc);
        self.add(doc, thread, date, score);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.messages += docs.len() as u64;
        self.add_block(docs, None);
        self.offer_block(docs);
    }

    fn harvest(self) -> Firsts {
        Firsts {
            messages: self.messages,
            read: self.read,
            threads: self.threads,
            more_threads: self.more_threads,
            firsts: self.keeper.firsts,
            pruned: self.keeper.pruned,
            matched: vec![(self.segment, self.matched)],
        }
    }
}
