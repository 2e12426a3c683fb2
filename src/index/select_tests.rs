//! Top-k-first search against an exhaustive reference: every match collected and grouped, each
//! thread's activity read from the whole index (what search did before issue 14).

use std::collections::BTreeMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::collect::{Hit, ThreadMap, newest_dates};
use super::topk::hit_order;
use super::*;
use crate::model::{Decision, Message, MessageId, ThreadId};

/// Collects every matching doc with its thread, date and score (the reference's collector: what
/// search did before issue 14).
struct MatchCollector;

struct MatchSegmentCollector {
    segment: SegmentOrdinal,
    thread: Column<u64>,
    date: Column<DateTime>,
    hits: Vec<Hit>,
}

impl Collector for MatchCollector {
    type Fruit = Vec<Hit>;
    type Child = MatchSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<MatchSegmentCollector> {
        Ok(MatchSegmentCollector {
            segment,
            thread: reader.fast_fields().u64(schema::THREAD_N)?,
            date: reader.fast_fields().date(schema::DATE)?,
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Hit>>) -> tantivy::Result<Vec<Hit>> {
        Ok(fruits.concat())
    }
}

impl SegmentCollector for MatchSegmentCollector {
    type Fruit = Vec<Hit>;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.hits.push(Hit {
            addr: DocAddress::new(self.segment, doc),
            thread: self.thread.first(doc).unwrap_or(0),
            date: super::collect::date_of(&self.date, doc),
            score,
        });
    }

    fn harvest(self) -> Vec<Hit> {
        self.hits
    }
}

/// A small deterministic generator (no dependency for a test).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const WORDS: &[&str] = &["alpha", "beta", "gamma", "delta", "omega"];

/// `n` messages in `threads` threads: dates from a few dozen values (many ties, some undated),
/// two or three words each (scores tie too), several segments, some messages deleted.
fn corpus(n: usize, threads: u64, seed: u64) -> (tempfile::TempDir, MailIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
    let mut rng = Lcg(seed);
    for i in 0..n {
        let words: Vec<&str> = (0..2 + rng.below(2))
            .map(|_| WORDS[rng.below(WORDS.len() as u64) as usize])
            .collect();
        let date = match rng.below(20) {
            0 => None,
            _ => chrono::DateTime::from_timestamp(1_700_000_000 + rng.below(40) as i64 * 86_400, 0),
        };
        let msg = Message {
            id: MessageId(format!("m{i:05}")),
            subject: words.join(" "),
            body_text: words.join(" "),
            date,
            ..Default::default()
        };
        let thread = ThreadId::of_key(&format!("t{}", rng.below(threads)));
        w.add_new(&msg, &Decision::default(), &thread, chrono::Utc::now())
            .unwrap();
        if i % 173 == 172 {
            w.commit().unwrap();
        }
        if i % 41 == 40 {
            w.delete(&MessageId(format!("m{:05}", i - 7))).unwrap();
        }
    }
    w.commit().unwrap();
    (dir, index)
}

/// The exhaustive search: (thread, score of its first hit, matching message ids) in order.
fn reference(
    index: &MailIndex,
    q: &str,
    sort: SortOrder,
    limit: usize,
) -> (usize, u64, Vec<Shape>) {
    let ast = query::parse(q, &index.analyzer).unwrap();
    let compiled = query::compile(&ast, &index.fields);
    let searcher = index.reader.searcher();
    let hits = searcher.search(&*compiled.query, &MatchCollector).unwrap();
    let mut groups: BTreeMap<u64, Vec<Hit>> = BTreeMap::new();
    for h in &hits {
        groups.entry(h.thread).or_default().push(*h);
    }
    let activity: ThreadMap<Option<i64>> = newest_dates(&searcher, groups.keys().copied()).unwrap();
    let mut ranked: Vec<(Option<i64>, Hit)> = groups
        .values()
        .map(|g| {
            let first = *g.iter().min_by(|a, b| hit_order(sort, a, b)).unwrap();
            (activity[&first.thread], first)
        })
        .collect();
    ranked.sort_by(|a, b| match sort {
        SortOrder::Newest => b.0.cmp(&a.0).then_with(|| hit_order(sort, &a.1, &b.1)),
        SortOrder::Relevance => hit_order(sort, &a.1, &b.1),
    });
    ranked.truncate(limit);
    let mut ctx_ids = index.hit_builder(&searcher, &compiled);
    let threads = ranked
        .into_iter()
        .map(|(_, first)| {
            let mut g = groups[&first.thread].clone();
            g.sort_by(|a, b| b.date.cmp(&a.date).then(a.addr.cmp(&b.addr)));
            let ids = g
                .iter()
                .take(MAX_MESSAGE_IDS)
                .map(|h| ctx_ids.message_id(h.addr).unwrap())
                .collect();
            // The best score, bit for bit: the search scores its read-back by seeking the
            // query's scorer, the reference by running it.
            let best = g.iter().map(|h| h.score).fold(f32::MIN, f32::max);
            (first.thread, ids, g.len() as u64, best.to_bits())
        })
        .collect();
    (groups.len(), hits.len() as u64, threads)
}

/// One returned thread: its id, its newest matching messages, how many match, the bits of its
/// best score.
type Shape = (u64, Vec<String>, u64, u32);

/// What `reference` returns, from a search's results.
fn shape(r: &SearchResults) -> Vec<Shape> {
    r.threads
        .iter()
        .map(|t| {
            (
                ThreadId(t.thread_id.clone()).as_u64(),
                t.message_ids.clone(),
                t.matching_messages,
                t.score.to_bits(),
            )
        })
        .collect()
}

/// Builds the activity table for the segments the reader reads, here and now.
fn build_thread_activity(index: &MailIndex) {
    index.activity.build(&index.reader.searcher());
}

/// Whether a search now would rank by the activity table (built for these segments).
fn has_thread_activity(index: &MailIndex) -> bool {
    index
        .activity
        .for_searcher(&index.reader.searcher())
        .is_some()
}

/// Every search, then every search again with the table of threads' activity that a
/// long-running reader keeps (see `activity`), built for the generation it reads.
fn without_then_with_the_activity_table(index: &MailIndex, mut searches: impl FnMut(&str)) {
    assert!(!has_thread_activity(index));
    searches("without the table");
    build_thread_activity(index);
    assert!(has_thread_activity(index));
    searches("with the table");
}

#[test]
fn top_k_first_returns_what_the_exhaustive_search_returns() {
    for (n, threads, seed) in [(1_500, 300, 1), (900, 40, 2), (600, 600, 3)] {
        let (_dir, index) = corpus(n, threads, seed);
        without_then_with_the_activity_table(&index, |table| {
            for q in [
                "alpha",
                "beta gamma",
                "alpha OR omega",
                "-delta",
                "omega -alpha",
                "nothing",
            ] {
                for sort in [SortOrder::Newest, SortOrder::Relevance] {
                    for limit in [1, 2, 3, 7, 20, 100, 1_000] {
                        let got = index
                            .search(
                                q,
                                &SearchOptions {
                                    limit,
                                    sort,
                                    ..SearchOptions::default()
                                },
                            )
                            .unwrap();
                        let (threads_total, messages, want) = reference(&index, q, sort, limit);
                        let what = format!("corpus {seed}, {table}, {q:?}, {sort}, limit {limit}");
                        assert_eq!(got.total_threads, threads_total, "{what}");
                        assert!(!got.more_threads, "{what}");
                        assert_eq!(got.total_messages, messages, "{what}");
                        assert_eq!(shape(&got), want, "{what}");
                    }
                }
            }
        });
    }
}

#[test]
fn thread_totals_are_exact_up_to_the_bound_then_say_more() {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    // A heap large enough that the first segment is not flushed early.
    let mut w = index.writer(200_000_000).unwrap();
    let n = THREAD_COUNT_BOUND + 50;
    for i in 0..n {
        // One message per thread; every message says "all", all but 51 say "most".
        let msg = Message {
            id: MessageId(format!("m{i:06}")),
            subject: if i < THREAD_COUNT_BOUND - 1 {
                "all most"
            } else {
                "all"
            }
            .into(),
            date: chrono::DateTime::from_timestamp(1_700_000_000 + i as i64, 0),
            ..Default::default()
        };
        w.add_new(
            &msg,
            &Decision::default(),
            &ThreadId::of_key(&format!("t{i}")),
            chrono::Utc::now(),
        )
        .unwrap();
        // A first segment past the bound on its own, then a small one.
        if i == THREAD_COUNT_BOUND + 20 {
            w.commit().unwrap();
        }
    }
    w.commit().unwrap();
    let opts = SearchOptions::default();
    let all = index.search("all", &opts).unwrap();
    assert_eq!(
        (all.total_threads, all.more_threads),
        (THREAD_COUNT_BOUND, true)
    );
    assert_eq!(all.total_messages, n as u64);
    assert_eq!(all.threads.len(), 20);
    // Newest first is still exact past the bound: the newest 20 messages' threads.
    let newest: Vec<String> = all
        .threads
        .iter()
        .map(|t| t.message_ids[0].clone())
        .collect();
    let want: Vec<String> = (n - 20..n).rev().map(|i| format!("m{i:06}")).collect();
    assert_eq!(newest, want);
    let most = index.search("most", &opts).unwrap();
    assert_eq!(
        (most.total_threads, most.more_threads, most.total_messages),
        (THREAD_COUNT_BOUND - 1, false, THREAD_COUNT_BOUND as u64 - 1)
    );
}

/// Threads whose matches are all old while their activity is recent ("outsiders" of the first
/// pass), more of them than are checked a chunk at a time.
#[test]
fn threads_matching_only_in_old_mail_rank_by_their_recent_activity() {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
    let mut rng = Lcg(11);
    let threads = 1_500;
    for t in 0..threads {
        let thread = ThreadId::of_key(&format!("t{t}"));
        let old = Message {
            id: MessageId(format!("old{t:05}")),
            subject: "ancient ledger".into(),
            date: chrono::DateTime::from_timestamp(1_000_000_000 + t as i64 * 60, 0),
            ..Default::default()
        };
        w.add_new(&old, &Decision::default(), &thread, chrono::Utc::now())
            .unwrap();
        let new = Message {
            id: MessageId(format!("new{t:05}")),
            subject: "fresh news".into(),
            date: chrono::DateTime::from_timestamp(1_700_000_000 + rng.below(1_000_000) as i64, 0),
            ..Default::default()
        };
        w.add_new(&new, &Decision::default(), &thread, chrono::Utc::now())
            .unwrap();
    }
    w.commit().unwrap();
    without_then_with_the_activity_table(&index, |table| {
        for limit in [1, 5, 50] {
            let got = index
                .search(
                    "ancient",
                    &SearchOptions {
                        limit,
                        ..SearchOptions::default()
                    },
                )
                .unwrap();
            let (_, _, want) = reference(&index, "ancient", SortOrder::Newest, limit);
            assert_eq!(shape(&got), want, "{table}, limit {limit}");
        }
    });

    // A reload that finds no new commit reads the same segments: the table stays.
    index.reload().unwrap();
    assert!(has_thread_activity(&index));

    // A reply to one of the oldest threads, committed: the table built for the segments
    // before is not used (a search ranking by it would put that thread last), and the one
    // built for the new generation ranks the thread first.
    let reply = Message {
        id: MessageId("reply".into()),
        subject: "late reply".into(),
        date: chrono::DateTime::from_timestamp(1_800_000_000, 0),
        ..Default::default()
    };
    let old = ThreadId::of_key("t0");
    w.add_new(&reply, &Decision::default(), &old, chrono::Utc::now())
        .unwrap();
    w.commit().unwrap();
    index.reload().unwrap();
    let first = |index: &MailIndex| {
        let got = index.search("ancient", &SearchOptions::default()).unwrap();
        assert_eq!(
            shape(&got),
            reference(index, "ancient", SortOrder::Newest, 20).2
        );
        got.threads[0].message_ids.clone()
    };
    assert!(!has_thread_activity(&index));
    assert_eq!(first(&index), ["old00000"]);
    build_thread_activity(&index);
    assert!(has_thread_activity(&index));
    assert_eq!(first(&index), ["old00000"]);
}

/// One segment of `(words, date, thread key)` messages (ids `m00000`...), every 997th deleted.
fn one_segment(messages: &[(&str, Option<i64>, String)]) -> (tempfile::TempDir, MailIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    // A heap large enough that the segment is not flushed early.
    let mut w = index.writer(400_000_000).unwrap();
    for (i, (words, date, thread)) in messages.iter().enumerate() {
        let msg = Message {
            id: MessageId(format!("m{i:05}")),
            subject: words.to_string(),
            date: date.and_then(|d| chrono::DateTime::from_timestamp(d, 0)),
            ..Default::default()
        };
        w.add_new(
            &msg,
            &Decision::default(),
            &ThreadId::of_key(thread),
            chrono::Utc::now(),
        )
        .unwrap();
    }
    w.commit().unwrap();
    for i in (0..messages.len()).step_by(997) {
        w.delete(&MessageId(format!("m{i:05}"))).unwrap();
    }
    w.commit().unwrap();
    (dir, index)
}

/// The first pass alone, newest first with k = 20: (matches, matches whose columns it read),
/// after checking its promise against every match: each thread whose newest match is among
/// the 20 newest threads' (ties included) is kept, with that match.
fn first_pass(index: &MailIndex, q: &str) -> (u64, u64) {
    let ast = query::parse(q, &index.analyzer).unwrap();
    let compiled = query::compile(&ast, &index.fields);
    let searcher = index.reader.searcher();
    let k = 20;
    let found = searcher
        .search(
            &*compiled.query,
            &super::topk::FirstsCollector::new(k, SortOrder::Newest, None),
        )
        .unwrap();
    let mut newest: BTreeMap<u64, (Option<i64>, DocAddress)> = BTreeMap::new();
    for h in searcher.search(&*compiled.query, &MatchCollector).unwrap() {
        let e = newest.entry(h.thread).or_insert((h.date, h.addr));
        if (h.date, std::cmp::Reverse(h.addr)) > (e.0, std::cmp::Reverse(e.1)) {
            *e = (h.date, h.addr);
        }
    }
    let mut dates: Vec<Option<i64>> = newest.values().map(|v| v.0).collect();
    dates.sort_by(|a, b| b.cmp(a));
    let kth = dates[k.min(dates.len()) - 1];
    for (thread, (date, addr)) in newest.iter().filter(|(_, v)| v.0 >= kth) {
        let kept = found.firsts.get(thread).map(|h| (h.date, h.addr));
        assert_eq!(kept, Some((*date, *addr)), "{q:?}: thread {thread:x}");
    }
    (found.messages, found.read)
}

/// Newest first against the exhaustive search, without the activity table and with it.
fn assert_like_reference(index: &MailIndex, q: &str) {
    index.activity.forget();
    without_then_with_the_activity_table(index, |table| assert_like_reference_now(index, q, table));
    index.activity.forget();
}

fn assert_like_reference_now(index: &MailIndex, q: &str, table: &str) {
    for limit in [1, 20, 100] {
        let opts = SearchOptions {
            limit,
            ..SearchOptions::default()
        };
        let got = index.search(q, &opts).unwrap();
        let (_, messages, want) = reference(index, q, SortOrder::Newest, limit);
        assert_eq!(
            got.total_messages, messages,
            "{q:?}, {table}, limit {limit}"
        );
        assert_eq!(shape(&got), want, "{q:?}, {table}, limit {limit}");
    }
}

/// Tens of thousands of matches in one segment: newest first reads only the matches dated after
/// a cut when they settle the first threads, and every match when they do not (the newest
/// crowd into two threads, or most of the segment is newer than the matches); each way, what
/// the exhaustive search returns.
#[test]
fn a_large_result_reads_only_its_newest_matches_when_they_settle_the_first_threads() {
    let mut rng = Lcg(21);
    let day = 86_400;
    let mut messages: Vec<(&str, Option<i64>, String)> = Vec::new();
    // 30,000 messages saying "every" in 6,000 threads over 2,000 days (some undated), and
    // 5,000 newer messages say "crowd", all in two threads.
    for i in 0..30_000 {
        let date = (rng.below(40) != 0).then(|| 1_000_000_000 + rng.below(2_000) as i64 * day);
        messages.push(("every", date, format!("t{}", rng.below(6_000))));
        if i < 5_000 {
            let date = 1_000_000_000 + (2_000 + rng.below(100) as i64) * day;
            messages.push(("crowd", Some(date), format!("c{}", i % 2)));
        }
    }
    // 20,000 old messages saying "ancient crowd", before all the rest.
    for _ in 0..20_000 {
        let date = 900_000_000 + rng.below(1_000) as i64 * day;
        messages.push((
            "ancient crowd",
            Some(date),
            format!("a{}", rng.below(5_000)),
        ));
    }
    let (_dir, index) = one_segment(&messages);

    let (matches, read) = first_pass(&index, "every");
    assert!(matches > 29_000, "{matches}");
    assert!(read * 4 < matches, "read {read} of {matches}");
    assert_like_reference(&index, "every");

    // The newest 5,000 matches of "crowd" are two threads: the window does not settle 20.
    let (matches, read) = first_pass(&index, "crowd");
    assert!(
        matches > 20_000 && read >= matches,
        "read {read} of {matches}"
    );
    assert_like_reference(&index, "crowd");

    // Most of the segment is newer than any "ancient" match: no window.
    let (matches, read) = first_pass(&index, "ancient");
    assert_eq!(read, matches);
    assert_like_reference(&index, "ancient");
}

/// The cut against every match on corpora of other shapes: few or many threads, dates over a
/// month or a decade (many ties, some undated), queries of every density; most take the cut.
#[test]
fn the_cut_agrees_with_every_match_on_random_corpora() {
    let mut cut_taken = 0;
    for (seed, threads, days) in [(5, 300, 30), (6, 3_000, 400), (7, 20_000, 4_000)] {
        let mut rng = Lcg(seed);
        let messages: Vec<(&str, Option<i64>, String)> = (0..24_000)
            .map(|_| {
                let words = ["alpha beta", "alpha", "beta", "alpha gamma"][rng.below(4) as usize];
                let date = (rng.below(30) != 0).then(|| {
                    1_000_000_000 + rng.below(days) as i64 * 86_400 + rng.below(3) as i64 * 3_600
                });
                (words, date, format!("t{}", rng.below(threads)))
            })
            .collect();
        let (_dir, index) = one_segment(&messages);
        for q in ["alpha", "beta", "alpha -gamma", "alpha OR beta"] {
            let (matches, read) = first_pass(&index, q);
            cut_taken += usize::from(read < matches);
            assert_like_reference(&index, q);
        }
    }
    assert!(cut_taken >= 6, "the cut was taken {cut_taken} times of 12");
}

/// What a long-running reader does before each search (`Reloader::refresh`): the table is
/// built on a thread of its own, not again while it fits the segments, and not while the
/// cache rests after a build.
#[test]
fn a_long_running_reader_builds_the_table_in_the_background_and_rests_between_builds() {
    let (dir, index) = corpus(600, 60, 9);
    let wait_for_table = |index: &MailIndex| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !has_thread_activity(index) {
            assert!(std::time::Instant::now() < deadline, "no table after 10 s");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    index.keep_thread_activity();
    wait_for_table(&index);
    assert!(!index.activity.is_building());
    // Kept in memory: only a writer that finishes leaves it on disk.
    assert!(!dir.path().join(super::activity::FILE).exists());
    index.keep_thread_activity();
    assert!(
        !index.activity.is_building(),
        "rebuilt for the same segments"
    );

    // New segments while the cache rests: no build, and searches read without the table.
    let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
    w.delete(&MessageId("m00003".into())).unwrap();
    w.commit().unwrap();
    index.reload().unwrap();
    index
        .activity
        .rest(Some(std::time::Duration::from_secs(3_600)));
    index.keep_thread_activity();
    assert!(!index.activity.is_building());
    assert!(!has_thread_activity(&index));
    assert_like_reference_now(&index, "alpha", "resting");

    index.activity.rest(None);
    index.keep_thread_activity();
    wait_for_table(&index);
    assert_like_reference_now(&index, "alpha", "rebuilt");
}

/// The table holds, beside every live document, the date of its thread's newest live message
/// (none for a thread without a dated one); beside a deleted document, nothing.
#[test]
fn the_table_holds_each_documents_thread_activity() {
    let (_dir, index) = corpus(900, 40, 12);
    let searcher = index.reader.searcher();
    let table = super::activity::Activity::of(&searcher).unwrap();
    let mut threads: BTreeMap<DocAddress, u64> = BTreeMap::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let thread = reader.fast_fields().u64(schema::THREAD_N).unwrap();
        for doc in 0..reader.max_doc() {
            let addr = DocAddress::new(ord as u32, doc);
            if reader.alive_bitset().is_some_and(|a| !a.is_alive(doc)) {
                assert_eq!(table.of_doc(addr), None, "deleted {addr:?}");
            } else {
                threads.insert(addr, thread.first(doc).unwrap());
            }
        }
    }
    let newest = newest_dates(&searcher, threads.values().copied()).unwrap();
    assert!(newest.values().any(Option::is_some));
    // The same table written and mapped back.
    table.write(&index.dir).unwrap();
    let mapped = super::activity::Activity::read(&index.dir).unwrap();
    for (addr, thread) in threads {
        assert_eq!(table.of_doc(addr), newest[&thread], "{addr:?}");
        assert_eq!(mapped.of_doc(addr), newest[&thread], "{addr:?} mapped");
    }
}

/// The end of a bulk ingest (`MailIndexWriter::finish`) leaves the table beside the index: a
/// new reader (a CLI search) maps it and ranks with it, until the index changes.
#[test]
fn a_table_left_by_a_bulk_ingest_serves_new_readers_until_the_index_changes() {
    let (dir, index) = corpus(900, 40, 13);
    // A copy a crashed writer left behind goes when the next one writes the table.
    let stale = dir
        .path()
        .join(format!("{}.tmp-4000000", super::activity::FILE));
    std::fs::write(&stale, b"cut short").unwrap();
    index.writer(MIN_WRITER_HEAP).unwrap().finish().unwrap();
    assert!(dir.path().join(super::activity::FILE).is_file());
    assert!(!stale.exists(), "the stale copy is removed");
    let reader = MailIndex::open_read_only(dir.path()).unwrap();
    assert!(has_thread_activity(&reader), "a new reader maps the table");
    for q in ["alpha", "beta -gamma", "delta OR omega", "nothing"] {
        assert_like_reference_now(&reader, q, "the table on disk");
    }

    // A reply to a thread makes it the most recently active; the table on disk is for the
    // segments before it and a new reader does not use it.
    let thread = ThreadId::of_key("t7");
    let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
    let reply = Message {
        id: MessageId("reply".into()),
        subject: "omega".into(),
        date: chrono::DateTime::from_timestamp(1_800_000_000, 0),
        ..Default::default()
    };
    w.add_new(&reply, &Decision::default(), &thread, chrono::Utc::now())
        .unwrap();
    w.commit().unwrap();
    let reader = MailIndex::open_read_only(dir.path()).unwrap();
    assert!(!has_thread_activity(&reader), "a table of older segments");
    assert_like_reference_now(&reader, "alpha", "a table of older segments on disk");
    let first = reader.search("alpha", &SearchOptions::default()).unwrap();
    assert_eq!(first.threads[0].thread_id, thread.0);
}

/// A table file cut short, grown, of another kind or empty is not used, and searches are
/// what they are without one.
#[test]
fn a_damaged_table_on_disk_is_ignored() {
    let (dir, index) = corpus(600, 30, 14);
    index.writer(MIN_WRITER_HEAP).unwrap().finish().unwrap();
    let file = dir.path().join(super::activity::FILE);
    let good = std::fs::read(&file).unwrap();
    let mut foreign = good.clone();
    foreign[0] ^= 0xff;
    let damaged: [(&str, Vec<u8>); 4] = [
        ("cut short", good[..good.len() - 3].to_vec()),
        ("grown", [&good[..], &[0u8; 4]].concat()),
        ("another kind", foreign),
        ("empty", Vec::new()),
    ];
    for (how, bytes) in damaged {
        std::fs::write(&file, bytes).unwrap();
        let reader = MailIndex::open_read_only(dir.path()).unwrap();
        assert!(!has_thread_activity(&reader), "{how}");
        assert_like_reference_now(&reader, "alpha", how);
    }
}
