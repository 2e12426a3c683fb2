//! `deskmail eval DIR`: how well the rules and the generic extractor read a labelled set of
//! messages. DIR holds .eml files (a top-level `ap/` or `ar/` directory gives the mailbox
//! role) and an `expected.json` mapping each file's path to `{"category", "fields"}`.
//!
//! Every message is parsed and decided in sorted path order, with thread context from the
//! messages decided before it (a reply sorts after the message it answers), exactly as they would
//! be in a store; nothing is written anywhere.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{Decision, FieldValue, MailboxRole, RawMail};
use crate::parse::{ParseLimits, parse};
use crate::rules::{PriorLookup, PriorMessage, RuleSet, ThreadContext};

/// The fields an evaluation scores (an extracted field outside this list is not counted).
pub const SCORED_FIELDS: &[&str] = &[
    "invoice_number",
    "invoice_date",
    "due_date",
    "amount_total",
    "amount_net",
    "amount_tax",
    "amount_due",
    "currency",
    "po_number",
    "vendor",
    "vendor_vat_id",
    "iban",
    "payment_date",
    "promised_date",
];

use crate::parse::FLAG_NO_TEXT_LAYER;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Expected { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Deserialize)]
struct Expected {
    category: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    no_text_layer: bool,
}

/// One field's score over the set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldScore {
    /// Messages where the field is expected.
    pub expected: usize,
    /// ... and extracted with exactly that value.
    pub exact: usize,
    /// ... extracted with another value.
    pub wrong: usize,
    /// ... not extracted.
    pub missing: usize,
    /// Messages where it was extracted but not expected.
    pub extra: usize,
}

/// A difference between what was expected and what was decided.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub file: String,
    /// `category` or a field name.
    pub what: String,
    pub expected: Option<String>,
    pub got: Option<String>,
    /// Where the value came from (the provenance), when one was extracted.
    pub source: Option<String>,
}

/// How well the review queue's doubt matches the errors: what a person is asked to look at,
/// and what would go through unseen. The vendor guard (which needs the registry) is not part
/// of it: this is the doubt of one decision on its own.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReviewScore {
    /// Messages the queue would take.
    pub in_review: usize,
    /// Messages with a wrong category or a wrong field value (missing fields not counted:
    /// nobody acts on a value that is not there).
    pub with_error: usize,
    /// ... of which the queue would take.
    pub with_error_in_review: usize,
    /// Wrong field values, and how many of them carry a doubt (below the threshold).
    pub wrong_values: usize,
    pub wrong_values_doubted: usize,
    /// Right field values doubted anyway (a person's time spent for nothing).
    pub right_values_doubted: usize,
    /// Wrong values in messages that do not go to review: what would reach the books unseen.
    pub silent_wrong_values: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub dir: String,
    pub messages: usize,
    pub categories_right: usize,
    pub categories_expected: usize,
    pub fields: BTreeMap<String, FieldScore>,
    pub fields_exact: usize,
    pub fields_expected: usize,
    pub misses: Vec<Miss>,
    pub review: ReviewScore,
}

impl EvalReport {
    pub fn category_accuracy(&self) -> f64 {
        ratio(self.categories_right, self.categories_expected)
    }
    pub fn field_accuracy(&self) -> f64 {
        ratio(self.fields_exact, self.fields_expected)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {} messages", self.dir, self.messages)?;
        writeln!(
            f,
            "categories {}/{} right ({:.1} %)",
            self.categories_right,
            self.categories_expected,
            100.0 * self.category_accuracy()
        )?;
        writeln!(
            f,
            "fields {}/{} exact ({:.1} %)",
            self.fields_exact,
            self.fields_expected,
            100.0 * self.field_accuracy()
        )?;
        writeln!(
            f,
            "  {:<16} {:>8} {:>6} {:>6} {:>8} {:>6}",
            "field", "expected", "exact", "wrong", "missing", "extra"
        )?;
        for (name, s) in &self.fields {
            writeln!(
                f,
                "  {name:<16} {:>8} {:>6} {:>6} {:>8} {:>6}",
                s.expected, s.exact, s.wrong, s.missing, s.extra
            )?;
        }
        let r = &self.review;
        writeln!(
            f,
            "review: {} of {} messages ({:.1} %); {} of {} messages with a wrong value or category go there; wrong values doubted {}/{}, right values doubted {}, wrong values unseen {}",
            r.in_review,
            self.messages,
            100.0 * ratio(r.in_review, self.messages),
            r.with_error_in_review,
            r.with_error,
            r.wrong_values_doubted,
            r.wrong_values,
            r.right_values_doubted,
            r.silent_wrong_values
        )?;
        if !self.misses.is_empty() {
            writeln!(f, "misses:")?;
        }
        for m in &self.misses {
            writeln!(
                f,
                "  {}  {}: expected {}, got {}{}",
                m.file,
                m.what,
                m.expected.as_deref().unwrap_or("nothing"),
                m.got.as_deref().unwrap_or("nothing"),
                m.source
                    .as_deref()
                    .map(|s| format!("  ({s})"))
                    .unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

/// Earlier decisions of the run, by Message-ID: the thread context a store would give.
#[derive(Default)]
struct Seen(HashMap<String, PriorMessage>);

impl PriorLookup for Seen {
    fn prior(&self, message_id: &str) -> Option<PriorMessage> {
        self.0.get(message_id).cloned()
    }
}

fn emls_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), EvalError> {
    let entries = std::fs::read_dir(dir).map_err(|source| EvalError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in entries {
        let path = e
            .map_err(|source| EvalError::Read {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if path.is_dir() {
            emls_under(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "eml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Do two canonical values agree? Amounts compare as numbers (`1190.0` = `1190.00`).
fn same(field: &str, expected: &str, got: &FieldValue) -> bool {
    match got {
        FieldValue::Amount { value, .. } if field.starts_with("amount") => {
            Decimal::from_str(expected).is_ok_and(|e| e == *value)
        }
        other => other.canonical() == expected,
    }
}

/// Decide every message under `dir` and compare with `dir/expected.json`.
pub fn run(dir: &Path, rules: &RuleSet, limits: &ParseLimits) -> Result<EvalReport, EvalError> {
    let expected_path = dir.join("expected.json");
    let text = std::fs::read(&expected_path).map_err(|source| EvalError::Read {
        path: expected_path.clone(),
        source,
    })?;
    let expected: BTreeMap<String, Expected> =
        serde_json::from_slice(&text).map_err(|e| EvalError::Expected {
            path: expected_path.clone(),
            message: e.to_string(),
        })?;
    let mut files = Vec::new();
    emls_under(dir, &mut files)?;
    files.sort();
    let mut seen = Seen::default();
    let mut decisions: HashMap<String, (Decision, bool)> = HashMap::new();
    for path in &files {
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let role = rel
            .split('/')
            .next()
            .and_then(|top| MailboxRole::from_str(top).ok());
        let bytes = std::fs::read(path).map_err(|source| EvalError::Read {
            path: path.clone(),
            source,
        })?;
        let raw = RawMail {
            mailbox: role.map_or("eval".into(), |r| r.to_string()),
            role,
            origin: rel.clone(),
            bytes,
        };
        let Ok(msg) = parse(&raw, limits) else {
            continue;
        };
        let thread = ThreadContext::of(&msg, &seen);
        let decision = rules.evaluate_in(&msg, &thread);
        if let Some(mid) = &msg.message_id {
            seen.0.insert(
                mid.clone(),
                PriorMessage {
                    category: decision.category.clone(),
                    from_address: msg.from.as_ref().and_then(|a| a.email.clone()),
                },
            );
        }
        let in_review = !crate::review::reasons(&msg, &decision, msg.role.is_some()).is_empty();
        decisions.insert(rel, (decision, in_review));
    }
    let mut report = EvalReport {
        dir: dir.display().to_string(),
        messages: files.len(),
        categories_right: 0,
        categories_expected: 0,
        fields: SCORED_FIELDS
            .iter()
            .map(|f| (f.to_string(), FieldScore::default()))
            .collect(),
        fields_exact: 0,
        fields_expected: 0,
        misses: Vec::new(),
        review: ReviewScore::default(),
    };
    report.review.in_review = decisions.values().filter(|(_, r)| *r).count();
    for (file, want) in &expected {
        let Some((d, in_review)) = decisions.get(file) else {
            return Err(EvalError::Expected {
                path: expected_path,
                message: format!("{file} is listed but is not a readable .eml under the directory"),
            });
        };
        score_message(&mut report, file, want, d, *in_review);
    }
    Ok(report)
}

fn score_message(
    report: &mut EvalReport,
    file: &str,
    want: &Expected,
    d: &Decision,
    in_review: bool,
) {
    let below = d.review_below.unwrap_or(crate::rules::DEFAULT_REVIEW_BELOW);
    let mut wrong_here = 0;
    let mut misses = Vec::new();
    let mut miss = |what: &str, expected: Option<String>, got: Option<String>, source| {
        misses.push(Miss {
            file: file.to_string(),
            what: what.to_string(),
            expected,
            got,
            source,
        })
    };
    if let Some(c) = &want.category {
        report.categories_expected += 1;
        if &d.category == c {
            report.categories_right += 1;
        } else {
            miss(
                "category",
                Some(c.clone()),
                Some(d.category.clone()),
                d.category_rule.clone().map(|r| format!("rule {r}")),
            );
        }
    }
    if want.no_text_layer && !d.flags.iter().any(|f| f == FLAG_NO_TEXT_LAYER) {
        miss(
            FLAG_NO_TEXT_LAYER,
            Some("flag".into()),
            Some(d.flags.join(", ")),
            None,
        );
    }
    for name in SCORED_FIELDS {
        let score = report.fields.entry(name.to_string()).or_default();
        let got = d.fields.get(*name);
        let source = got.map(|f| format!("{} by {}", f.provenance.source, f.provenance.rule));
        match (want.fields.get(*name), got) {
            (Some(e), Some(g)) if same(name, e, &g.value) => {
                score.expected += 1;
                score.exact += 1;
                report.fields_expected += 1;
                report.fields_exact += 1;
                if g.confidence < below {
                    report.review.right_values_doubted += 1;
                }
            }
            (Some(e), Some(g)) => {
                score.expected += 1;
                score.wrong += 1;
                report.fields_expected += 1;
                wrong_here += 1;
                report.review.wrong_values += 1;
                if g.confidence < below {
                    report.review.wrong_values_doubted += 1;
                }
                miss(name, Some(e.clone()), Some(g.value.canonical()), source);
            }
            (Some(e), None) => {
                score.expected += 1;
                score.missing += 1;
                report.fields_expected += 1;
                miss(name, Some(e.clone()), None, None);
            }
            (None, Some(g)) => {
                score.extra += 1;
                wrong_here += 1;
                report.review.wrong_values += 1;
                if g.confidence < below {
                    report.review.wrong_values_doubted += 1;
                }
                miss(name, None, Some(g.value.canonical()), source);
            }
            (None, None) => {}
        }
    }
    let wrong_category = misses.iter().any(|m| m.what == "category");
    report.misses.extend(misses);
    if wrong_here > 0 || wrong_category {
        report.review.with_error += 1;
        if in_review {
            report.review.with_error_in_review += 1;
        } else {
            report.review.silent_wrong_values += wrong_here;
        }
    }
}
