//! The hits a search returns: snippets and their highlights, whitespace folding, message ids
//! asked for or not (`hits.rs`), on the fixture of `tests.rs`.

use std::collections::BTreeSet;

use super::hits::fold_whitespace;
use super::tests::{fixture, search};
use super::*;

/// The highlighted words of a hit's snippet, in order.
fn highlighted_words(hit: &ThreadHit) -> Vec<&str> {
    hit.highlights
        .iter()
        .map(|&(s, e)| &hit.snippet[s..e])
        .collect()
}

#[test]
fn snippets_highlight_matches() {
    let f = fixture();
    let r = search(&f, "overdue");
    let hit = &r.threads[0];
    assert!(hit.snippet.contains("overdue"), "{}", hit.snippet);
    assert!(!hit.snippet.contains('\n'));
    assert!(hit.snippet.len() <= SNIPPET_MAX_BYTES);
    let marked = highlighted_words(hit);
    assert_eq!(marked, vec!["overdue"]);

    // accent-folded match highlights the original spelling
    let r = search(&f, "fallig");
    let hit = &r.threads[0];
    let marked = highlighted_words(hit);
    assert_eq!(marked, vec!["Fällig"]);

    // the best-scoring message gives the snippet; whitespace is folded
    let r = search(&f, "\"payment reminder\"");
    let hit = &r.threads[0];
    let marked: BTreeSet<&str> = highlighted_words(hit).into_iter().collect();
    assert!(
        marked.contains("payment") || marked.contains("Payment"),
        "{hit:?}"
    );
    assert!(marked.iter().any(|m| m.eq_ignore_ascii_case("reminder")));

    // invoice numbers are highlighted in the text
    let r = search(&f, "invoice:INV-4411");
    let hit = &r.threads[0];
    let marked: BTreeSet<&str> = highlighted_words(hit).into_iter().collect();
    assert!(marked.contains("4411") && marked.contains("INV"), "{hit:?}");

    // no body hit: the subject
    let r = search(&f, "subject:remittance");
    assert_eq!(r.threads[0].snippet, "Remittance advice");
    assert_eq!(r.threads[0].highlights, vec![(0, 10)]);

    // negated words are not highlighted
    let r = search(&f, "widgets -acme");
    assert!(r.threads[0].highlights.iter().all(|&(s, e)| {
        let w = &r.threads[0].snippet[s..e];
        !w.eq_ignore_ascii_case("acme")
    }));
}

#[test]
fn long_body_snippet_is_bounded() {
    let f = fixture();
    let r = search(&f, "\"long and uneventful\"");
    let hit = &r.threads[0];
    assert!(
        hit.snippet.len() <= SNIPPET_MAX_BYTES,
        "{}",
        hit.snippet.len()
    );
    assert!(hit.snippet.contains("long and uneventful"));
    let marked: BTreeSet<&str> = highlighted_words(hit).into_iter().collect();
    assert_eq!(marked, BTreeSet::from(["long", "and", "uneventful"]));
}

#[test]
fn fold_whitespace_remaps_ranges() {
    let (s, r) = fold_whitespace("a \n\n bc  d ", &[2..2, 5..7, 9..10]);
    assert_eq!(s, "a bc d");
    assert_eq!(r, vec![(2, 4), (5, 6)]);
}

/// The CLI's text shows no message ids and asks for none: everything else is the same.
#[test]
fn a_search_without_message_ids_differs_only_in_them() {
    let f = fixture();
    for q in [
        "",
        "invoice",
        "\"payment reminder\"",
        "category:ap*",
        "undated",
    ] {
        let with = search(&f, q);
        let without = f
            .index
            .search(
                q,
                &SearchOptions {
                    limit: 100,
                    message_ids: false,
                    ..SearchOptions::default()
                },
            )
            .unwrap();
        assert!(
            with.threads.iter().any(|t| !t.message_ids.is_empty()),
            "{q}"
        );
        assert!(
            without.threads.iter().all(|t| t.message_ids.is_empty()),
            "{q}"
        );
        let mut cleared = with.clone();
        for t in &mut cleared.threads {
            t.message_ids.clear();
        }
        assert_eq!(
            serde_json::to_value(&cleared).unwrap(),
            serde_json::to_value(&without).unwrap(),
            "{q}"
        );
    }
}
