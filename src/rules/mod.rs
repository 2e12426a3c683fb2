//! Rule files written by accountants: load and validate ([`file`]), compile into a [`RuleSet`],
//! evaluate a [`Message`] into a [`Decision`], and run the examples the files carry.
//!
//! Conditions are regexes (case-insensitive and multi-line unless a rule says
//! `case_sensitive = true`). Every condition pattern of every rule is compiled into one
//! `RegexSet` per place it looks (subject, body, a header, ...), so a message is scanned once per
//! place, whatever the number of rules; only the rules that matched run their extractions.

pub mod builtin;
mod compile;
pub mod context;
pub mod einvoice;
pub mod file;
mod shared_set;
/// Amounts, currencies, dates and payment terms (its own module; re-exported for rule code).
pub use crate::normalize;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::model::{
    Action, Decision, ExtractedField, FieldValue, Message, Provenance, RawMail, RuleMatch,
};
use file::{DateOrderSetting, FieldKind, RuleError, RuleSpec, Source, ThreadPart};

pub use builtin::RuleSource;
pub use context::{PriorLookup, PriorMessage, ThreadContext};
use normalize::DateOrder;

/// Every problem found in a rule directory, each as `path:line: message`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct RulesError {
    pub errors: Vec<RuleError>,
}

/// A compiled condition; leaves point into the RegexSets.
#[derive(Debug)]
enum Check {
    All(Vec<Check>),
    Any(Vec<Check>),
    Not(Vec<Check>),
    AtLeast(usize, Vec<Check>),
    Match {
        slots: Vec<(usize, usize)>,
        describe: String,
    },
    HasAttachment(bool),
    /// A field known when the rule runs (see [`Cond::Field`]).
    Field {
        name: String,
        test: CompiledFieldTest,
        describe: String,
    },
}

#[derive(Debug)]
enum CompiledFieldTest {
    Patterns(Vec<Regex>),
    Number {
        min: Option<rust_decimal::Decimal>,
        max: Option<rust_decimal::Decimal>,
    },
    Date {
        min: Option<chrono::NaiveDate>,
        max: Option<chrono::NaiveDate>,
    },
}

impl CompiledFieldTest {
    fn holds(&self, field: Option<&ExtractedField>) -> bool {
        let Some(f) = field else {
            return false;
        };
        fn within<T: PartialOrd + Copy>(v: T, min: Option<T>, max: Option<T>) -> bool {
            min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m)
        }
        match (self, &f.value) {
            (CompiledFieldTest::Patterns(res), v) => {
                let text = v.canonical();
                res.iter().any(|r| r.is_match(&text))
            }
            (CompiledFieldTest::Number { min, max }, FieldValue::Amount { value, .. }) => {
                within(*value, *min, *max)
            }
            (CompiledFieldTest::Number { min, max }, FieldValue::Days { value }) => {
                within(rust_decimal::Decimal::from(*value), *min, *max)
            }
            (CompiledFieldTest::Date { min, max }, FieldValue::Date { value }) => {
                within(*value, *min, *max)
            }
            _ => false,
        }
    }
}

/// The fields known while rules are evaluated, for `field.NAME` conditions.
type KnownFields = BTreeMap<String, ExtractedField>;

#[derive(Debug)]
struct CompiledField {
    name: String,
    kind: FieldKind,
    patterns: Vec<Regex>,
    unless: Vec<Regex>,
    from: Vec<Source>,
}

#[derive(Debug)]
struct CompiledRule {
    spec: RuleSpec,
    check: Check,
    fields: Vec<CompiledField>,
}

#[derive(Debug)]
struct PatternSet {
    key: Source,
    set: shared_set::SharedSet,
}

/// The define naming our own companies (`own_names = 'Ourcompany'`), read by the generic
/// extractor so that the buyer on an invoice is never taken for its vendor.
pub const OWN_NAMES_DEFINE: &str = "own_names";

/// Categories whose messages are invoices: the generic extractor fills what their rules left.
const INVOICE_CATEGORIES: &[&str] = &["ap.invoice", "ap.credit_note"];

/// How sure a rule is of what it decides and extracts, unless it says (`confidence = N`).
pub const DEFAULT_RULE_CONFIDENCE: u8 = 90;
/// Fields less sure than this go to review, unless the rules say (`review_below = N`).
pub const DEFAULT_REVIEW_BELOW: u8 = 70;

/// A validated, compiled rule set. Cheap to share between threads.
#[derive(Debug)]
pub struct RuleSet {
    review_below: u8,
    rules: Vec<CompiledRule>,
    sets: Vec<PatternSet>,
    extract: crate::extract::Settings,
    date_order: DateOrderSetting,
    version: String,
    files: Vec<String>,
}

/// A rule's `reply = "template"` action, for checking templates.
#[derive(Debug, Clone)]
pub struct ReplyAction {
    pub rule: String,
    pub location: String,
    pub template: String,
    pub fields: Vec<String>,
}

/// The outcome of running one rule example.
#[derive(Debug, Clone)]
pub struct ExampleOutcome {
    pub rule: String,
    pub path: String,
    pub line: usize,
    pub file: PathBuf,
    pub mismatches: Vec<String>,
}

impl RuleSet {
    /// Load every `*.toml` in `dir` (sorted by name), validate, compile. All errors at once.
    pub fn load_dir(dir: &Path) -> Result<RuleSet, RulesError> {
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect(),
            Err(e) => {
                return Err(RulesError {
                    errors: vec![RuleError {
                        path: dir.display().to_string(),
                        line: 0,
                        message: format!("cannot read rule directory: {e}"),
                    }],
                });
            }
        };
        paths.sort();
        let mut sources = Vec::new();
        let mut errors = Vec::new();
        for p in paths {
            match std::fs::read_to_string(&p) {
                Ok(text) => sources.push((p.display().to_string(), text)),
                Err(e) => errors.push(RuleError {
                    path: p.display().to_string(),
                    line: 0,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
        if sources.is_empty() && errors.is_empty() {
            errors.push(RuleError {
                path: dir.display().to_string(),
                line: 0,
                message: "no rule files (*.toml) found".into(),
            });
        }
        match RuleSet::from_sources(dir, &sources) {
            Ok(set) if errors.is_empty() => Ok(set),
            Ok(_) => Err(RulesError { errors }),
            Err(mut e) => {
                errors.append(&mut e.errors);
                Err(RulesError { errors })
            }
        }
    }

    /// No rules at all: every message is `other` (for a pipeline that only re-indexes stored
    /// decisions).
    pub fn none() -> RuleSet {
        Self::from_sources(Path::new("."), &[]).expect("an empty rule set has no errors")
    }

    /// Content hash of the rule files: recorded with every decision.
    /// Every reply action: (rule name, where it is written, template, the fields the rule can
    /// extract, derived ones included). `rules check` renders each template against these.
    pub fn reply_actions(&self) -> Vec<ReplyAction> {
        let mut out = Vec::new();
        for r in &self.rules {
            for a in &r.spec.actions {
                if let Action::Reply { template } = a {
                    let mut fields: Vec<String> = r.fields.iter().map(|f| f.name.clone()).collect();
                    if r.spec.when.requires_einvoice() {
                        fields.extend(einvoice::FIELD_NAMES.iter().map(|f| f.to_string()));
                    }
                    if r.spec
                        .category
                        .as_deref()
                        .is_some_and(|c| INVOICE_CATEGORIES.contains(&c))
                    {
                        fields.extend(crate::extract::FIELD_NAMES.iter().map(|f| f.to_string()));
                    }
                    fields.sort();
                    fields.dedup();
                    for derived in ["currency", "due_date"] {
                        if !fields.iter().any(|f| f == derived) {
                            fields.push(derived.into());
                        }
                    }
                    out.push(ReplyAction {
                        rule: r.spec.name.clone(),
                        location: format!("{}:{}", r.spec.path, r.spec.line),
                        template: template.clone(),
                        fields,
                    });
                }
            }
        }
        out
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Does any rule test the thread's history (`thread.*`)? Only then is a reply's thread
    /// looked up in the store before its rules run.
    pub fn uses_thread_context(&self) -> bool {
        self.sets.iter().any(|s| matches!(s.key, Source::Thread(_)))
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Classify a message and extract its fields, without thread context.
    pub fn evaluate(&self, msg: &Message) -> Decision {
        self.evaluate_in(msg, &ThreadContext::default())
    }

    /// Classify a message and extract its fields; `thread` is what the store knows about the
    /// messages it answers.
    pub fn evaluate_in(&self, msg: &Message, thread: &ThreadContext) -> Decision {
        let hits = self.scan(msg, thread);
        let mut decision = Decision {
            rules_version: self.version.clone(),
            ..Decision::default()
        };
        // The e-invoice's fields go in first: the XML is the truth, no regex overrides it.
        einvoice::apply(msg, &mut decision);
        let mut category: Option<String> = None;
        let mut date_order: Option<MessageOrder> = None;
        for rule in &self.rules {
            if rule.spec.category.is_some() && category.is_some() {
                continue;
            }
            if !eval(&rule.check, &hits, msg, &decision.fields) {
                continue;
            }
            let mut why = Vec::new();
            explain(&rule.check, &hits, msg, &decision.fields, &mut why);
            decision.matched_rules.push(RuleMatch {
                rule: rule.spec.name.clone(),
                file: rule.spec.path.clone(),
                why,
            });
            if let Some(c) = &rule.spec.category {
                category = Some(c.clone());
                decision.category_rule = Some(rule.spec.name.clone());
                decision.confidence = rule.spec.confidence.unwrap_or(DEFAULT_RULE_CONFIDENCE);
                decision.review_below = rule.spec.review_below;
            }
            if rule.spec.review && decision.review_rule.is_none() {
                decision.review_rule = Some(rule.spec.name.clone());
            }
            for field in &rule.fields {
                if decision.fields.contains_key(&field.name) {
                    continue;
                }
                if let Some(found) = extract(
                    field,
                    msg,
                    &rule.spec.name,
                    &mut date_order,
                    self.date_order,
                    rule.spec.confidence.unwrap_or(DEFAULT_RULE_CONFIDENCE),
                ) {
                    decision.fields.insert(field.name.clone(), found);
                }
            }
            for a in &rule.spec.actions {
                if !decision.actions.contains(a) {
                    decision.actions.push(a.clone());
                }
            }
            if rule.spec.stop {
                break;
            }
        }
        if category.is_none() {
            // No rule decided: nothing vouches for "other".
            decision.confidence = 0;
        }
        decision.review_below = Some(decision.review_below.unwrap_or(self.review_below));
        decision.category = category.unwrap_or_else(|| crate::model::CATEGORY_OTHER.to_string());
        if decision.category.starts_with("auto.") {
            einvoice::withdraw(&mut decision);
        }
        if INVOICE_CATEGORIES.contains(&decision.category.as_str()) {
            // Rules (and an e-invoice) keep priority: the layout only fills what they left.
            for (name, f) in crate::extract::extract(msg, &self.extract) {
                decision.fields.entry(name.to_string()).or_insert(f);
            }
        }
        if msg
            .attachments
            .iter()
            .any(|a| a.text_error.as_deref() == Some(crate::parse::NO_TEXT_LAYER))
        {
            decision.flags.push(crate::parse::FLAG_NO_TEXT_LAYER.into());
        }
        derive_fields(&mut decision);
        decision
    }

    /// Run every example of every rule file against the whole rule set.
    /// Every example file the rules cite, as resolved (once each, in rule order).
    pub fn example_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = Vec::new();
        for ex in self.rules.iter().flat_map(|r| &r.spec.examples) {
            if !files.contains(&ex.file) {
                files.push(ex.file.clone());
            }
        }
        files
    }

    pub fn run_examples(&self, limits: &crate::parse::ParseLimits) -> Vec<ExampleOutcome> {
        let mut out = Vec::new();
        for rule in &self.rules {
            for ex in &rule.spec.examples {
                let mut outcome = ExampleOutcome {
                    rule: rule.spec.name.clone(),
                    path: rule.spec.path.clone(),
                    line: ex.line,
                    file: ex.file.clone(),
                    mismatches: Vec::new(),
                };
                // The built-in set's examples are compiled in; a directory's are files.
                let read = match builtin::example(&ex.file) {
                    Some(bytes) => Ok(bytes.to_vec()),
                    None => std::fs::read(&ex.file),
                };
                match read {
                    Err(e) => outcome
                        .mismatches
                        .push(format!("cannot read example {}: {e}", ex.file.display())),
                    Ok(bytes) => {
                        let raw = RawMail {
                            role: None,
                            mailbox: "example".into(),
                            origin: ex.file.display().to_string(),
                            bytes,
                        };
                        match crate::parse::parse(&raw, limits) {
                            Err(e) => outcome.mismatches.push(format!(
                                "example {} is not a message: {e}",
                                ex.file.display()
                            )),
                            Ok(msg) => {
                                let d = self.evaluate(&msg);
                                let got = d.field_strings();
                                for (key, want) in &ex.expect {
                                    let have = if key == "category" {
                                        Some(d.category.clone())
                                    } else {
                                        got.get(key).cloned()
                                    };
                                    if have.as_deref() != Some(want.as_str()) {
                                        outcome.mismatches.push(format!(
                                            "example {}: expected {key} {want:?}, got {}",
                                            ex.file.display(),
                                            have.map_or("nothing".to_string(), |h| format!(
                                                "{h:?}"
                                            ))
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
                out.push(outcome);
            }
        }
        out
    }

    /// Run every RegexSet once over its part of the message.
    fn scan(&self, msg: &Message, thread: &ThreadContext) -> Vec<Vec<bool>> {
        let mut hits = Vec::with_capacity(self.sets.len());
        for ps in &self.sets {
            let mut found = vec![false; ps.set.len()];
            let mut feed = |hay: &str| ps.set.mark_matches(hay, &mut found);
            match &ps.key {
                Source::Subject => feed(&msg.subject),
                Source::Body => feed(msg.own_text()),
                Source::From => {
                    if let Some(a) = &msg.from {
                        feed(&a.to_string());
                    }
                }
                Source::FromName => feed(
                    msg.from
                        .as_ref()
                        .and_then(|a| a.name.as_deref())
                        .unwrap_or(""),
                ),
                Source::FromAddress => feed(
                    msg.from
                        .as_ref()
                        .and_then(|a| a.email.as_deref())
                        .unwrap_or(""),
                ),
                Source::To => {
                    for a in msg.to.iter().chain(&msg.cc) {
                        feed(&a.to_string());
                    }
                }
                Source::Header(name) => {
                    for (n, v) in &msg.headers {
                        if n.eq_ignore_ascii_case(name) {
                            feed(v);
                        }
                    }
                }
                Source::AttachmentName => {
                    for a in &msg.attachments {
                        feed(a.name.as_deref().unwrap_or(""));
                    }
                }
                Source::AttachmentType => {
                    for a in &msg.attachments {
                        feed(&a.content_type);
                    }
                }
                Source::AttachmentText => {
                    for a in &msg.attachments {
                        if let Some(t) = &a.text {
                            feed(t);
                        }
                    }
                }
                Source::EInvoice => {
                    if let Some(e) = msg.einvoice() {
                        feed(&einvoice::condition_text(e));
                    }
                }
                Source::Role => feed(msg.role.map_or("", |r| r.as_str())),
                Source::RepliesTo => {
                    for id in msg.in_reply_to.iter().chain(&msg.references) {
                        feed(id);
                    }
                }
                Source::Thread(part) => {
                    let prior = match part {
                        ThreadPart::FirstFrom | ThreadPart::FirstCategory => &thread.first,
                        ThreadPart::PreviousCategory => &thread.previous,
                    };
                    if let Some(p) = prior {
                        match part {
                            ThreadPart::FirstFrom => feed(p.from_address.as_deref().unwrap_or("")),
                            _ => feed(&p.category),
                        }
                    }
                }
                // Never a set key (see `set_keys`).
                Source::Text => {}
            }
            hits.push(found);
        }
        hits
    }
}

fn eval(c: &Check, hits: &[Vec<bool>], msg: &Message, known: &KnownFields) -> bool {
    match c {
        Check::All(list) => list.iter().all(|c| eval(c, hits, msg, known)),
        Check::Any(list) => list.is_empty() || list.iter().any(|c| eval(c, hits, msg, known)),
        Check::Not(list) => !list.iter().any(|c| eval(c, hits, msg, known)),
        Check::AtLeast(n, list) => list.iter().filter(|c| eval(c, hits, msg, known)).count() >= *n,
        Check::Match { slots, .. } => slots.iter().any(|&(s, i)| hits[s][i]),
        Check::HasAttachment(b) => msg.attachments.is_empty() != *b,
        Check::Field { name, test, .. } => test.holds(known.get(name)),
    }
}

/// The positive leaves that held, as readable reasons.
fn explain(
    c: &Check,
    hits: &[Vec<bool>],
    msg: &Message,
    known: &KnownFields,
    why: &mut Vec<String>,
) {
    match c {
        Check::All(list) | Check::Any(list) | Check::AtLeast(_, list) => {
            for c in list {
                explain(c, hits, msg, known, why);
            }
        }
        Check::Field {
            name,
            test,
            describe,
        } => {
            if test.holds(known.get(name)) {
                why.push(describe.clone());
            }
        }
        Check::Not(_) => {}
        Check::Match { slots, describe } => {
            if slots.iter().any(|&(s, i)| hits[s][i]) {
                why.push(describe.clone());
            }
        }
        Check::HasAttachment(b) => {
            if msg.attachments.is_empty() != *b {
                why.push(if *b {
                    "has an attachment".into()
                } else {
                    "has no attachment".into()
                });
            }
        }
    }
}

/// The texts an extraction looks at, in order, with their provenance names.
fn haystacks<'m>(source: &Source, msg: &'m Message) -> Vec<(String, std::borrow::Cow<'m, str>)> {
    use std::borrow::Cow;
    match source {
        Source::Subject => vec![("subject".into(), Cow::Borrowed(msg.subject.as_str()))],
        Source::Body => vec![("body".into(), Cow::Borrowed(msg.own_text()))],
        Source::Text => {
            let mut v = haystacks(&Source::Subject, msg);
            v.extend(haystacks(&Source::Body, msg));
            v.extend(haystacks(&Source::AttachmentText, msg));
            v
        }
        Source::AttachmentText => msg
            .attachments
            .iter()
            .filter_map(|a| {
                a.text.as_deref().map(|t| {
                    (
                        format!("attachment:{}", a.name.as_deref().unwrap_or("(unnamed)")),
                        Cow::Borrowed(t),
                    )
                })
            })
            .collect(),
        Source::AttachmentName => msg
            .attachments
            .iter()
            .filter_map(|a| {
                a.name
                    .as_deref()
                    .map(|n| ("attachment_name".into(), Cow::Borrowed(n)))
            })
            .collect(),
        Source::AttachmentType => msg
            .attachments
            .iter()
            .map(|a| {
                (
                    "attachment_type".into(),
                    Cow::Borrowed(a.content_type.as_str()),
                )
            })
            .collect(),
        Source::FromName => msg
            .from
            .as_ref()
            .and_then(|a| a.name.as_deref())
            .map(|n| vec![("from_name".into(), Cow::Borrowed(n))])
            .unwrap_or_default(),
        Source::FromAddress => msg
            .from
            .as_ref()
            .and_then(|a| a.email.as_deref())
            .map(|n| vec![("from_address".into(), Cow::Borrowed(n))])
            .unwrap_or_default(),
        Source::From => msg
            .from
            .as_ref()
            .map(|a| vec![("from".into(), Cow::Owned(a.to_string()))])
            .unwrap_or_default(),
        Source::To => msg
            .to
            .iter()
            .chain(&msg.cc)
            .map(|a| ("to".into(), Cow::Owned(a.to_string())))
            .collect(),
        Source::Header(h) => msg
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(h))
            .map(|(_, v)| (format!("header:{h}"), Cow::Borrowed(v.as_str())))
            .collect(),
        // Conditions only: the file reader refuses it as an extraction source.
        Source::EInvoice | Source::Role | Source::RepliesTo | Source::Thread(_) => Vec::new(),
    }
}

/// A message's day/month order and, when it was worked out from the message (not set in the
/// rules), what from.
type MessageOrder = (
    DateOrder,
    Option<Option<(DateOrder, normalize::OrderEvidence)>>,
);

fn message_date_order(msg: &Message, setting: DateOrderSetting) -> MessageOrder {
    match setting {
        DateOrderSetting::DayFirst => (DateOrder::DayFirst, None),
        DateOrderSetting::MonthFirst => (DateOrder::MonthFirst, None),
        DateOrderSetting::Auto => {
            let mut text = String::with_capacity(msg.body_text.len() + 256);
            text.push_str(&msg.subject);
            text.push('\n');
            text.push_str(msg.own_text());
            for a in &msg.attachments {
                if let Some(t) = &a.text {
                    text.push('\n');
                    text.push_str(t);
                }
            }
            let evidence = normalize::date_order_evidence(&text);
            (
                evidence.map_or(DateOrder::DayFirst, |(o, _)| o),
                Some(evidence),
            )
        }
    }
}

fn extract(
    field: &CompiledField,
    msg: &Message,
    rule: &str,
    order: &mut Option<MessageOrder>,
    setting: DateOrderSetting,
    confidence: u8,
) -> Option<ExtractedField> {
    for re in &field.patterns {
        for source in &field.from {
            for (source_name, hay) in haystacks(source, msg) {
                for caps in re.captures_iter(&hay) {
                    let whole = caps.get(0).map_or("", |m| m.as_str());
                    if field.unless.iter().any(|u| u.is_match(whole)) {
                        continue;
                    }
                    let raw = caps.name("value").map_or(whole, |m| m.as_str());
                    let mut swapped = None;
                    let value = match field.kind {
                        FieldKind::Text => {
                            let v = raw.split_whitespace().collect::<Vec<_>>().join(" ");
                            let v = v
                                .trim_matches(|c: char| c == ',' || c == ';' || c == ':')
                                .to_string();
                            (!v.is_empty()).then_some(FieldValue::Text { value: v })
                        }
                        FieldKind::Amount => {
                            let explicit = caps
                                .name("currency")
                                .and_then(|c| normalize::currency_code(c.as_str()));
                            normalize::parse_amount(raw).map(|a| FieldValue::Amount {
                                value: a.value,
                                currency: a.currency.or(explicit).map(str::to_string),
                            })
                        }
                        FieldKind::Date => {
                            let (o, evidence) =
                                *order.get_or_insert_with(|| message_date_order(msg, setting));
                            swapped = evidence.and_then(|e| normalize::swapped_doubt(raw, e));
                            normalize::parse_date(raw, o).map(|d| FieldValue::Date { value: d })
                        }
                        FieldKind::Days => normalize::parse_payment_terms(raw)
                            .or_else(|| raw.trim().parse().ok())
                            .map(|d| FieldValue::Days { value: d }),
                        FieldKind::Currency => {
                            normalize::currency_code(raw.trim()).map(|c| FieldValue::Currency {
                                value: c.to_string(),
                            })
                        }
                    };
                    if let Some(value) = value {
                        let matched: String = whole.trim().chars().take(200).collect();
                        let provenance = Provenance {
                            rule: rule.to_string(),
                            source: source_name,
                            matched,
                        };
                        let f = ExtractedField::new(value, provenance, confidence);
                        return Some(match swapped {
                            Some(why) => {
                                let mut f = f.doubting(why);
                                f.confidence = f.confidence.min(normalize::SWAPPED_CONFIDENCE);
                                f
                            }
                            None => f,
                        });
                    }
                }
            }
        }
    }
    None
}

/// Fields that follow from others: the currency of an amount, a due date from payment terms.
fn derive_fields(d: &mut Decision) {
    if !d.fields.contains_key("currency") {
        let found = d.fields.iter().find_map(|(name, f)| match &f.value {
            FieldValue::Amount {
                currency: Some(c), ..
            } => Some((name.clone(), c.clone(), f.provenance.clone())),
            _ => None,
        });
        if let Some((name, c, prov)) = found {
            let confidence = d.fields[&name].confidence;
            let provenance = Provenance {
                source: format!("derived from {name}"),
                ..prov
            };
            d.fields.insert(
                "currency".into(),
                ExtractedField::new(FieldValue::Currency { value: c }, provenance, confidence),
            );
        }
    }
    if !d.fields.contains_key("due_date")
        && let (Some(inv), Some(terms)) =
            (d.fields.get("invoice_date"), d.fields.get("payment_terms"))
        && let (FieldValue::Date { value: date }, FieldValue::Days { value: days }) =
            (&inv.value, &terms.value)
        && let Some(due) = date.checked_add_days(chrono::Days::new(u64::from(*days)))
    {
        let prov = Provenance {
            rule: terms.provenance.rule.clone(),
            source: "derived from invoice_date + payment_terms".into(),
            matched: terms.provenance.matched.clone(),
        };
        let confidence = inv.confidence.min(terms.confidence);
        d.fields.insert(
            "due_date".into(),
            ExtractedField::new(FieldValue::Date { value: due }, prov, confidence),
        );
    }
}

#[cfg(test)]
mod tests;
