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

mod cond;
#[cfg(test)]
mod tests;

use cond::leaf_source;

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
                "category" => rule.category = self.category(v),
                "priority" => rule.priority = self.priority(v).unwrap_or(rule.priority),
                "stop" => rule.stop = self.boolean(v, "stop").unwrap_or(false),
                "confidence" => rule.confidence = self.percent(v, "confidence"),
                "review" => rule.review = self.boolean(v, "review").unwrap_or(false),
                "review_below" => rule.review_below = self.percent(v, "review_below"),
                "disabled" => rule.disabled = self.boolean(v, "disabled").unwrap_or(false),
                "case_sensitive" => {
                    rule.case_sensitive = self.boolean(v, "case_sensitive").unwrap_or(false)
                }
                "when" => {
                    saw_when = true;
                    if let Some(c) = self.cond_table(v) {
                        rule.when = c;
                    }
                }
                "extract" => rule.extract.extend(self.extract_table(v)),
                "actions" => rule.actions.extend(self.actions(v)),
                "example" => rule.examples.extend(self.examples(v, dir)),
                other => self.unknown(k, other, "rule key", RULE_KEYS),
            }
        }
        if self.errors.len() == errors_before {
            self.check_whole(item, &rule, saw_when);
        }
        (self.errors.len() == errors_before).then_some(rule)
    }

    /// A rule with no name, no `when`, or nothing it does is reported, the first of these only
    /// (once its keys read without error).
    fn check_whole(&mut self, item: &SpannedValue<'_>, rule: &RuleSpec, saw_when: bool) {
        if rule.name.trim().is_empty() {
            self.err(item.span(), "rule has no \"name\"");
            return;
        }
        if !saw_when {
            self.err(
                item.span(),
                format!("rule {:?} has no \"when\" conditions", rule.name),
            );
            return;
        }
        if rule.category.is_none() && rule.extract.is_empty() && rule.actions.is_empty() {
            self.err(
                item.span(),
                format!(
                    "rule {:?} sets no category, extracts nothing and has no actions",
                    rule.name
                ),
            );
        }
    }

    /// `category = "ap.invoice"`: lowercase letters, digits, '.' and '_'.
    fn category(&mut self, v: &SpannedValue<'_>) -> Option<String> {
        let c = self.string(v, "category")?;
        let allowed =
            |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '.' || ch == '_';
        if c.is_empty() || !c.chars().all(allowed) {
            self.err(v.span(), format!("category {c:?} must be lowercase letters, digits, '.' and '_' (like \"ap.invoice\")"));
        }
        Some(c)
    }

    fn priority(&mut self, v: &SpannedValue<'_>) -> Option<i64> {
        match v.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(p) => Some(p),
                Err(_) => {
                    self.err(v.span(), "priority is not a valid whole number");
                    None
                }
            },
            other => {
                self.err(
                    v.span(),
                    format!(
                        "\"priority\" must be a whole number, not {}",
                        other.type_str()
                    ),
                );
                None
            }
        }
    }

    /// `extract = { NAME = spec or [spec, ...] }`: a list of specs for one field are
    /// alternatives, tried in order.
    fn extract_table(&mut self, v: &SpannedValue<'_>) -> Vec<FieldSpec> {
        let Some(t) = self.table(v, "extract") else {
            return Vec::new();
        };
        let mut fields = Vec::new();
        for (name, spec) in t.iter() {
            let specs: Vec<&SpannedValue<'_>> = match spec.get_ref() {
                DeValue::Array(arr) => arr.iter().collect(),
                _ => vec![spec],
            };
            fields.extend(
                specs
                    .into_iter()
                    .filter_map(|spec| self.field(name.get_ref(), spec)),
            );
        }
        fields
    }

    fn actions(&mut self, v: &SpannedValue<'_>) -> Vec<Action> {
        match v.get_ref() {
            DeValue::Array(arr) => arr.iter().filter_map(|a| self.action(a)).collect(),
            other => {
                self.err(
                    v.span(),
                    format!(
                        "\"actions\" must be a list like [ {{ reply = \"template\" }} ], not {}",
                        other.type_str()
                    ),
                );
                Vec::new()
            }
        }
    }

    fn examples(&mut self, v: &SpannedValue<'_>, dir: &Path) -> Vec<ExampleSpec> {
        match v.get_ref() {
            DeValue::Array(arr) => arr.iter().filter_map(|e| self.example(e, dir)).collect(),
            _ => {
                self.err(
                    v.span(),
                    "examples must be written as [[rule.example]] sections",
                );
                Vec::new()
            }
        }
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
