//! Golden tests over fixtures/mail: every message's category and fields must match the
//! `.expected.json` beside it, as written (LF or CRLF) and with its line endings flipped.
//! `DESKMAIL_BLESS=1 cargo test --test golden` rewrites the expectations from the current output
//! (review the diff before committing it).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use deskmail::model::{MessageId, RawMail};
use deskmail::parse::{ParseLimits, parse};
use deskmail::pipeline::{DataDir, Pipeline, raw_mail_from_files};
use deskmail::rules::RuleSet;
use serde_json::{Value, json};

/// The fields golden files speak about; other extracted fields (payment_terms, ...) are internal.
const GOLDEN_FIELDS: &[&str] = &[
    "invoice_number",
    "amount_total",
    "currency",
    "invoice_date",
    "due_date",
    "po_number",
    "vendor",
    "payment_date",
    "promised_date",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "eml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("fixtures/mail"), &mut out);
    out
}

fn expected_path(eml: &Path) -> PathBuf {
    eml.with_extension("expected.json")
}

fn flip_line_endings(bytes: &[u8]) -> Vec<u8> {
    if bytes.windows(2).any(|w| w == b"\r\n") {
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        out
    } else {
        let mut out = Vec::with_capacity(bytes.len() * 2);
        for &b in bytes {
            if b == b'\n' {
                out.push(b'\r');
            }
            out.push(b);
        }
        out
    }
}

/// What the pipeline makes of one message, in the golden files' shape.
fn outcome(rules: &RuleSet, path: &Path, bytes: Vec<u8>) -> Value {
    let raw = RawMail {
        role: None,
        mailbox: "golden".into(),
        origin: path.display().to_string(),
        bytes,
    };
    match parse(&raw, &ParseLimits::default()) {
        Err(_) => json!({ "rejected": true }),
        Ok(msg) => {
            let d = rules.evaluate(&msg);
            let fields: BTreeMap<String, String> = d
                .field_strings()
                .into_iter()
                .filter(|(k, _)| GOLDEN_FIELDS.contains(&k.as_str()))
                .collect();
            json!({ "category": d.category, "fields": fields })
        }
    }
}

fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("thread");
        if o.get("fields")
            .is_some_and(|f| f.as_object().is_some_and(|m| m.is_empty()))
            || o.contains_key("rejected")
        {
            o.remove("fields");
        }
    }
    v
}

#[test]
fn every_fixture_matches_its_golden_expectation() {
    let rules = RuleSet::load_dir(&root().join("rules"))
        .unwrap_or_else(|e| panic!("shipped rules do not load:\n{e}"));
    let files = fixture_files();
    assert!(
        files.len() >= 60,
        "the fixture corpus is missing or too small: {} files",
        files.len()
    );
    let bless = std::env::var_os("DESKMAIL_BLESS").is_some();
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let actual = outcome(&rules, path, bytes.clone());
        let flipped = outcome(&rules, path, flip_line_endings(&bytes));
        let exp_path = expected_path(path);
        let expected: Value = std::fs::read_to_string(&exp_path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null);
        if bless {
            let mut new = actual.clone();
            if let (Some(o), Some(t)) = (new.as_object_mut(), expected.get("thread")) {
                o.insert("thread".into(), t.clone());
            }
            std::fs::write(
                &exp_path,
                serde_json::to_string_pretty(&new).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        if expected.is_null() {
            failures.push(format!("{name}: no readable {}", exp_path.display()));
            continue;
        }
        if comparable(&expected) != comparable(&actual) {
            failures.push(format!(
                "{name}:\n    expected {}\n    actual   {}",
                comparable(&expected),
                comparable(&actual)
            ));
        } else if comparable(&actual) != comparable(&flipped) {
            failures.push(format!("{name}: differs when line endings are flipped:\n    as written {}\n    flipped    {}", comparable(&actual), comparable(&flipped)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ from their golden files:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn conversations_in_fixtures_thread_together_and_apart() {
    let rules = Arc::new(RuleSet::load_dir(&root().join("rules")).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let pipeline =
        Arc::new(Pipeline::open(&DataDir::new(dir.path()), rules, ParseLimits::default()).unwrap());
    let files = fixture_files();
    deskmail::intake::ingest(
        Arc::clone(&pipeline),
        raw_mail_from_files(files.clone(), "fixtures".into(), None),
        2,
        &|_| {},
    )
    .unwrap();

    let mut by_label: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for path in &files {
        let Some(label) = std::fs::read_to_string(expected_path(path))
            .ok()
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .and_then(|v| v.get("thread").and_then(|t| t.as_str()).map(str::to_string))
        else {
            continue;
        };
        let id = MessageId::of_bytes(&std::fs::read(path).unwrap());
        let stored = pipeline
            .store
            .message(&id)
            .unwrap()
            .unwrap_or_else(|| panic!("{} was not stored", path.display()));
        by_label.entry(label).or_default().push((
            path.file_name().unwrap().to_string_lossy().into_owned(),
            stored.thread_id.0,
        ));
    }
    assert!(
        by_label.len() >= 3,
        "expected at least 3 labelled conversations, found {}",
        by_label.len()
    );
    let mut thread_of_label = HashMap::new();
    for (label, members) in &by_label {
        let first = &members[0].1;
        for (file, tid) in members {
            assert_eq!(
                tid, first,
                "{file} is not in the same thread as the rest of conversation {label:?}: {members:?}"
            );
        }
        if let Some(other) = thread_of_label.insert(first.clone(), label.clone()) {
            panic!("conversations {other:?} and {label:?} were merged into one thread");
        }
    }
}

/// What a store holds, in a form two stores can be compared by: each message's thread, flags
/// and review reasons, and the threads' sizes.
fn store_contents(data: &Path) -> BTreeMap<String, (String, Vec<String>, Vec<String>)> {
    let store = deskmail::store::Store::open(&data.join("store"), 1 << 20).unwrap();
    store
        .message_ids()
        .map(|id| {
            let id = id.unwrap();
            let m = store.message(&id).unwrap().unwrap();
            (
                id.0,
                (
                    m.thread_id.0,
                    m.decision.flags.clone(),
                    m.decision.review_reasons.clone(),
                ),
            )
        })
        .collect()
}

/// The committer stores messages in input order whatever order the workers finish them in, so
/// the same input gives the same threads, flags and review queue every time (it used to give
/// three thread counts in three runs).
#[test]
fn the_same_input_ingested_three_times_stores_the_same_thing() {
    let rules = Arc::new(RuleSet::load_dir(&root().join("rules")).unwrap());
    let mut files = fixture_files();
    files.extend(
        std::fs::read_dir(root().join("fixtures/guard"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    files.sort();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            let pipeline = Pipeline::open(
                &DataDir::new(dir.path()),
                Arc::clone(&rules),
                ParseLimits::default(),
            )
            .unwrap();
            let summary = deskmail::intake::ingest(
                Arc::new(pipeline),
                raw_mail_from_files(files.clone(), "fixtures".into(), None),
                4,
                &|_| {},
            )
            .unwrap();
            (summary.ingested, store_contents(dir.path()))
        })
        .collect();
    assert!(runs[0].0 > 100);
    assert!(runs.iter().all(|r| r == &runs[0]), "three ingests differ");
}
