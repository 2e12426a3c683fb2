//! Index tests of the writer's lifecycle: re-adding, deleting, clearing, reopening, merging,
//! a foreign schema, and which segments an erasure rewrites (the query tests and their
//! synthetic mailbox are in `tests.rs`).

use super::tests::{SPECS, build, check, fixture, search};
use super::*;
use crate::model::{Decision, Message, MessageId, ThreadId};

#[test]
fn re_adding_is_idempotent_and_delete_works() {
    let f = fixture();
    let mut w = f.index.writer(DEFAULT_WRITER_HEAP).unwrap();
    let (m, d, t) = build(&SPECS[0]);
    w.add(&m, &d, &t, chrono::Utc::now()).unwrap();
    w.add(&m, &d, &t, chrono::Utc::now()).unwrap();
    w.commit().unwrap();
    assert_eq!(f.index.num_docs(), SPECS.len() as u64);
    check(&f, "id:m01", &["m01"]);
    let r = search(&f, "\"payment reminder\"");
    assert_eq!(r.threads[0].message_ids, vec!["m03", "m01"]);
    assert_eq!(r.threads[0].message_count, 3);

    w.delete(&MessageId("m03".into())).unwrap();
    w.commit().unwrap();
    assert_eq!(f.index.num_docs(), SPECS.len() as u64 - 1);
    check(&f, "overdue", &[]);
    let r = search(&f, "\"payment reminder\"");
    assert_eq!(r.threads[0].message_ids, vec!["m01"]);
    assert_eq!(r.threads[0].message_count, 2);
    assert_eq!(
        r.threads[0].last_date.as_deref(),
        Some("2026-10-21T10:00:00Z")
    );

    w.finish().unwrap();
    // a read-only reader sees the committed state
    let ro = MailIndex::open_read_only(&f.path().join("index")).unwrap();
    assert_eq!(ro.num_docs(), SPECS.len() as u64 - 1);
    assert_eq!(
        ro.search("invoice:4411", &SearchOptions::default())
            .unwrap()
            .total_threads,
        1
    );
    assert!(matches!(
        ro.writer(DEFAULT_WRITER_HEAP),
        Err(IndexError::ReadOnly)
    ));
}

#[test]
fn clear_takes_effect_at_commit() {
    let f = fixture();
    let mut w = f.index.writer(DEFAULT_WRITER_HEAP).unwrap();
    w.clear().unwrap();
    assert_eq!(f.index.num_docs(), SPECS.len() as u64);
    w.commit().unwrap();
    assert_eq!(f.index.num_docs(), 0);
    let (m, d, t) = build(&SPECS[3]);
    w.add(&m, &d, &t, chrono::Utc::now()).unwrap();
    w.commit().unwrap();
    check(&f, "", &["m04"]);
}

#[test]
fn reopening_keeps_documents() {
    let f = fixture();
    let dir = f.path().join("index");
    drop(f.index);
    let again = MailIndex::open_or_create(&dir).unwrap();
    assert_eq!(again.num_docs(), SPECS.len() as u64);
    let r = again.search("fällig", &SearchOptions::default()).unwrap();
    assert_eq!(r.threads[0].message_ids, vec!["m03"]);
}

#[test]
fn open_read_only_without_index() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        MailIndex::open_read_only(dir.path()),
        Err(IndexError::NotFound(_))
    ));
}

#[test]
fn hex_message_ids_come_back_exactly() {
    let f = fixture();
    let mut w = f.index.writer(MIN_WRITER_HEAP).unwrap();
    let (mut m, d, t) = build(&SPECS[4]);
    // ids made by MessageId::of_bytes are read back from fast fields, not the doc store
    for (i, raw) in [&b"first"[..], b"second", b"third"].into_iter().enumerate() {
        m.id = MessageId::of_bytes(raw);
        m.body_text = format!("hexid message number{i}");
        m.date = Some(format!("2027-01-0{}T00:00:00Z", i + 1).parse().unwrap());
        w.add(&m, &d, &t, chrono::Utc::now()).unwrap();
    }
    // an id starting with zeros keeps them
    m.id = MessageId(format!("{:032x}", 0xabcu64));
    m.body_text = "hexid message zeros".into();
    m.date = Some("2027-01-09T00:00:00Z".parse().unwrap());
    w.add(&m, &d, &t, chrono::Utc::now()).unwrap();
    w.commit().unwrap();
    let r = search(&f, "hexid");
    assert_eq!(r.threads.len(), 1);
    assert_eq!(
        r.threads[0].message_ids,
        vec![
            format!("{:032x}", 0xabcu64),
            MessageId::of_bytes(b"third").0,
            MessageId::of_bytes(b"second").0,
            MessageId::of_bytes(b"first").0,
        ]
    );
    // the thread already held m05
    assert_eq!(r.threads[0].message_count, 5);
    check(
        &f,
        &format!("id:{}", MessageId::of_bytes(b"second").0),
        &[&MessageId::of_bytes(b"second").0],
    );
}

#[test]
fn empty_fields_are_searchable_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
    // A message with nothing but an id, alone in its segment.
    let bare = Message {
        id: MessageId("bare".into()),
        ..Default::default()
    };
    w.add(
        &bare,
        &Decision::default(),
        &ThreadId::of_key("bare"),
        chrono::Utc::now(),
    )
    .unwrap();
    w.commit().unwrap();
    let (m, d, t) = build(&SPECS[0]);
    w.add(&m, &d, &t, chrono::Utc::now()).unwrap();
    w.commit().unwrap();
    let all = index.search("", &SearchOptions::default()).unwrap();
    assert_eq!(all.total_threads, 2);
    let bare_hit = all
        .threads
        .iter()
        .find(|t| t.message_ids == ["bare"])
        .unwrap();
    assert_eq!(bare_hit.subject, "");
    assert_eq!(bare_hit.snippet, "");
    assert_eq!(bare_hit.category, "other");
    assert_eq!(bare_hit.last_date, None);
    for q in [
        "cc:acme",
        "attachment:widgets",
        "to:desk",
        "invoice:4411",
        "has:invoice",
    ] {
        let r = index.search(q, &SearchOptions::default()).unwrap();
        let ids: Vec<_> = r
            .threads
            .iter()
            .flat_map(|t| t.message_ids.clone())
            .collect();
        let expected: &[&str] = if q == "cc:acme" { &[] } else { &["m01"] };
        assert_eq!(ids, expected, "{q}");
    }
    let r = index
        .search("-has:attachment", &SearchOptions::default())
        .unwrap();
    assert_eq!(r.threads[0].message_ids, vec!["bare"]);
}

#[test]
fn finish_merges_segments() {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    let hit = index_specs_one_commit_each(&index);
    let segments = index.index.searchable_segment_ids().unwrap();
    assert!(segments.len() <= 3, "{} segments", segments.len());
    assert_eq!(hit.message_ids, vec!["m03", "m01"]);
}

/// Two segments are too few for the policy to merge; a writer asked for its tail
/// (`merge_tail`, a bulk ingest's end) leaves one, and every document in it.
#[test]
fn a_writer_asked_for_its_tail_merges_what_is_left_into_one_segment() {
    let dir = tempfile::tempdir().unwrap();
    for ask in [false, true] {
        let index = MailIndex::open_or_create(&dir.path().join(ask.to_string())).unwrap();
        let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
        for half in SPECS.chunks(SPECS.len().div_ceil(2)) {
            for spec in half {
                let (m, d, t) = build(spec);
                w.add(&m, &d, &t, chrono::Utc::now()).unwrap();
            }
            w.commit().unwrap();
        }
        if ask {
            w.merge_tail();
        }
        w.finish().unwrap();
        let segments = index.index.searchable_segment_ids().unwrap();
        assert_eq!(segments.len(), if ask { 1 } else { 2 }, "asked: {ask}");
        assert_eq!(index.num_docs(), SPECS.len() as u64);
        let hit = index
            .search("\"payment reminder\"", &SearchOptions::default())
            .unwrap()
            .threads
            .remove(0);
        assert_eq!(hit.message_ids, vec!["m03", "m01"]);
    }
}

#[test]
fn a_foreign_schema_is_reported_and_recreate_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    std::fs::create_dir_all(&path).unwrap();
    let mut b = tantivy::schema::Schema::builder();
    b.add_text_field("title", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(&path, b.build()).unwrap();
    assert!(matches!(
        MailIndex::open_or_create(&path),
        Err(IndexError::SchemaMismatch(_))
    ));
    assert!(matches!(
        MailIndex::open_read_only(&path),
        Err(IndexError::SchemaMismatch(_))
    ));
    let index = MailIndex::recreate(&path).unwrap();
    assert_eq!(index.num_docs(), 0);
    drop(index);
    assert!(MailIndex::open_read_only(&path).is_ok());
}

/// A fresh index and a writer whose segments no policy merges (the test merges them itself).
fn index_without_merges() -> (tempfile::TempDir, MailIndex, MailIndexWriter) {
    let dir = tempfile::tempdir().unwrap();
    let index = MailIndex::open_or_create(dir.path()).unwrap();
    let w = index.writer(MIN_WRITER_HEAP).unwrap();
    w.writer
        .set_merge_policy(Box::new(tantivy::merge_policy::NoMergePolicy));
    (dir, index, w)
}

/// An erasure rewrites the segments that held what it erased, and no other: the one with the
/// live copy, the one with an older copy already deleted (a re-index when threads merged); a
/// segment with other deleted documents is left as it is. The erased id is then in no
/// segment's terms.
#[test]
fn an_erasure_rewrites_only_the_segments_that_held_what_it_erased() {
    // Three segments, none merged by the policy meanwhile.
    let (_dir, index, mut w) = index_without_merges();
    let add = |w: &mut MailIndexWriter, id: &str| {
        let msg = Message {
            id: MessageId(id.into()),
            subject: "ledger".into(),
            // The address is a term of its own (`from_addr`): it must go with the message.
            from: (id == "m").then(|| crate::model::Address {
                name: None,
                email: Some("erased@person.example".into()),
            }),
            ..Default::default()
        };
        w.add_new(
            &msg,
            &Decision::default(),
            &ThreadId::of_key(id),
            chrono::Utc::now(),
        )
        .unwrap();
    };
    let segment_ids = |index: &MailIndex| -> Vec<tantivy::index::SegmentId> {
        let mut ids: Vec<_> = index
            .index
            .searchable_segment_metas()
            .unwrap()
            .iter()
            .map(|m| m.id())
            .collect();
        ids.sort();
        ids
    };
    (0..10).for_each(|i| add(&mut w, &format!("x{i}")));
    add(&mut w, "m");
    w.commit().unwrap();
    let first = segment_ids(&index);
    (0..10).for_each(|i| add(&mut w, &format!("y{i}")));
    w.delete(&MessageId("m".into())).unwrap();
    add(&mut w, "m"); // re-indexed: the old copy deleted in the first segment
    w.commit().unwrap();
    let two = segment_ids(&index);
    (0..10).for_each(|i| add(&mut w, &format!("z{i}")));
    w.commit().unwrap();
    let three = segment_ids(&index);
    let third: Vec<_> = three.iter().filter(|s| !two.contains(s)).copied().collect();
    w.delete(&MessageId("z3".into())).unwrap(); // unrelated
    w.commit().unwrap();
    assert_eq!(segment_ids(&index), three);

    let erased = [MessageId("m".into())];
    let mut held = w.segments_holding(&erased).unwrap();
    held.sort();
    assert_eq!(
        held, two,
        "the live copy's segment and the deleted copy's ({first:?})"
    );
    w.delete(&erased[0]).unwrap();
    w.purge_deleted(&held).unwrap();

    let after = segment_ids(&index);
    assert!(
        after.contains(&third[0]),
        "the untouched segment stays, deletions and all"
    );
    assert!(
        two.iter().all(|s| !after.contains(s)),
        "both segments that held m rewritten"
    );
    index.reload().unwrap();
    let gone = [
        Term::from_field_text(index.fields.id, "m"),
        Term::from_field_text(index.fields.from_addr, "erased@person.example"),
        Term::from_field_text(index.fields.from_addr, "person.example"),
    ];
    for reader in index.reader.searcher().segment_readers() {
        for term in &gone {
            let terms = reader.inverted_index(term.field()).unwrap();
            assert!(
                terms.get_term_info(term).unwrap().is_none(),
                "{term:?} is still in a segment's terms"
            );
        }
    }
    let all = index.search("ledger", &SearchOptions::default()).unwrap();
    assert_eq!(all.total_messages, 29);
}

/// A merge that finished between commits: the writer's reader held its sources (and every page
/// the merge read of them) until the next commit. A look lets go of them: the reader moves to
/// the merged segment, no file of a source is mapped any longer, the results are the same, and
/// a second look with nothing new merged reloads nothing.
#[test]
fn the_writer_lets_go_of_the_segments_a_merge_replaced() {
    let (_dir, index, mut w) = index_without_merges();
    for spec in &SPECS[..3] {
        let (m, d, t) = build(spec);
        w.add(&m, &d, &t, chrono::Utc::now()).unwrap();
        w.commit().unwrap();
    }
    let sources = index.index.searchable_segment_ids().unwrap();
    assert_eq!(sources.len(), 3);
    w.writer.merge(&sources).wait().unwrap();
    let held = |index: &MailIndex| -> Vec<tantivy::index::SegmentId> {
        let mut ids: Vec<_> = index
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        ids.sort();
        ids
    };
    let mapped_sources = || {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        sources
            .iter()
            .filter(|s| maps.contains(&s.uuid_string()))
            .count()
    };
    let mut expected = sources.clone();
    expected.sort();
    assert_eq!(held(&index), expected, "the merge alone moves no reader");
    assert_eq!(mapped_sources(), 3);

    assert!(merged::let_go_of_merged(&w.reader, w.writer.index()).unwrap());
    let now = held(&index);
    assert_eq!(now.len(), 1);
    assert!(!sources.contains(&now[0]));
    assert_eq!(mapped_sources(), 0, "a source's files are still mapped");
    assert_eq!(index.num_docs(), 3);
    let all = index.search("", &SearchOptions::default()).unwrap();
    assert_eq!(all.total_messages, 3);

    assert!(!merged::let_go_of_merged(&w.reader, w.writer.index()).unwrap());
}

/// Adds every spec in its own commit (a segment each), finishes the writer (its last merges)
/// and searches a phrase two specs share: the first thread found. Its snippet comes from the doc
/// store, so the store must read back whatever compressed it.
fn index_specs_one_commit_each(index: &MailIndex) -> ThreadHit {
    let mut w = index.writer(MIN_WRITER_HEAP).unwrap();
    for spec in SPECS {
        let (m, d, t) = build(spec);
        w.add(&m, &d, &t, chrono::Utc::now()).unwrap();
        w.commit().unwrap();
    }
    w.finish().unwrap();
    assert_eq!(index.num_docs(), SPECS.len() as u64);
    index
        .search("\"payment reminder\"", &SearchOptions::default())
        .unwrap()
        .threads
        .remove(0)
}

/// Indexes the specs a commit each into the index in `dir` and checks that the phrase's first
/// thread comes with its snippet (read back from the doc store).
fn index_and_read_a_snippet(dir: &std::path::Path) {
    let snippet = index_specs_one_commit_each(&MailIndex::open_or_create(dir).unwrap())
        .snippet
        .to_lowercase();
    assert!(snippet.contains("payment reminder"), "{snippet}");
}

fn doc_store_compressor(dir: &std::path::Path) -> tantivy::store::Compressor {
    tantivy::Index::open_in_dir(dir)
        .unwrap()
        .settings()
        .docstore_compression
}

/// A new index compresses its doc store with zstd; an index an older release created (tantivy's
/// default, lz4) opens, takes new documents, merges and answers with snippets, and keeps lz4.
#[test]
fn a_new_doc_store_is_zstd_and_an_older_lz4_one_goes_on_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh");
    index_and_read_a_snippet(&fresh);
    assert_eq!(
        doc_store_compressor(&fresh),
        tantivy::store::Compressor::Zstd(tantivy::store::ZstdCompressor {
            compression_level: Some(DOC_STORE_ZSTD_LEVEL)
        })
    );

    let older = dir.path().join("older");
    std::fs::create_dir_all(&older).unwrap();
    tantivy::Index::create_in_dir(&older, schema::build_schema().0).unwrap();
    index_and_read_a_snippet(&older);
    assert_eq!(
        doc_store_compressor(&older),
        tantivy::store::Compressor::Lz4
    );

    // `deskmail reindex` recreates the index, with the new settings.
    drop(MailIndex::recreate(&older).unwrap());
    assert!(matches!(
        doc_store_compressor(&older),
        tantivy::store::Compressor::Zstd(_)
    ));
}
