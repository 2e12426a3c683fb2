//! Order independence (issue 15): one corpus ingested in order, reversed, shuffled and in
//! crash-cut pieces gives the same threads (ids and members), categories and fields; and
//! ingested in pieces, it is one index segment at the end (issue 14).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::{bin, fixtures, json_of};

/// Every .eml under fixtures/mail, sorted: the corpus in "file order".
fn corpus() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![fixtures()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn ingest(data: &Path, files: &[PathBuf]) {
    let out = bin()
        .arg("ingest")
        .arg("--json")
        .arg("--data")
        .arg(data)
        .args(files)
        .output()
        .unwrap();
    json_of(&out);
}

/// Message id → (thread id, category, fields) for everything stored, through the index (the
/// threads search groups by) and `show` (the store's decision).
fn outcome(data: &Path) -> BTreeMap<String, (String, Value, Value)> {
    let d = data.to_str().unwrap();
    let all = json_of(
        &bin()
            .args([
                "search",
                "--json",
                "--limit",
                "10000",
                "--data",
                d,
                "after:1900-01-01",
            ])
            .output()
            .unwrap(),
    );
    let mut out = BTreeMap::new();
    for t in all["threads"].as_array().unwrap() {
        for id in t["message_ids"].as_array().unwrap() {
            let id = id.as_str().unwrap();
            let shown = json_of(
                &bin()
                    .args(["show", "--json", "--data", d, id])
                    .output()
                    .unwrap(),
            );
            assert_eq!(
                shown["thread_id"], t["thread_id"],
                "store and index disagree on {id}"
            );
            out.insert(
                id.to_string(),
                (
                    t["thread_id"].as_str().unwrap().to_string(),
                    shown["decision"]["category"].clone(),
                    shown["fields"].clone(),
                ),
            );
        }
    }
    out
}

#[test]
fn threads_categories_and_fields_do_not_depend_on_arrival_order() {
    let files = corpus();
    assert!(files.len() > 90);
    let dir = tempfile::tempdir().unwrap();
    let in_order = dir.path().join("in-order");
    ingest(&in_order, &files);
    let expected = outcome(&in_order);
    let stats = json_of(
        &bin()
            .args(["stats", "--json", "--data", in_order.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert_eq!(expected.len() as u64, stats["messages"].as_u64().unwrap());
    let threads: std::collections::BTreeSet<&String> = expected.values().map(|v| &v.0).collect();
    assert!(
        threads.len() < expected.len(),
        "the corpus has threads of several messages"
    );

    let mut reversed = files.clone();
    reversed.reverse();
    // A fixed shuffle (xorshift), so a failure can be replayed.
    let mut shuffled = files.clone();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..shuffled.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        shuffled.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    for (name, order) in [("reversed", &reversed), ("shuffled", &shuffled)] {
        let data = dir.path().join(name);
        ingest(&data, order);
        assert_eq!(outcome(&data), expected, "{name}");
    }
    // Cut where a crash would: the second half first, then everything again (the first half
    // arrives after its replies; the rest are duplicates).
    let cut = dir.path().join("cut");
    ingest(&cut, &shuffled[shuffled.len() / 2..]);
    ingest(&cut, &shuffled[..shuffled.len() / 3]);
    ingest(&cut, &reversed);
    assert_eq!(outcome(&cut), expected, "crash-cut pieces");
    let d = cut.to_str().unwrap();
    let out = bin().args(["reindex", "--data", d]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(outcome(&cut), expected, "reindex changes nothing");
}

/// Each bulk ingest merges what it leaves below the largest segments' size into one when it
/// ends (`index::tiers`): two ingests into one directory leave one segment, not one each, and
/// every message is in it.
#[test]
fn an_ingest_in_two_pieces_leaves_one_index_segment() {
    let files = corpus();
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = files.split_at(files.len() / 2);
    ingest(dir.path(), first);
    ingest(dir.path(), second);
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index/meta.json")).unwrap())
            .unwrap();
    let segments = meta["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 1, "{segments:?}");
    let stats = json_of(
        &bin()
            .args(["stats", "--json", "--data", dir.path().to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert_eq!(segments[0]["max_doc"], stats["messages"]);
    assert!(segments[0]["deletes"].is_null());
}
