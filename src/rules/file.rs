//! Rule files: TOML text → validated [`RuleFile`] specs, with every problem reported at once as
//! `path:line: message`.
//!
//! The reader walks toml's spanned document by hand instead of deriving serde structs, so that it
//! can keep going after the first mistake and suggest the key the author probably meant.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::model::Action;

/// One problem in a rule file, located by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Where a condition or an extraction looks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Subject,
    /// Display name and address of the sender.
    From,
    FromName,
    FromAddress,
    /// To and Cc, names and addresses.
    To,
    Body,
    /// Subject, body and attachment text.
    Text,
    Header(String),
    AttachmentName,
    AttachmentType,
    AttachmentText,
    /// The message's e-invoice: `invoice` or `credit_note`, its profile, its syntax (one per
    /// line). Conditions only.
    EInvoice,
    /// The mailbox's role, `ap` or `ar` (empty when unknown). Conditions only.
    Role,
    /// Every Message-ID the message answers (In-Reply-To and References): a reply to one of
    /// our own messages carries our domain here, whatever order mail arrives in.
    RepliesTo,
    /// What is known about the thread before this message (looked up in the store).
    Thread(ThreadPart),
}

/// The thread facts a `thread.NAME` condition tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ThreadPart {
    /// Sender address of the thread's first message.
    FirstFrom,
    /// Category of the thread's first message.
    FirstCategory,
    /// Category of the message this one replies to.
    PreviousCategory,
}

const THREAD_KEYS: &[&str] = &["first_from", "first_category", "previous_category"];

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Subject => "subject".into(),
            Source::From => "from".into(),
            Source::FromName => "from_name".into(),
            Source::FromAddress => "from_address".into(),
            Source::To => "to".into(),
            Source::Body => "body".into(),
            Source::Text => "text".into(),
            Source::Header(h) => format!("header.{h}"),
            Source::AttachmentName => "attachment_name".into(),
            Source::AttachmentType => "attachment_type".into(),
            Source::AttachmentText => "attachments".into(),
            Source::EInvoice => "einvoice".into(),
            Source::Role => "role".into(),
            Source::RepliesTo => "replies_to".into(),
            Source::Thread(ThreadPart::FirstFrom) => "thread.first_from".into(),
            Source::Thread(ThreadPart::FirstCategory) => "thread.first_category".into(),
            Source::Thread(ThreadPart::PreviousCategory) => "thread.previous_category".into(),
        }
    }
}

const CONDITION_KEYS: &[&str] = &[
    "subject",
    "from",
    "from_name",
    "from_address",
    "to",
    "body",
    "text",
    "header",
    "attachment_name",
    "attachment_type",
    "attachment_text",
    "has_attachment",
    "einvoice",
    "field",
    "role",
    "replies_to",
    "thread",
    "all",
    "any",
    "not",
    "at_least",
    "of",
];
const EXTRACT_SOURCES: &[&str] = &[
    "subject",
    "body",
    "attachments",
    "from_name",
    "from_address",
    "from",
    "to",
    "text",
    "header.NAME",
];
const RULE_KEYS: &[&str] = &[
    "name",
    "description",
    "category",
    "priority",
    "stop",
    "disabled",
    "case_sensitive",
    "confidence",
    "review",
    "review_below",
    "when",
    "extract",
    "actions",
    "example",
];
const FIELD_KEYS: &[&str] = &["pattern", "type", "from", "unless"];
const ACTION_KEYS: &[&str] = &["reply", "move_to", "flag", "notify"];
const TOP_KEYS: &[&str] = &["rule", "define", "settings"];
const SETTINGS_KEYS: &[&str] = &["date_order", "review_below"];

/// A regex as written, with its line for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternSpec {
    pub text: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Vec<Cond>),
    AtLeast(usize, Vec<Cond>),
    Match {
        source: Source,
        patterns: Vec<PatternSpec>,
    },
    HasAttachment(bool),
    /// A field already known when the rule runs (read from an e-invoice, or extracted by a rule
    /// of higher priority) tested by pattern or by range.
    Field {
        name: String,
        test: FieldTest,
    },
}

impl Cond {
    /// Can this condition only hold for a message with an e-invoice? (Then a rule's reply
    /// template may use the e-invoice's fields.)
    pub fn requires_einvoice(&self) -> bool {
        match self {
            Cond::Match {
                source: Source::EInvoice,
                ..
            } => true,
            Cond::All(list) => list.iter().any(Cond::requires_einvoice),
            Cond::Any(list) => !list.is_empty() && list.iter().all(Cond::requires_einvoice),
            _ => false,
        }
    }
}

/// How a `field.NAME` condition tests the field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldTest {
    /// The canonical value (`1801.78`, `2026-11-03`, `DE123456789`) matches one of these.
    Patterns(Vec<PatternSpec>),
    /// An amount or number of days within `min ..= max` (either may be open).
    Number {
        min: Option<rust_decimal::Decimal>,
        max: Option<rust_decimal::Decimal>,
    },
    /// A date within `min ..= max`.
    Date {
        min: Option<chrono::NaiveDate>,
        max: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Amount,
    Date,
    Days,
    Currency,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    pub kind: FieldKind,
    pub patterns: Vec<PatternSpec>,
    /// A match whose text matches one of these is skipped (e.g. our own address).
    pub unless: Vec<PatternSpec>,
    pub from: Vec<Source>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleSpec {
    pub file: PathBuf,
    /// "category" and field names → expected canonical strings.
    pub expect: BTreeMap<String, String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub priority: i64,
    pub stop: bool,
    pub disabled: bool,
    pub case_sensitive: bool,
    /// How sure this rule is of its category and the fields it extracts, 0–100 (default 90).
    pub confidence: Option<u8>,
    /// Every message this rule decides goes to review.
    pub review: bool,
    /// Fields less sure than this go to review (overrides `[settings] review_below`).
    pub review_below: Option<u8>,
    pub when: Cond,
    pub extract: Vec<FieldSpec>,
    pub actions: Vec<Action>,
    pub examples: Vec<ExampleSpec>,
    pub path: String,
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrderSetting {
    Auto,
    DayFirst,
    MonthFirst,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFile {
    pub path: String,
    pub rules: Vec<RuleSpec>,
    /// Named pattern fragments, usable in any rule file as `{name}`.
    pub defines: BTreeMap<String, PatternSpec>,
    pub date_order: Option<(DateOrderSetting, usize)>,
    /// `[settings] review_below`: fields less sure than this (0–100) go to review.
    pub review_below: Option<(u8, usize)>,
}

/// Read one rule file's text. `path` is used in messages; `dir` resolves example files.
/// Returns the rules that read cleanly and every error found, so later checks (patterns,
/// duplicate names) still run on the good rules and the author sees all problems at once.
pub fn read_rule_file(path: &str, dir: &Path, text: &str) -> (RuleFile, Vec<RuleError>) {
    let mut r = Reader {
        path,
        text,
        errors: Vec::new(),
    };
    let (doc, parse_errors) = DeTable::parse_recoverable(text);
    let mut syntax_lines = Vec::new();
    for e in parse_errors {
        let line = e.span().map_or(1, |s| r.line(s.start));
        // One mistake often produces several parser errors on its line: the first says most.
        if syntax_lines.contains(&line) {
            continue;
        }
        syntax_lines.push(line);
        r.errors.push(RuleError {
            path: path.to_string(),
            line,
            message: format!("TOML syntax: {}", e.message().trim()),
        });
    }
    let mut file = RuleFile {
        path: path.to_string(),
        rules: Vec::new(),
        defines: BTreeMap::new(),
        date_order: None,
        review_below: None,
    };
    for (key, value) in doc.get_ref().iter() {
        match key.get_ref().as_ref() {
            "rule" => match value.get_ref() {
                DeValue::Array(arr) => {
                    for item in arr.iter() {
                        if let Some(rule) = r.rule(item, dir) {
                            file.rules.push(rule);
                        }
                    }
                }
                _ => r.err(
                    value.span(),
                    "\"rule\" must be written as [[rule]] sections",
                ),
            },
            "define" => {
                if let Some(t) = r.table(value, "define") {
                    for (k, v) in t.iter() {
                        if let Some(s) = r.string(v, k.get_ref()) {
                            file.defines.insert(
                                k.get_ref().to_string(),
                                PatternSpec {
                                    text: s,
                                    line: r.line(v.span().start),
                                },
                            );
                        }
                    }
                }
            }
            "settings" => {
                if let Some(t) = r.table(value, "settings") {
                    for (k, v) in t.iter() {
                        match k.get_ref().as_ref() {
                            "date_order" => match r.string(v, "date_order").as_deref() {
                                Some("auto") => file.date_order = Some((DateOrderSetting::Auto, r.line(v.span().start))),
                                Some("day_first") => file.date_order = Some((DateOrderSetting::DayFirst, r.line(v.span().start))),
                                Some("month_first") => file.date_order = Some((DateOrderSetting::MonthFirst, r.line(v.span().start))),
                                Some(other) => r.err(v.span(), format!("date_order {other:?} must be \"auto\", \"day_first\" or \"month_first\"")),
                                None => {}
                            },
                            "review_below" => {
                                if let Some(n) = r.percent(v, "review_below") {
                                    file.review_below = Some((n, r.line(v.span().start)));
                                }
                            }
                            other => r.unknown(k, other, "setting", SETTINGS_KEYS),
                        }
                    }
                }
            }
            other => r.unknown(key, other, "top-level key", TOP_KEYS),
        }
    }
    // toml's maps iterate by key, not by position: report in file order.
    r.errors.sort_by_key(|e| e.line);
    (file, r.errors)
}

/// " (did you mean \"x\"?)" for a close known key, else the list of known keys.
pub(crate) fn suggest(name: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_else(|| format!(" (expected one of: {})", known.join(", ")))
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Reader<'a> {
    path: &'a str,
    text: &'a str,
    errors: Vec<RuleError>,
}

type SpannedValue<'i> = Spanned<DeValue<'i>>;

impl Reader<'_> {
    fn line(&self, offset: usize) -> usize {
        line_of(self.text, offset)
    }

    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        let line = self.line(span.start);
        self.errors.push(RuleError {
            path: self.path.to_string(),
            line,
            message: message.into(),
        });
    }

    fn unknown(
        &mut self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        name: &str,
        what: &str,
        known: &[&str],
    ) {
        let suggestion = suggest(name, known);
        self.err(key.span(), format!("unknown {what} \"{name}\"{suggestion}"));
    }

    /// A whole number 0–100 (a confidence or a threshold).
    fn percent(&mut self, v: &SpannedValue<'_>, what: &str) -> Option<u8> {
        match v.get_ref() {
            DeValue::Integer(i) => match i.as_str().parse::<u8>() {
                Ok(n) if n <= 100 => Some(n),
                _ => {
                    self.err(
                        v.span(),
                        format!("\"{what}\" must be a whole number from 0 to 100"),
                    );
                    None
                }
            },
            other => {
                self.err(
                    v.span(),
                    format!(
                        "\"{what}\" must be a whole number from 0 to 100, not {}",
                        other.type_str()
                    ),
                );
                None
            }
        }
    }

    fn table<'v, 'i>(&mut self, v: &'v SpannedValue<'i>, what: &str) -> Option<&'v DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.err(
                    v.span(),
                    format!("\"{what}\" must be a table, not {}", other.type_str()),
                );
                None
            }
        }
    }

    fn string(&mut self, v: &SpannedValue<'_>, what: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                self.err(
                    v.span(),
                    format!("\"{what}\" must be a string, not {}", other.type_str()),
                );
                None
            }
        }
    }

    fn boolean(&mut self, v: &SpannedValue<'_>, what: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.err(
                    v.span(),
                    format!("\"{what}\" must be true or false, not {}", other.type_str()),
                );
                None
            }
        }
    }

    /// A string or an array of strings.
    fn patterns(&mut self, v: &SpannedValue<'_>, what: &str) -> Vec<PatternSpec> {
        match v.get_ref() {
            DeValue::String(s) => vec![PatternSpec {
                text: s.to_string(),
                line: self.line(v.span().start),
            }],
            DeValue::Array(arr) if !arr.is_empty() => arr
                .iter()
                .filter_map(|item| {
                    self.string(item, what).map(|s| PatternSpec {
                        text: s,
                        line: self.line(item.span().start),
                    })
                })
                .collect(),
            DeValue::Array(_) => {
                self.err(v.span(), format!("\"{what}\" needs at least one pattern"));
                Vec::new()
            }
            other => {
                self.err(
                    v.span(),
                    format!(
                        "\"{what}\" must be a pattern string or a list of them, not {}",
                        other.type_str()
                    ),
                );
                Vec::new()
            }
        }
    }

    fn rule(&mut self, item: &SpannedValue<'_>, dir: &Path) -> Option<RuleSpec> {
        let t = self.table(item, "rule")?;
        let line = self.line(item.span().start);
        let errors_before = self.errors.len();
        let mut rule = RuleSpec {
            name: String::new(),
            description: None,
            category: None,
            priority: 0,
            stop: false,
            disabled: false,
            case_sensitive: false,
            confidence: None,
            review: false,
            review_below: None,
            when: Cond::All(Vec::new()),
            extract: Vec::new(),
            actions: Vec::new(),
            examples: Vec::new(),
            path: self.path.to_string(),
            line,
        };
        let mut saw_when = false;
        for (k, v) in t.iter() {
            match k.get_ref().as_ref() {
                "name" => rule.name = self.string(v, "name").unwrap_or_default(),
                "description" => rule.description = self.string(v, "description"),
                "category" => {
                    if let Some(c) = self.string(v, "category") {
                        if c.is_empty() || !c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '.' || ch == '_') {
                            self.err(v.span(), format!("category {c:?} must be lowercase letters, digits, '.' and '_' (like \"ap.invoice\")"));
                        }
                        rule.category = Some(c);
                    }
                }
                "priority" => match v.get_ref() {
                    DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                        Ok(p) => rule.priority = p,
                        Err(_) => self.err(v.span(), "priority is not a valid whole number"),
                    },
                    other => self.err(v.span(), format!("\"priority\" must be a whole number, not {}", other.type_str())),
                },
                "stop" => rule.stop = self.boolean(v, "stop").unwrap_or(false),
                "confidence" => rule.confidence = self.percent(v, "confidence"),
                "review" => rule.review = self.boolean(v, "review").unwrap_or(false),
                "review_below" => rule.review_below = self.percent(v, "review_below"),
                "disabled" => rule.disabled = self.boolean(v, "disabled").unwrap_or(false),
                "case_sensitive" => rule.case_sensitive = self.boolean(v, "case_sensitive").unwrap_or(false),
                "when" => {
                    saw_when = true;
                    if let Some(c) = self.cond_table(v) {
                        rule.when = c;
                    }
                }
                "extract" => {
                    if let Some(t) = self.table(v, "extract") {
                        for (name, spec) in t.iter() {
                            // A list of specs for one field: alternatives, tried in order.
                            let specs: Vec<&SpannedValue<'_>> = match spec.get_ref() {
                                DeValue::Array(arr) => arr.iter().collect(),
                                _ => vec![spec],
                            };
                            for spec in specs {
                                if let Some(f) = self.field(name.get_ref(), spec) {
                                    rule.extract.push(f);
                                }
                            }
                        }
                    }
                }
                "actions" => match v.get_ref() {
                    DeValue::Array(arr) => {
                        for a in arr.iter() {
                            if let Some(action) = self.action(a) {
                                rule.actions.push(action);
                            }
                        }
                    }
                    other => self.err(v.span(), format!("\"actions\" must be a list like [ {{ reply = \"template\" }} ], not {}", other.type_str())),
                },
                "example" => match v.get_ref() {
                    DeValue::Array(arr) => {
                        for e in arr.iter() {
                            if let Some(ex) = self.example(e, dir) {
                                rule.examples.push(ex);
                            }
                        }
                    }
                    _ => self.err(v.span(), "examples must be written as [[rule.example]] sections"),
                },
                other => self.unknown(k, other, "rule key", RULE_KEYS),
            }
        }
        if rule.name.trim().is_empty() && self.errors.len() == errors_before {
            self.err(item.span(), "rule has no \"name\"");
        }
        if !saw_when && self.errors.len() == errors_before {
            self.err(
                item.span(),
                format!("rule {:?} has no \"when\" conditions", rule.name),
            );
        }
        if rule.category.is_none()
            && rule.extract.is_empty()
            && rule.actions.is_empty()
            && self.errors.len() == errors_before
        {
            self.err(
                item.span(),
                format!(
                    "rule {:?} sets no category, extracts nothing and has no actions",
                    rule.name
                ),
            );
        }
        (self.errors.len() == errors_before).then_some(rule)
    }

    /// A table of conditions: all/any/not/at_least+of, plus leaf keys (ANDed).
    fn cond_table(&mut self, v: &SpannedValue<'_>) -> Option<Cond> {
        let t = match v.get_ref() {
            DeValue::Table(t) => t,
            other => {
                self.err(
                    v.span(),
                    format!(
                        "a condition must be a table like {{ subject = \"invoice\" }}, not {}",
                        other.type_str()
                    ),
                );
                return None;
            }
        };
        if t.is_empty() {
            self.err(v.span(), "empty condition {}");
            return None;
        }
        let mut parts = Vec::new();
        let mut at_least: Option<(usize, Range<usize>)> = None;
        let mut of: Option<Vec<Cond>> = None;
        for (k, val) in t.iter() {
            let key = k.get_ref().as_ref();
            match key {
                "all" => parts.push(Cond::All(self.cond_list(val, "all"))),
                "any" => parts.push(Cond::Any(self.cond_list(val, "any"))),
                "not" => {
                    let list = match val.get_ref() {
                        DeValue::Table(_) => self.cond_table(val).into_iter().collect(),
                        _ => self.cond_list(val, "not"),
                    };
                    parts.push(Cond::Not(list));
                }
                "at_least" => match val.get_ref() {
                    DeValue::Integer(i) => match i.as_str().parse::<usize>() {
                        Ok(n) if n >= 1 => at_least = Some((n, val.span())),
                        _ => self.err(val.span(), "\"at_least\" must be a whole number ≥ 1"),
                    },
                    other => self.err(
                        val.span(),
                        format!(
                            "\"at_least\" must be a whole number, not {}",
                            other.type_str()
                        ),
                    ),
                },
                "of" => of = Some(self.cond_list(val, "of")),
                "has_attachment" => {
                    if let Some(b) = self.boolean(val, "has_attachment") {
                        parts.push(Cond::HasAttachment(b));
                    }
                }
                "field" => {
                    if let Some(fields) = self.table(val, "field") {
                        for (name, test) in fields.iter() {
                            if let Some(test) = self.field_test(name.get_ref(), test) {
                                parts.push(Cond::Field {
                                    name: name.get_ref().to_string(),
                                    test,
                                });
                            }
                        }
                    }
                }
                "thread" => {
                    if let Some(t) = self.table(val, "thread") {
                        for (name, pats) in t.iter() {
                            let part = match name.get_ref().as_ref() {
                                "first_from" => ThreadPart::FirstFrom,
                                "first_category" => ThreadPart::FirstCategory,
                                "previous_category" => ThreadPart::PreviousCategory,
                                other => {
                                    self.unknown(name, other, "thread condition", THREAD_KEYS);
                                    continue;
                                }
                            };
                            let patterns =
                                self.patterns(pats, &format!("thread.{}", name.get_ref()));
                            parts.push(Cond::Match {
                                source: Source::Thread(part),
                                patterns,
                            });
                        }
                    }
                }
                "header" => {
                    if let Some(h) = self.table(val, "header") {
                        for (name, pats) in h.iter() {
                            let patterns =
                                self.patterns(pats, &format!("header.{}", name.get_ref()));
                            parts.push(Cond::Match {
                                source: Source::Header(name.get_ref().to_string()),
                                patterns,
                            });
                        }
                    }
                }
                _ => match leaf_source(key) {
                    Some(source) => {
                        let patterns = self.patterns(val, key);
                        parts.push(Cond::Match { source, patterns });
                    }
                    None => self.unknown(k, key, "condition", CONDITION_KEYS),
                },
            }
        }
        match (at_least, of) {
            (Some((n, span)), Some(list)) => {
                if n > list.len() {
                    self.err(
                        span,
                        format!(
                            "\"at_least = {n}\" but \"of\" lists only {} conditions",
                            list.len()
                        ),
                    );
                }
                parts.push(Cond::AtLeast(n, list));
            }
            (Some((_, span)), None) => {
                self.err(span, "\"at_least\" needs \"of = [ ... ]\" beside it")
            }
            (None, Some(_)) => self.err(v.span(), "\"of\" needs \"at_least = N\" beside it"),
            (None, None) => {}
        }
        Some(if parts.len() == 1 {
            parts.pop().unwrap_or(Cond::All(Vec::new()))
        } else {
            Cond::All(parts)
        })
    }

    fn cond_list(&mut self, v: &SpannedValue<'_>, what: &str) -> Vec<Cond> {
        match v.get_ref() {
            DeValue::Array(arr) => arr.iter().filter_map(|c| self.cond_table(c)).collect(),
            other => {
                self.err(v.span(), format!("\"{what}\" must be a list of conditions like [ {{ subject = \"x\" }} ], not {}", other.type_str()));
                Vec::new()
            }
        }
    }

    /// `field.amount_total = { min = "1000" }`, `field.due_date = { max = "2026-12-31" }`, or
    /// `field.vendor_vat_id = '^DE'`.
    fn field_test(&mut self, name: &str, v: &SpannedValue<'_>) -> Option<FieldTest> {
        let DeValue::Table(t) = v.get_ref() else {
            return Some(FieldTest::Patterns(
                self.patterns(v, &format!("field.{name}")),
            ));
        };
        let mut bounds: [Option<(String, Range<usize>)>; 2] = [None, None];
        for (k, val) in t.iter() {
            let slot = match k.get_ref().as_ref() {
                "min" => 0,
                "max" => 1,
                other => {
                    self.unknown(k, other, "field range key", &["min", "max"]);
                    continue;
                }
            };
            let text = match val.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Integer(i) => i.as_str().to_string(),
                DeValue::Float(f) => f.as_str().to_string(),
                other => {
                    self.err(
                        val.span(),
                        format!(
                            "\"{}\" must be an amount like \"1000.00\" or a date like \"2026-12-31\", not {}",
                            k.get_ref(),
                            other.type_str()
                        ),
                    );
                    continue;
                }
            };
            bounds[slot] = Some((text, val.span()));
        }
        if bounds.iter().all(Option::is_none) {
            self.err(v.span(), format!("field.{name} needs \"min\" or \"max\""));
            return None;
        }
        let dates: Vec<Option<chrono::NaiveDate>> = bounds
            .iter()
            .map(|b| {
                b.as_ref()
                    .and_then(|(t, _)| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
            })
            .collect();
        let numbers: Vec<Option<rust_decimal::Decimal>> = bounds
            .iter()
            .map(|b| b.as_ref().and_then(|(t, _)| t.trim().parse().ok()))
            .collect();
        let given = bounds.iter().filter(|b| b.is_some()).count();
        if dates.iter().filter(|d| d.is_some()).count() == given {
            return Some(FieldTest::Date {
                min: dates[0],
                max: dates[1],
            });
        }
        if numbers.iter().filter(|n| n.is_some()).count() == given {
            return Some(FieldTest::Number {
                min: numbers[0],
                max: numbers[1],
            });
        }
        for (text, span) in bounds.into_iter().flatten() {
            self.err(
                span,
                format!(
                    "{text:?} is neither a number like \"1000.00\" nor a date like \"2026-12-31\" (min and max must be the same kind)"
                ),
            );
        }
        None
    }

    fn field(&mut self, name: &str, v: &SpannedValue<'_>) -> Option<FieldSpec> {
        let line = self.line(v.span().start);
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            self.err(
                v.span(),
                format!("field name {name:?} must be lowercase letters, digits and '_'"),
            );
        }
        let t = self.table(v, name)?;
        let mut kind = default_kind(name);
        let mut patterns = Vec::new();
        let mut unless = Vec::new();
        let mut from = vec![Source::Subject, Source::Body, Source::AttachmentText];
        for (k, val) in t.iter() {
            match k.get_ref().as_ref() {
                "pattern" => patterns = self.patterns(val, "pattern"),
                "unless" => unless = self.patterns(val, "unless"),
                "type" => match self.string(val, "type").as_deref() {
                    Some("text") => kind = FieldKind::Text,
                    Some("amount") => kind = FieldKind::Amount,
                    Some("date") => kind = FieldKind::Date,
                    Some("days") => kind = FieldKind::Days,
                    Some("currency") => kind = FieldKind::Currency,
                    Some(other) => self.err(val.span(), format!("unknown field type {other:?} (expected text, amount, date, days or currency)")),
                    None => {}
                },
                "from" => {
                    let list: Vec<(String, Range<usize>)> = match val.get_ref() {
                        DeValue::String(s) => vec![(s.to_string(), val.span())],
                        DeValue::Array(arr) => arr
                            .iter()
                            .filter_map(|i| self.string(i, "from").map(|s| (s, i.span())))
                            .collect(),
                        other => {
                            self.err(val.span(), format!("\"from\" must be a list of sources, not {}", other.type_str()));
                            Vec::new()
                        }
                    };
                    from = list
                        .into_iter()
                        .filter_map(|(s, span)| {
                            let src = extract_source(&s);
                            if src.is_none() {
                                self.err(span, format!("unknown source {s:?} (expected one of: {})", EXTRACT_SOURCES.join(", ")));
                            }
                            src
                        })
                        .collect();
                }
                other => self.unknown(k, other, "extract key", FIELD_KEYS),
            }
        }
        if patterns.is_empty() {
            self.err(v.span(), format!("field {name:?} has no \"pattern\""));
            return None;
        }
        Some(FieldSpec {
            name: name.to_string(),
            kind,
            patterns,
            unless,
            from,
            line,
        })
    }

    fn action(&mut self, v: &SpannedValue<'_>) -> Option<Action> {
        let t = self.table(v, "action")?;
        if t.len() != 1 {
            self.err(v.span(), "each action is one of { reply = \"template\" }, { move_to = \"Folder\" }, { flag = \"keyword\" }, { notify = \"address\" }");
            return None;
        }
        let (k, val) = t.iter().next()?;
        let s = self.string(val, k.get_ref())?;
        if s.trim().is_empty() {
            self.err(val.span(), format!("\"{}\" needs a value", k.get_ref()));
            return None;
        }
        match k.get_ref().as_ref() {
            "reply" => Some(Action::Reply { template: s }),
            "move_to" => Some(Action::MoveTo { folder: s }),
            "flag" => Some(Action::Flag { keyword: s }),
            "notify" => Some(Action::Notify { to: s }),
            other => {
                self.unknown(k, other, "action", ACTION_KEYS);
                None
            }
        }
    }

    fn example(&mut self, v: &SpannedValue<'_>, dir: &Path) -> Option<ExampleSpec> {
        let t = self.table(v, "example")?;
        let line = self.line(v.span().start);
        let mut file = None;
        let mut expect = BTreeMap::new();
        for (k, val) in t.iter() {
            match k.get_ref().as_ref() {
                "file" => file = self.string(val, "file").map(|f| dir.join(f)),
                "expect" => {
                    if let Some(e) = self.table(val, "expect") {
                        for (name, want) in e.iter() {
                            if let Some(s) = self.string(want, name.get_ref()) {
                                expect.insert(name.get_ref().to_string(), s);
                            }
                        }
                    }
                }
                other => self.unknown(k, other, "example key", &["file", "expect"]),
            }
        }
        let Some(file) = file else {
            self.err(
                v.span(),
                "example needs \"file\" (an .eml path relative to this rule file)",
            );
            return None;
        };
        if expect.is_empty() {
            self.err(v.span(), "example needs \"expect = { category = ... }\"");
            return None;
        }
        Some(ExampleSpec { file, expect, line })
    }
}

fn leaf_source(key: &str) -> Option<Source> {
    Some(match key {
        "subject" => Source::Subject,
        "from" => Source::From,
        "from_name" => Source::FromName,
        "from_address" => Source::FromAddress,
        "to" => Source::To,
        "body" => Source::Body,
        "text" => Source::Text,
        "attachment_name" => Source::AttachmentName,
        "attachment_type" => Source::AttachmentType,
        "attachment_text" => Source::AttachmentText,
        "einvoice" => Source::EInvoice,
        "role" => Source::Role,
        "replies_to" => Source::RepliesTo,
        _ => return None,
    })
}

fn extract_source(s: &str) -> Option<Source> {
    if let Some(h) = s.strip_prefix("header.") {
        return (!h.is_empty()).then(|| Source::Header(h.to_string()));
    }
    Some(match s {
        "attachments" | "attachment_text" => Source::AttachmentText,
        "attachment_name" => Source::AttachmentName,
        "einvoice" | "role" | "replies_to" => return None,
        other => leaf_source(other)?,
    })
}

/// Field names that imply a type, so accountants rarely need `type =`.
fn default_kind(name: &str) -> FieldKind {
    if name.starts_with("amount") || name.ends_with("_amount") || name == "total" {
        FieldKind::Amount
    } else if name.ends_with("_date") || name == "date" {
        FieldKind::Date
    } else if name == "currency" {
        FieldKind::Currency
    } else if name == "payment_terms" {
        FieldKind::Days
    } else {
        FieldKind::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RuleFile, Vec<String>> {
        let (file, errs) = read_rule_file("rules/t.toml", Path::new("rules"), text);
        if errs.is_empty() {
            Ok(file)
        } else {
            Err(errs.iter().map(|e| e.to_string()).collect())
        }
    }

    #[test]
    fn a_good_rule_reads_into_specs() {
        let f = read(
            r#"
[[rule]]
name = "vendor invoice"
category = "ap.invoice"
priority = 50
when.any = [ { subject = "invoice" }, { attachment_name = ["inv.*\\.pdf$", "rechnung"] } ]
when.not = [ { header."Auto-Submitted" = "auto-replied" } ]
extract.invoice_number = { pattern = "invoice no\\.? {ref}" }
extract.amount_total = { pattern = "total {amount}", from = ["body", "attachments"] }
actions = [ { reply = "ap-acknowledge" }, { move_to = "AP/Received" } ]

[[rule.example]]
file = "../fixtures/x.eml"
expect = { category = "ap.invoice", invoice_number = "INV-1" }
"#,
        )
        .unwrap();
        let r = &f.rules[0];
        assert_eq!(r.name, "vendor invoice");
        assert_eq!(r.priority, 50);
        assert_eq!(r.extract.len(), 2);
        let amount = r.extract.iter().find(|f| f.name == "amount_total").unwrap();
        assert_eq!(amount.kind, FieldKind::Amount);
        assert_eq!(amount.from, vec![Source::Body, Source::AttachmentText]);
        assert_eq!(r.actions.len(), 2);
        assert_eq!(r.examples[0].file, Path::new("rules/../fixtures/x.eml"));
        match &r.when {
            Cond::All(parts) => {
                assert!(matches!(&parts[0], Cond::Any(list) if list.len() == 2));
                assert!(
                    matches!(&parts[1], Cond::Not(list) if matches!(&list[0], Cond::Match { source: Source::Header(h), .. } if h == "Auto-Submitted"))
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn every_mistake_is_reported_at_once_with_its_line() {
        let errs = read(
            r#"[[rule]]
name = "a"
category = "ap.invoice"
when = { subjct = "invoice" }

[[rule]]
name = "b"
category = "Bad Category"
when = { subject = "x" }
extract.total = { pattern = "x", type = "money" }
actions = [ { repyl = "t" } ]
"#,
        )
        .unwrap_err();
        assert_eq!(
            errs,
            vec![
                "rules/t.toml:4: unknown condition \"subjct\" (did you mean \"subject\"?)",
                "rules/t.toml:8: category \"Bad Category\" must be lowercase letters, digits, '.' and '_' (like \"ap.invoice\")",
                "rules/t.toml:10: unknown field type \"money\" (expected text, amount, date, days or currency)",
                "rules/t.toml:11: unknown action \"repyl\" (did you mean \"reply\"?)",
            ]
        );
    }

    #[test]
    fn toml_syntax_errors_carry_a_line() {
        let errs = read("[[rule]]\nname = \"a\nwhen = {}\n").unwrap_err();
        assert!(
            errs[0].starts_with("rules/t.toml:2: TOML syntax"),
            "{errs:?}"
        );
    }

    #[test]
    fn missing_parts_are_named() {
        let errs = read("[[rule]]\nname = \"a\"\ncategory = \"x\"\n").unwrap_err();
        assert_eq!(
            errs,
            vec!["rules/t.toml:1: rule \"a\" has no \"when\" conditions"]
        );
        let errs = read("[[rule]]\nname = \"a\"\nwhen = { body = \"x\" }\n").unwrap_err();
        assert_eq!(
            errs,
            vec![
                "rules/t.toml:1: rule \"a\" sets no category, extracts nothing and has no actions"
            ]
        );
        let errs = read("[[rule]]\nname = \"a\"\ncategory = \"x\"\nwhen = { at_least = 3, of = [ { body = \"x\" } ] }\n").unwrap_err();
        assert_eq!(
            errs,
            vec!["rules/t.toml:4: \"at_least = 3\" but \"of\" lists only 1 conditions"]
        );
    }
}
