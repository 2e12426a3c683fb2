//! The extraction and classification figures on fixtures/eval (made by scripts/make-eval.py):
//! the development split, which the extractor and the shipped rules were tuned on, and the
//! held-aside split, which nobody tuned on (fixtures/eval/README.md). A change that lowers
//! either figure fails here; raise the floors when they improve.

mod common;
use common::{deskmail, json_of, root};

use deskmail::parse::ParseLimits;
use deskmail::rules::RuleSet;

/// Exact fields and right categories on the held-aside split, as measured 2026-12-04 (after
/// the review calibration: whole-word date-order hints, carried balances, "Totaal te betalen").
const HOLDOUT_FIELDS_EXACT: usize = 384;
const HOLDOUT_CATEGORIES_RIGHT: usize = 65;
/// The same on the development split.
const DEV_FIELDS_EXACT: usize = 847;
const DEV_CATEGORIES_RIGHT: usize = 124;

fn run(split: &str) -> deskmail::eval::EvalReport {
    let rules = RuleSet::load_dir(&root().join("rules")).unwrap();
    deskmail::eval::run(
        &root().join("fixtures/eval").join(split),
        &rules,
        &ParseLimits::default(),
    )
    .unwrap()
}

#[test]
fn the_held_aside_split_does_not_regress() {
    let r = run("holdout");
    assert!(
        r.messages >= 60 && r.fields_expected >= 400,
        "corpus shrank: {r}"
    );
    assert!(
        r.fields_exact >= HOLDOUT_FIELDS_EXACT && r.categories_right >= HOLDOUT_CATEGORIES_RIGHT,
        "holdout regressed: fields {}/{} (floor {HOLDOUT_FIELDS_EXACT}), categories {}/{} (floor {HOLDOUT_CATEGORIES_RIGHT})",
        r.fields_exact,
        r.fields_expected,
        r.categories_right,
        r.categories_expected
    );
    assert!(r.field_accuracy() >= 0.90 && r.category_accuracy() >= 0.95);
    // The review queue on data nobody tuned it on: a small share of the mail reaches a person,
    // and no more than one wrong value goes through unseen (measured: 5 of 67 messages, 0).
    let q = &r.review;
    assert!(
        q.in_review * 100 <= 15 * r.messages,
        "review takes {} of {}",
        q.in_review,
        r.messages
    );
    assert!(q.silent_wrong_values <= 1, "{q:?}");
    assert!(q.with_error_in_review * 2 >= q.with_error, "{q:?}");
}

#[test]
fn the_development_split_does_not_regress() {
    let r = run("dev");
    assert!(r.messages >= 120, "corpus shrank: {r}");
    assert!(
        r.fields_exact >= DEV_FIELDS_EXACT && r.categories_right >= DEV_CATEGORIES_RIGHT,
        "dev regressed:\n{r}"
    );
}

#[test]
fn eval_on_the_command_line_prints_scores_and_every_miss() {
    let dir = root().join("fixtures/eval/dev");
    let out = json_of(&deskmail(&["eval", "--json", dir.to_str().unwrap()]));
    assert_eq!(out["messages"], 124);
    let fields = out["fields"].as_object().unwrap();
    assert!(fields.contains_key("vendor_vat_id") && fields.contains_key("amount_total"));
    let expected: u64 = fields
        .values()
        .map(|f| f["expected"].as_u64().unwrap())
        .sum();
    assert_eq!(out["fields_expected"].as_u64().unwrap(), expected);
    let text = deskmail(&["eval", dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("categories ") && text.contains("fields "),
        "{text}"
    );

    // A directory without expected.json is a clear error, exit 2 (as every failed command).
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("a.eml"), "Subject: x\n\nhello\n").unwrap();
    let out = deskmail(&["eval", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expected.json"), "{err}");

    // A listed file that is not there is named.
    std::fs::write(
        empty.path().join("expected.json"),
        r#"{"missing.eml": {"category": "other", "fields": {}}}"#,
    )
    .unwrap();
    let out = deskmail(&["eval", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.eml"));
}
