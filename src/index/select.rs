//! Which threads a search returns, and their matching messages: top-k first (issue 14).
//!
//! 1. One pass over the matches ([`FirstsCollector`]) keeps only the threads that can be among
//!    the first `limit`, with their first hit, and counts the totals.
//! 2. Newest first ranks a thread by its latest activity, matching or not (see
//!    [`select_newest`]); relevance by its best match.
//! 3. The chosen threads alone are read back once ([`read_back`]): every member for the stats,
//!    the matches (from the first pass's bits) scored by seeking the query's scorer; they give
//!    each thread's messages and its best match (scores are shown, and pick the snippet; newest
//!    first orders by dates and addresses alone).

use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{BitSet, DocAddress, DocSet, Executor, Searcher, SegmentOrdinal, TERMINATED};

use super::activity::Activity;
use super::collect::{
    Hit, ThreadDates, ThreadMap, ThreadStats, date_of, dated_since_estimate, for_bit_blocks,
    in_threads, newest_dates, thread_stats,
};
use super::topk::{Firsts, hit_order};
use super::{Fields, IndexError, SortOrder, clamped_date, schema};

/// Outsider threads (recent activity, matches not seen) checked per query.
const OUTSIDER_CHUNK: usize = 256;

/// The chosen threads in result order, each with its matching messages, and their stats.
pub(super) struct Selected {
    pub(super) threads: Vec<(u64, Vec<Hit>)>,
    pub(super) stats: ThreadMap<ThreadStats>,
}

/// What the steps after the first pass read with.
pub(super) struct Reading<'a> {
    pub(super) searcher: &'a Searcher,
    pub(super) fields: &'a Fields,
    /// The query the first pass ran (its scorer scores the read-back matches).
    pub(super) query: &'a dyn Query,
    /// The pool a read of every segment runs on (the first pass's).
    pub(super) executor: &'a Executor,
}

/// What reading the chosen threads back gives: each one's matches and its stats.
#[derive(Default)]
struct ReadBack {
    groups: ThreadMap<Vec<Hit>>,
    stats: ThreadMap<ThreadStats>,
}

/// Every message of `threads` (a union of term queries), once: the stats of each thread from
/// all of them, and its matches from the first pass's bits, each scored by seeking the query's
/// own scorer to it when `scored` (the query is not run over the index again). The segments
/// are read side by side on the first pass's pool.
fn read_back(
    r: &Reading,
    threads: impl IntoIterator<Item = u64>,
    matched: &[(SegmentOrdinal, BitSet)],
    scored: bool,
) -> Result<ReadBack, IndexError> {
    let members =
        in_threads(r.fields, threads).weight(EnableScoring::disabled_from_searcher(r.searcher))?;
    let scoring = if scored {
        EnableScoring::enabled_from_searcher(r.searcher)
    } else {
        EnableScoring::disabled_from_searcher(r.searcher)
    };
    let query = r.query.weight(scoring)?;
    let parts = r.executor.map(
        |(segment, bits)| {
            let query = scored.then_some(&*query);
            read_back_segment(r.searcher, &*members, query, *segment, bits)
        },
        matched.iter(),
    )?;
    let mut out = ReadBack::default();
    for part in parts {
        for (thread, hits) in part.groups {
            out.groups.entry(thread).or_default().extend(hits);
        }
        for (thread, stats) in part.stats {
            out.stats.entry(thread).or_default().merge(stats);
        }
    }
    Ok(out)
}

/// [`read_back`] of one segment: `members` finds the chosen threads' messages, `bits` says
/// which of them match, `query` (when scored) scores those.
fn read_back_segment(
    searcher: &Searcher,
    members: &dyn Weight,
    query: Option<&dyn Weight>,
    segment: SegmentOrdinal,
    bits: &BitSet,
) -> tantivy::Result<ReadBack> {
    let reader = searcher.segment_reader(segment);
    let thread = reader.fast_fields().u64(schema::THREAD_N)?;
    let date = reader.fast_fields().date(schema::DATE)?;
    let alive = reader.alive_bitset();
    let mut docs = members.scorer(reader, 1.0)?;
    let mut scorer = match query {
        Some(q) => Some(q.scorer(reader, 1.0)?),
        None => None,
    };
    let mut out = ReadBack::default();
    let mut doc = docs.doc();
    while doc != TERMINATED {
        if alive.is_none_or(|a| a.is_alive(doc)) {
            let t = thread.first(doc).unwrap_or(0);
            let d = date_of(&date, doc);
            let addr = DocAddress::new(segment, doc);
            out.stats.entry(t).or_default().add(d, addr);
            if bits.contains(doc) {
                let score = match scorer.as_mut() {
                    Some(s) => {
                        if s.doc() < doc {
                            s.seek(doc);
                        }
                        if s.doc() == doc { s.score() } else { 0.0 }
                    }
                    None => 0.0,
                };
                out.groups.entry(t).or_default().push(Hit {
                    addr,
                    thread: t,
                    date: d,
                    score,
                });
            }
        }
        doc = docs.advance();
    }
    Ok(out)
}

/// The first hit of a group in `sort` order.
fn first_of(sort: SortOrder, group: &[Hit]) -> Hit {
    *group
        .iter()
        .min_by(|a, b| hit_order(sort, a, b))
        .expect("groups are never empty")
}

/// Relevance: the kept threads are exactly the best `limit`.
pub(super) fn select_relevance(
    r: &Reading,
    found: Firsts,
    limit: usize,
) -> Result<Selected, IndexError> {
    let sort = SortOrder::Relevance;
    let ReadBack { mut groups, stats } =
        read_back(r, found.firsts.into_keys(), &found.matched, true)?;
    let mut ranked: Vec<(Hit, u64)> = groups
        .iter()
        .map(|(&t, g)| (first_of(sort, g), t))
        .collect();
    ranked.sort_by(|a, b| hit_order(sort, &a.0, &b.0));
    ranked.truncate(limit);
    let threads = ranked
        .into_iter()
        .map(|(_, t)| (t, groups.remove(&t).unwrap_or_default()))
        .collect();
    Ok(Selected { threads, stats })
}

/// A candidate thread for newest first: its latest activity and its first hit (newest match;
/// its score is not known before step 3).
#[derive(Clone, Copy)]
struct Candidate {
    activity: Option<i64>,
    first: Hit,
}

/// Newest activity first, then the newest match, then its address (the search order of
/// newest first, see `hit_order`): a total order, known before anything is read back.
fn by_activity(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    b.activity
        .cmp(&a.activity)
        .then(b.first.date.cmp(&a.first.date))
        .then(a.first.addr.cmp(&b.first.addr))
}

/// The `limit`-th best activity among `candidates` (`None` when there are fewer).
fn limit_th_activity(candidates: &[Candidate], limit: usize) -> Option<Option<i64>> {
    if candidates.len() < limit {
        return None;
    }
    let mut acts: Vec<Option<i64>> = candidates.iter().map(|c| c.activity).collect();
    let (_, a, _) = acts.select_nth_unstable_by(limit - 1, |a, b| b.cmp(a));
    Some(*a)
}

/// Newest first: threads rank by their latest activity (the `last_date` shown, matching or not),
/// then by their first hit.
///
/// Every thread with a match dated θ or later (θ the `limit`-th newest thread's newest match) is
/// among the kept ones with its newest match, so at least `limit` of them have activity θ or
/// later and a thread without a message dated θ or later ranks after them: activity is read
/// only from the messages dated θ or later (the date column's range filter). A thread that was
/// not kept may still rank among the first: its matches are older than θ but a later message of
/// it is not. Such "outsiders" are found in the same read: the threads whose newest message is
/// dated at or after the `limit`-th best activity A among the candidates. They are checked
/// against the query in activity order, a chunk at a time, until the next one's activity is
/// below A (A only rises as they join); or, when there are many, from the matches' bits.
///
/// With the table of each thread's activity (`table`, built for the segments it reads; the first
/// pass ranked by it), the kept threads are every matching thread that can rank among the
/// first `limit`, each with its activity: none of the above is read.
pub(super) fn select_newest(
    r: &Reading,
    mut found: Firsts,
    limit: usize,
    table: Option<&Activity>,
) -> Result<Selected, IndexError> {
    let (searcher, fields) = (r.searcher, r.fields);
    let kept: Vec<Hit> = std::mem::take(&mut found.firsts).into_values().collect();
    let dated = kept.iter().filter(|h| h.date.is_some()).count();
    let mut recent = ThreadMap::default();
    let activity: ThreadMap<Option<i64>> = if let Some(table) = table {
        kept.iter()
            .map(|h| (h.thread, table.of_doc(h.addr)))
            .collect()
    } else if !found.pruned && kept.len() <= limit {
        // Every matching thread is here and all are returned: their newest dates are those of
        // their stats.
        let all: Vec<u64> = kept.iter().map(|h| h.thread).collect();
        let s = thread_stats(searcher, fields, &all)?;
        s.iter().map(|(&t, st)| (t, st.newest_date)).collect()
    } else if dated < limit {
        // Fewer than `limit` dated matches: not pruned (see `Keeper`), so every matching thread
        // is here; their newest dates need the whole index (undated mail is rare).
        debug_assert!(!found.pruned);
        newest_dates(searcher, kept.iter().map(|h| h.thread))?
    } else {
        let mut dates: Vec<i64> = kept.iter().filter_map(|h| h.date).collect();
        let (_, theta, _) = dates.select_nth_unstable_by(limit - 1, |a, b| b.cmp(a));
        // Much mail since θ (a search of old mail): only the threads with a match matter, and
        // a filter of them turns the others away before they are grouped.
        let filter = if dated_since(searcher, *theta) > found.messages / 2 {
            Some(MatchedThreads::of(searcher, &found.matched)?)
        } else {
            None
        };
        recent = threads_since(searcher, *theta, filter.as_ref())?;
        kept.iter()
            .map(|h| (h.thread, h.date.max(recent.get(&h.thread).copied())))
            .collect()
    };
    let mut candidates: Vec<Candidate> = kept
        .iter()
        .map(|&first| Candidate {
            activity: activity.get(&first.thread).copied().flatten(),
            first,
        })
        .collect();
    if found.pruned && table.is_none() {
        join_outsiders(r, &mut candidates, limit, recent, &found.matched)?;
    }

    // The first `limit` by (activity, newest match, its address): exactly the threads returned,
    // however many tie on their dates, so step 3 reads back no more than a page.
    candidates.sort_by(by_activity);
    candidates.truncate(limit);
    let ReadBack { mut groups, stats } = read_back(
        r,
        candidates.iter().map(|c| c.first.thread),
        &found.matched,
        true,
    )?;
    // Already in result order: each candidate's first hit is its thread's newest match, the
    // one its read-back group starts with (both exact, from the same matches).
    let threads = candidates
        .iter()
        .filter_map(|c| groups.remove_entry(&c.first.thread))
        .collect();
    Ok(Selected { threads, stats })
}

/// Adds to `candidates` the matching threads that were not kept but whose activity ranks them
/// among the first `limit` (see [`select_newest`]); `recent`: every thread with a message dated
/// θ or later, with its newest date.
fn join_outsiders(
    r: &Reading,
    candidates: &mut Vec<Candidate>,
    limit: usize,
    recent: ThreadMap<i64>,
    matched: &[(SegmentOrdinal, BitSet)],
) -> Result<(), IndexError> {
    let Some(Some(floor)) = limit_th_activity(candidates, limit) else {
        return Ok(());
    };
    let known: ThreadMap<()> = candidates.iter().map(|c| (c.first.thread, ())).collect();
    let mut outsiders: Vec<(i64, u64)> = recent
        .into_iter()
        .filter(|(t, d)| *d >= floor && !known.contains_key(t))
        .map(|(t, d)| (d, t))
        .collect();
    // A chunk's query looks each of its threads up in every segment (about a microsecond
    // each); one pass over the matches' bits reads each match's thread (a few nanoseconds).
    let matches: u64 = matched.iter().map(|(_, bits)| bits.len() as u64).sum();
    let lookups = outsiders.len().min(OUTSIDER_CHUNK) * r.searcher.segment_readers().len();
    if outsiders.len() > 2 * OUTSIDER_CHUNK || matches < lookups as u64 * 250 {
        // Many (a query on old mail, with much mail since), or few matches for them: one pass
        // over the matches' bits, looking each one's thread up, costs less than a query per
        // chunk.
        let only: ThreadMap<i64> = outsiders.iter().map(|&(d, t)| (t, d)).collect();
        let firsts = newest_matches_of(r.searcher, matched, &only)?;
        candidates.extend(firsts.into_values().map(|first| Candidate {
            activity: only.get(&first.thread).copied(),
            first,
        }));
        return Ok(());
    }
    outsiders.sort_by(|a, b| b.cmp(a));
    let mut floor = floor;
    for chunk in outsiders.chunks(OUTSIDER_CHUNK) {
        if chunk[0].0 < floor {
            break;
        }
        let activity: ThreadMap<i64> = chunk.iter().map(|&(d, t)| (t, d)).collect();
        let back = read_back(r, chunk.iter().map(|&(_, t)| t), matched, false)?;
        for (thread, group) in back.groups {
            candidates.push(Candidate {
                activity: activity.get(&thread).copied(),
                first: first_of(SortOrder::Newest, &group),
            });
        }
        if let Some(Some(a)) = limit_th_activity(candidates, limit) {
            floor = floor.max(a);
        }
    }
    Ok(())
}

/// The newest match (date, then lowest address) of each of `only`'s threads that has one, read
/// from the matches' bits: the query is not run again.
fn newest_matches_of(
    searcher: &Searcher,
    matched: &[(SegmentOrdinal, BitSet)],
    only: &ThreadMap<i64>,
) -> Result<ThreadMap<Hit>, IndexError> {
    let mut firsts: ThreadMap<Hit> = ThreadMap::default();
    let mut threads = Vec::new();
    for (segment, bits) in matched {
        let reader = searcher.segment_reader(*segment);
        let thread = reader.fast_fields().u64(schema::THREAD_N)?;
        let date = reader.fast_fields().date(schema::DATE)?;
        for_bit_blocks(bits, |docs| {
            threads.resize(docs.len(), None);
            thread.first_vals(docs, &mut threads);
            for (&doc, t) in docs.iter().zip(&threads) {
                let Some(t) = *t else { continue };
                if !only.contains_key(&t) {
                    continue;
                }
                let hit = Hit {
                    addr: DocAddress::new(*segment, doc),
                    thread: t,
                    date: date_of(&date, doc),
                    score: 0.0,
                };
                firsts
                    .entry(t)
                    .and_modify(|first| {
                        if hit_order(SortOrder::Newest, &hit, first).is_lt() {
                            *first = hit;
                        }
                    })
                    .or_insert(hit);
            }
        });
    }
    Ok(firsts)
}

/// Every thread with a message dated `since` or later, with its newest date; with a filter,
/// only those it lets through (and so every such thread with a match).
fn threads_since(
    searcher: &Searcher,
    since: i64,
    only: Option<&MatchedThreads>,
) -> Result<ThreadMap<i64>, IndexError> {
    let mut recent: ThreadMap<i64> = ThreadMap::default();
    for_messages_since(searcher, since, |thread, date| {
        if only.is_some_and(|f| !f.may_contain(thread)) {
            return;
        }
        let slot = recent.entry(thread).or_insert(date);
        *slot = (*slot).max(date);
    })?;
    Ok(recent)
}

/// About how many documents are dated `since` or later (every 64th date of each segment).
fn dated_since(searcher: &Searcher, since: i64) -> u64 {
    searcher
        .segment_readers()
        .iter()
        .filter_map(|reader| reader.fast_fields().date(schema::DATE).ok())
        .map(|date| dated_since_estimate(&date, since))
        .sum()
}

/// The threads with a match, as one bit per hash of the thread id (thread ids are hashes
/// already): no thread with a match is turned away, about one in forty without is let through
/// at a hundred thousand matching threads, and the filter is half a megabyte.
struct MatchedThreads(Vec<u64>);

impl MatchedThreads {
    const BITS: u32 = 22;

    /// From the matches' bits: the thread of each match, read in blocks.
    fn of(searcher: &Searcher, matched: &[(SegmentOrdinal, BitSet)]) -> Result<Self, IndexError> {
        let mut words = vec![0u64; 1 << (Self::BITS - 6)];
        let mut threads = Vec::new();
        for (segment, bits) in matched {
            let thread = searcher
                .segment_reader(*segment)
                .fast_fields()
                .u64(schema::THREAD_N)?;
            for_bit_blocks(bits, |docs| {
                threads.resize(docs.len(), None);
                thread.first_vals(docs, &mut threads);
                for t in threads.iter().flatten() {
                    let bit = Self::bit(*t);
                    words[bit / 64] |= 1 << (bit % 64);
                }
            });
        }
        Ok(MatchedThreads(words))
    }

    fn bit(thread: u64) -> usize {
        (thread >> (64 - Self::BITS)) as usize
    }

    fn may_contain(&self, thread: u64) -> bool {
        let bit = Self::bit(thread);
        self.0[bit / 64] & (1 << (bit % 64)) != 0
    }
}

/// Calls `f(thread, date)` for every live message dated `since` or later (the date column's
/// own range filter, which reads the packed values in bulk; every document has a date value,
/// so its rows are its documents).
fn for_messages_since(
    searcher: &Searcher,
    since: i64,
    mut f: impl FnMut(u64, i64),
) -> Result<(), IndexError> {
    let range = clamped_date(since)..=tantivy::DateTime::MAX;
    let mut docs = Vec::new();
    for reader in searcher.segment_readers() {
        let mut columns = ThreadDates::of(reader)?;
        let alive = reader.alive_bitset();
        docs.clear();
        columns
            .date()
            .get_docids_for_value_range(range.clone(), 0..reader.max_doc(), &mut docs);
        if let Some(alive) = alive {
            docs.retain(|&d| alive.is_alive(d));
        }
        for (_, t, d) in columns.read(&docs) {
            if let (Some(t), Some(d)) = (t, d) {
                f(t, d);
            }
        }
    }
    Ok(())
}
